//! A comparison as a terminal table, Markdown, HTML (with the latency distributions
//! overlaid) and JUnit (one case per gate).
use super::{change, Comparison, Figures, GateResult};
use crate::format::{escape_xml as esc, format_ms, format_percent};
use crate::svg::{xy_chart, Line};
use std::fmt::Write as _;

/// The figures of a row, each with a formatter: (label, value of a run, formatted).
type Figure = (&'static str, fn(&Figures) -> f64, fn(f64) -> String);

const FIGURES: [Figure; 6] = [
    ("count", |f| f.count as f64, |v| format!("{v:.0}")),
    ("throughput", |f| f.throughput, |v| format!("{v:.2}/s")),
    ("p(50)", |f| f.p(50.0), format_ms),
    ("p(95)", |f| f.p(95.0), format_ms),
    ("p(99)", |f| f.p(99.0), format_ms),
    ("error rate", |f| f.error_rate, format_percent),
];

/// `+12.0%` (or `n/a` from zero).
fn pct(p: Option<f64>) -> String {
    p.map(|p| format!("{p:+.1}%"))
        .unwrap_or_else(|| "n/a".into())
}

/// A cell of run `i` of a row: the value, and from the second run on its change from
/// the previous run (absolute, %).
fn cell(runs: &[Option<Figures>], i: usize, f: &Figure) -> (String, String) {
    let Some(cur) = &runs[i] else {
        return ("—".into(), String::new());
    };
    let v = (f.1)(cur);
    let shown = (f.2)(v);
    let delta = match i.checked_sub(1).and_then(|p| runs[p].as_ref()) {
        Some(prev) => {
            let (d, p) = change((f.1)(prev), v);
            let sign = if d < 0.0 { "-" } else { "+" };
            format!("{sign}{} ({})", (f.2)(d.abs()), pct(p))
        }
        None => String::new(),
    };
    (shown, delta)
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "✅"
    } else {
        "❌"
    }
}

fn gate_line(g: &GateResult) -> String {
    match (g.before, g.after, g.change) {
        (Some(a), Some(b), Some(c)) => format!(
            "{} {} [{}]: {a:.3} → {b:.3}, change {c:+.2}{}",
            mark(g.ok),
            g.gate,
            g.scope,
            g.unit
        ),
        _ => format!(
            "{} {} [{}]: not measurable (the row is missing in a run)",
            mark(g.ok),
            g.gate,
            g.scope
        ),
    }
}

pub(super) fn text(c: &Comparison) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "comparing {}", c.labels.join(" → "));
    for row in &c.rows {
        let _ = writeln!(o, "\n{}", row.scope.label());
        for f in &FIGURES {
            let _ = write!(o, "  {:<12}", f.0);
            for i in 0..row.runs.len() {
                let (v, d) = cell(&row.runs, i, f);
                let _ = write!(o, " {v:>12} {d:<22}");
            }
            let _ = writeln!(o);
        }
    }
    if !c.gates.is_empty() {
        let _ = writeln!(
            o,
            "\ngates (the last run against the one before it): {}",
            if c.ok() { "PASSED" } else { "FAILED" }
        );
        for g in &c.gates {
            let _ = writeln!(o, "  {}", gate_line(g));
        }
    }
    o
}

pub(super) fn markdown(c: &Comparison) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Comparison: {}\n", c.labels.join(" → "));
    if !c.gates.is_empty() {
        let _ = writeln!(
            o,
            "## Gates: {}\n\n| | gate | scope | before | after | change |\n|---|---|---|---:|---:|---:|",
            if c.ok() { "passed" } else { "FAILED" }
        );
        for g in &c.gates {
            let num = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or("—".into());
            let _ = writeln!(
                o,
                "| {} | `{}` | {} | {} | {} | {} |",
                mark(g.ok),
                g.gate,
                g.scope,
                num(g.before),
                num(g.after),
                g.change
                    .map(|c| format!("{c:+.2}{}", g.unit))
                    .unwrap_or("—".into())
            );
        }
        o.push('\n');
    }
    let _ = write!(o, "## Figures\n\n| scope | figure |");
    for l in &c.labels {
        let _ = write!(o, " {l} |");
    }
    o.push_str("\n|---|---|");
    for _ in &c.labels {
        o.push_str("---:|");
    }
    o.push('\n');
    for row in &c.rows {
        for f in &FIGURES {
            let _ = write!(o, "| {} | {} |", row.scope.label(), f.0);
            for i in 0..row.runs.len() {
                let (v, d) = cell(&row.runs, i, f);
                if d.is_empty() {
                    let _ = write!(o, " {v} |");
                } else {
                    let _ = write!(o, " {v}, {d} |");
                }
            }
            o.push('\n');
        }
    }
    o
}

const COLORS: [&str; 6] = [
    "#4c7bd9", "#d64545", "#1f9d55", "#b7791f", "#805ad5", "#2c7a7b",
];

/// Percentiles drawn on the distribution chart.
fn quantiles() -> Vec<f64> {
    let mut q: Vec<f64> = (0..=18).map(|i| i as f64 * 5.0).collect();
    q.extend([92.5, 95.0, 97.5, 99.0, 99.5, 99.9, 100.0]);
    q.sort_by(f64::total_cmp);
    q.dedup();
    q
}

pub(super) fn html(c: &Comparison) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>throng compare</title><style>{}</style></head><body><header><h1>Comparison<span class="verdict {}">{}</span></h1><div class="meta">{}</div></header><main>"#,
        crate::html::CSS,
        if c.ok() { "pass" } else { "fail" },
        if c.ok() { "PASSED" } else { "FAILED" },
        esc(&c.labels.join(" → "))
    );
    if !c.gates.is_empty() {
        o.push_str(r#"<section id="gates"><h2>Gates</h2><table><tr><th></th><th>gate</th><th>scope</th><th class="n">before</th><th class="n">after</th><th class="n">change</th></tr>"#);
        for g in &c.gates {
            let num = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or("—".into());
            let _ = write!(
                o,
                r#"<tr><td class="{}">{}</td><td><code>{}</code></td><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
                if g.ok { "ok" } else { "bad" },
                mark(g.ok),
                esc(&g.gate),
                esc(&g.scope),
                num(g.before),
                num(g.after),
                g.change
                    .map(|c| format!("{c:+.2}{}", g.unit))
                    .unwrap_or("—".into())
            );
        }
        o.push_str("</table></section>");
    }
    if let Some(overall) = c.rows.first() {
        let lines: Vec<Line<'_>> = overall
            .runs
            .iter()
            .zip(&c.labels)
            .enumerate()
            .filter_map(|(i, (f, l))| {
                f.as_ref().map(|f| Line {
                    label: l,
                    color: COLORS[i % COLORS.len()],
                    points: quantiles().into_iter().map(|q| (q, f.p(q))).collect(),
                })
            })
            .collect();
        let _ = write!(
            o,
            r#"<section id="distribution"><h2>Latency distributions</h2>{}</section>"#,
            xy_chart(
                "latency-distribution",
                "http_req_duration by percentile",
                "%",
                "ms",
                &lines,
                &[]
            )
        );
    }
    o.push_str(r#"<section id="figures"><h2>Figures</h2><table><tr><th>scope</th><th>figure</th>"#);
    for l in &c.labels {
        let _ = write!(o, r#"<th class="n">{}</th>"#, esc(l));
    }
    o.push_str("</tr>");
    for row in &c.rows {
        for f in &FIGURES {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td>",
                esc(&row.scope.label()),
                f.0
            );
            for i in 0..row.runs.len() {
                let (v, d) = cell(&row.runs, i, f);
                let _ = write!(
                    o,
                    r#"<td class="n">{} <small>{}</small></td>"#,
                    esc(&v),
                    esc(&d)
                );
            }
            o.push_str("</tr>");
        }
    }
    o.push_str("</table></section></main></body></html>\n");
    o
}

pub(super) fn junit(c: &Comparison) -> String {
    let esc = |s: &str| esc(s).replace('\'', "&apos;");
    let failed = c.gates.iter().filter(|g| !g.ok).count();
    let mut o = String::new();
    let _ = writeln!(o, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        o,
        r#"<testsuites name="throng compare" tests="{n}" failures="{failed}" errors="0">
  <testsuite name="{}" tests="{n}" failures="{failed}" errors="0">"#,
        esc(&c.labels.join(" -> ")),
        n = c.gates.len()
    );
    for g in &c.gates {
        let _ = write!(
            o,
            r#"    <testcase name="{}" classname="compare">"#,
            esc(&format!("{} [{}]", g.gate, g.scope))
        );
        if g.ok {
            let _ = writeln!(o, "</testcase>");
        } else {
            let msg = gate_line(g);
            let _ = writeln!(
                o,
                "\n      <failure message=\"{m}\" type=\"gate\">{m}</failure>\n    </testcase>",
                m = esc(&msg)
            );
        }
    }
    let _ = writeln!(o, "  </testsuite>\n</testsuites>");
    o
}
