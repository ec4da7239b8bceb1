//! Bad experiments (issue 18): timeline actions, loops and conditions that cannot run are
//! load errors with the line and column they come from; a plan using all of it compiles to
//! the expected model.
use std::path::Path;
use std::time::Duration;
use throng_plan::{load_str, ActionAt, ActionKind, LoadOptions, Plan, PlanErrors, Step};

const HEAD: &str = "base_url: http://127.0.0.1:1
scenarios:
  s:
    executor: constant-vus
    duration: 10s
";

fn load(text: &str) -> Result<Plan, PlanErrors> {
    load_str(text, Path::new("exp.yaml"), &LoadOptions::default())
}

/// The errors of a plan that must not load, as `(line, column, message)`.
fn errors(text: &str) -> Vec<(usize, usize, String)> {
    match load(text) {
        Ok(_) => panic!("the plan loaded:\n{text}"),
        Err(e) => {
            e.0.into_iter()
                .map(|e| (e.line, e.column, e.message))
                .collect()
        }
    }
}

/// The plan has exactly one error, at `line:col`, whose message contains `msg`.
#[track_caller]
fn one_error(text: &str, line: usize, col: usize, msg: &str) {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}\n{text}");
    let (l, c, m) = &errs[0];
    assert_eq!((*l, *c), (line, col), "position of `{m}`\n{text}");
    assert!(m.contains(msg), "`{m}` does not contain `{msg}`");
}

/// A plan whose scenario's flow is `flow` (list items under `flow:`, the first on line 7).
fn with_flow(flow: &str) -> String {
    format!("{HEAD}    flow:\n{flow}")
}

/// A plan with a one-request flow and this `timeline:` (its first item on line 8).
fn with_timeline(timeline: &str) -> String {
    format!("{HEAD}    flow: [ {{get: /}} ]\ntimeline:\n{timeline}")
}

#[test]
fn an_unknown_action_key() {
    one_error(
        &with_timeline(
            "  - at: 1s\n    wiat_for: { get: /health, until: { status: 200 }, within: 5s }\n",
        ),
        9,
        5,
        "unknown field `wiat_for`",
    );
}

#[test]
fn at_past_the_end_of_the_load() {
    one_error(
        &with_timeline("  - at: 11s\n    http: { post: /admin }\n"),
        8,
        9,
        "at: 11s is past the end of the load (10s): the action would never run",
    );
    // the end is the latest scenario's start + duration
    let late = format!(
        "{HEAD}    flow: [ {{get: /}} ]\n  t:\n    executor: constant-vus\n    duration: 5s\n    startTime: 8s\n    flow: [ {{get: /}} ]\ntimeline:\n  - at: 12s\n    http: {{ post: /admin }}\n"
    );
    assert!(load(&late).is_ok(), "12s is within 8s + 5s");
}

#[test]
fn an_exec_program_that_does_not_exist() {
    one_error(
        &with_timeline("  - at: 1s\n    exec: [\"no-such-program-throng\", \"down\"]\n"),
        9,
        11,
        "exec: cannot find the program `no-such-program-throng` on PATH",
    );
    one_error(
        &with_timeline("  - at: 1s\n    exec: [\"./scripts/missing.sh\"]\n"),
        9,
        11,
        "exec: cannot find the program `./scripts/missing.sh` (relative paths are from the plan's folder, .)",
    );
}

#[test]
fn a_repeat_without_a_bound() {
    one_error(
        &with_flow("      - repeat:\n          until: \"{{ found }}\"\n          flow: [ {get: /a, extract: { found: { json: $.found } }} ]\n"),
        8,
        11,
        "repeat: a loop needs a bound",
    );
}

#[test]
fn an_until_without_max_tries_or_within() {
    one_error(
        &with_flow("      - get: /a\n        until: { status: 200 }\n"),
        8,
        16,
        "until: a poll needs a bound: `max_tries: N` or `within: 30s`",
    );
    one_error(
        &with_timeline("  - at: 1s\n    wait_for: { get: /a, until: { status: 200 } }\n"),
        9,
        33,
        "until: a poll needs a bound",
    );
}

#[test]
fn after_naming_no_earlier_action() {
    one_error(
        &with_timeline("  - at: 1s\n    name: first\n    http: { post: /a }\n  - after: frist\n    http: { post: /b }\n"),
        11,
        12,
        "after: no earlier action is named `frist` (earlier actions: first)",
    );
    // a later action is not an earlier one
    one_error(
        &with_timeline("  - after: second\n    http: { post: /a }\n  - at: 1s\n    name: second\n    http: { post: /b }\n"),
        8,
        12,
        "after: no earlier action is named `second`",
    );
}

#[test]
fn two_actions_with_the_same_name() {
    one_error(
        &with_timeline("  - at: 1s\n    name: poke\n    http: { post: /a }\n  - at: 2s\n    name: poke\n    http: { post: /b }\n"),
        12,
        11,
        "two actions are named `poke`: names must be unique",
    );
}

#[test]
fn an_action_with_two_kinds() {
    one_error(
        &with_timeline("  - at: 1s\n    http: { post: /a }\n    exec: [\"true\"]\n"),
        8,
        5,
        "an action does one thing, but this one has http, exec: split it",
    );
    one_error(
        &with_timeline("  - at: 1s\n    name: nothing\n"),
        8,
        5,
        "an action needs exactly one of http, exec or wait_for",
    );
}

#[test]
fn choose_weights_must_be_above_zero() {
    let flow = |w: &str| {
        with_flow(&format!(
            "      - choose:\n          - {{ weight: 3, flow: [ {{get: /a}} ] }}\n          - {{ weight: {w}, flow: [ {{get: /b}} ] }}\n"
        ))
    };
    one_error(
        &flow("0"),
        9,
        23,
        "choose: a branch weight must be a number above 0, not 0",
    );
    one_error(
        &flow("-2"),
        9,
        23,
        "choose: a branch weight must be a number above 0, not -2",
    );
}

#[test]
fn an_empty_if() {
    one_error(
        &with_flow("      - get: /a\n        if: \"\"\n"),
        8,
        13,
        "if: expected a template condition",
    );
    one_error(
        &with_flow("      - get: /a\n        if: \"  \"\n"),
        8,
        13,
        "if: expected a template condition",
    );
}

#[test]
fn a_trend_named_like_a_builtin_metric() {
    one_error(
        &with_flow("      - get: /a\n        until: { status: 200 }\n        within: 5s\n        trend: http_req_duration\n"),
        10,
        16,
        "trend: `http_req_duration` is a built-in metric: choose another name",
    );
    one_error(
        &with_flow("      - repeat: { times: 3, trend: iterations, flow: [ {get: /a} ] }\n"),
        7,
        36,
        "trend: `iterations` is a built-in metric",
    );
}

#[test]
fn every_without_until() {
    one_error(
        &with_flow("      - get: /a\n        every: 1s\n"),
        8,
        16,
        "`every` only applies with `until:` (send the request again until a check passes)",
    );
    one_error(
        &with_flow("      - get: /a\n        within: 5s\n        trend: seen\n"),
        8,
        17,
        "`within`, `trend` only apply with `until:`",
    );
}

const FULL: &str = r#"name: full
base_url: http://127.0.0.1:1
preflight: { get: /health, until: { status: 200 }, every: 500ms, within: 10s }
setup:
  - post: /login
    extract: { token: { json: $.token } }
teardown:
  - delete: /sessions/{{ setup.token }}
vu_init:
  - post: /login
    extract: { vu_token: { json: $.token } }
scenarios:
  s:
    executor: constant-vus
    duration: 10s
    flow:
      - get: /items
        headers: { Authorization: "Bearer {{ vu.vu_token }}" }
        if: "{{ setup.token }}"
      - post: /events
        extract: { id: { json: $.id } }
      - get: /events/{{ id }}
        until: { status: 200 }
        every: 200ms
        max_tries: 20
        within: 5s
        trend: event_visible
      - repeat:
          until: "{{ done }}"
          max: 10
          within: 3s
          every: 100ms
          trend: loop_time
          flow:
            - get: /state
              extract: { done: { json: $.done } }
      - choose:
          - { weight: 3, flow: [ {get: /a} ] }
          - { weight: 1, flow: [ {get: /b}, {sleep: 10ms} ] }
timeline:
  - at: 1s
    name: config
    http: { post: /admin/config, json: { batch_size: 200 } }
  - at: 2s
    name: stop
    exec: ["sh", "-c", "exit 0"]
    env: { TOKEN: "{{ setup.token }}" }
    timeout: 10s
    abort_on_fail: true
  - at: 2s
    name: breaker opens
    wait_for:
      get: /metrics
      until: { body_matches: 'breaker 1' }
      every: 100ms
      within: 5s
  - at: 3s
    exec: "echo $THRONG_BASE_URL"
    shell: true
  - after: stop
    at: 500ms
    name: recovery
    wait_for: { get: /health, until: { status: 200 }, within: 5s }
"#;

#[test]
fn a_plan_with_everything_compiles() {
    let plan = match load(FULL) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    // preflight keeps its own poll
    let pre = plan.preflight.as_ref().expect("preflight");
    let pp = pre.poll.as_ref().expect("preflight poll");
    assert_eq!(pp.every, Duration::from_millis(500));
    assert_eq!(pp.within, Some(Duration::from_secs(10)));
    assert_eq!(pp.label, "until status is 200");
    // setup extracts are setup.NAME for everyone; vu_init's are vu.NAME and persist
    assert_eq!(plan.setup_vars, vec!["setup.token".to_string()]);
    assert!(plan.setup.is_some() && plan.teardown.is_some());
    let sc = &plan.scenarios[0];
    assert_eq!(
        sc.vars[..2],
        ["setup.token".to_string(), "vu.vu_token".to_string()]
    );
    assert_eq!(sc.persistent_vars, 2);
    assert_eq!(sc.vu_init.len(), 1);

    // the flow: if, poll, repeat, choose
    assert_eq!(sc.flow.len(), 5);
    let Step::If { source, step, .. } = &sc.flow[0] else {
        panic!("if: {:?}", sc.flow[0]);
    };
    assert_eq!(source, "{{ setup.token }}");
    assert!(matches!(**step, Step::Request(_)));
    let Step::Request(req) = &sc.flow[2] else {
        panic!("poll: {:?}", sc.flow[2]);
    };
    let p = req.poll.as_ref().expect("poll");
    assert_eq!(p.until.len(), 1);
    assert_eq!(p.every, Duration::from_millis(200));
    assert_eq!(p.max_tries, Some(20));
    assert_eq!(p.within, Some(Duration::from_secs(5)));
    assert_eq!(p.trend.as_deref(), Some("event_visible"));
    assert_eq!(p.label, "until status is 200");
    let Step::Repeat(r) = &sc.flow[3] else {
        panic!("repeat: {:?}", sc.flow[3]);
    };
    assert_eq!(r.times, None);
    assert!(r.until.is_some());
    assert_eq!(r.max, Some(10));
    assert_eq!(r.within, Some(Duration::from_secs(3)));
    assert_eq!(r.every, Duration::from_millis(100));
    assert_eq!(r.trend.as_deref(), Some("loop_time"));
    assert_eq!(r.label, "until {{ done }}");
    assert_eq!(r.steps.len(), 1);
    let Step::Choose { branches } = &sc.flow[4] else {
        panic!("choose: {:?}", sc.flow[4]);
    };
    assert_eq!(
        branches
            .iter()
            .map(|b| (b.weight, b.steps.len()))
            .collect::<Vec<_>>(),
        vec![(3.0, 1), (1.0, 2)]
    );
    // loop trends are the plan's own metrics, in ms
    let custom: Vec<(&str, bool)> = plan
        .custom_metrics
        .iter()
        .map(|m| (m.name.as_str(), m.time))
        .collect();
    assert_eq!(custom, vec![("event_visible", true), ("loop_time", true)]);

    // the timeline
    let t = &plan.timeline;
    assert_eq!(t.len(), 5);
    let names: Vec<&str> = t.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["config", "stop", "breaker opens", "exec 4", "recovery"]
    );
    let kinds: Vec<&str> = t.iter().map(|a| a.kind.name()).collect();
    assert_eq!(kinds, ["http", "exec", "wait_for", "exec", "wait_for"]);
    assert_eq!(t[0].at, ActionAt::At(Duration::from_secs(1)));
    assert_eq!(t[1].at, ActionAt::At(Duration::from_secs(2)));
    assert_eq!(t[3].at, ActionAt::At(Duration::from_secs(3)));
    assert_eq!(
        t[4].at,
        ActionAt::After {
            action: 1,
            delay: Duration::from_millis(500)
        }
    );
    // timeout defaults to 60s; abort_on_fail to false
    assert_eq!(t[0].timeout, Duration::from_secs(60));
    assert_eq!(t[1].timeout, Duration::from_secs(10));
    assert!(!t[0].abort_on_fail && t[1].abort_on_fail);
    let ActionKind::Http(h) = &t[0].kind else {
        panic!("http");
    };
    assert_eq!(
        (h.method.as_str(), h.name.as_str()),
        ("POST", "/admin/config")
    );
    assert!(h.poll.is_none());
    let ActionKind::Exec { argv, shell, env } = &t[1].kind else {
        panic!("exec");
    };
    assert_eq!((argv.len(), *shell, env.len()), (3, false, 1));
    assert_eq!(env[0].0, "TOKEN");
    let ActionKind::Exec { argv, shell, .. } = &t[3].kind else {
        panic!("shell exec");
    };
    assert_eq!((argv.len(), *shell), (1, true));
    let ActionKind::WaitFor(w) = &t[2].kind else {
        panic!("wait_for");
    };
    let wp = w.poll.as_ref().expect("wait_for poll");
    assert_eq!(wp.every, Duration::from_millis(100));
    assert_eq!(wp.within, Some(Duration::from_secs(5)));
    assert_eq!(wp.max_tries, None);
    assert_eq!(wp.trend, None);
    let ActionKind::WaitFor(w) = &t[4].kind else {
        panic!("recovery");
    };
    // every defaults to 1s
    assert_eq!(
        w.poll.as_ref().map(|p| p.every),
        Some(Duration::from_secs(1))
    );
}
