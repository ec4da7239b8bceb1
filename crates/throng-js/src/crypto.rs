//! `k6/crypto`'s natives: digests (md5, sha1, sha256, sha384, sha512 and their HMACs) over
//! RustCrypto, and random bytes from the operating system.
use base64::Engine;
use hmac::{Hmac, Mac};
use rquickjs::{ArrayBuffer, Ctx, Exception, Function, Object, TypedArray, Value};

/// The bytes of a string (UTF-8), an `ArrayBuffer` or a typed array.
pub(crate) fn bytes_of(v: &Value<'_>) -> Option<Vec<u8>> {
    if let Some(s) = v.as_string() {
        return s.to_string().ok().map(String::into_bytes);
    }
    if let Some(b) = ArrayBuffer::from_value(v.clone()) {
        return b.as_bytes().map(<[u8]>::to_vec);
    }
    if let Ok(t) = TypedArray::<u8>::from_value(v.clone()) {
        return t.as_bytes().map(<[u8]>::to_vec);
    }
    None
}

fn digest(alg: &str, parts: &[Vec<u8>]) -> Option<Vec<u8>> {
    fn run<D: sha2::Digest>(parts: &[Vec<u8>]) -> Vec<u8> {
        let mut d = D::new();
        for p in parts {
            d.update(p);
        }
        d.finalize().to_vec()
    }
    Some(match alg {
        "md4" => run::<md4::Md4>(parts),
        "md5" => run::<md5::Md5>(parts),
        "ripemd160" => run::<ripemd::Ripemd160>(parts),
        "sha1" => run::<sha1::Sha1>(parts),
        "sha256" => run::<sha2::Sha256>(parts),
        "sha384" => run::<sha2::Sha384>(parts),
        "sha512" => run::<sha2::Sha512>(parts),
        "sha512_224" => run::<sha2::Sha512_224>(parts),
        "sha512_256" => run::<sha2::Sha512_256>(parts),
        _ => return None,
    })
}

fn hmac(alg: &str, key: &[u8], parts: &[Vec<u8>]) -> Option<Vec<u8>> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[Vec<u8>]) -> Option<Vec<u8>> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).ok()?;
        for p in parts {
            m.update(p);
        }
        Some(m.finalize().into_bytes().to_vec())
    }
    match alg {
        "md4" => run::<Hmac<md4::Md4>>(key, parts),
        "md5" => run::<Hmac<md5::Md5>>(key, parts),
        "ripemd160" => run::<Hmac<ripemd::Ripemd160>>(key, parts),
        "sha1" => run::<Hmac<sha1::Sha1>>(key, parts),
        "sha256" => run::<Hmac<sha2::Sha256>>(key, parts),
        "sha384" => run::<Hmac<sha2::Sha384>>(key, parts),
        "sha512" => run::<Hmac<sha2::Sha512>>(key, parts),
        "sha512_224" => run::<Hmac<sha2::Sha512_224>>(key, parts),
        "sha512_256" => run::<Hmac<sha2::Sha512_256>>(key, parts),
        _ => None,
    }
}

/// Lower-case hexadecimal.
fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(D[(x >> 4) as usize] as char);
        s.push(D[(x & 15) as usize] as char);
    }
    s
}

/// A digest in k6's output encodings: `hex`, `base64`, `base64url`, `base64rawurl`, or
/// `binary` (an `ArrayBuffer`).
fn encode<'js>(ctx: &Ctx<'js>, out: Vec<u8>, enc: &str) -> rquickjs::Result<Value<'js>> {
    use base64::engine::general_purpose as b64;
    let text = match enc {
        "hex" => hex(&out),
        "base64" => b64::STANDARD.encode(&out),
        "base64url" => b64::URL_SAFE.encode(&out),
        "base64rawurl" => b64::URL_SAFE_NO_PAD.encode(&out),
        "binary" => return Ok(ArrayBuffer::new(ctx.clone(), out)?.into_value()),
        other => {
            return Err(Exception::throw_message(
                ctx,
                &format!("k6/crypto: unknown output encoding `{other}` (hex, base64, base64url, base64rawurl, binary)"),
            ))
        }
    };
    Ok(rquickjs::String::from_str(ctx.clone(), &text)?.into_value())
}

/// Adds `__n.digest(alg, key, parts, enc)` (`key` null for a plain hash) and
/// `__n.randomBytes(n)` to the natives object.
pub(crate) fn register<'js>(ctx: &Ctx<'js>, n: &Object<'js>) -> rquickjs::Result<()> {
    n.set(
        "digest",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, alg: String, key: Value<'js>, parts: Vec<Value<'js>>, enc: String| {
                let mut bytes = Vec::with_capacity(parts.len());
                for p in &parts {
                    bytes.push(bytes_of(p).ok_or_else(|| {
                        Exception::throw_type(
                            &ctx,
                            "k6/crypto: data must be a string or an ArrayBuffer",
                        )
                    })?);
                }
                let out = if key.is_null() || key.is_undefined() {
                    digest(&alg, &bytes)
                } else {
                    let k = bytes_of(&key).ok_or_else(|| {
                        Exception::throw_type(
                            &ctx,
                            "k6/crypto: the key must be a string or an ArrayBuffer",
                        )
                    })?;
                    hmac(&alg, &k, &bytes)
                };
                let out = out.ok_or_else(|| {
                    Exception::throw_message(
                        &ctx,
                        &format!("k6/crypto: unknown algorithm `{alg}` (md4, md5, ripemd160, sha1, sha256, sha384, sha512, sha512_224, sha512_256)"),
                    )
                })?;
                encode(&ctx, out, &enc)
            },
        )?,
    )?;
    n.set(
        "randomBytes",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, len: usize| {
            let mut b = vec![0u8; len];
            getrandom::fill(&mut b)
                .map_err(|e| Exception::throw_message(&ctx, &format!("randomBytes: {e}")))?;
            ArrayBuffer::new(ctx.clone(), b)
        })?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let abc = [b"abc".to_vec()];
        assert_eq!(
            hex(&digest("sha256", &abc).unwrap_or_default()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&digest("md5", &abc).unwrap_or_default()),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex(&digest("sha1", &abc).unwrap_or_default()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        // RFC 4231 test case 2
        let parts = [b"what do ya want ".to_vec(), b"for nothing?".to_vec()];
        assert_eq!(
            hex(&hmac("sha256", b"Jefe", &parts).unwrap_or_default()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(digest("sha3", &abc).is_none());
    }
}
