//! Issue 19, load models: templated executor options, the command line's overrides and
//! profiles (through `throng_plan::apply_overrides`, which `throng run` calls), Locust's
//! weighted users with their spawn rate, and `wait` / `wait_constant_throughput` pacing —
//! each a real run on 127.0.0.1 whose server-side counts are checked.
mod common;
use common::*;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use throng_demo::{DemoConfig, DemoServer};
use throng_plan::{apply_overrides, load_str, LoadOptions, Overrides, Plan};
use throng_testkit::CountingServer;

async fn demo() -> DemoServer {
    DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
        .await
        .expect("demo")
}

fn load_env(yaml: &str, base: &str, env: &[(&str, &str)]) -> Result<Plan, String> {
    let opts = LoadOptions {
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        ..LoadOptions::default()
    };
    load_str(
        &yaml.replace("BASE", base),
        std::path::Path::new("plan.yaml"),
        &opts,
    )
    .map_err(|e| e.to_string())
}

fn overridden(yaml: &str, base: &str, o: Overrides) -> Plan {
    let mut p = plan(yaml, base);
    if let Err(e) = apply_overrides(&mut p, &o) {
        panic!("overrides: {e}");
    }
    p
}

fn secs(s: f64) -> Option<Duration> {
    Some(Duration::from_secs_f64(s))
}

const TEMPLATED: &str = "base_url: BASE
scenarios:
  api:
    executor: constant-arrival-rate
    rate: \"{{env.TARGET_RPS}}\"
    duration: \"{{env.DURATION | default('2s')}}\"
    preAllocatedVUs: \"{{ env.VUS | default('4') }}\"
    flow:
      - get: /health
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templated_options_resolve_from_env_and_defaults() {
    let s = demo().await;
    let p = load_env(TEMPLATED, &s.url(), &[("TARGET_RPS", "20")]).expect("loads");
    let out = run_plan(p).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    // 20/s for the default 2s: 40 arrivals
    assert_eq!(s.requests(), 40, "{}", out.summary);
    assert_eq!(s.requests(), count(&out, "http_reqs"));
    s.stop().await;
}

#[test]
fn templated_options_missing_or_not_a_number_name_the_env_value_and_place() {
    let e = load_env(TEMPLATED, "http://127.0.0.1:9", &[]).expect_err("an error");
    assert!(
        e.contains("plan.yaml:5:11: rate: environment value `TARGET_RPS` is not set"),
        "{e}"
    );
    let e =
        load_env(TEMPLATED, "http://127.0.0.1:9", &[("TARGET_RPS", "fast")]).expect_err("an error");
    assert!(
        e.contains("plan.yaml:5:11: rate: `fast` (env value TARGET_RPS) is not a number"),
        "{e}"
    );
    let e = load_env(
        TEMPLATED,
        "http://127.0.0.1:9",
        &[("TARGET_RPS", "5"), ("VUS", "2.5")],
    )
    .expect_err("an error");
    assert!(
        e.contains("plan.yaml:7:22: preAllocatedVUs must be a whole number"),
        "{e}"
    );
    let e = load_env(
        TEMPLATED,
        "http://127.0.0.1:9",
        &[("TARGET_RPS", "5"), ("DURATION", "soon")],
    )
    .expect_err("an error");
    assert!(e.contains("plan.yaml:6:15: duration:"), "{e}");
}

const TWO: &str = "base_url: BASE
scenarios:
  a:
    executor: constant-vus
    vus: 1
    duration: 30s
    flow:
      - get: /a/{{vu}}
      - sleep: 100ms
  b:
    executor: ramping-vus
    stages: [ { duration: 30s, target: 2 } ]
    flow:
      - get: /b/{{vu}}
      - sleep: 100ms
";

fn by_prefix(s: &CountingServer, prefix: &str) -> HashMap<String, u64> {
    let mut m = HashMap::new();
    for r in s.seen() {
        if r.path.starts_with(prefix) {
            *m.entry(r.path).or_insert(0) += 1;
        }
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vus_duration_and_scenario_reshape_the_run() {
    let s = CountingServer::start().await;
    let p = overridden(
        TWO,
        &s.url(),
        Overrides {
            vus: Some(4),
            duration: secs(2.0),
            scenarios: vec!["a".into()],
            ..Overrides::default()
        },
    );
    let t0 = Instant::now();
    let out = run_plan(p).await;
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(s.count(), count(&out, "http_reqs"));
    assert_eq!(by_prefix(&s, "/b/").len(), 0, "--scenario a runs only a");
    let per_vu = by_prefix(&s, "/a/");
    assert_eq!(per_vu.len(), 4, "{per_vu:?}");
    // 4 VUs × 2 s / (100 ms + a request): about 20 each
    for n in per_vu.values() {
        assert!((17..=21).contains(n), "{per_vu:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_and_iterations_overrides() {
    let s = demo().await;
    let p = overridden(
        TWO,
        &s.url(),
        Overrides {
            rate: Some(15.0),
            duration: secs(2.0),
            ..Overrides::default()
        },
    );
    let out = run_plan(p).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    // two scenarios at 15/s for 2 s: 30 arrivals each (the demo answers 404 for /a, /b)
    assert_eq!(s.requests(), 60, "{}", out.summary);
    s.stop().await;

    let s = demo().await;
    let p = overridden(
        TWO,
        &s.url(),
        Overrides {
            iterations: Some(9),
            vus: Some(3),
            scenarios: vec!["b".into()],
            ..Overrides::default()
        },
    );
    let out = run_plan(p).await;
    assert_eq!(s.requests(), 9, "{}", out.summary);
    s.stop().await;
}

fn vus_at(out: &throng_run::RunOutcome, t: f64) -> u64 {
    out.results
        .timeline
        .iter()
        .min_by(|a, b| (a.t - t).abs().total_cmp(&(b.t - t).abs()))
        .map(|p| p.vus)
        .unwrap_or(0)
}

const ONE: &str = "base_url: BASE
scenarios:
  a:
    executor: constant-vus
    vus: 3
    duration: 30s
    gracefulStop: 0s
    flow:
      - get: /a/{{vu}}
      - sleep: 100ms
profiles:
  nightly: { executor: shared-iterations, vus: 2, iterations: 12 }
";

fn profile(name: &str, vus: Option<u64>, d: f64, base: &str) -> Plan {
    overridden(
        ONE,
        base,
        Overrides {
            profile: Some(name.into()),
            vus,
            duration: secs(d),
            ..Overrides::default()
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_follow_their_documented_shapes() {
    // smoke: 1 VU (--duration shortens its minute)
    let s = CountingServer::start().await;
    let out = run_plan(profile("smoke", None, 1.0, &s.url())).await;
    assert_eq!(by_prefix(&s, "/a/").len(), 1);
    assert!((9..=11).contains(&s.count()), "{}", s.count());
    assert_eq!(out.results.value("vus", "max"), Some(1.0));

    // spike: 0→N at once, held, dropped at the end
    let s = CountingServer::start().await;
    let t0 = Instant::now();
    let out = run_plan(profile("spike", Some(6), 2.0, &s.url())).await;
    let seen = s.seen();
    let first = seen.iter().map(|r| r.at).min().expect("requests");
    assert!(first.duration_since(t0) < Duration::from_millis(500));
    let early: std::collections::HashSet<_> = seen
        .iter()
        .filter(|r| r.at.duration_since(first) < Duration::from_millis(50))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(early.len(), 6, "all 6 VUs start at once: {early:?}");
    assert!((108..=121).contains(&s.count()), "{}", s.count());
    assert_eq!(out.results.value("vus", "max"), Some(6.0));

    // load: ramp to N over the first 10 %, then hold
    let s = CountingServer::start().await;
    let out = run_plan(profile("load", Some(8), 3.0, &s.url())).await;
    assert_eq!(by_prefix(&s, "/a/").len(), 8);
    assert_eq!(vus_at(&out, 2.0), 8, "{:?}", out.results.timeline);
    let ph = &out.results.phases;
    assert_eq!(ph[0].name, "ramp-up 0→8 VUs", "{ph:?}");
    assert_eq!(ph[1].name, "steady 8 VUs", "{ph:?}");
    // 8 VUs for ~2.85 s at ~10 iterations a second each
    assert!((200..=240).contains(&s.count()), "{}", s.count());

    // stress: five steps up to 5 × N
    let s = CountingServer::start().await;
    let out = run_plan(profile("stress", Some(2), 2.5, &s.url())).await;
    assert_eq!(by_prefix(&s, "/a/").len(), 10);
    assert_eq!(out.results.value("vus", "max"), Some(10.0));
    assert!(vus_at(&out, 1.0) <= 6, "{:?}", out.results.timeline);

    // soak: N VUs, for --duration (hours by default)
    let s = CountingServer::start().await;
    let out = run_plan(profile("soak", None, 1.0, &s.url())).await;
    assert_eq!(by_prefix(&s, "/a/").len(), 3);
    assert_eq!(out.results.value("vus", "max"), Some(3.0));

    // the plan's own profile
    let s = CountingServer::start().await;
    let out = run_plan(profile("nightly", None, 30.0, &s.url())).await;
    assert_eq!(s.count(), 12, "{}", out.summary);
}

#[test]
fn bad_overrides_are_clear_errors() {
    let mut p = plan(ONE, "http://127.0.0.1:9");
    let e = apply_overrides(
        &mut p,
        &Overrides {
            profile: Some("hammer".into()),
            ..Overrides::default()
        },
    )
    .expect_err("an error");
    assert_eq!(
        e,
        "--profile `hammer`: no such profile (known: smoke, load, stress, spike, soak, nightly)"
    );
    let e = apply_overrides(
        &mut p,
        &Overrides {
            scenarios: vec!["nope".into()],
            ..Overrides::default()
        },
    )
    .expect_err("an error");
    assert_eq!(
        e,
        "--scenario `nope`: the plan has no such scenario (its scenarios: a)"
    );
}

const USERS: &str = "base_url: BASE
locust: { users: 60, spawn_rate: 30, run_time: 3s }
scenarios:
  browse:
    weight: 3
    flow: [ { get: \"/browse/{{vu}}\" }, { sleep: 100ms } ]
  buy:
    weight: 1
    flow: [ { get: \"/buy/{{vu}}\" }, { sleep: 100ms } ]
  search:
    weight: 2
    flow: [ { get: \"/search/{{vu}}\" }, { sleep: 100ms } ]
";

/// `--vus` is the pool's users and `--duration` its run time: the users are split again
/// by weight (Locust's order), not each scenario scaled; `--scenario` splits the pool over
/// the weighted scenarios left.
#[test]
fn vus_and_duration_reshape_the_locust_pool() {
    let peak = |p: &Plan, name: &str| -> u64 {
        let s = p.scenarios.iter().find(|s| s.name == name).expect(name);
        s.executor.max_vus()
    };
    let p = overridden(
        USERS,
        "http://127.0.0.1:9",
        Overrides {
            vus: Some(12),
            duration: Some(Duration::from_secs(10)),
            ..Overrides::default()
        },
    );
    assert_eq!(
        (peak(&p, "browse"), peak(&p, "buy"), peak(&p, "search")),
        (6, 2, 4)
    );
    let pool = p.locust.as_ref().expect("pool");
    assert_eq!((pool.users, pool.run_time), (12, Duration::from_secs(10)));
    for s in &p.scenarios {
        assert_eq!(s.executor.duration(), Duration::from_secs(10), "{}", s.name);
    }
    let p = overridden(
        USERS,
        "http://127.0.0.1:9",
        Overrides {
            scenarios: vec!["browse".into(), "buy".into()],
            ..Overrides::default()
        },
    );
    assert_eq!((peak(&p, "browse"), peak(&p, "buy")), (45, 15));
}

/// A timeline action's `at:` is checked against the load as reshaped, not as written.
#[test]
fn timeline_at_is_checked_against_the_reshaped_load() {
    let yaml = "base_url: BASE
scenarios:
  a: { executor: constant-vus, vus: 1, duration: 2s, flow: [ { get: /health } ] }
timeline:
  - { name: late, at: 5s, http: { get: /health } }
";
    let load = |reshaped: bool| {
        let opts = LoadOptions {
            reshaped,
            ..LoadOptions::default()
        };
        load_str(
            &yaml.replace("BASE", "http://127.0.0.1:9"),
            std::path::Path::new("plan.yaml"),
            &opts,
        )
    };
    let e = load(false)
        .expect_err("past the end as written")
        .to_string();
    assert!(e.contains("plan.yaml:5:"), "{e}");
    assert!(e.contains("past the end of the load (2s)"), "{e}");
    let longer = Overrides {
        duration: Some(Duration::from_secs(10)),
        ..Overrides::default()
    };
    let mut p = load(true).expect("deferred to the overrides");
    apply_overrides(&mut p, &longer).expect("5s is inside 10s");
    let shorter = Overrides {
        duration: Some(Duration::from_secs(3)),
        ..Overrides::default()
    };
    let mut p = load(true).expect("deferred to the overrides");
    let e = apply_overrides(&mut p, &shorter).expect_err("5s is past 3s");
    assert_eq!(
        e,
        "timeline action `late` at 5s is past the end of the reshaped load (3s): it would never run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_split_by_weight_and_spawn_at_the_rate() {
    let s = CountingServer::start().await;
    let p = plan(USERS, &s.url());
    let t0 = Instant::now();
    let out = run_plan(p).await;
    assert_eq!(out.exit_code.code(), 0, "{}", out.summary);
    assert_eq!(s.count(), count(&out, "http_reqs"));
    let users = |prefix: &str| by_prefix(&s, prefix).len() as f64;
    let (browse, buy, search) = (users("/browse/"), users("/buy/"), users("/search/"));
    assert_eq!(browse + buy + search, 60.0);
    eprintln!("users by class: browse {browse} buy {buy} search {search}");
    for (n, w) in [(browse, 3.0), (buy, 1.0), (search, 2.0)] {
        assert!(
            (n / 60.0 - w / 6.0).abs() <= 0.02,
            "{browse} {buy} {search}"
        );
    }
    // each user's first request is its spawn; the k-th comes at k / 30 s
    let mut first: HashMap<String, Instant> = HashMap::new();
    for r in s.seen() {
        first.entry(r.path.clone()).or_insert(r.at);
    }
    let mut at: Vec<f64> = first
        .values()
        .map(|t| t.duration_since(t0).as_secs_f64())
        .collect();
    at.sort_by(f64::total_cmp);
    let start = at[0];
    let worst = at
        .iter()
        .enumerate()
        .map(|(k, t)| (t - start - k as f64 / 30.0).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "spawn: last user at {:.3}s (ideal 1.967s), worst deviation {worst:.3}s",
        at[59] - start
    );
    for (k, t) in at.iter().enumerate() {
        let want = k as f64 / 30.0;
        assert!(
            (t - start - want).abs() < 0.15,
            "user {k} spawned at {:.3}s, expected {want:.3}s: {at:?}",
            t - start
        );
    }
}

#[test]
fn bad_weights_are_errors() {
    for (w, msg) in [
        ("0", "weight must be a number above 0 (got 0)"),
        ("-2", "weight must be a number above 0 (got -2)"),
    ] {
        let y = USERS.replace("weight: 1", &format!("weight: {w}"));
        let e = load_env(&y, "http://127.0.0.1:9", &[]).expect_err("an error");
        assert!(e.contains(&format!("plan.yaml:8:13: {msg}")), "{e}");
    }
    let y = USERS.replace("locust: { users: 60, spawn_rate: 30, run_time: 3s }\n", "");
    let e = load_env(&y, "http://127.0.0.1:9", &[]).expect_err("an error");
    assert!(e.contains("need a `locust:` block"), "{e}");
}

fn per_user_rate(s: &CountingServer, prefix: &str, secs: f64) -> Vec<f64> {
    by_prefix(s, prefix)
        .values()
        .map(|n| *n as f64 / secs)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_and_constant_throughput_pace_each_user() {
    // wait: 100ms (Locust's constant) after a fast request: 10 iterations a second a user
    let s = CountingServer::start().await;
    let y = "base_url: BASE\nscenarios:\n  w:\n    executor: constant-vus\n    vus: 4\n    duration: 4s\n    wait: 100ms\n    flow: [ { get: \"/w/{{vu}}\" } ]\n";
    run_plan(plan(y, &s.url())).await;
    let r = per_user_rate(&s, "/w/", 4.0);
    eprintln!("wait 100ms: per-user rates {r:?}");
    assert_eq!(r.len(), 4);
    for x in &r {
        assert!((x / 10.0 - 1.0).abs() <= 0.05, "{r:?}");
    }

    // wait: 50ms..150ms (Locust's between): 10 a second on average
    let s = CountingServer::start().await;
    let y = "base_url: BASE\nscenarios:\n  w:\n    executor: constant-vus\n    vus: 8\n    duration: 4s\n    wait: 50ms..150ms\n    flow: [ { get: \"/w/{{vu}}\" } ]\n";
    run_plan(plan(y, &s.url())).await;
    let r = per_user_rate(&s, "/w/", 4.0);
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    eprintln!("wait 50ms..150ms: mean per-user rate {mean:.3}");
    assert!((mean / 10.0 - 1.0).abs() <= 0.05, "{mean} {r:?}");

    // wait_constant_throughput: 4 iterations a second a user, whatever the iteration takes
    // (here 100 ms of sleep)
    let s = CountingServer::start().await;
    let y = "base_url: BASE\nscenarios:\n  t:\n    executor: constant-vus\n    vus: 5\n    duration: 3s\n    wait_constant_throughput: 4\n    flow: [ { get: \"/t/{{vu}}\" }, { sleep: 100ms } ]\n";
    run_plan(plan(y, &s.url())).await;
    let r = per_user_rate(&s, "/t/", 3.0);
    eprintln!("constant throughput 4/s: per-user rates {r:?}");
    assert_eq!(r.len(), 5);
    for x in &r {
        assert!((x / 4.0 - 1.0).abs() <= 0.05, "{r:?}");
    }
}

#[test]
fn pacing_errors() {
    let y = "scenarios:\n  t:\n    executor: constant-arrival-rate\n    rate: 5\n    duration: 1s\n    preAllocatedVUs: 1\n    wait: 1s\n    flow: [ { get: http://127.0.0.1:9/ } ]\n";
    let e = load_env(y, "", &[]).expect_err("an error");
    assert!(
        e.contains("plan.yaml:7:11: wait and wait_constant_throughput pace closed executors"),
        "{e}"
    );
    let y = "scenarios:\n  t:\n    executor: constant-vus\n    duration: 1s\n    wait_constant_throughput: 0\n    flow: [ { get: http://127.0.0.1:9/ } ]\n";
    let e = load_env(y, "", &[]).expect_err("an error");
    assert!(e.contains("wait_constant_throughput must be"), "{e}");
}
