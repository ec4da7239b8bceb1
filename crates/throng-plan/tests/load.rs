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
