use std::path::Path;
use throng_plan::{load_str, Executor, LoadOptions, Step};

fn load(y: &str) -> Result<throng_plan::Plan, throng_plan::PlanErrors> {
    load_str(y, Path::new("plan.yaml"), &LoadOptions::default())
}

#[test]
fn loads_a_full_plan() {
    let y = r#"
name: t
base_url: http://127.0.0.1:1
defaults:
  headers: { X-API-KEY: k }
scenarios:
  s:
    executor: ramping-vus
    stages: [{duration: 10s, target: 5}, {duration: 5s, target: 0}]
    flow:
      - post: /x
        json: { a: "{{vu}}", b: [1, 2] }
        check: { status: [200, 201], duration: "<500ms" }
        extract: { id: { json: "$.id" } }
      - sleep: 1s..2s
      - group: g
        flow:
          - get: /y/{{id}}
thresholds:
  http_req_duration: ["p(95)<600"]
  "http_req_duration{name:/x}": [{ threshold: "p(99)<800", abortOnFail: true, delayAbortEval: 10s }]
"#;
    let p = load(y).expect("loads");
    assert_eq!(p.scenarios.len(), 1);
    let s = &p.scenarios[0];
    assert!(matches!(
        s.executor,
        Executor::RampingVus { start_vus: 1, .. }
    ));
    assert_eq!(s.vars, vec!["id"]);
    assert_eq!(s.flow.len(), 3);
    match &s.flow[2] {
        Step::Group { path, steps, .. } => {
            assert_eq!(path, "::g");
            assert!(
                matches!(&steps[0], Step::Request(r) if r.group == "::g" && r.name == "/y/{{id}}")
            );
        }
        _ => panic!("group expected"),
    }
    assert_eq!(p.thresholds.items.len(), 2);
    assert!(p.thresholds.items[1].abort_on_fail);
}

#[test]
fn check_durations_take_bare_milliseconds_like_thresholds() {
    let text = "scenarios:\n  s:\n    executor: shared-iterations\n    flow:\n      - get: http://127.0.0.1:1/\n        checks: [ { duration: \"<500\" }, { duration: \"<=1.5s\" }, { duration: \">250.5\" } ]\n";
    let plan = throng_plan::load_str(text, std::path::Path::new("p.yaml"), &Default::default())
        .expect("loads");
    let throng_plan::Step::Request(r) = &plan.scenarios[0].flow[0] else {
        panic!("a request");
    };
    let bounds: Vec<(String, f64)> = r
        .checks
        .iter()
        .map(|c| match c.kind {
            throng_plan::CheckKind::Duration(_, ms) => (c.name.clone(), ms),
            _ => panic!("a duration check"),
        })
        .collect();
    assert_eq!(
        bounds,
        vec![
            ("duration <500".to_string(), 500.0),
            ("duration <=1.5s".to_string(), 1500.0),
            ("duration >250.5".to_string(), 250.5),
        ]
    );
}
