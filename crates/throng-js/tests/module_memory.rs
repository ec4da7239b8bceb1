//! What k6/http's JavaScript costs each context (shared by up to 64 VUs; QuickJS's own count
//! of the bytes it allocated,
//! repeatable build to build): the common parts only — batch, multipart, the cookie jar and
//! auth are compiled on a VU's first use of them (`js/http_extra.js`).
use rquickjs::{Context, Module, Object, Runtime};

/// Bytes QuickJS holds after compiling and evaluating `src` as module `name`.
fn module_bytes(name: &str, src: &str) -> i64 {
    let rt = Runtime::new().expect("runtime");
    let ctx = Context::full(&rt).expect("context");
    rt.run_gc();
    let before = rt.memory_usage().malloc_size;
    ctx.with(|ctx| {
        ctx.globals()
            .set("__n", Object::new(ctx.clone()).expect("object"))
            .expect("natives");
        let (_m, p) = Module::declare(ctx.clone(), name, src)
            .expect("compiles")
            .eval()
            .expect("evaluates");
        p.finish::<()>().expect("finishes");
    });
    rt.run_gc();
    rt.memory_usage().malloc_size - before
}

#[test]
fn k6_http_costs_a_vu_little_until_its_extras_are_used() {
    let http = module_bytes("k6/http", include_str!("../src/js/http.js"));
    let extra = module_bytes(
        "extra",
        &format!(
            "export const f = {};",
            include_str!("../src/js/http_extra.js")
        ),
    );
    eprintln!("k6/http: {http} B per context; its extras, compiled on first use: {extra} B");
    // 24,288 B before batch/cookies/multipart/auth, 36,544 B with new http.CookieJar();
    // 63,648 B had they been compiled up front
    assert!(http < 40_000, "k6/http costs each context {http} B");
    assert!(extra > 10_000, "{extra}");
}
