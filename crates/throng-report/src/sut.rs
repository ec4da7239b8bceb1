//! The system under test in every report: the monitors' figures (resource tables by
//! phase, per-monitor charts, errors) and SLO compliance.
use crate::format::{escape_xml as esc, format_bytes, format_percent};
use crate::svg::{line_chart_with_bands, Band, Line};
use crate::Results;
use std::fmt::Write as _;
use throng_metrics::monitor::{MonitorReport, SloResult};

/// The phases to fill resource rows for (the whole run when the plan has none).
fn spans(r: &Results) -> Vec<(String, f64, f64)> {
    let mut v: Vec<(String, f64, f64)> = r
        .phases
        .iter()
        .map(|p| (format!("{}: {}", p.scenario, p.name), p.start_s, p.end_s))
        .collect();
    if v.is_empty() {
        v.push(("whole run".into(), 0.0, r.run.duration_ms / 1000.0 + 1.0));
    }
    v
}

fn monitors(r: &Results) -> &[MonitorReport] {
    r.monitors
        .as_ref()
        .map(|m| m.monitors.as_slice())
        .unwrap_or(&[])
}

fn process_monitor(r: &Results) -> Option<&MonitorReport> {
    monitors(r).iter().find(|m| m.kind == "process")
}

/// The series of a process monitor holding memory (`rss`, or a cgroup's `memory`).
fn mem_series(m: &MonitorReport) -> &'static str {
    if m.series.contains_key("rss") {
        "rss"
    } else {
        "memory"
    }
}

fn slo_row(s: &SloResult) -> [String; 8] {
    [
        s.objective.clone(),
        format!("{}s", s.window_s),
        format_percent(s.target),
        format!("{}/{}", s.met, s.windows),
        format_percent(s.compliance),
        s.worst
            .as_ref()
            .map(|w| {
                format!(
                    "{:.0}s–{:.0}s: {}",
                    w.start_s,
                    w.start_s + s.window_s,
                    w.value
                        .map(|v| format!("{v:.4}"))
                        .unwrap_or_else(|| "no data".into())
                )
            })
            .unwrap_or_else(|| "—".into()),
        s.budget_consumed
            .map(format_percent)
            .unwrap_or_else(|| "none allowed (100% target)".into()),
        if s.ok { "✅ met" } else { "❌ missed" }.into(),
    ]
}

/// The summary's lines: each monitor's samples and errors, each SLO's verdict.
pub(crate) fn summary(r: &Results, ok: &str, bad: &str) -> String {
    let mut o = String::new();
    if !monitors(r).is_empty() {
        let _ = writeln!(o, "  █ SYSTEM UNDER TEST\n");
        for m in monitors(r) {
            let mark = if m.errors == 0 { ok } else { bad };
            let _ = write!(
                o,
                "    {mark} monitor {} ({} {}): {} samples, {} errors",
                m.name, m.kind, m.target, m.samples, m.errors
            );
            if let Some(e) = &m.last_error {
                let _ = write!(o, " — last: {e}");
            }
            let _ = writeln!(o);
            if let Some(p) = process_monitor(r).filter(|p| p.name == m.name) {
                if let Some(w) = p.window("cpu", 0.0, f64::MAX) {
                    let _ = write!(o, "      cpu avg {:.1}% peak {:.1}%", w.avg, w.max);
                    if let Some(mem) = p.window(mem_series(p), 0.0, f64::MAX) {
                        let _ = write!(o, ", memory peak {}", format_bytes(mem.max));
                    }
                    let _ = writeln!(o);
                }
            }
        }
        let _ = writeln!(o);
    }
    if !r.slos.is_empty() {
        let _ = writeln!(o, "  █ SLOS\n");
        for s in &r.slos {
            let _ = writeln!(
                o,
                "    {} {}: {} — {}/{} windows of {}s met ({}, target {})",
                if s.ok { ok } else { bad },
                s.name,
                s.objective,
                s.met,
                s.windows,
                s.window_s,
                format_percent(s.compliance),
                format_percent(s.target)
            );
        }
        let _ = writeln!(o);
    }
    o
}

/// One column of a per-phase table: its header, the series and how a window shows.
type Column = (
    &'static str,
    &'static str,
    fn(&throng_metrics::monitor::Window) -> String,
);

fn fixed(v: f64, unit: &str) -> String {
    format!("{v:.1}{unit}")
}

const DB_COLUMNS: [Column; 8] = [
    ("Connections active avg", "connections:active", |w| {
        fixed(w.avg, "")
    }),
    ("Active peak", "connections:active", |w| fixed(w.max, "")),
    ("Idle peak", "connections:idle", |w| fixed(w.max, "")),
    ("Waiting on locks peak", "connections:waiting", |w| {
        fixed(w.max, "")
    }),
    ("Lock waits peak", "locks_waiting", |w| fixed(w.max, "")),
    ("Transactions/s avg", "xacts:rate", |w| fixed(w.avg, "")),
    (
        "Query mean (pg_stat_statements) peak",
        "query_mean_ms",
        |w| fixed(w.max, " ms"),
    ),
    ("Cache hit ratio avg", "cache_hit_ratio", |w| {
        format_percent(w.avg)
    }),
];

const REDIS_COLUMNS: [Column; 7] = [
    ("Memory avg", "memory", |w| format_bytes(w.avg)),
    ("Memory peak", "memory", |w| format_bytes(w.max)),
    ("Hit rate avg", "hit_rate", |w| format_percent(w.avg)),
    ("Commands/s avg", "ops:rate", |w| fixed(w.avg, "")),
    ("Commands/s peak", "ops:rate", |w| fixed(w.max, "")),
    ("Evictions", "evicted_keys", |w| {
        format!("{:.0}", w.max - w.min)
    }),
    ("Clients peak", "clients", |w| fixed(w.max, "")),
];

/// The database and Redis tables by phase from the first `postgres:` and `redis:` monitors;
/// a kind without a monitor is one row saying which monitor would fill it.
fn service_tables(r: &Results) -> String {
    let mut o = String::new();
    let mut missing = Vec::new();
    for (kind, what, cols) in [
        ("postgres", "Database", &DB_COLUMNS[..]),
        ("redis", "Redis", &REDIS_COLUMNS[..]),
    ] {
        let Some(m) = monitors(r).iter().find(|m| m.kind == kind) else {
            missing.push((what, kind));
            continue;
        };
        let heads: Vec<&str> = cols.iter().map(|c| c.0).collect();
        let _ = writeln!(
            o,
            "\n{what} from monitor `{}` ({}).\n\n| Phase | {} |\n|---|{}",
            m.name,
            md_cell(&m.target),
            heads.join(" | "),
            "---:|".repeat(cols.len())
        );
        for (name, from, to) in spans(r) {
            let cells: Vec<String> = cols
                .iter()
                .map(|(_, series, show)| {
                    m.window(series, from, to)
                        .map(|w| show(&w))
                        .unwrap_or_else(|| format!("no `{series}` samples"))
                })
                .collect();
            let _ = writeln!(o, "| {} | {} |", md_cell(&name), cells.join(" | "));
        }
    }
    if !missing.is_empty() {
        let _ = writeln!(o, "\n| Resource | Figures |\n|---|---|");
        for (_, kind) in missing {
            let figures = if kind == "postgres" {
                "DB connections (active/idle/waiting), query latency p95, lock waits"
            } else {
                "Redis memory, hit rate, commands/s, evictions"
            };
            let _ = writeln!(
                o,
                "| {figures} | not measured: a `{kind}:` monitor would provide them |"
            );
        }
    }
    o
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown sections: resources by phase, what is not measured and by which monitor it
/// would be, the monitors, SLO compliance.
pub(crate) fn markdown(r: &Results) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "\n## System under test\n");
    let p = process_monitor(r);
    match p {
        Some(p) => {
            let _ = writeln!(
                o,
                "Application resources from monitor `{}` ({} {}; CPU in % of one core).\n",
                p.name, p.kind, p.target
            );
        }
        None => {
            let _ = writeln!(o, "No process monitor in this run: the application rows below say which monitor would fill them.\n");
        }
    }
    let _ = writeln!(
        o,
        "| Phase | App CPU avg | App CPU peak | Memory avg | Memory peak | Threads (max) |\n|---|---:|---:|---:|---:|---:|"
    );
    let none = "no data: add a `process:` monitor";
    for (name, from, to) in spans(r) {
        let cells = match p {
            Some(p) => {
                let na = |s: &str| format!("no samples from `{}`: {s}", p.name);
                let cpu = p.window("cpu", from, to);
                let mem = p.window(mem_series(p), from, to);
                let thr = p
                    .window("threads", from, to)
                    .or_else(|| p.window("pids", from, to));
                [
                    cpu.map(|w| format!("{:.1}%", w.avg))
                        .unwrap_or_else(|| na("cpu")),
                    cpu.map(|w| format!("{:.1}%", w.max))
                        .unwrap_or_else(|| na("cpu")),
                    mem.map(|w| format_bytes(w.avg))
                        .unwrap_or_else(|| na("memory")),
                    mem.map(|w| format_bytes(w.max))
                        .unwrap_or_else(|| na("memory")),
                    thr.map(|w| format!("{:.0}", w.max))
                        .unwrap_or_else(|| na("threads")),
                ]
            }
            None => [
                none.to_string(),
                none.into(),
                none.into(),
                none.into(),
                none.into(),
            ],
        };
        let _ = writeln!(o, "| {} | {} |", md_cell(&name), cells.join(" | "));
    }
    if let Some(p) = p {
        let secs = r.run.duration_ms / 1000.0;
        if secs < 300.0 {
            let _ = writeln!(
                o,
                "\nMemory growth per hour: not extrapolated from a {secs:.0}s run (needs 5 minutes or more)."
            );
        } else if let Some(g) = p.growth_per_hour(mem_series(p)) {
            let _ = writeln!(
                o,
                "\nMemory growth: {}/hour (least squares over the run).",
                format_bytes(g.abs()).to_string() + if g < 0.0 { " down" } else { "" }
            );
        }
    }
    o.push_str(&service_tables(r));
    if !monitors(r).is_empty() {
        let _ = writeln!(
            o,
            "\n### Monitors\n\n| Monitor | Kind | Target | Samples | Errors | Last error |\n|---|---|---|---:|---:|---|"
        );
        for m in monitors(r) {
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {} | {} | {} |",
                m.name,
                m.kind,
                md_cell(&m.target),
                m.samples,
                m.errors,
                md_cell(m.last_error.as_deref().unwrap_or("—"))
            );
        }
        let _ = writeln!(
            o,
            "\n| Series | Avg | Min | Max | Last | Change |\n|---|---:|---:|---:|---:|---:|"
        );
        for m in monitors(r) {
            for (s, pts) in m.series.iter().take(40) {
                let Some(w) = m.window(s, f64::MIN, f64::MAX) else {
                    continue;
                };
                let first = pts.first().map(|p| p.1).unwrap_or(0.0);
                let last = pts.last().map(|p| p.1).unwrap_or(0.0);
                let _ = writeln!(
                    o,
                    "| `monitor:{}.{}` | {:.2} | {:.2} | {:.2} | {:.2} | {:+.2} |",
                    m.name,
                    md_cell(s),
                    w.avg,
                    w.min,
                    w.max,
                    last,
                    last - first
                );
            }
            for (k, v) in &m.facts {
                let _ = writeln!(
                    o,
                    "| `{}` {} | {} | | | | |",
                    m.name,
                    md_cell(k),
                    md_cell(v)
                );
            }
        }
    }
    if !r.slos.is_empty() {
        let _ = writeln!(
            o,
            "\n## SLO compliance\n\n| SLO | Objective | Window | Target | Windows met | Compliance | Worst window | Error budget used | Verdict |\n|---|---|---:|---:|---:|---:|---|---:|---|"
        );
        for s in &r.slos {
            let c = slo_row(s);
            let _ = writeln!(
                o,
                "| {} | `{}` | {} |",
                md_cell(&s.name),
                md_cell(&c[0]),
                c[1..].join(" | ")
            );
        }
    }
    o
}

const COLORS: [&str; 6] = [
    "#4c7bd9", "#d64545", "#e0a100", "#2f9e6e", "#8a55c9", "#555",
];

/// A chart: its title, unit and series.
type Group<'a> = (String, &'static str, Vec<&'a str>);

/// The charts of a monitor: grouped by what they measure for the kinds throng knows
/// (process, postgres, redis; a custom Redis command is a chart of its own), one chart per
/// series (at most 8) for the others.
fn chart_groups(m: &MonitorReport) -> Vec<Group<'_>> {
    let fixed: &[(&str, &'static str, &[&str])] = match m.kind.as_str() {
        "process" => &[
            ("CPU", "% of one core", &["cpu"]),
            ("Memory", "bytes", &["rss", "memory"]),
            ("Threads and fds", "count", &["threads", "fds", "pids"]),
        ],
        "postgres" => &[
            (
                "Connections",
                "connections",
                &[
                    "connections:active",
                    "connections:idle",
                    "connections:idle_in_transaction",
                    "connections:waiting",
                ],
            ),
            (
                "Transactions and rows",
                "per second",
                &[
                    "xacts:rate",
                    "rollbacks:rate",
                    "rows_fetched:rate",
                    "rows_inserted:rate",
                    "rows_updated:rate",
                    "rows_deleted:rate",
                ],
            ),
            ("Locks", "count", &["locks_waiting", "deadlocks"]),
            ("Statements", "ms", &["query_mean_ms"]),
            ("Cache hit ratio", "0–1", &["cache_hit_ratio"]),
        ],
        "redis" => &[
            ("Memory", "bytes", &["memory", "memory_rss"]),
            ("Commands", "per second", &["ops:rate", "evicted_keys:rate"]),
            ("Hit rate", "0–1", &["hit_rate"]),
            ("Clients and keys", "count", &["clients", "keys"]),
            (
                "Evictions and expiries",
                "keys",
                &["evicted_keys", "expired_keys"],
            ),
        ],
        _ => &[],
    };
    if fixed.is_empty() {
        return m
            .series
            .keys()
            .take(8)
            .map(|k| (k.clone(), "", vec![k.as_str()]))
            .collect();
    }
    let mut out: Vec<Group<'_>> = fixed
        .iter()
        .map(|(t, u, names)| (t.to_string(), *u, names.to_vec()))
        .collect();
    if m.kind == "redis" {
        let known: Vec<&str> = fixed.iter().flat_map(|g| g.2.iter().copied()).collect();
        for k in m
            .series
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .take(8)
        {
            out.push((k.clone(), "", vec![k.as_str()]));
        }
    }
    out
}

/// The HTML section: a chart per monitor (grouped by unit for process monitors), the
/// monitors' errors and SLO compliance.
pub(crate) fn html(r: &Results) -> String {
    let mut o = String::new();
    if monitors(r).is_empty() && r.slos.is_empty() {
        return o;
    }
    o.push_str(r#"<section id="system-under-test"><h2>System under test</h2><div class="charts">"#);
    // the load's phases shaded and the timeline's actions marked, as on the load's charts
    let phase_names: Vec<String> = r
        .phases
        .iter()
        .map(|p| format!("{}: {}", p.scenario, p.name))
        .collect();
    let bands: Vec<Band<'_>> = r
        .phases
        .iter()
        .zip(&phase_names)
        .map(|(p, label)| Band {
            label,
            from: p.start_s,
            to: p.end_s,
        })
        .collect();
    let markers = crate::html::action_markers(r);
    for m in monitors(r) {
        let groups = chart_groups(m);
        for (i, (title, unit, names)) in groups.iter().enumerate() {
            let lines: Vec<Line<'_>> = names
                .iter()
                .enumerate()
                .filter_map(|(j, n)| {
                    m.series.get(*n).map(|pts| Line {
                        label: n,
                        color: COLORS[j % COLORS.len()],
                        points: pts.clone(),
                    })
                })
                .collect();
            if lines.is_empty() {
                continue;
            }
            o.push_str(&line_chart_with_bands(
                &format!("chart-monitor-{}-{i}", m.name),
                &format!("{} — {title}", m.name),
                unit,
                &lines,
                &markers,
                &bands,
            ));
        }
    }
    o.push_str("</div>");
    if !monitors(r).is_empty() {
        o.push_str("<table><tr><th>Monitor</th><th>Kind</th><th>Target</th><th class=\"n\">Samples</th><th class=\"n\">Errors</th><th>Last error</th></tr>");
        for m in monitors(r) {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                esc(&m.name),
                esc(&m.kind),
                esc(&m.target),
                m.samples,
                m.errors,
                esc(m.last_error.as_deref().unwrap_or("—"))
            );
        }
        o.push_str("</table>");
    }
    if !r.slos.is_empty() {
        o.push_str("<h3>SLO compliance</h3><table><tr><th>SLO</th><th>Objective</th><th>Window</th><th>Target</th><th>Windows met</th><th>Compliance</th><th>Worst window</th><th>Error budget used</th><th>Verdict</th></tr>");
        for s in &r.slos {
            let _ = write!(o, "<tr><td>{}</td>", esc(&s.name));
            for c in slo_row(s) {
                let _ = write!(o, "<td>{}</td>", esc(&c));
            }
            o.push_str("</tr>");
        }
        o.push_str("</table>");
    }
    o.push_str("</section>");
    o
}
