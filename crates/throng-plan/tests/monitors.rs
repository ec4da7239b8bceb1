//! `monitors:` and `slos:` load into specs; every mistake names its line and column.
use std::path::Path;
use throng_metrics::monitor::{MonitorKind, ProcessTarget};
use throng_plan::{load_str, LoadOptions};

const HEAD: &str = "base_url: http://127.0.0.1:8080\nscenarios:\n  s: { executor: constant-vus, vus: 1, duration: 1s, flow: [ {get: /} ] }\n";

#[test]
fn monitors_and_slos_load() {
    let yaml = format!(
        "{HEAD}monitors:\n  demo: {{ prometheus: {{ url: /metrics, select: [demo_requests_total] }}, every: 2s }}\n  api: {{ process: {{ name: serve-demo }} }}\n  pid: {{ process: {{ pid: \"{{{{ env.PID }}}}\" }} }}\n  app: {{ log: {{ file: app.log, patterns: {{ errors: ERROR }} }} }}\n  heap: {{ http: {{ get: /debug/heap, save_as: \"heap-{{{{elapsed}}}}.txt\" }}, every: 60s }}\nslos:\n  availability: {{ objective: \"rate(http_req_failed) < 0.001\", window: 10s, target: 95% }}\n  cpu: {{ objective: \"monitor:api.cpu < 80\" }}\nthresholds:\n  \"monitor:api.cpu\": [\"max<80\", \"growth_per_hour<100MB\"]\n"
    );
    let mut opts = LoadOptions::default();
    opts.env.insert("PID".into(), "4242".into());
    let p = load_str(&yaml, Path::new("p.yaml"), &opts).expect("loads");
    assert_eq!(p.monitors.len(), 5);
    let by = |n: &str| p.monitors.iter().find(|m| m.name == n).expect(n);
    assert!(
        matches!(&by("demo").kind, MonitorKind::Prometheus { url, select } if url == "http://127.0.0.1:8080/metrics" && select.len() == 1)
    );
    assert_eq!(by("demo").every.as_secs(), 2);
    assert!(
        matches!(&by("api").kind, MonitorKind::Process(ProcessTarget::Name(n)) if n == "serve-demo")
    );
    assert!(matches!(
        &by("pid").kind,
        MonitorKind::Process(ProcessTarget::Pid(4242))
    ));
    assert!(
        matches!(&by("heap").kind, MonitorKind::Http { url, .. } if url == "http://127.0.0.1:8080/debug/heap")
    );
    assert_eq!(p.slos.len(), 2);
    let a = &p.slos[0];
    assert_eq!(
        (a.name.as_str(), a.window.as_secs(), a.target),
        ("availability", 10, 0.95)
    );
    assert_eq!(p.slos[1].window.as_secs(), 60);
    assert_eq!(p.thresholds.items.len(), 2);
}

#[test]
fn database_and_promql_monitors_load() {
    let yaml = format!(
        "{HEAD}monitors:\n  db: {{ postgres: {{ url: \"{{{{ env.PG }}}}\", top: 3, reset_statements: true }} }}\n  cache: {{ redis: {{ url: \"redis://127.0.0.1:6379\", keys: {{ queue: \"LLEN mutt:queue\" }} }}, every: 2s }}\n  prom: {{ promql: {{ url: \"http://127.0.0.1:9090\", queries: {{ up: \"sum(up)\" }} }} }}\n"
    );
    let mut opts = LoadOptions::default();
    opts.env
        .insert("PG".into(), "postgres://u:pw@127.0.0.1:5432/app".into());
    let p = load_str(&yaml, Path::new("p.yaml"), &opts).expect("loads");
    let by = |n: &str| p.monitors.iter().find(|m| m.name == n).expect(n);
    assert!(matches!(
        &by("db").kind,
        MonitorKind::Postgres { url, top: 3, reset_statements: true } if url == "postgres://u:pw@127.0.0.1:5432/app"
    ));
    // SQL monitors sample every 5 s unless told
    assert_eq!(by("db").every.as_secs(), 5);
    assert!(
        matches!(&by("cache").kind, MonitorKind::Redis { keys, .. } if keys == &[("queue".to_string(), "LLEN mutt:queue".to_string())])
    );
    assert_eq!(by("cache").every.as_secs(), 2);
    assert!(matches!(&by("prom").kind, MonitorKind::Promql { queries, .. } if queries.len() == 1));
    assert_eq!(by("prom").every.as_secs(), 1);
}

#[test]
fn windowed_thresholds_load() {
    let yaml = format!("{HEAD}thresholds:\n  http_req_failed: [\"rate<0.05 over 1m\"]\n");
    let p = load_str(&yaml, Path::new("p.yaml"), &LoadOptions::default()).expect("loads");
    let e = &p.thresholds.items[0].expr;
    assert_eq!(e.window, Some(std::time::Duration::from_secs(60)));
    assert_eq!(e.source, "rate<0.05 over 1m");
}

#[test]
fn monitor_mistakes_name_line_and_column() {
    for (tail, line, text) in [
        (
            "monitors:\n  a: { every: 1s }\n",
            5,
            "exactly one of prometheus, promql, process, postgres, redis, log, http",
        ),
        (
            "monitors:\n  a: { process: { pid: 1, name: x } }\n",
            5,
            "exactly one of pid, name, cgroup",
        ),
        (
            "monitors:\n  a: { prometheus: { url: ftp://x } }\n",
            5,
            "expected an http:// URL",
        ),
        (
            "monitors:\n  a: { log: { file: x, patterns: { e: \"(\" } } }\n",
            5,
            "log pattern `e`",
        ),
        (
            "monitors:\n  a: { process: { name: x }, every: soon }\n",
            5,
            "every:",
        ),
        ("monitors:\n  a: { process: { nme: x } }\n", 5, "nme"),
        (
            "thresholds:\n  \"monitor:api.cpu\": [\"max<80 over 1m\"]\n",
            5,
            "use an SLO",
        ),
        (
            "thresholds:\n  http_req_failed: [\"rate<0.05 over soon\"]\n",
            5,
            "invalid window",
        ),
        (
            "slos:\n  a: { objective: \"rate(http_req_failed) < 0.1 over 1m\" }\n",
            5,
            "not `over`",
        ),
        (
            "monitors:\n  a: { postgres: { url: \"mysql://u:hunter2@h/db\" } }\n",
            5,
            "expected a postgres:// URL, got \"mysql://u:***@h/db\"",
        ),
        (
            "monitors:\n  a: { redis: { url: \"redis://h\", keys: { q: \"LLEN 'x\" } } }\n",
            5,
            "redis keys `q`: ",
        ),
        (
            "monitors:\n  a: { promql: { url: \"http://h:9090\", queries: {} } }\n",
            5,
            "at least one name: query",
        ),
        (
            "slos:\n  a: { objective: \"http_req_failed < 1\" }\n",
            5,
            "invalid objective",
        ),
        (
            "slos:\n  a: { objective: \"p(95)(http_reqs) < 1\" }\n",
            5,
            "does not apply to counter",
        ),
        (
            "slos:\n  a: { objective: \"rate(nope) < 1\" }\n",
            5,
            "unknown metric `nope`",
        ),
        (
            "slos:\n  a: { objective: \"rate(http_req_failed) < 1\", target: 150% }\n",
            5,
            "target:",
        ),
        (
            "thresholds:\n  \"monitor:api.cpu\": [\"p(95)<1\"]\n",
            5,
            "does not apply to monitor series",
        ),
        (
            "thresholds:\n  \"monitor:api\": [\"max<1\"]\n",
            5,
            "monitor:NAME.SERIES",
        ),
    ] {
        let yaml = format!("{HEAD}{tail}");
        let errs = load_str(&yaml, Path::new("bad.yaml"), &LoadOptions::default()).expect_err(tail);
        let msg = errs.to_string();
        assert!(msg.contains(text), "{tail}: {msg}");
        assert_eq!(errs.0[0].line, line, "{tail}: {msg}");
        assert!(errs.0[0].column > 0, "{msg}");
    }
}
