//! The template language: compile any text against a fixed scope, and render what compiles.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use throng_plan::template::{Scope, Template};
use throng_plan::RenderCtx;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut env = BTreeMap::new();
    env.insert("HOST".to_string(), "127.0.0.1".to_string());
    env.insert("TOKEN".to_string(), "a\"b{{vu}}".to_string());
    let data_src = vec![(
        "users".to_string(),
        vec!["id".to_string(), "name".to_string()],
    )];
    let vars = vec!["token".to_string(), "id".to_string()];
    let read = |name: &str| -> Result<String, String> { Err(format!("{name}: no files here")) };
    let scope = Scope {
        read_file: Some(&read),
        ..Scope::new(&env, &data_src, &vars)
    };
    let t = match Template::compile(text, &scope) {
        Ok(t) => t,
        Err(errs) => {
            for e in &errs {
                // every error points inside the text
                assert!(
                    e.offset <= text.len(),
                    "offset {} past {}",
                    e.offset,
                    text.len()
                );
            }
            return;
        }
    };
    // literals merge, so a template of literals only is one piece of text
    assert_eq!(t.is_static(), t.as_static().is_some(), "{text:?}");
    if !text.contains("{{") {
        assert_eq!(t.as_static(), Some(text));
    }
    let row = vec!["7".to_string(), "ann".to_string()];
    let rows = [Some(row.as_slice())];
    let values = vec!["T".to_string()];
    let mut rng = fastrand::Rng::with_seed(7);
    let seq = AtomicU64::new(u64::MAX - 1);
    for _ in 0..2 {
        let mut cx = RenderCtx {
            vu: 1,
            iter: u64::MAX,
            scenario: "s",
            rows: &rows,
            vars: &values,
            rng: &mut rng,
            seq: &seq,
            row: None,
            now: None,
        };
        let _ = t.render_string(&mut cx);
        let _ = t.render_truthy(&mut cx);
    }
});
