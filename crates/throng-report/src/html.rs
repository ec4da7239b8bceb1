//! The self-contained HTML report: inline CSS and SVG charts drawn by [`crate::svg`]; no
//! scripts, no CDN, so it opens offline and renders the same anywhere.
use crate::format::{escape_xml as esc, format_bytes, format_ms, format_percent as pct};
use crate::markdown::planned_at;
use crate::results::Results;
use crate::summary::{action_started, action_took, output_excerpt};
use crate::svg::{bar_chart, line_chart, Line, Marker};
use std::fmt::Write as _;
use throng_metrics::names;

pub(crate) const CSS: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}
header .meta{opacity:.8}
.verdict{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;margin-left:8px}
.pass{background:#1f9d55;color:#fff}.fail{background:#d64545;color:#fff}
main{padding:20px 28px;max-width:1200px}
section{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:14px 18px;margin:0 0 18px}
h2{font-size:17px;margin:0 0 10px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eef0f3}
th{background:#fafbfc;font-weight:600}
td.n,th.n{text-align:right}
.ok{color:#1f9d55;font-weight:700}.bad{color:#d64545;font-weight:700}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px}
svg.chart{width:100%;height:auto;background:#fff}
svg .title{font-size:13px;font-weight:600;fill:#1d2330}
svg .tick{font-size:10px;fill:#6b7280}
svg .legend{font-size:11px;fill:#1d2330}
svg .grid{stroke:#eef0f3}svg .axis{stroke:#9aa3af}
svg .bar{fill:#4c7bd9}
"#;

/// The report page.
pub fn html(r: &Results) -> String {
    let ok = r.thresholds.iter().all(|t| t.ok) && r.slos.iter().all(|s| s.ok);
    let reqs = r.value(names::HTTP_REQS, "count").unwrap_or(0.0);
    let failed = r.value(names::HTTP_REQ_FAILED, "passes").unwrap_or(0.0);
    let secs = (r.run.duration_ms / 1000.0).max(1e-9);
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>throng — {}</title><style>{CSS}</style></head><body>"#,
        esc(&r.run.plan)
    );
    let _ = write!(
        o,
        r#"<header><h1>{}<span class="verdict {}">{}</span></h1><div class="meta">plan <code>{}</code>{} · started {} · {} · exit code {}</div></header><main>"#,
        esc(&r.run.plan),
        if ok { "pass" } else { "fail" },
        if ok { "PASSED" } else { "FAILED" },
        esc(&r.run.plan_file),
        r.run
            .target
            .as_ref()
            .map(|t| format!(" · target {}", esc(&throng_metrics::redact::url(t))))
            .unwrap_or_default(),
        esc(&r.run.started_at),
        format_ms(r.run.duration_ms),
        r.run.exit_code
    );

    // overview
    let _ = write!(
        o,
        r#"<section id="overview"><h2>Overview</h2><table><tr><th>Requests</th><th>Throughput</th><th>Failed</th><th>Avg</th><th>p95</th><th>p99</th><th>Data received</th></tr><tr><td class="n">{}</td><td class="n">{:.2}/s</td><td class="n">{} ({})</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr></table></section>"#,
        reqs as u64,
        reqs / secs,
        failed as u64,
        pct(if reqs > 0.0 { failed / reqs } else { 0.0 }),
        format_ms(r.value(names::HTTP_REQ_DURATION, "avg").unwrap_or(0.0)),
        format_ms(r.value(names::HTTP_REQ_DURATION, "p(95)").unwrap_or(0.0)),
        format_ms(r.value(names::HTTP_REQ_DURATION, "p(99)").unwrap_or(0.0)),
        format_bytes(r.value(names::DATA_RECEIVED, "count").unwrap_or(0.0)),
    );

    if !r.thresholds.is_empty() {
        let _ = write!(
            o,
            r#"<section id="thresholds"><h2>Thresholds (targets vs actual)</h2><table><tr><th></th><th>Metric</th><th>Target</th><th class="n">Actual</th></tr>"#
        );
        for t in &r.thresholds {
            let base = t.metric.split('{').next().unwrap_or("");
            let time = r
                .metric(base)
                .map(|m| m.contains == throng_metrics::ValueType::Time)
                .unwrap_or(false);
            let actual = if time {
                format_ms(t.observed)
            } else if t.stat == "rate" && base != names::HTTP_REQS {
                pct(t.observed)
            } else {
                format!("{:.2}", t.observed)
            };
            let _ = write!(
                o,
                r#"<tr><td class="{}">{}</td><td>{}</td><td><code>{}</code></td><td class="n">{} = {}</td></tr>"#,
                if t.ok { "ok" } else { "bad" },
                if t.ok { "✓" } else { "✗" },
                esc(&t.metric),
                esc(&t.expression),
                esc(&t.stat),
                actual
            );
        }
        o.push_str("</table></section>");
    }

    // charts over time
    let s = &r.seconds;
    // the run's last interval is usually a partial second (it ends at 6.4 s, say): its
    // per-second figures would read low, so the charts leave it out (the totals keep it)
    let s = match s.split_last() {
        Some((last, rest)) if last.t.fract() > 1e-9 && !rest.is_empty() => rest,
        _ => &s[..],
    };
    let pts = |f: &dyn Fn(&crate::series::SecondPoint) -> f64| -> Vec<(f64, f64)> {
        s.iter().map(|p| (p.t, f(p))).collect()
    };
    // a second without requests has no latency (not a latency of 0)
    let lat = |f: &dyn Fn(&crate::series::SecondPoint) -> f64| -> Vec<(f64, f64)> {
        s.iter()
            .filter(|p| p.reqs > 0)
            .map(|p| (p.t, f(p)))
            .collect()
    };
    let markers = action_markers(r);
    let _ = write!(
        o,
        r#"<section id="charts"><h2>Over time</h2><div class="charts">"#
    );
    o.push_str(&line_chart(
        "chart-rps",
        "Requests and failures per second",
        "per second",
        &[
            Line {
                label: "requests/s",
                color: "#4c7bd9",
                points: pts(&|p| p.rps()),
            },
            Line {
                label: "failures/s",
                color: "#d64545",
                points: pts(&|p| p.fps()),
            },
            Line {
                label: "429/s",
                color: "#e0a100",
                points: pts(&|p| p.rate_limited_ps()),
            },
        ],
        &markers,
    ));
    o.push_str(&line_chart(
        "chart-latency",
        "Response time percentiles",
        "ms",
        &[
            Line {
                label: "p50",
                color: "#1f9d55",
                points: lat(&|p| p.p50),
            },
            Line {
                label: "p95",
                color: "#e0a100",
                points: lat(&|p| p.p95),
            },
            Line {
                label: "p99",
                color: "#d64545",
                points: lat(&|p| p.p99),
            },
        ],
        &markers,
    ));
    o.push_str(&line_chart(
        "chart-vus",
        "Active VUs",
        "VUs",
        &[Line {
            label: "VUs",
            color: "#7d4cd9",
            points: pts(&|p| p.vus as f64),
        }],
        &markers,
    ));
    let bars: Vec<(String, f64)> = r
        .latency_histogram
        .iter()
        .map(|b| (format_ms(b.up_to_ms), b.count as f64))
        .collect();
    o.push_str(&bar_chart(
        "chart-distribution",
        "Latency distribution (requests up to)",
        &bars,
    ));
    o.push_str("</div></section>");

    if !r.actions.is_empty() {
        let _ = write!(
            o,
            r#"<section id="timeline"><h2>Timeline</h2><table><tr><th></th><th>Action</th><th>Kind</th><th>Planned at</th><th class="n">Started</th><th class="n">Took</th><th>Outcome</th><th>Output excerpt</th></tr>"#
        );
        for a in &r.actions {
            let (class, mark) = match (a.ok, a.started_s) {
                (false, _) => ("bad", "✗"),
                (true, Some(_)) => ("ok", "✓"),
                (true, None) => ("", "–"),
            };
            let _ = write!(
                o,
                r#"<tr class="action-row" data-action="{}"><td class="{class}">{mark}</td><td>{}</td><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td><td>{}</td><td><pre style="margin:0;white-space:pre-wrap">{}</pre></td></tr>"#,
                esc(&a.name),
                esc(&a.name),
                esc(&a.kind),
                esc(&planned_at(a)),
                esc(&action_started(a)),
                esc(&action_took(a)),
                esc(&a.outcome),
                esc(&output_excerpt(&a.output, 3, 160))
            );
        }
        o.push_str("</table></section>");
    }

    if !r.phases.is_empty() {
        let _ = write!(
            o,
            r#"<section id="phases"><h2>Phases</h2><table><tr><th>Scenario</th><th>Phase</th><th>Users / rate</th><th class="n">Requests</th><th class="n">RPS</th><th class="n">Avg</th><th class="n">p50</th><th class="n">p95</th><th class="n">p99</th><th class="n">Errors</th><th class="n">429</th></tr>"#
        );
        for p in &r.phases {
            let _ = write!(
                o,
                r#"<tr><td>{}</td><td>{}</td><td>{}→{} {}</td><td class="n">{}</td><td class="n">{:.1}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
                esc(&p.scenario),
                esc(&p.name),
                p.from,
                p.to,
                esc(&p.unit),
                p.requests,
                p.rps,
                format_ms(p.avg),
                format_ms(p.p50),
                format_ms(p.p95),
                format_ms(p.p99),
                pct(p.error_rate),
                pct(p.rate_limited_share)
            );
        }
        o.push_str("</table></section>");
    }

    if !r.requests.is_empty() {
        let _ = write!(
            o,
            r#"<section id="requests"><h2>Requests</h2><table><tr><th>Method</th><th>Name</th><th class="n"># reqs</th><th class="n"># fails</th><th class="n">Avg</th><th class="n">p50</th><th class="n">p90</th><th class="n">p95</th><th class="n">p99</th><th class="n">Max</th><th class="n">RPS</th></tr>"#
        );
        for q in &r.requests {
            let _ = write!(
                o,
                r#"<tr><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{:.2}</td></tr>"#,
                esc(&q.method),
                esc(&throng_metrics::redact::url(&q.name)),
                q.count,
                q.failures,
                format_ms(q.avg),
                format_ms(q.p(50.0)),
                format_ms(q.p(90.0)),
                format_ms(q.p(95.0)),
                format_ms(q.p(99.0)),
                format_ms(q.max),
                q.rps
            );
        }
        o.push_str("</table></section>");
    }

    let _ = write!(
        o,
        r#"<section id="statuses"><h2>Status codes and errors</h2><table><tr><th>Status</th><th class="n">Responses</th></tr>"#
    );
    for (code, n) in &r.status_codes {
        let label = if code == "0" {
            "no response".to_string()
        } else {
            code.clone()
        };
        let _ = write!(
            o,
            r#"<tr><td>{}</td><td class="n">{n}</td></tr>"#,
            esc(&label)
        );
    }
    o.push_str("</table>");
    if !r.failures.is_empty() {
        o.push_str(r#"<table><tr><th>Failure</th><th class="n">Count</th><th class="n">First seen</th><th class="n">Last seen</th><th>Requests</th></tr>"#);
        for f in &r.failures {
            let _ = write!(
                o,
                r#"<tr><td>{}</td><td class="n">{}</td><td class="n">{:.0}s</td><td class="n">{:.0}s</td><td>{}</td></tr>"#,
                esc(&f.kind),
                f.count,
                f.first_seen_s,
                f.last_seen_s,
                esc(&f.names.join(", "))
            );
        }
        o.push_str("</table>");
    }
    o.push_str("</section>");

    if !r.checks.is_empty() {
        let _ = write!(
            o,
            r#"<section id="checks"><h2>Checks</h2><table><tr><th></th><th>Check</th><th>Group</th><th class="n">Passes</th><th class="n">Fails</th></tr>"#
        );
        for c in &r.checks {
            let _ = write!(
                o,
                r#"<tr><td class="{}">{}</td><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
                if c.fails == 0 { "ok" } else { "bad" },
                if c.fails == 0 { "✓" } else { "✗" },
                esc(&c.name),
                esc(&c.group),
                c.passes,
                c.fails
            );
        }
        o.push_str("</table></section>");
    }
    o.push_str(&crate::protocols::html(r));
    o.push_str(&crate::sut::html(r));
    let custom: Vec<_> = r.custom_metrics().collect();
    if !custom.is_empty() {
        o.push_str(r#"<section id="custom-metrics"><h2>Custom metrics</h2><table><tr><th>Metric</th><th>Type</th><th>Values</th></tr>"#);
        let elapsed_s = r.run.duration_ms / 1000.0;
        for m in custom {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&m.name),
                m.kind.as_str(),
                esc(crate::summary::metric_line(m, elapsed_s, &r.shown_trend_stats()).trim())
            );
        }
        o.push_str("</table></section>");
    }
    o.push_str("</main></body></html>\n");
    o
}

/// A marker for each timeline action that started, for the charts over time.
pub(crate) fn action_markers(r: &Results) -> Vec<Marker<'_>> {
    r.actions
        .iter()
        .filter_map(|a| {
            a.started_s.map(|t| Marker {
                name: &a.name,
                detail: format!(
                    "{} ({}) started {}, took {}: {}",
                    a.name,
                    a.kind,
                    action_started(a),
                    action_took(a),
                    a.outcome
                ),
                t,
                ok: a.ok,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::tests::with_actions;

    /// The `<svg>` element of one chart.
    fn chart<'a>(page: &'a str, id: &str) -> &'a str {
        let start = page
            .find(&format!(r#"id="{id}""#))
            .unwrap_or_else(|| panic!("no {id}"));
        let len = page[start..].find("</svg>").unwrap_or(0);
        &page[start..start + len]
    }

    #[test]
    fn the_last_partial_second_is_left_out_and_idle_seconds_have_no_latency() {
        let mut r = with_actions();
        r.actions.clear();
        r.seconds.truncate(3);
        r.seconds[1].reqs = 0;
        let mut last = r.seconds[2].clone();
        last.t = 3.4;
        last.reqs = 2;
        r.seconds.push(last);
        let page = html(&r);
        // requests, failures and 429s per second for seconds 1..=3, not 3.4
        assert!(chart(&page, "chart-rps").contains(r#"data-points="9""#));
        // latency: p50/p95/p99 for seconds 1 and 3 only (second 2 had no requests)
        assert!(chart(&page, "chart-latency").contains(r#"data-points="6""#));
    }

    #[test]
    fn actions_are_marked_on_the_time_charts() {
        let page = html(&with_actions());
        for id in ["chart-rps", "chart-latency", "chart-vus"] {
            let c = chart(&page, id);
            assert_eq!(c.matches(r#"class="action-marker""#).count(), 2, "{id}");
            let first = c.find(r#"data-action="restart-db""#).unwrap_or(usize::MAX);
            let second = c.find(r#"data-action="db-healthy""#).unwrap_or(usize::MAX);
            assert!(first < second && second < usize::MAX, "{id}");
        }
        assert!(!chart(&page, "chart-distribution").contains("action-marker"));
        assert!(page.contains(
            "<title>db-healthy (wait_for) started 124.3s, took 30.00s: not seen within 30s</title>"
        ));
        assert!(!page.contains("<script"));
    }

    #[test]
    fn timeline_table_is_escaped() {
        let mut r = with_actions();
        r.actions[1].name = "<b>x</b>".into();
        let page = html(&r);
        assert!(page.contains(r#"<section id="timeline"><h2>Timeline</h2>"#));
        assert!(page.contains(r#"data-action="&lt;b&gt;x&lt;/b&gt;""#));
        assert!(!page.contains("<b>x</b>"));
        assert!(page.contains("a | b\nstatus &lt;down&gt;</pre>"));
        assert!(page.contains(r#"<td class="bad">✗</td><td>&lt;b&gt;x&lt;/b&gt;</td><td>wait_for</td><td>after another action</td>"#));
    }
}
