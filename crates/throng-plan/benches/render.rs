//! Template rendering into a reused buffer.
//!   cargo bench -p throng-plan -- --save-baseline main
use criterion::{criterion_group, criterion_main, Criterion};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use throng_plan::template::{RenderCtx, Scope, Template};

/// The context of VU 12, iteration 345.
fn ctx<'a>(
    rows: &'a [Option<&'a [String]>],
    vars: &'a [String],
    rng: &'a mut fastrand::Rng,
    seq: &'a AtomicU64,
) -> RenderCtx<'a> {
    RenderCtx {
        vu: 12,
        iter: 345,
        scenario: "s",
        rows,
        vars,
        rng,
        seq,
        row: None,
        now: None,
    }
}

fn render(c: &mut Criterion) {
    let env = BTreeMap::new();
    let data = vec![("users".to_string(), vec!["id".to_string()])];
    let vars = vec!["token".to_string()];
    let scope = Scope::new(&env, &data, &vars);
    let t = Template::compile(
        r#"{"user_id":{{random_int(1,10000)}},"message":"event {{vu}}-{{iter}}","u":"{{users.id}}","t":"{{token}}"}"#,
        &scope,
    )
    .expect("template");
    let row = vec!["42".to_string()];
    let rows = [Some(row.as_slice())];
    let var_values = vec!["abc".to_string()];
    let seq = AtomicU64::new(0);
    let mut rng = fastrand::Rng::with_seed(7);
    let mut buf = String::with_capacity(256);
    c.bench_function("render JSON body template", |b| {
        b.iter(|| {
            buf.clear();
            let mut cx = ctx(&rows, &var_values, &mut rng, &seq);
            t.render(&mut cx, &mut buf);
            buf.len()
        })
    });
}

/// A condition (`if:`) and a signed token: what expressions cost beyond plain names.
fn expressions(c: &mut Criterion) {
    let mut env = BTreeMap::new();
    env.insert("JWT_SECRET".to_string(), "s3cret".to_string());
    let vars = vec!["status".to_string(), "vu.role".to_string()];
    let scope = Scope::new(&env, &[], &vars);
    let cond =
        Template::compile("{{ status != 200 && vu.role == 'admin' }}", &scope).expect("condition");
    let jwt = Template::compile(
        "{{ jwt_hs256(env.JWT_SECRET, {sub: vu, exp: now_plus('1h')}) }}",
        &scope,
    )
    .expect("jwt");
    let values = vec!["500".to_string(), "admin".to_string()];
    let seq = AtomicU64::new(0);
    let mut rng = fastrand::Rng::with_seed(7);
    let mut buf = String::with_capacity(256);
    let mut run = |name: &str, f: &mut dyn FnMut(&mut RenderCtx<'_>, &mut String) -> usize| {
        c.bench_function(name, |b| {
            b.iter(|| {
                buf.clear();
                let mut cx = ctx(&[], &values, &mut rng, &seq);
                f(&mut cx, &mut buf)
            })
        });
    };
    run("render_truthy condition", &mut |cx, _| {
        usize::from(cond.render_truthy(cx))
    });
    run("render jwt_hs256", &mut |cx, buf| {
        jwt.render(cx, buf);
        buf.len()
    });
}

criterion_group!(benches, render, expressions);
criterion_main!(benches);
