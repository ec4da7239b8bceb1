//! The template functions: their names, the arguments they take (checked at compile time,
//! where the arguments are constants) and what they return.
use super::eval::{now, Expr};
use super::faker::Faker;
use super::value::Val;
use super::{RenderCtx, Scope};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::sync::Arc;

/// A function, with what was prepared for it at compile time.
#[derive(Clone)]
pub(super) enum Func {
    RandomInt,
    RandomString,
    RandomChoice,
    JwtHs256,
    /// The key read from the PEM file at compile time.
    JwtRs256(Arc<EncodingKey>),
    HmacSha256,
    Sha256,
    Base64,
    Base64Url,
    UrlEncode,
    NowPlus,
    Date,
    Fake(Faker),
}

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Func::JwtRs256(_) => f.write_str("JwtRs256"),
            Func::Fake(k) => write!(f, "Fake({k:?})"),
            other => write!(f, "{}", other.name()),
        }
    }
}

impl PartialEq for Func {
    fn eq(&self, other: &Func) -> bool {
        self.name() == other.name()
    }
}

/// Every function's name and arguments, for error messages and docs.
pub(super) const FUNCTIONS: &str = "random_int(a,b), random_string(n), random_choice(a,b,...), \
jwt_hs256(secret,claims), jwt_rs256(pem_file,claims), hmac_sha256(key,msg), sha256(x), \
base64(x), base64url(x), url_encode(x), now_plus('1h'), date('%Y-%m-%d'), fake.name, \
fake.first_name, fake.last_name, fake.email, fake.company, fake.city, fake.word, \
fake.sentence(n), fake.ipv4, fake.uuid, fake.date(from,to), fake.datetime(from,to)";

impl Func {
    /// Whether the first argument is a secret key.
    pub(super) fn takes_a_key(&self) -> bool {
        matches!(self, Func::JwtHs256 | Func::HmacSha256)
    }

    fn name(&self) -> &'static str {
        match self {
            Func::RandomInt => "random_int",
            Func::RandomString => "random_string",
            Func::RandomChoice => "random_choice",
            Func::JwtHs256 => "jwt_hs256",
            Func::JwtRs256(_) => "jwt_rs256",
            Func::HmacSha256 => "hmac_sha256",
            Func::Sha256 => "sha256",
            Func::Base64 => "base64",
            Func::Base64Url => "base64url",
            Func::UrlEncode => "url_encode",
            Func::NowPlus => "now_plus",
            Func::Date => "date",
            Func::Fake(_) => "fake",
        }
    }
}

fn arity(name: &str, args: &[Expr], min: usize, max: usize, usage: &str) -> Result<(), String> {
    if (min..=max).contains(&args.len()) {
        Ok(())
    } else {
        Err(format!(
            "{name} takes {}, e.g. {usage}",
            match (min, max) {
                (0, 0) => "no arguments".to_string(),
                (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
                (a, b) => format!("{a} to {b} arguments"),
            }
        ))
    }
}

/// Compiles a call of `name` with `args`; constant arguments are checked here.
pub(super) fn compile_call(name: &str, args: Vec<Expr>, scope: &Scope<'_>) -> Result<Expr, String> {
    let c = |i: usize| args.get(i).and_then(Expr::constant);
    let func = match name {
        "random_int" => {
            arity(name, &args, 2, 2, "random_int(1,100)")?;
            if let (Some(a), Some(b)) = (c(0), c(1)) {
                let (a, b) = (const_int(name, a)?, const_int(name, b)?);
                if b < a {
                    return Err(format!(
                        "random_int({a},{b}): the upper bound is below the lower bound"
                    ));
                }
            }
            Func::RandomInt
        }
        "random_string" => {
            arity(name, &args, 1, 1, "random_string(12)")?;
            if let Some(n) = c(0) {
                let n = const_int(name, n)?;
                if !(0..=1_000_000).contains(&n) {
                    return Err(format!("random_string({n}): length must be 0..1000000"));
                }
            }
            Func::RandomString
        }
        "random_choice" => {
            if args.is_empty() {
                return Err("random_choice needs at least one value".into());
            }
            Func::RandomChoice
        }
        "jwt_hs256" => {
            arity(name, &args, 2, 2, "jwt_hs256(env.JWT_SECRET, {sub: seq})")?;
            Func::JwtHs256
        }
        "jwt_rs256" => {
            arity(
                name,
                &args,
                2,
                2,
                "jwt_rs256('keys/private.pem', {sub: seq})",
            )?;
            let Some(Val::Str(path)) = c(0) else {
                return Err("jwt_rs256: the first argument must be a PEM file name in quotes, e.g. jwt_rs256('keys/private.pem', {sub: seq})".into());
            };
            Func::JwtRs256(Arc::new(rsa_key(path, scope)?))
        }
        "hmac_sha256" => {
            arity(name, &args, 2, 2, "hmac_sha256(env.KEY, 'message')")?;
            Func::HmacSha256
        }
        "sha256" => one(name, &args, Func::Sha256)?,
        "base64" => one(name, &args, Func::Base64)?,
        "base64url" => one(name, &args, Func::Base64Url)?,
        "url_encode" => one(name, &args, Func::UrlEncode)?,
        "now_plus" => {
            arity(name, &args, 1, 1, "now_plus('1h')")?;
            if let Some(d) = c(0) {
                signed_secs(&d.text())?;
            }
            Func::NowPlus
        }
        "date" => {
            arity(name, &args, 1, 2, "date('%Y-%m-%d')")?;
            if let Some(f) = c(0) {
                let mut s = String::new();
                write_date(&mut s, &f.text(), jiff::Timestamp::UNIX_EPOCH)?;
            }
            Func::Date
        }
        _ => match name.strip_prefix("fake.").and_then(Faker::from_name) {
            Some(k) => {
                k.check(&args.iter().map(Expr::constant).collect::<Vec<_>>())?;
                Func::Fake(k)
            }
            None => {
                return Err(format!(
                    "unknown function `{name}`: expected one of {FUNCTIONS}"
                ))
            }
        },
    };
    // constant arguments are evaluated once, here: no per-render argument list
    match args
        .iter()
        .map(Expr::constant)
        .collect::<Option<Vec<&Val>>>()
    {
        Some(vals) if func == Func::RandomInt => {
            let (a, b) = (const_int(name, vals[0])?, const_int(name, vals[1])?);
            Ok(Expr::RandomInt(a, b))
        }
        Some(vals) => Ok(Expr::CallConst(func, vals.into_iter().cloned().collect())),
        None => Ok(Expr::Call(func, args)),
    }
}

fn one(name: &str, args: &[Expr], f: Func) -> Result<Func, String> {
    arity(name, args, 1, 1, &format!("{name}('text')"))?;
    Ok(f)
}

fn const_int(name: &str, v: &Val) -> Result<i64, String> {
    v.int()
        .ok_or_else(|| format!("{name}: `{}` is not an integer", v.text()))
}

/// Reads an RSA private key (PKCS#1 or PKCS#8 PEM) and proves it signs.
fn rsa_key(path: &str, scope: &Scope<'_>) -> Result<EncodingKey, String> {
    let Some(read) = scope.read_file else {
        return Err("jwt_rs256: files cannot be read here".into());
    };
    let pem = read(path).map_err(|e| format!("jwt_rs256: cannot read {path}: {e}"))?;
    let key = EncodingKey::from_rsa_pem(pem.as_bytes())
        .map_err(|e| format!("jwt_rs256: {path} is not an RSA private key in PEM ({e})"))?;
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &serde_json::json!({}), &key)
        .map_err(|e| format!("jwt_rs256: {path} is not a usable RSA private key ({e})"))?;
    Ok(key)
}

/// Seconds of a signed duration such as `1h`, `-5m`, `90s`.
fn signed_secs(s: &str) -> Result<i64, String> {
    let (neg, body) = match s.trim().strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.trim()),
    };
    let d = crate::duration::parse_duration(body).map_err(|e| format!("now_plus: {e}"))?;
    let secs = i64::try_from(d.as_secs())
        .ok()
        .filter(|s| *s <= 1_000_000 * 365 * 86_400)
        .ok_or_else(|| format!("now_plus('{s}'): more than a million years"))?;
    Ok(if neg { -secs } else { secs })
}

fn write_date(out: &mut String, fmt: &str, ts: jiff::Timestamp) -> Result<(), String> {
    let z = ts.to_zoned(jiff::tz::TimeZone::UTC);
    let _ = write!(
        out,
        "{}",
        jiff::fmt::strtime::format(fmt, &z).map_err(|e| format!("date('{fmt}'): {e}"))?
    );
    Ok(())
}

const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Characters `url_encode` keeps: the unreserved set of RFC 3986.
const URL: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn claims(v: &Val, cx: &RenderCtx<'_>) -> Result<serde_json::Value, String> {
    let mut c = match v.to_json() {
        serde_json::Value::Object(m) => m,
        _ => return Err("the claims must be a map, e.g. {sub: seq, exp: now_plus('1h')}".into()),
    };
    c.entry("iat").or_insert_with(|| now(cx).as_second().into());
    Ok(serde_json::Value::Object(c))
}

/// Calls `f` with evaluated `args`.
pub(super) fn call(f: &Func, args: &[Val], cx: &mut RenderCtx<'_>) -> Result<Val, String> {
    let arg = |i: usize| args.get(i).unwrap_or(&Val::Null);
    let int = |i: usize| {
        arg(i)
            .int()
            .ok_or_else(|| format!("{}: `{}` is not an integer", f.name(), arg(i).text()))
    };
    Ok(match f {
        Func::RandomInt => {
            let (a, b) = (int(0)?, int(1)?);
            if b < a {
                return Err(format!(
                    "random_int({a},{b}): the upper bound is below the lower bound"
                ));
            }
            Val::Int(cx.rng.i64(a..=b))
        }
        Func::RandomString => {
            let n = int(0)?.clamp(0, 1_000_000) as usize;
            Val::Str(
                (0..n)
                    .map(|_| ALNUM[cx.rng.usize(..ALNUM.len())] as char)
                    .collect(),
            )
        }
        Func::RandomChoice => args[cx.rng.usize(..args.len())].clone(),
        Func::JwtHs256 => {
            let secret = arg(0).text();
            if secret.is_empty() {
                return Err("jwt_hs256: the secret is empty".into());
            }
            let key = EncodingKey::from_secret(secret.as_bytes());
            Val::Str(
                jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(arg(1), cx)?, &key)
                    .map_err(|e| format!("jwt_hs256: {e}"))?,
            )
        }
        Func::JwtRs256(key) => Val::Str(
            jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims(arg(1), cx)?, key)
                .map_err(|e| format!("jwt_rs256: {e}"))?,
        ),
        Func::HmacSha256 => {
            let mut mac = Hmac::<Sha256>::new_from_slice(arg(0).text().as_bytes())
                .map_err(|e| format!("hmac_sha256: {e}"))?;
            mac.update(arg(1).text().as_bytes());
            Val::Str(hex(&mac.finalize().into_bytes()))
        }
        Func::Sha256 => Val::Str(hex(&Sha256::digest(arg(0).text().as_bytes()))),
        Func::Base64 => Val::Str(STANDARD.encode(arg(0).text().as_bytes())),
        Func::Base64Url => Val::Str(URL_SAFE_NO_PAD.encode(arg(0).text().as_bytes())),
        Func::UrlEncode => {
            Val::Str(percent_encoding::utf8_percent_encode(&arg(0).text(), URL).to_string())
        }
        Func::NowPlus => Val::Int(now(cx).as_second() + signed_secs(&arg(0).text())?),
        Func::Date => {
            let ts = match args.get(1) {
                Some(v) => {
                    let s = v.int().ok_or("date: the second argument is unix seconds")?;
                    jiff::Timestamp::from_second(s).map_err(|e| format!("date: {e}"))?
                }
                None => now(cx),
            };
            let mut s = String::new();
            write_date(&mut s, &arg(0).text(), ts)?;
            Val::Str(s)
        }
        Func::Fake(k) => k.value(args, cx)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_durations() {
        assert_eq!(signed_secs("1h"), Ok(3600));
        assert_eq!(signed_secs("-5m"), Ok(-300));
        assert!(signed_secs("soon").is_err());
    }

    #[test]
    fn digests_match_known_vectors() {
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
