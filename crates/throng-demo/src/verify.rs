//! `GET /api/v1/verify`: checks the bearer token's HS256 signature (with the demo's JWT
//! secret) and its `exp`, and answers with its claims (200) or why it was refused (401).
//! Tokens made with `jwt_hs256(env.JWT_SECRET, {sub: seq, exp: now_plus('1h')})` pass when
//! the demo runs with the same secret.
use crate::jwt;
use crate::routes::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;

pub(crate) async fn verify(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(tok) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return refuse("expected `Authorization: Bearer <token>`");
    };
    let now = jiff::Timestamp::now().as_second();
    match jwt::claims(&st.cfg.jwt_secret, tok.trim(), now) {
        Ok(claims) => Json(json!({ "valid": true, "claims": claims })).into_response(),
        Err(why) => refuse(why),
    }
}

fn refuse(why: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "valid": false, "error": why })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use crate::jwt::{claims, issue};

    #[test]
    fn signature_and_expiry_are_checked() {
        let t = issue("k", "ann", 100, 60);
        assert_eq!(claims("k", &t, 120).expect("valid")["sub"], "ann");
        assert_eq!(claims("other", &t, 120), Err("bad signature"));
        assert_eq!(claims("k", &t, 1000), Err("expired"));
        assert!(claims("k", "a.b", 120).is_err());
        let mut parts: Vec<&str> = t.split('.').collect();
        let none = "eyJhbGciOiJub25lIn0"; // {"alg":"none"}
        parts[0] = none;
        assert_eq!(
            claims("k", &parts.join("."), 120),
            Err("the algorithm is not HS256")
        );
    }
}
