//! Loading a script: its init code runs once, its options become a plan, and what cannot
//! run fails here, naming the place.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

fn script(name: &str, text: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("throng-js-load-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("dir");
    let p = d.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

#[test]
fn an_endless_loop_in_init_times_out_with_a_clear_error() {
    let p = script(
        "endless.js",
        "while (true) {}\nexport default function () {}\n",
    );
    let e = throng_js::load_with_timeout(&p, BTreeMap::new(), Duration::from_millis(300))
        .expect_err("times out");
    assert!(e.0.contains("did not finish within 300ms"), "{e}");
}

#[test]
fn options_metrics_env_and_open_are_read_at_load() {
    let dir = std::env::temp_dir().join(format!("throng-js-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("users.json"), r#"["a","b","c"]"#).expect("data");
    let p = script(
        "opts.js",
        r#"
import { Rate, Trend } from 'k6/metrics';
const users = JSON.parse(open('./users.json'));
export const errors = new Rate('errors');
const waits = new Trend('waits', true);
export const options = {
  vus: Number(__ENV.VUS),
  duration: '2s',
  thresholds: { errors: ['rate<0.1'], waits: [{ threshold: 'p(95)<100', abortOnFail: true }] },
  tags: { users: String(users.length) },
};
export default function () {}
export function other() {}
"#,
    );
    let env = BTreeMap::from([("VUS".to_string(), "7".to_string())]);
    let l = throng_js::load(&p, env).expect("loads");
    let plan: serde_json::Value = serde_json::from_str(&l.plan.text).expect("json");
    assert_eq!(plan["scenarios"]["default"]["executor"], "constant-vus");
    assert_eq!(plan["scenarios"]["default"]["vus"], 7);
    assert_eq!(plan["scenarios"]["default"]["duration"], "2s");
    assert_eq!(plan["metrics"]["errors"], "rate");
    assert_eq!(plan["metrics"]["waits"]["time"], true);
    assert_eq!(plan["thresholds"]["waits"][0]["abortOnFail"], true);
    assert_eq!(plan["defaults"]["tags"]["users"], "3");
    assert_eq!(l.probe.functions, vec!["default", "other"]);
    assert_eq!(l.plan.exec, vec![("default".into(), "default".into())]);
}

#[test]
fn shortcut_options_map_to_k6s_executors() {
    use serde_json::json;
    let f = vec!["default".to_string()];
    let cases = [
        (json!(null), "shared-iterations"),
        (json!({ "vus": 2, "iterations": 10 }), "shared-iterations"),
        (json!({ "vus": 2, "duration": "5s" }), "constant-vus"),
        (
            json!({ "stages": [{ "duration": "1s", "target": 3 }] }),
            "ramping-vus",
        ),
    ];
    for (o, want) in cases {
        let p = throng_js::options::plan("t", &o, &f, &[]).expect("plan");
        let v: serde_json::Value = serde_json::from_str(&p.text).expect("json");
        assert_eq!(v["scenarios"]["default"]["executor"], want, "{o}");
    }
}
