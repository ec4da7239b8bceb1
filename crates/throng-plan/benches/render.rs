//! Template rendering into a reused buffer.
//!   cargo bench -p throng-plan -- --save-baseline main
use criterion::{criterion_group, criterion_main, Criterion};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use throng_plan::template::{RenderCtx, Scope, Template};

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
            let mut cx = RenderCtx {
                vu: 12,
                iter: 345,
                scenario: "s",
                rows: &rows,
                vars: &var_values,
                rng: &mut rng,
                seq: &seq,
                row: None,
                now: None,
            };
            t.render(&mut cx, &mut buf);
            buf.len()
        })
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
