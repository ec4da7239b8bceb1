//! The end-of-test text summary, in k6's layout, plus a short plain block.
use crate::format::{format_bytes, format_ms, format_value};
use crate::results::{MetricResult, Results};
use std::fmt::Write as _;
use throng_metrics::{names, MetricKind, ValueType};

const WIDTH: usize = 40;

fn dots(name: &str, indent: usize) -> String {
    let n = WIDTH.saturating_sub(name.chars().count() + indent);
    format!("{}{}:", name, ".".repeat(n.max(1)))
}

fn trend_line(m: &MetricResult) -> String {
    let keys = ["avg", "min", "med", "max", "p(90)", "p(95)"];
    keys.iter()
        .map(|k| {
            let v = m.values.get(*k).copied().unwrap_or(0.0);
            let shown = match m.contains {
                ValueType::Time => format_ms(v),
                c => format_value(v, c),
            };
            format!("{k}={shown}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn metric_line(m: &MetricResult, elapsed_s: f64) -> String {
    let v = |k: &str| m.values.get(k).copied().unwrap_or(0.0);
    match m.kind {
        MetricKind::Trend => trend_line(m),
        MetricKind::Rate => {
            let total = v("passes") + v("fails");
            format!(
                "{:.2}% {} out of {}",
                v("rate") * 100.0,
                v("passes") as u64,
                total as u64
            )
        }
        MetricKind::Counter => {
            let rate = if elapsed_s > 0.0 {
                v("count") / elapsed_s
            } else {
                0.0
            };
            match m.contains {
                ValueType::Data => {
                    format!("{:<8} {}/s", format_bytes(v("count")), format_bytes(rate))
                }
                _ => format!("{:<8} {:.2}/s", v("count") as u64, rate),
            }
        }
        MetricKind::Gauge => format!(
            "{:<8} min={} max={}",
            format_value(v("value"), m.contains),
            format_value(v("min"), m.contains),
            format_value(v("max"), m.contains)
        ),
    }
}

fn category(name: &str) -> &'static str {
    if name.starts_with("http_") {
        "HTTP"
    } else if name.starts_with("data_") {
        "NETWORK"
    } else if [
        names::ITERATIONS,
        names::ITERATION_DURATION,
        names::DROPPED_ITERATIONS,
        names::VUS,
        names::VUS_MAX,
        names::GROUP_DURATION,
    ]
    .contains(&name)
    {
        "EXECUTION"
    } else if name == names::CHECKS {
        ""
    } else {
        "CUSTOM"
    }
}

/// Renders the summary. `color` adds ANSI green/red to ✓/✗.
pub fn render_summary(r: &Results, color: bool) -> String {
    let (ok_mark, bad_mark) = if color {
        ("\x1b[32m✓\x1b[0m", "\x1b[31m✗\x1b[0m")
    } else {
        ("✓", "✗")
    };
    let elapsed_s = r.run.duration_ms / 1000.0;
    let mut o = String::new();
    let _ = writeln!(o);
    let _ = writeln!(o, "  throng — {}", r.run.plan);
    let _ = writeln!(o);
    let _ = writeln!(o, "     execution: local");
    let _ = writeln!(o, "          plan: {}", r.run.plan_file);
    if let Some(t) = &r.run.target {
        let _ = writeln!(o, "        target: {t}");
    }
    let max_vus: u64 = r.scenarios.iter().map(|s| s.max_vus).sum();
    let _ = writeln!(
        o,
        "     scenarios: (100.00%) {} scenario{}, {} max VUs:",
        r.scenarios.len(),
        if r.scenarios.len() == 1 { "" } else { "s" },
        max_vus
    );
    for s in &r.scenarios {
        let _ = writeln!(o, "              * {}: {}", s.name, s.description);
    }
    let _ = writeln!(o);

    if !r.thresholds.is_empty() {
        let _ = writeln!(o, "  █ THRESHOLDS");
        let mut last = "";
        for t in &r.thresholds {
            if t.metric != last {
                let _ = writeln!(o);
                let _ = writeln!(o, "    {}", t.metric);
                last = &t.metric;
            }
            let base = t.metric.split('{').next().unwrap_or("");
            let contains = r
                .metric(base)
                .map(|m| m.contains)
                .unwrap_or(ValueType::Default);
            let shown = if t.stat == "rate"
                && matches!(r.metric(base).map(|m| m.kind), Some(MetricKind::Rate))
            {
                format!("{:.2}%", t.observed * 100.0)
            } else if t.stat == "rate" || t.stat == "count" {
                format!("{:.2}", t.observed)
            } else {
                format_value(t.observed, contains)
            };
            let _ = writeln!(
                o,
                "    {} '{}' {}={}",
                if t.ok { ok_mark } else { bad_mark },
                t.expression,
                t.stat,
                shown
            );
        }
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "  █ TOTAL RESULTS");
    let _ = writeln!(o);
    if !r.checks.is_empty() {
        let passes: u64 = r.checks.iter().map(|c| c.passes).sum();
        let fails: u64 = r.checks.iter().map(|c| c.fails).sum();
        let total = passes + fails;
        let pct = |n: u64| {
            if total == 0 {
                0.0
            } else {
                n as f64 * 100.0 / total as f64
            }
        };
        let rate = if elapsed_s > 0.0 {
            total as f64 / elapsed_s
        } else {
            0.0
        };
        let _ = writeln!(
            o,
            "    {} {:<8} {:.2}/s",
            dots("checks_total", 4),
            total,
            rate
        );
        let _ = writeln!(
            o,
            "    {} {:.2}% {} out of {}",
            dots("checks_succeeded", 4),
            pct(passes),
            passes,
            total
        );
        let _ = writeln!(
            o,
            "    {} {:.2}% {} out of {}",
            dots("checks_failed", 4),
            pct(fails),
            fails,
            total
        );
        let _ = writeln!(o);
        for c in &r.checks {
            let mark = if c.fails == 0 { ok_mark } else { bad_mark };
            let group = if c.group.is_empty() {
                String::new()
            } else {
                format!(
                    " [{}]",
                    c.group.trim_start_matches("::").replace("::", " › ")
                )
            };
            if c.fails == 0 {
                let _ = writeln!(o, "    {mark} {}{group}", c.name);
            } else {
                let _ = writeln!(
                    o,
                    "    {mark} {}{group}\n      ↳  {:.0}% — ✓ {} / ✗ {}",
                    c.name,
                    c.passes as f64 * 100.0 / (c.passes + c.fails) as f64,
                    c.passes,
                    c.fails
                );
            }
        }
        let _ = writeln!(o);
    }
    for cat in ["CUSTOM", "HTTP", "EXECUTION", "NETWORK"] {
        let whole: Vec<&MetricResult> = r
            .metrics
            .iter()
            .filter(|m| m.filter.is_empty() && category(&m.name) == cat)
            .collect();
        if whole.is_empty() {
            continue;
        }
        let _ = writeln!(o, "    {cat}");
        for m in whole {
            let _ = writeln!(o, "    {} {}", dots(&m.name, 4), metric_line(m, elapsed_s));
            for sub in r
                .metrics
                .iter()
                .filter(|s| !s.filter.is_empty() && s.metric == m.name)
            {
                let label = format!(
                    "{{ {} }}",
                    sub.filter
                        .iter()
                        .map(|(k, v)| format!("{k}:{v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let _ = writeln!(
                    o,
                    "      {} {}",
                    dots(&label, 6),
                    metric_line(sub, elapsed_s)
                );
            }
        }
        let _ = writeln!(o);
    }

    if let Some(g) = &r.generator {
        let _ = writeln!(o, "  █ GENERATOR");
        let _ = writeln!(o);
        let mut parts = Vec::new();
        if let (Some(avg), Some(peak)) = (g.cpu_avg_pct, g.cpu_peak_pct) {
            parts.push(format!(
                "cpu avg {avg:.1}% of {} cores (peak {peak:.1}%)",
                g.cores
            ));
        }
        if let Some(rss) = g.peak_rss_bytes {
            parts.push(format!("peak RSS {}", format_bytes(rss as f64)));
        }
        if let Some(l) = g.schedule_lag_p99_ms {
            parts.push(format!("schedule lag p99 {}", format_ms(l)));
        }
        let _ = writeln!(o, "    {}", parts.join(", "));
        if g.bottleneck {
            let _ = writeln!(
                o,
                "    {bad_mark} the load generator was the bottleneck, not (only) the target:"
            );
            for reason in &g.reasons {
                let _ = writeln!(o, "      - {reason}");
            }
        } else {
            let _ = writeln!(o, "    {ok_mark} the generator kept up with the plan");
        }
        let _ = writeln!(o);
    }

    let completed: u64 = r.scenarios.iter().map(|s| s.completed).sum();
    let interrupted: u64 = r.scenarios.iter().map(|s| s.interrupted).sum();
    let _ = writeln!(
        o,
        "running ({}), {} max VUs, {} complete and {} interrupted iterations",
        format_ms(r.run.duration_ms),
        max_vus,
        completed,
        interrupted
    );
    for s in &r.scenarios {
        let _ = writeln!(
            o,
            "{} {} {} complete, {} interrupted, {} dropped",
            s.name,
            if s.interrupted == 0 {
                ok_mark
            } else {
                bad_mark
            },
            s.completed,
            s.interrupted,
            s.dropped
        );
    }
    if r.run.interrupted {
        let _ = writeln!(
            o,
            "\nthe run was interrupted (Ctrl-C / SIGTERM); results cover the time it ran"
        );
    }
    if let Some(t) = &r.run.aborted_by {
        let _ = writeln!(
            o,
            "\nthe run was aborted early: threshold {t} failed (abortOnFail)"
        );
    }

    // the plain block
    let reqs = r.value(names::HTTP_REQS, "count").unwrap_or(0.0) as u64;
    let failed = r.value(names::HTTP_REQ_FAILED, "passes").unwrap_or(0.0) as u64;
    let ok = reqs.saturating_sub(failed);
    let _ = writeln!(o);
    let _ = writeln!(o, "  total requests:    {reqs}");
    let _ = writeln!(
        o,
        "  success:           {:.2}% ({ok} ok)",
        if reqs == 0 {
            0.0
        } else {
            ok as f64 * 100.0 / reqs as f64
        }
    );
    let _ = writeln!(o, "  failed:            {failed}");
    let _ = writeln!(o, "  elapsed:           {}", format_ms(r.run.duration_ms));
    let _ = writeln!(
        o,
        "  throughput:        {:.2} req/s",
        if elapsed_s > 0.0 {
            reqs as f64 / elapsed_s
        } else {
            0.0
        }
    );
    let _ = writeln!(
        o,
        "  avg response time: {}",
        format_ms(r.value(names::HTTP_REQ_DURATION, "avg").unwrap_or(0.0))
    );
    if !r.thresholds.is_empty() {
        let failed_t = r.thresholds.iter().filter(|t| !t.ok).count();
        let _ = writeln!(
            o,
            "  thresholds:        {}",
            if failed_t == 0 {
                format!("all {} passed", r.thresholds.len())
            } else {
                format!("{failed_t} of {} FAILED", r.thresholds.len())
            }
        );
    }
    o
}

/// The latency distribution and status-code tally (printed by `throng quick`, like oha).
pub fn render_distribution(r: &Results) -> String {
    let mut o = String::new();
    if !r.latency_histogram.is_empty() {
        let _ = writeln!(o, "\n  Response time histogram:");
        let max = r
            .latency_histogram
            .iter()
            .map(|b| b.count)
            .max()
            .unwrap_or(1)
            .max(1);
        for b in &r.latency_histogram {
            let bar = "■".repeat(((b.count as f64 / max as f64) * 40.0).round() as usize);
            let _ = writeln!(
                o,
                "  {:>10} [{:>7}] |{}",
                format_ms(b.up_to_ms),
                b.count,
                bar
            );
        }
    }
    if !r.status_codes.is_empty() {
        let _ = writeln!(o, "\n  Status code distribution:");
        let mut codes: Vec<(&String, &u64)> = r.status_codes.iter().collect();
        codes.sort_by(|a, b| b.1.cmp(a.1));
        for (code, n) in codes {
            let label = if code == "0" {
                "no response".to_string()
            } else {
                format!("[{code}]")
            };
            let _ = writeln!(o, "  {label:>12} {n} responses");
        }
    }
    if !r.errors.is_empty() {
        let _ = writeln!(o, "\n  Error distribution:");
        for (e, n) in &r.errors {
            let _ = writeln!(o, "  {n:>12} {e}");
        }
    }
    o
}
