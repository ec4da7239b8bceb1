//! Figures of the other protocols' steps (SQL, gRPC, WebSocket, Redis), built from the
//! final snapshot into the results file ([`ProtocolStats`]), and their sections of the
//! end-of-run summary, the Markdown and the HTML reports. A protocol the run did not use
//! has no section.
use crate::format::{escape_xml as esc, format_ms};
use crate::results::Results;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use throng_metrics::{Agg, Snapshot};

/// Requests of one step, method or command: count, failures and duration percentiles.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct CallStats {
    /// The step's `name` (SQL, WebSocket), the gRPC method or the Redis command.
    pub key: String,
    /// Queries, calls or commands.
    pub count: u64,
    /// Failed ones (SQL: `sql_errors`; gRPC: a status other than OK; Redis:
    /// `redis_errors`).
    pub errors: u64,
    /// Duration percentiles, ms.
    pub p50: f64,
    /// 95th percentile, ms.
    pub p95: f64,
    /// 99th percentile, ms.
    pub p99: f64,
    /// SQL: average wait for a pooled connection, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_avg: Option<f64>,
    /// SQL: 95th percentile of the wait, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_p95: Option<f64>,
}

/// How many of one outcome: SQL errors by step and kind (`sqlstate 42601`,
/// `pool_timeout`), gRPC calls by method and status (`0 OK`, `12 UNIMPLEMENTED`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Tally {
    /// The step or method.
    pub key: String,
    /// The outcome.
    pub outcome: String,
    /// How many.
    pub count: u64,
}

/// The WebSocket sessions of one step.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct WsStats {
    /// The step's `name`.
    pub key: String,
    /// Sessions (`ws_sessions`).
    pub sessions: u64,
    /// `ws_connecting` p95, ms.
    pub connecting_p95: f64,
    /// `ws_session_duration` p50, ms.
    pub session_p50: f64,
    /// `ws_session_duration` p95, ms.
    pub session_p95: f64,
    /// `ws_msgs_sent`.
    pub msgs_sent: u64,
    /// `ws_msgs_received`.
    pub msgs_received: u64,
}

/// The other protocols' figures of a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ProtocolStats {
    /// `sql:` statements by step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sql: Vec<CallStats>,
    /// SQL errors by step and kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sql_errors: Vec<Tally>,
    /// gRPC calls by method.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grpc: Vec<CallStats>,
    /// gRPC calls by method and status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grpc_statuses: Vec<Tally>,
    /// WebSocket sessions by step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ws: Vec<WsStats>,
    /// Redis commands by command (`GET`, `INCR+GET` for a pipeline).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redis: Vec<CallStats>,
}

/// gRPC's status names, by code.
const GRPC_CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// `14 UNAVAILABLE` for status `14`.
fn grpc_status(code: &str) -> String {
    match code.parse::<usize>().ok().and_then(|c| GRPC_CODES.get(c)) {
        Some(n) => format!("{code} {n}"),
        None => code.to_string(),
    }
}

fn filter(key: &str, v: &str) -> Vec<(String, String)> {
    vec![(key.to_string(), v.to_string())]
}

/// p50, p95, p99 of trend `metric` over `f` (zeros without samples).
fn percentiles(snap: &Snapshot, metric: &str, f: &[(String, String)]) -> [f64; 3] {
    match snap.aggregate(metric, f) {
        Some(Agg::Trend(t)) => [50.0, 95.0, 99.0].map(|p| t.percentile(p)),
        _ => [0.0; 3],
    }
}

/// Counts of counter `metric` by the values of `keys` (in that order), from its series.
fn tally(snap: &Snapshot, metric: &str, keys: &[&str]) -> Vec<(Vec<String>, u64)> {
    let Some((id, _)) = snap.metric(metric) else {
        return Vec::new();
    };
    let mut out: Vec<(Vec<String>, u64)> = Vec::new();
    for (k, agg) in snap.series().filter(|(k, _)| k.metric == id) {
        let Agg::Counter { sum } = agg else { continue };
        let tags = snap.tags(k.tags);
        let key: Vec<String> = keys
            .iter()
            .map(|t| tags.get(t).unwrap_or("").to_string())
            .collect();
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += *sum as u64,
            None => out.push((key, *sum as u64)),
        }
    }
    out.sort();
    out
}

impl ProtocolStats {
    /// The figures of `snap`; `None` when the run used none of these protocols.
    pub fn from_snapshot(snap: &Snapshot) -> Option<ProtocolStats> {
        let count = |m: &str, f: &[(String, String)]| snap.count(m, f) as u64;
        let mut p = ProtocolStats::default();
        for name in snap.tag_values("sql_queries", "name") {
            let f = filter("name", &name);
            let [p50, p95, p99] = percentiles(snap, "sql_query_duration", &f);
            let wait = snap.aggregate("sql_pool_wait", &f);
            let (wait_avg, wait_p95) = match wait {
                Some(Agg::Trend(t)) => (Some(t.avg()), Some(t.percentile(95.0))),
                _ => (None, None),
            };
            p.sql.push(CallStats {
                count: count("sql_queries", &f),
                errors: count("sql_errors", &f),
                p50,
                p95,
                p99,
                wait_avg,
                wait_p95,
                key: name,
            });
        }
        for (k, n) in tally(snap, "sql_errors", &["name", "error", "sqlstate"]) {
            let outcome = match (k[1].as_str(), k[2].as_str()) {
                (_, s) if !s.is_empty() && s != "00000" => format!("sqlstate {s}"),
                (e, _) => e.to_string(),
            };
            match p
                .sql_errors
                .iter_mut()
                .find(|t| t.key == k[0] && t.outcome == outcome)
            {
                Some(t) => t.count += n,
                None => p.sql_errors.push(Tally {
                    key: k[0].clone(),
                    outcome,
                    count: n,
                }),
            }
        }
        p.sql_errors
            .sort_by(|a, b| (&a.key, &a.outcome).cmp(&(&b.key, &b.outcome)));
        let statuses = tally(snap, "grpc_reqs", &["method", "status"]);
        let methods: BTreeSet<&String> = statuses.iter().map(|(k, _)| &k[0]).collect();
        for m in methods {
            let f = filter("method", m);
            let [p50, p95, p99] = percentiles(snap, "grpc_req_duration", &f);
            let of = |ok: bool| -> u64 {
                statuses
                    .iter()
                    .filter(|(k, _)| k[0] == *m && (k[1] == "0") == ok)
                    .map(|(_, n)| n)
                    .sum()
            };
            p.grpc.push(CallStats {
                key: m.clone(),
                count: of(true) + of(false),
                errors: of(false),
                p50,
                p95,
                p99,
                ..CallStats::default()
            });
        }
        // by method, then by code as a number (2 before 14)
        let code = |t: &Tally| {
            t.outcome
                .split(' ')
                .next()
                .and_then(|c| c.parse::<u32>().ok())
        };
        p.grpc_statuses = statuses
            .iter()
            .map(|(k, n)| Tally {
                key: k[0].clone(),
                outcome: grpc_status(&k[1]),
                count: *n,
            })
            .collect();
        p.grpc_statuses
            .sort_by(|a, b| (&a.key, code(a)).cmp(&(&b.key, code(b))));
        for name in snap.tag_values("ws_sessions", "name") {
            let f = filter("name", &name);
            let [_, connecting_p95, _] = percentiles(snap, "ws_connecting", &f);
            let [session_p50, session_p95, _] = percentiles(snap, "ws_session_duration", &f);
            p.ws.push(WsStats {
                sessions: count("ws_sessions", &f),
                connecting_p95,
                session_p50,
                session_p95,
                msgs_sent: count("ws_msgs_sent", &f),
                msgs_received: count("ws_msgs_received", &f),
                key: name,
            });
        }
        for cmd in snap.tag_values("redis_commands", "command") {
            let f = filter("command", &cmd);
            let [p50, p95, p99] = percentiles(snap, "redis_command_duration", &f);
            p.redis.push(CallStats {
                count: count("redis_commands", &f),
                errors: count("redis_errors", &f),
                p50,
                p95,
                p99,
                key: cmd,
                ..CallStats::default()
            });
        }
        (p != ProtocolStats::default()).then_some(p)
    }
}

/// One table of a section: a title, the header (the first column is text, the others
/// numbers) and the rows.
struct Table {
    id: &'static str,
    title: &'static str,
    head: &'static [&'static str],
    rows: Vec<Vec<String>>,
}

/// A step's name as shown: at most 80 characters (a default name is the statement).
fn shown(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(79).collect::<String>())
    }
}

fn call_rows(v: &[CallStats], wait: bool) -> Vec<Vec<String>> {
    v.iter()
        .map(|c| {
            let mut row = vec![
                shown(&c.key),
                c.count.to_string(),
                c.errors.to_string(),
                format_ms(c.p50),
                format_ms(c.p95),
                format_ms(c.p99),
            ];
            if wait {
                row.push(c.wait_avg.map_or("—".into(), format_ms));
                row.push(c.wait_p95.map_or("—".into(), format_ms));
            }
            row
        })
        .collect()
}

fn tally_rows(v: &[Tally]) -> Vec<Vec<String>> {
    v.iter()
        .map(|t| vec![shown(&t.key), t.outcome.clone(), t.count.to_string()])
        .collect()
}

/// The tables of `r`'s protocol sections, in order (none without figures).
fn tables(r: &Results) -> Vec<Table> {
    let Some(p) = &r.protocols else {
        return Vec::new();
    };
    let all = [
        Table {
            id: "sql",
            title: "SQL",
            head: &[
                "Statement",
                "Queries",
                "Errors",
                "p50",
                "p95",
                "p99",
                "Pool wait avg",
                "Pool wait p95",
            ],
            rows: call_rows(&p.sql, true),
        },
        Table {
            id: "sql-errors",
            title: "SQL errors",
            head: &["Statement", "Error", "Count"],
            rows: tally_rows(&p.sql_errors),
        },
        Table {
            id: "grpc",
            title: "gRPC",
            head: &["Method", "Calls", "Not OK", "p50", "p95", "p99"],
            rows: call_rows(&p.grpc, false),
        },
        Table {
            id: "grpc-statuses",
            title: "gRPC statuses",
            head: &["Method", "Status", "Calls"],
            rows: tally_rows(&p.grpc_statuses),
        },
        Table {
            id: "websocket",
            title: "WebSocket",
            head: &[
                "Session",
                "Sessions",
                "Connecting p95",
                "Session p50",
                "Session p95",
                "Sent",
                "Received",
            ],
            rows: p
                .ws
                .iter()
                .map(|w| {
                    vec![
                        shown(&w.key),
                        w.sessions.to_string(),
                        format_ms(w.connecting_p95),
                        format_ms(w.session_p50),
                        format_ms(w.session_p95),
                        w.msgs_sent.to_string(),
                        w.msgs_received.to_string(),
                    ]
                })
                .collect(),
        },
        Table {
            id: "redis",
            title: "Redis",
            head: &["Command", "Commands", "Errors", "p50", "p95", "p99"],
            rows: call_rows(&p.redis, false),
        },
    ];
    all.into_iter().filter(|t| !t.rows.is_empty()).collect()
}

/// The Markdown sections (`## SQL`, ...).
pub(crate) fn markdown(r: &Results) -> String {
    let mut o = String::new();
    for t in tables(r) {
        let _ = writeln!(o, "\n## {}\n", t.title);
        let _ = writeln!(o, "| {} |", t.head.join(" | "));
        let align: Vec<&str> = (0..t.head.len())
            .map(|i| if i == 0 { "---" } else { "---:" })
            .collect();
        let _ = writeln!(o, "|{}|", align.join("|"));
        for row in &t.rows {
            let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
            let _ = writeln!(o, "| {} |", cells.join(" | "));
        }
    }
    o
}

/// The HTML sections.
pub(crate) fn html(r: &Results) -> String {
    let mut o = String::new();
    for t in tables(r) {
        let _ = write!(
            o,
            r#"<section id="{}"><h2>{}</h2><table><tr>"#,
            t.id, t.title
        );
        for (i, h) in t.head.iter().enumerate() {
            let class = if i == 0 { "" } else { r#" class="n""# };
            let _ = write!(o, "<th{class}>{}</th>", esc(h));
        }
        o.push_str("</tr>");
        for row in &t.rows {
            o.push_str("<tr>");
            for (i, c) in row.iter().enumerate() {
                let class = if i == 0 { "" } else { r#" class="n""# };
                let _ = write!(o, "<td{class}>{}</td>", esc(c));
            }
            o.push_str("</tr>");
        }
        o.push_str("</table></section>");
    }
    o
}

/// The end-of-run summary's sections (`█ SQL`, ...): one line per row.
pub(crate) fn summary(r: &Results) -> String {
    let mut o = String::new();
    for t in tables(r) {
        let _ = writeln!(o, "  █ {}", t.title.to_uppercase());
        for row in &t.rows {
            let figures: Vec<String> = t.head[1..]
                .iter()
                .zip(&row[1..])
                .map(|(h, v)| format!("{}={v}", h.to_lowercase()))
                .collect();
            let _ = writeln!(o, "    {}: {}", row[0], figures.join(" "));
        }
        let _ = writeln!(o);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use throng_metrics::{MetricKind, Registry, TagSet, ValueType};

    fn results(reg: &Registry) -> Results {
        let run = crate::results::RunInfo {
            plan: "p".into(),
            plan_file: "p.yaml".into(),
            target: None,
            started_at: "2026-01-01T00:00:00Z".into(),
            duration_ms: 1000.0,
            interrupted: false,
            aborted_by: None,
            exit_code: 0,
            command: None,
        };
        Results::build(
            &reg.collect(),
            &throng_metrics::ThresholdSet::default(),
            &[],
            run,
            vec![],
            vec![],
        )
    }

    #[test]
    fn a_run_without_these_protocols_has_no_sections() {
        let reg = Registry::new();
        let b = reg.builtin().clone();
        let t = reg.intern(TagSet::new([("name", "home"), ("status", "200")]));
        reg.add(b.http_reqs, t, 1.0);
        let r = results(&reg);
        assert_eq!(r.protocols, None);
        assert_eq!(markdown(&r), "");
        assert_eq!(html(&r), "");
        assert_eq!(summary(&r), "");
    }

    #[test]
    fn sql_and_grpc_figures_come_from_their_series() {
        let reg = Registry::new();
        let def = |n: &str, k, v| reg.define(n, k, v).unwrap_or_else(|| panic!("{n}"));
        let queries = def("sql_queries", MetricKind::Counter, ValueType::Default);
        let errors = def("sql_errors", MetricKind::Counter, ValueType::Default);
        let dur = def("sql_query_duration", MetricKind::Trend, ValueType::Time);
        let reqs = def("grpc_reqs", MetricKind::Counter, ValueType::Default);
        let ok = reg.intern(TagSet::new([("name", "a|b"), ("sqlstate", "00000")]));
        let bad = reg.intern(TagSet::new([("name", "a|b"), ("sqlstate", "42601")]));
        let pool = reg.intern(TagSet::new([("name", "a|b"), ("error", "pool_timeout")]));
        for _ in 0..7 {
            reg.add_many(ok, &[(queries, 1.0), (dur, 2.0)]);
        }
        reg.add_many(bad, &[(queries, 1.0), (errors, 1.0), (dur, 1.0)]);
        reg.add_many(pool, &[(queries, 1.0), (errors, 1.0)]);
        let g = |m: &str, s: &str| reg.intern(TagSet::new([("method", m), ("status", s)]));
        reg.add(reqs, g("e.S/Get", "0"), 4.0);
        reg.add(reqs, g("e.S/Get", "14"), 1.0);
        reg.add(reqs, g("e.S/Get", "2"), 1.0);
        let r = results(&reg);
        let p = r.protocols.clone().unwrap_or_default();
        assert_eq!((p.sql[0].count, p.sql[0].errors), (9, 2));
        assert_eq!(p.sql[0].p50, 2.0);
        let tallies: Vec<(&str, u64)> = p
            .sql_errors
            .iter()
            .map(|t| (t.outcome.as_str(), t.count))
            .collect();
        assert_eq!(tallies, [("pool_timeout", 1), ("sqlstate 42601", 1)]);
        assert_eq!((p.grpc[0].count, p.grpc[0].errors), (6, 2));
        let order: Vec<&str> = p.grpc_statuses.iter().map(|t| t.outcome.as_str()).collect();
        assert_eq!(order, ["0 OK", "2 UNKNOWN", "14 UNAVAILABLE"]);
        let md = markdown(&r);
        assert!(md.contains("\n## SQL\n\n| Statement | Queries |"), "{md}");
        assert!(md.contains("| a\\|b | 9 | 2 |"), "{md}");
        assert!(md.contains("| e.S/Get | 14 UNAVAILABLE | 1 |"), "{md}");
        assert!(
            !md.contains("## WebSocket") && !md.contains("## Redis"),
            "{md}"
        );
        let page = html(&r);
        assert!(page.contains(r#"<section id="grpc-statuses"><h2>gRPC statuses</h2>"#));
        let text = summary(&r);
        assert!(
            text.contains("  █ SQL ERRORS\n    a|b: error=pool_timeout count=1\n"),
            "{text}"
        );
    }
}
