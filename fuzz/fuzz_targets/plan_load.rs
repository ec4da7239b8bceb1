//! The plan loader: YAML text → validated `Plan` (or a list of errors), never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use throng_plan::{load_str, LoadOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut opts = LoadOptions::default();
    // the examples' folder, so `data: { file: data/users.csv }` in the seeds resolves
    opts.base_dir = Some(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples"
    )));
    opts.env.insert("HOST".into(), "127.0.0.1".into());
    match load_str(text, Path::new("fuzz.yaml"), &opts) {
        Ok(plan) => {
            // what a run asks of a loaded plan before it starts: totals and descriptions
            for sc in &plan.scenarios {
                let e = &sc.executor;
                let _ = (e.name(), e.max_vus(), e.duration());
                let _ = e.describe(sc.graceful_stop).to_string();
            }
        }
        Err(errs) => {
            // rendering the errors (with snippets) must not panic either
            let _ = errs.to_string();
        }
    }
});
