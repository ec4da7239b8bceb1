//! Minimal HS256 JWTs for the demo's login.
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

/// The subject of a valid, unexpired token.
pub fn verify(secret: &str, token: &str, now_s: i64) -> Option<String> {
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
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
        return None;
    }
    let payload: serde_json::Value = serde_json::from_slice(&B64.decode(p).ok()?).ok()?;
    if payload.get("exp")?.as_i64()? < now_s {
        return None;
    }
    payload.get("sub")?.as_str().map(str::to_string)
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
