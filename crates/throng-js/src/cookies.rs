//! `http.cookieJar()`: the script reads and changes its VU's cookie jar (throng-http's
//! RFC 6265 jar, which the VU's requests store to and send from). The jar lives with the
//! VU's HTTP client in the driver, so each operation is a request the driver answers at once.
use crate::msg::{In, Op};
use crate::suspend::Suspender;
use rquickjs::{Ctx, Exception, Function, Object};
use std::rc::Rc;
use throng_http::HttpClient;

/// One operation on a VU's jar.
pub(crate) enum JarOp {
    /// Store a `Set-Cookie` value as if `url` had sent it.
    Set { url: String, set_cookie: String },
    /// The `Cookie` header the jar sends to `url`.
    Get { url: String },
    /// Forget the cookies sent to `url` (only `name`, when given).
    Clear { url: String, name: Option<String> },
}

impl JarOp {
    /// Runs the operation on `c`: the `Cookie` header for [`JarOp::Get`], else `None`.
    pub(crate) fn apply(self, c: &mut HttpClient) -> Option<String> {
        match self {
            JarOp::Set { url, set_cookie } => {
                c.set_cookie(&url, &set_cookie);
                None
            }
            JarOp::Get { url } => c.cookies_for(&url),
            JarOp::Clear { url, name } => {
                c.remove_cookies(&url, name.as_deref());
                None
            }
        }
    }
}

/// Adds `__n.jar(op, url, arg, jar)` (`op`: `set`, `get`, `clear`; `jar`: 0 or absent for
/// the VU's own, else a `new http.CookieJar()`'s number) to the natives; `in_init`
/// tells whether the VU is still in its init context (no jar there).
pub(crate) fn register<'js>(
    ctx: &Ctx<'js>,
    n: &Object<'js>,
    sus: &Rc<Suspender>,
    in_init: impl Fn() -> bool + 'static,
) -> rquickjs::Result<()> {
    let su = sus.clone();
    n.set(
        "jar",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, op: String, url: String, arg: Option<String>, jar: Option<u32>| {
                if in_init() {
                    return Err(Exception::throw_message(
                        &ctx,
                        "the cookie jar is not available in the init context",
                    ));
                }
                let op = match op.as_str() {
                    "set" => JarOp::Set {
                        url,
                        set_cookie: arg.unwrap_or_default(),
                    },
                    "get" => JarOp::Get { url },
                    _ => JarOp::Clear { url, name: arg },
                };
                match su.suspend(Op::Jar(jar.unwrap_or(0), op)) {
                    In::Jar(r) => Ok(r),
                    _ => Err(Exception::throw_message(
                        &ctx,
                        "the iteration was interrupted",
                    )),
                }
            },
        )?,
    )?;
    Ok(())
}
