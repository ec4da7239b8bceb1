//! The end-of-test text summary, in k6's layout, plus a short plain block.
use crate::format::{format_bytes, format_ms, format_value};
use crate::results::{MetricResult, Results};
use std::fmt::Write as _;
use throng_metrics::{names, ActionRecord, MetricKind, ValueType};

const WIDTH: usize = 40;

fn dots(name: &str, indent: usize) -> String {
    let n = WIDTH.saturating_sub(name.chars().count() + indent);
    format!("{}{}:", name, ".".repeat(n.max(1)))
}

/// The trend stats the summary shows unless told otherwise (k6's `summaryTrendStats`).
pub const DEFAULT_TREND_STATS: [&str; 6] = crate::k6json::TREND_STATS;

fn trend_line(m: &MetricResult, keys: &[&str]) -> String {
    keys.iter()
        .filter(|k| keys == DEFAULT_TREND_STATS || m.values.contains_key(**k))
        .map(|k| {
            let v = m.values.get(*k).copied().unwrap_or(0.0);
            let shown = match m.contains {
                _ if *k == "count" => format!("{}", v as u64),
                ValueType::Time => format_ms(v),
                c => format_value(v, c),
            };
            format!("{k}={shown}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A metric's values as the summary shows them (`stats` of a trend).
pub(crate) fn metric_line(m: &MetricResult, elapsed_s: f64, stats: &[&str]) -> String {
    let v = |k: &str| m.values.get(k).copied().unwrap_or(0.0);
    match m.kind {
        MetricKind::Trend => trend_line(m, stats),
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
    render_summary_with(r, color, &r.shown_trend_stats())
}

/// [`render_summary`] showing `stats` of each trend (k6's `summaryTrendStats`: `avg`,
/// `min`, `med`, `max`, `count`, and the percentiles the results hold: `p(90)`, `p(95)`,
/// `p(99)` and those [`Results::set_trend_stats`] added).
pub fn render_summary_with(r: &Results, color: bool, stats: &[&str]) -> String {
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
            let _ = writeln!(
                o,
                "    {} {}",
                dots(&m.name, 4),
                metric_line(m, elapsed_s, stats)
            );
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
                    metric_line(sub, elapsed_s, stats)
                );
            }
        }
        let _ = writeln!(o);
    }

    if !r.actions.is_empty() {
        timeline_section(&mut o, &r.actions, ok_mark, bad_mark);
    }

    o.push_str(&crate::protocols::summary(r));
    o.push_str(&crate::sut::summary(r, ok_mark, bad_mark));

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

/// An offset from the start of the load, as a plan writes it: `2m`, `1m30s`, `45s`, `2.5s`.
pub(crate) fn format_offset(s: f64) -> String {
    if !s.is_finite() || s <= 0.0 {
        return "0s".into();
    }
    if s.fract().abs() > 1e-9 {
        return format!("{s:.1}s");
    }
    let whole = s as u64;
    let (h, m, sec) = (whole / 3600, whole / 60 % 60, whole % 60);
    let mut o = String::new();
    if h > 0 {
        o.push_str(&format!("{h}h"));
    }
    if m > 0 {
        o.push_str(&format!("{m}m"));
    }
    if sec > 0 || o.is_empty() {
        o.push_str(&format!("{sec}s"));
    }
    o
}

/// When the plan put an action: `at 2m`, or `after NAME` for `after:`.
pub(crate) fn action_planned(a: &ActionRecord) -> String {
    match a.planned_s {
        Some(s) => format!("at {}", format_offset(s)),
        None => a.relative_to().unwrap_or_default(),
    }
}

/// When an action started (`120.3s`), or `not run`.
pub(crate) fn action_started(a: &ActionRecord) -> String {
    match a.started_s {
        Some(s) => format!("{s:.1}s"),
        None => "not run".into(),
    }
}

/// How long an action took (`—` when it never ran).
pub(crate) fn action_took(a: &ActionRecord) -> String {
    match a.started_s {
        Some(_) => format_ms(a.took_ms),
        None => "—".into(),
    }
}

/// The last few lines of an action's output, at most `max_chars` characters (the end is
/// kept: that is where a command says what went wrong).
pub(crate) fn output_excerpt(output: &str, max_lines: usize, max_chars: usize) -> String {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(max_lines)..].join("\n");
    let n = tail.chars().count();
    if n <= max_chars {
        tail
    } else {
        let kept: String = tail.chars().skip(n - max_chars).collect();
        format!("…{kept}")
    }
}

fn timeline_section(o: &mut String, actions: &[ActionRecord], ok_mark: &str, bad_mark: &str) {
    let _ = writeln!(o, "  █ TIMELINE");
    let _ = writeln!(o);
    let width = |f: &dyn Fn(&ActionRecord) -> String| {
        actions
            .iter()
            .map(|a| f(a).chars().count())
            .max()
            .unwrap_or(0)
    };
    let name_w = width(&|a| a.name.clone());
    let kind_w = width(&|a| a.kind.clone());
    let planned_w = width(&action_planned);
    for a in actions {
        let mark = match (a.started_s, a.ok) {
            (_, false) => bad_mark,
            (Some(_), true) => ok_mark,
            (None, true) => "-",
        };
        let timing = match a.started_s {
            Some(s) => format!("started {s:.1}s, took {}", format_ms(a.took_ms)),
            None => "not run".into(),
        };
        let _ = writeln!(
            o,
            "    {mark} {:<name_w$}  {:<kind_w$}  {:<planned_w$}  {timing}: {}",
            a.name,
            a.kind,
            action_planned(a),
            a.outcome
        );
        if !a.ok && !a.output.is_empty() {
            for line in output_excerpt(&a.output, 3, 400).split('\n') {
                let _ = writeln!(o, "      ↳  {line}");
            }
        }
    }
    let _ = writeln!(o);
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::results::RunInfo;
    use throng_metrics::{Registry, TagSet, ThresholdSet};

    /// A run with two timeline actions: a command at 2m that worked, and a `wait_for`
    /// after it that failed, its output holding `|` and line breaks.
    pub(crate) fn with_actions() -> Results {
        let reg = Registry::new();
        let b = reg.builtin().clone();
        let t = reg.intern(TagSet::new([("name", "home"), ("status", "200")]));
        reg.add_many(t, &[(b.http_reqs, 1.0), (b.http_req_duration, 12.0)]);
        let run = RunInfo {
            plan: "p".into(),
            plan_file: "p.yaml".into(),
            target: None,
            started_at: "2026-01-01T00:00:00Z".into(),
            duration_ms: 180_000.0,
            interrupted: false,
            aborted_by: None,
            exit_code: 99,
            command: None,
        };
        let mut r = Results::build(
            &reg.collect(),
            &ThresholdSet::default(),
            &[],
            run,
            vec![],
            vec![],
        );
        r.seconds = (1..=180)
            .map(|s| crate::series::SecondPoint {
                t: s as f64,
                reqs: 10,
                vus: 5,
                ..Default::default()
            })
            .collect();
        r.actions = vec![
            ActionRecord {
                name: "restart-db".into(),
                kind: "exec".into(),
                planned_s: Some(120.0),
                started_s: Some(120.02),
                took_ms: 4200.0,
                ok: true,
                outcome: "exit 0".into(),
                output: "stopping\nstarted".into(),
                follows: None,
            },
            ActionRecord {
                name: "db-healthy".into(),
                kind: "wait_for".into(),
                planned_s: None,
                started_s: Some(124.3),
                took_ms: 30_000.0,
                ok: false,
                outcome: "not seen within 30s".into(),
                output: "a | b\nstatus <down>".into(),
                follows: None,
            },
        ];
        r
    }

    #[test]
    fn timeline_lists_each_action() {
        let s = render_summary(&with_actions(), false);
        assert!(s.contains("  █ TIMELINE\n"), "{s}");
        assert!(s.contains(
            "    ✓ restart-db  exec      at 2m                 started 120.0s, took 4.20s: exit 0\n"
        ), "{s}");
        assert!(s.contains(
            "    ✗ db-healthy  wait_for  after another action  started 124.3s, took 30.00s: not seen within 30s\n"
        ), "{s}");
        assert!(
            s.contains("      ↳  a | b\n      ↳  status <down>\n"),
            "{s}"
        );
        // colour goes through the same marks as thresholds and checks
        let c = render_summary(&with_actions(), true);
        assert!(c.contains("\x1b[31m✗\x1b[0m db-healthy"), "{c}");
    }

    #[test]
    fn timeline_shows_actions_that_never_ran() {
        let mut r = with_actions();
        r.actions[1] = ActionRecord {
            name: "late".into(),
            kind: "http".into(),
            planned_s: Some(600.0),
            started_s: None,
            ok: true,
            outcome: "did not run: the load ended first".into(),
            ..Default::default()
        };
        let s = render_summary(&r, false);
        assert!(
            s.contains(
                "    - late        http  at 10m  not run: did not run: the load ended first\n"
            ),
            "{s}"
        );
    }

    #[test]
    fn offsets_read_like_plans() {
        assert_eq!(format_offset(120.0), "2m");
        assert_eq!(format_offset(90.0), "1m30s");
        assert_eq!(format_offset(3600.0), "1h");
        assert_eq!(format_offset(2.5), "2.5s");
        assert_eq!(format_offset(0.0), "0s");
        assert_eq!(output_excerpt("a\n\nb\nc\nd\n", 3, 100), "b\nc\nd");
        assert_eq!(output_excerpt("abcdef", 3, 3), "…def");
    }
}
