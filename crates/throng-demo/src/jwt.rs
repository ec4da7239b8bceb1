//! Minimal HS256 JWTs for the demo's login and token check (the demo's own code, so it
//! checks throng's tokens independently of the library that signs them).
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn sign(secret: &str, data: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(data.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

/// Issues a token for `sub`, valid for `ttl_s` seconds from `now_s`.
pub fn issue(secret: &str, sub: &str, now_s: i64, ttl_s: i64) -> String {
    let header = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = B64
        .encode(serde_json::json!({ "sub": sub, "iat": now_s, "exp": now_s + ttl_s }).to_string());
    let data = format!("{header}.{payload}");
    let sig = sign(secret, &data);
    format!("{data}.{sig}")
}

/// The claims of a token whose HS256 signature is valid and whose `exp` has not passed,
/// or why it is refused.
pub fn claims(secret: &str, token: &str, now_s: i64) -> Result<serde_json::Value, &'static str> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a JWT: expected header.payload.signature");
    };
    let header: serde_json::Value = B64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the header is not base64url JSON")?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err("the algorithm is not HS256");
    }
    let expected = sign(secret, &format!("{h}.{p}"));
    // constant-time-ish compare
    if expected.len() != s.len()
        || expected
            .bytes()
            .zip(s.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0
    {
        return Err("bad signature");
    }
    let payload: serde_json::Value = B64
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the payload is not base64url JSON")?;
    match payload.get("exp").and_then(|e| e.as_i64()) {
        None => Err("no exp claim"),
        Some(exp) if exp < now_s => Err("expired"),
        Some(_) => Ok(payload),
    }
}

/// The subject of a valid, unexpired token.
pub fn verify(secret: &str, token: &str, now_s: i64) -> Option<String> {
    claims(secret, token, now_s)
        .ok()?
        .get("sub")?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let t = issue("k", "ann", 100, 60);
        assert_eq!(verify("k", &t, 120).as_deref(), Some("ann"));
        assert_eq!(verify("other", &t, 120), None);
        assert_eq!(verify("k", &t, 1000), None);
        assert_eq!(verify("k", "a.b", 120), None);
    }
}
