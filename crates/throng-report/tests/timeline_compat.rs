//! Results without timeline actions render byte-for-byte as they did before the timeline
//! sections existed (summary, Markdown and HTML), and with actions every format shows them.
use throng_metrics::{ActionRecord, Registry, TagSet, ThresholdSet};
use throng_report::series::SecondPoint;
use throng_report::{html, markdown, render_summary, Results, RunInfo};

fn results() -> Results {
    let reg = Registry::new();
    let b = reg.builtin().clone();
    let t = reg.intern(TagSet::new([("name", "home"), ("status", "200")]));
    for ms in [10.0, 12.5, 30.0] {
        reg.add_many(t, &[(b.http_reqs, 1.0), (b.http_req_duration, ms)]);
    }
    let c = reg.intern(TagSet::new([("check", "is 200")]));
    reg.add_many(c, &[(b.checks, 1.0)]);
    reg.add_many(c, &[(b.checks, 0.0)]);
    let snap = reg.collect();
    let run = RunInfo {
        plan: "p".into(),
        plan_file: "p.yaml".into(),
        target: Some("http://127.0.0.1:1/".into()),
        started_at: "2026-01-01T00:00:00Z".into(),
        duration_ms: 3000.0,
        interrupted: false,
        aborted_by: None,
        exit_code: 0,
        command: None,
    };
    let mut r = Results::build(&snap, &ThresholdSet::default(), &[], run, vec![], vec![]);
    r.seconds = (1..=3)
        .map(|s| SecondPoint {
            t: s as f64,
            vus: 2,
            reqs: s,
            p50: 10.0 + s as f64,
            p95: 20.0 + s as f64,
            p99: 30.0 + s as f64,
            ..SecondPoint::default()
        })
        .collect();
    r
}

/// FNV-1a, 64 bits: enough to notice any changed byte without storing whole documents.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn timeline_absent_renders_as_before() {
    let r = results();
    assert!(r.actions.is_empty());
    // the Started row is in the machine's time zone (issue 21): left out of the comparison
    let md: String = markdown(&r)
        .lines()
        .filter(|l| !l.starts_with("| Started |"))
        .map(|l| format!("{l}\n"))
        .collect();
    let got = [
        (
            "summary",
            fnv(&render_summary(&r, false)),
            render_summary(&r, false).len(),
        ),
        (
            "summary-color",
            fnv(&render_summary(&r, true)),
            render_summary(&r, true).len(),
        ),
        ("markdown", fnv(&md), md.len()),
        ("html", fnv(&html(&r)), html(&r).len()),
    ];
    let want: [(&str, u64, usize); 4] = WANT;
    assert_eq!(got, want);
}

/// Taken from the renderers as they were before the timeline sections (commit ac9e146),
/// the Markdown without its Started row (local time since issue 21);
/// the Markdown since has its "System under test" section in every document (resource rows
/// that say which monitor would fill them), checked on its own below.
const WANT: [(&str, u64, usize); 4] = [
    ("summary", 8687032579735328908, 1110),
    ("summary-color", 13833804082227508430, 1119),
    ("markdown", 2459841887492158081, 1495),
    ("html", 6590785283796089228, 11890),
];

#[test]
fn without_monitors_the_markdown_says_which_monitor_would_fill_the_resource_rows() {
    let md = markdown(&results());
    assert!(md.contains("## System under test"), "{md}");
    assert!(
        md.contains("| whole run | no data: add a `process:` monitor |"),
        "{md}"
    );
    assert!(md.contains("a `postgres:` monitor would provide them"));
    assert!(!md.contains("TBD") && !md.contains("SLO compliance"));
}

#[test]
fn timeline_present_in_every_format() {
    let mut r = results();
    r.actions = vec![ActionRecord {
        name: "purge-cache".into(),
        kind: "http".into(),
        planned_s: Some(2.0),
        started_s: Some(2.0),
        took_ms: 35.0,
        ok: true,
        outcome: "status 204".into(),
        output: String::new(),
        follows: None,
    }];
    assert!(render_summary(&r, false).contains("✓ purge-cache  http  at 2s  started 2.0s"));
    assert!(
        markdown(&r).contains("| ✅ purge-cache | http | 2s | 2.0s | 35.00ms | status 204 |  |")
    );
    let page = html(&r);
    assert_eq!(page.matches(r#"data-action="purge-cache""#).count(), 4);
    // the results file keeps them
    let back = Results::from_json(serde_json::to_string(&r).unwrap_or_default().as_bytes());
    assert_eq!(back.map(|b| b.actions), Ok(r.actions.clone()));
}
