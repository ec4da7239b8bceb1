//! WebSocket and gRPC steps through whole runs, against real servers on 127.0.0.1: the
//! servers' counts equal throng's, failures are counted by kind, bad plans name the place.
mod common;
use common::*;
use std::path::PathBuf;
use throng_testkit::{CountingServer, GrpcServer, WsEchoServer, EVENTS_PROTO};

/// A fresh folder holding `protos/events.proto`.
fn proto_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("throng-proto-{tag}-{}", std::process::id()));
    let _ = std::fs::create_dir_all(d.join("protos"));
    std::fs::write(d.join("protos/events.proto"), EVENTS_PROTO).expect("write proto");
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_messages_echoed_equal_messages_received() {
    let s = WsEchoServer::start().await;
    let p = r#"
scenarios:
  s:
    executor: per-vu-iterations
    vus: 2
    iterations: 3
    flow:
      - ws: BASE/echo
        name: echo
        session:
          - send: "hello {{vu}}-{{iter}}"
          - receive: { contains: "hello {{vu}}-{{iter}}", timeout: 5s }
          - send_binary: aGk=
          - receive: { matches: "^hi$", timeout: 5s }
        check: { status: 101, body_contains: hi }
thresholds:
  checks: ["rate==1"]
  "ws_sessions{name:echo,status:101}": ["count==6"]
"#;
    let out = run_plan(plan(p, &s.url())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(s.sessions(), 6);
    assert_eq!(s.echoed(), 12);
    assert_eq!(count(&out, "ws_msgs_sent"), 12);
    assert_eq!(count(&out, "ws_msgs_received"), s.echoed());
    assert_eq!(count(&out, "ws_sessions"), 6);
    assert_eq!(count(&out, "ws_connecting"), 6);
    assert_eq!(count(&out, "ws_session_duration"), 6);
    assert_eq!(count(&out, "http_reqs"), 0);
    let md = throng_report::markdown(&out.results);
    let ws = md_table(&md, "WebSocket");
    assert_eq!(md_cell(&ws, &["echo"], 1), Some(6), "{md}");
    assert_eq!(md_cell(&ws, &["echo"], 5), Some(12), "{md}");
    assert_eq!(md_cell(&ws, &["echo"], 6), Some(s.echoed()), "{md}");
    assert!(out.summary.contains("█ WEBSOCKET"), "{}", out.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_uses_the_plans_ca_file_and_an_unknown_issuer_is_a_tls_error() {
    let s = WsEchoServer::start_tls().await;
    let dir = proto_dir("wss");
    std::fs::write(dir.join("ca.pem"), s.cert_pem.clone().unwrap_or_default()).expect("ca");
    let flow = r#"
scenarios:
  s:
    executor: shared-iterations
    vus: 1
    iterations: 2
    flow:
      - ws: BASE/echo
        name: secure
        session: [ { send: ping }, { receive: { contains: ping } } ]
"#;
    let trusted = format!("defaults: {{ ca_file: ca.pem }}\n{flow}thresholds:\n  \"ws_sessions{{name:secure,status:101}}\": [\"count==2\"]\n");
    let out = run_plan(plan_in(&trusted, &s.url(), &dir)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(s.echoed(), 2);
    let untrusted = format!("{flow}thresholds:\n  \"ws_sessions{{name:secure,status:0,error_code:1310}}\": [\"count==2\"]\n");
    let out = run_plan(plan_in(&untrusted, &s.url(), &dir)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(
        s.sessions(),
        2,
        "no session opened without trusting the certificate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_websocket_endpoint_is_a_counted_error_of_its_kind() {
    let http = CountingServer::start().await;
    let url = format!("ws://{}", http.addr);
    let p = r#"
scenarios:
  s:
    executor: shared-iterations
    vus: 1
    iterations: 3
    flow:
      - ws: BASE/plain
        name: plain
        session:
          - send: never sent
        check: { status: 101 }
thresholds:
  "ws_sessions{name:plain,status:200,error_code:1701}": ["count==3"]
  checks: ["rate==0"]
"#;
    let out = run_plan(plan(p, &url)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(http.count(), 3, "the server saw each handshake");
    assert_eq!(count(&out, "ws_msgs_sent"), 0);
    assert_eq!(count(&out, "ws_sessions"), 3);
}

const GRPC_PLAN: &str = r#"
scenarios:
  s:
    executor: per-vu-iterations
    vus: 2
    iterations: 5
    flow:
      - grpc:
          target: BASE
          proto: protos/events.proto
          call: events.EventService/Publish
          message: { id: "ev-{{vu}}-{{iter}}", kind: click, payload: aGk= }
          metadata: { x-user: "u{{vu}}" }
        check: { status: 0, json: { "$.accepted": true } }
        extract: { seq: { json: "$.seq" } }
      - grpc:
          target: BASE
          proto: protos/events.proto
          call: events.EventService/Subscribe
          message: { count: 3 }
        check: { status: 0, json: { "$[2].id": e3 } }
thresholds:
  checks: ["rate==1"]
  "grpc_reqs{name:events.EventService/Publish,status:0}": ["count==10"]
  "grpc_reqs{rpc_type:server_streaming}": ["count==10"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_server_counts_equal_grpc_reqs() {
    let s = GrpcServer::start().await;
    let dir = proto_dir("plain");
    let out = run_plan(plan_in(GRPC_PLAN, &s.target(), &dir)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(s.calls("events.EventService/Publish"), 10);
    assert_eq!(s.calls("events.EventService/Subscribe"), 10);
    assert_eq!(count(&out, "grpc_reqs"), s.total());
    assert_eq!(count(&out, "grpc_req_duration"), 20);
    assert_eq!(count(&out, "grpc_streams_msgs_received"), 30);
    // the reports' gRPC sections and the results file: calls by method and status
    let md = throng_report::markdown(&out.results);
    let statuses = md_table(&md, "gRPC statuses");
    let publish = "events.EventService/Publish";
    assert_eq!(md_cell(&statuses, &[publish, "0 OK"], 2), Some(10), "{md}");
    let subscribe = "events.EventService/Subscribe";
    assert_eq!(md_cell(&statuses, &[subscribe, "0 OK"], 2), Some(10));
    let methods = md_table(&md, "gRPC");
    assert_eq!(md_cell(&methods, &[publish], 1), Some(s.calls(publish)));
    assert_eq!(md_cell(&methods, &[publish], 2), Some(0));
    let json = serde_json::to_value(&out.results).unwrap_or_default();
    let by_status = &json["protocols"]["grpc_statuses"];
    assert_eq!(by_status[0]["key"], publish, "{by_status}");
    assert_eq!(by_status[0]["outcome"], "0 OK");
    assert_eq!(by_status[0]["count"], 10);
    assert!(out.summary.contains("█ GRPC STATUSES"), "{}", out.summary);
    let users: Vec<_> = s
        .metadata()
        .into_iter()
        .filter(|(k, _)| k == "x-user")
        .collect();
    assert_eq!(users.len(), 10);
    assert!(
        users.iter().all(|(_, v)| v == "u1" || v == "u2"),
        "{users:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_over_tls_with_the_plans_ca_file() {
    let s = GrpcServer::start_tls().await;
    let dir = proto_dir("tls");
    std::fs::write(dir.join("ca.pem"), s.cert_pem.clone().unwrap_or_default()).expect("ca");
    let yaml = format!("defaults: {{ ca_file: ca.pem }}\n{GRPC_PLAN}");
    let out = run_plan(plan_in(&yaml, &s.target(), &dir)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(s.total(), 20);
    assert_eq!(count(&out, "grpc_reqs"), 20);
    // reflection over TLS, with the same CA
    let yaml = format!("defaults: {{ ca_file: ca.pem }}\n{}", reflection_plan());
    let out = run_plan(plan_in(&yaml, &s.target(), &dir)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(s.total(), 40);
    assert_eq!(count(&out, "grpc_reqs"), 20);
    assert_eq!(s.reflection_calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_failures_are_counted_by_status_and_kind() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let dir = proto_dir("fail");
    let p = format!(
        r#"
scenarios:
  s:
    executor: shared-iterations
    vus: 1
    iterations: 2
    flow:
      - grpc: {{ target: "http://127.0.0.1:{closed}", proto: protos/events.proto, call: events.EventService/Publish }}
        name: refused
thresholds:
  "grpc_reqs{{name:refused,status:14,error_code:1212}}": ["count==2"]
"#
    );
    let out = run_plan(plan_in(&p, "", &dir)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(count(&out, "grpc_reqs"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_statuses_are_tagged_and_checked() {
    let s = GrpcServer::start().await;
    let dir = proto_dir("status");
    let p = r#"
scenarios:
  s:
    executor: shared-iterations
    vus: 1
    iterations: 3
    flow:
      - grpc: { target: BASE, proto: protos/events.proto, call: events.EventService/Delete, message: { id: x } }
        check: { status: 12 }
thresholds:
  "grpc_reqs{name:events.EventService/Delete,status:12}": ["count==3"]
  checks: ["rate==1"]
"#;
    let out = run_plan(plan_in(p, &s.target(), &dir)).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(s.calls("events.EventService/Delete"), 3);
    // not OK, not a failure (as in k6): counted by status
    let md = throng_report::markdown(&out.results);
    let delete = "events.EventService/Delete";
    let statuses = md_table(&md, "gRPC statuses");
    assert_eq!(
        md_cell(&statuses, &[delete, "12 UNIMPLEMENTED"], 2),
        Some(3),
        "{md}"
    );
    assert_eq!(
        md_cell(&md_table(&md, "gRPC"), &[delete], 2),
        Some(3),
        "{md}"
    );
}

/// The gRPC plan without its `proto:` lines: methods found by server reflection.
fn reflection_plan() -> String {
    GRPC_PLAN.replace("          proto: protos/events.proto\n", "")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_reflection_finds_the_methods_once_per_target() {
    let s = GrpcServer::start().await;
    let yaml = reflection_plan();
    assert!(!yaml.contains("proto:"));
    let out = run_plan(plan(&yaml, &s.target())).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(s.calls("events.EventService/Publish"), 10);
    assert_eq!(s.calls("events.EventService/Subscribe"), 10);
    assert_eq!(count(&out, "grpc_reqs"), s.total());
    assert_eq!(count(&out, "grpc_reqs"), 20);
    assert_eq!(count(&out, "grpc_streams_msgs_received"), 30);
    // one question (the file declaring events.EventService) for the whole run
    assert_eq!(s.reflection_calls(), 1);
}

/// The message of a run that did not start.
async fn start_error(yaml: &str, base: &str) -> String {
    let p = plan(yaml, base);
    let r = throng_run::run(request(
        p,
        tokio_util::sync::CancellationToken::new(),
        Default::default(),
    ))
    .await;
    match r {
        Ok(o) => panic!("the run started: {}", o.summary),
        Err(e) => {
            assert_eq!(e.exit_code().code(), 107, "{e}");
            e.to_string()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_reflection_errors_name_the_target_and_what_the_server_offers() {
    let s = GrpcServer::start().await;
    let t = s.target();
    let yaml = reflection_plan().replace("EventService/Subscribe", "EventService/Nope");
    let e = start_error(&yaml, &t).await;
    assert!(e.contains(&format!("grpc target `{t}`")), "{e}");
    assert!(
        e.contains("has no method `Nope` (it has: Publish, Subscribe, Delete)"),
        "{e}"
    );
    assert!(e.contains("plan.yaml:"), "{e}");
    let yaml = reflection_plan().replace("events.EventService/Subscribe", "events.Nope/Get");
    let e = start_error(&yaml, &t).await;
    assert!(
        e.contains("no service `events.Nope` (it offers: events.EventService)"),
        "{e}"
    );
    assert_eq!(s.total(), 0, "no load was sent");

    let bare = GrpcServer::without_reflection().await;
    let e = start_error(&reflection_plan(), &bare.target()).await;
    assert!(
        e.contains(&format!("grpc target `{}`", bare.target()))
            && e.contains("does not serve gRPC reflection")
            && e.contains("`proto:`"),
        "{e}"
    );
    // v1 asked, then v1alpha; no call of the service
    assert_eq!(bare.total(), 2);
    assert_eq!(bare.calls("events.EventService/Publish"), 0);
}

#[test]
fn grpc_reflection_needs_a_target_known_at_start() {
    let dir = std::env::temp_dir();
    let yaml = "scenarios:\n  s:\n    executor: shared-iterations\n    iterations: 1\n    flow:\n      - grpc:\n          target: \"http://127.0.0.1:{{vu}}\"\n          call: a.B/C\n";
    let e = plan_errors(yaml, &dir);
    assert!(
        e.contains("plan.yaml:7:19") && e.contains("server reflection"),
        "{e}"
    );
}

/// The errors of a plan that does not load.
fn plan_errors(yaml: &str, dir: &std::path::Path) -> String {
    match throng_plan::load_str(yaml, &dir.join("plan.yaml"), &Default::default()) {
        Ok(_) => panic!("the plan loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_protos_and_unknown_methods_are_plan_errors_with_their_place() {
    let dir = proto_dir("bad");
    std::fs::write(
        dir.join("protos/broken.proto"),
        "syntax = \"proto3\";\npackage b;\nmessage M {\n  string id = 1\n}\n",
    )
    .expect("write");
    let step = |proto: &str, call: &str| {
        format!("scenarios:\n  s:\n    executor: shared-iterations\n    iterations: 1\n    flow:\n      - grpc:\n          target: http://127.0.0.1:1\n          proto: {proto}\n          call: {call}\n")
    };
    let e = plan_errors(&step("protos/broken.proto", "b.S/M"), &dir);
    assert!(e.contains("plan.yaml:8:18"), "{e}");
    assert!(e.contains("broken.proto:5:1"), "{e}");
    let e = plan_errors(&step("protos/events.proto", "events.Nope/Publish"), &dir);
    assert!(e.contains("plan.yaml:9:17"), "{e}");
    assert!(
        e.contains("no service `events.Nope`") && e.contains("events.EventService"),
        "{e}"
    );
    let e = plan_errors(
        &step("protos/events.proto", "events.EventService/Nope"),
        &dir,
    );
    assert!(
        e.contains("has no method `Nope`") && e.contains("Publish, Subscribe"),
        "{e}"
    );
    let e = plan_errors(&step("protos/missing.proto", "a.B/C"), &dir);
    assert!(
        e.contains("plan.yaml:8:18") && e.contains("missing.proto"),
        "{e}"
    );
}

#[test]
fn ws_steps_take_only_their_own_options() {
    let dir = std::env::temp_dir();
    let e = plan_errors(
        "scenarios:\n  s:\n    executor: shared-iterations\n    iterations: 1\n    flow:\n      - ws: http://x/\n        json: {a: 1}\n        session:\n          - send: a\n            sleep: 1s\n",
        &dir,
    );
    assert!(
        e.contains("plan.yaml:6:13") && e.contains("not a WebSocket URL"),
        "{e}"
    );
    assert!(e.contains("json only apply to HTTP requests"), "{e}");
    assert!(
        e.contains("plan.yaml:9:13") && e.contains("exactly one of send"),
        "{e}"
    );
}

/// Loads `examples/NAME` with `env` values, as `throng run -e` would.
fn example(name: &str, env: &[(&str, String)]) -> throng_plan::Plan {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("example exists");
    let opts = throng_plan::LoadOptions {
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        ..Default::default()
    };
    match throng_plan::load_str(&text, &path, &opts) {
        Ok(p) => p,
        Err(e) => panic!("{name} does not load:\n{e}"),
    }
}

async fn demo() -> throng_demo::DemoServer {
    let addr = "127.0.0.1:0".parse().expect("addr");
    throng_demo::DemoServer::start(addr, throng_demo::DemoConfig::default())
        .await
        .expect("demo starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ws_echo_example_runs_against_the_demo() {
    let d = demo().await;
    let p = example("ws-echo.yaml", &[("WS_URL", format!("ws://{}", d.addr()))]);
    let out = run_plan(p).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(count(&out, "ws_sessions"), 20);
    assert_eq!(count(&out, "ws_msgs_sent"), 40);
    assert_eq!(count(&out, "ws_msgs_received"), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grpc_events_example_runs_against_the_demo() {
    let d = demo().await;
    let p = example("grpc-events.yaml", &[("GRPC_TARGET", d.url())]);
    let out = run_plan(p).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(count(&out, "grpc_reqs"), 40);
    assert_eq!(count(&out, "grpc_streams_msgs_received"), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grpc_reflection_example_runs_against_the_demo() {
    let d = demo().await;
    let p = example("grpc-reflection.yaml", &[("GRPC_TARGET", d.url())]);
    let out = run_plan(p).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(count(&out, "grpc_reqs"), 20);
    assert_eq!(count(&out, "grpc_streams_msgs_received"), 30);
}
