//! The results document in Markdown: configuration, targets vs actual, behaviour by phase,
//! per-request table, rate limiting, failures and expected vs actual. Nothing says TBD:
//! what throng does not know is left out.
use crate::format::{format_bytes, format_ms, format_percent as pct};
use crate::results::Results;
use crate::summary::{action_started, action_took, format_offset, output_excerpt};
use std::fmt::Write as _;
use throng_metrics::{names, ActionRecord};

/// Text made safe for one Markdown table cell: `|` escaped, HTML characters as entities
/// (so an output line never opens a tag), line breaks as `<br>`.
fn cell(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => o.push_str("\\|"),
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\n' => o.push_str("<br>"),
            '\r' => {}
            c => o.push(c),
        }
    }
    o
}

/// `2m`, or `after NAME` for `after:` (`after the load` for teardown).
pub(crate) fn planned_at(a: &ActionRecord) -> String {
    a.planned_s
        .map(format_offset)
        .unwrap_or_else(|| a.relative_to().unwrap_or_default())
}

/// An RFC 3339 instant in the machine's time zone, to the second, with its offset
/// (`2026-11-25 19:30:12 +01:00`); the text as given if it is not an instant.
pub(crate) fn local_time(rfc3339: &str) -> String {
    match rfc3339.parse::<jiff::Timestamp>() {
        Ok(t) => t
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%Y-%m-%d %H:%M:%S %:z")
            .to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

fn timeline_table(o: &mut String, actions: &[ActionRecord]) {
    let _ = writeln!(o, "\n## Timeline\n");
    let _ = writeln!(
        o,
        "| Action | Kind | Planned at | Started | Took | Outcome | Output excerpt |"
    );
    let _ = writeln!(o, "|---|---|---|---:|---:|---|---|");
    for a in actions {
        let _ = writeln!(
            o,
            "| {} {} | {} | {} | {} | {} | {} | {} |",
            match (a.ok, a.started_s) {
                (false, _) => "❌",
                (true, Some(_)) => "✅",
                (true, None) => "⏭",
            },
            cell(&a.name),
            cell(&a.kind),
            cell(&planned_at(a)),
            action_started(a),
            action_took(a),
            cell(&a.outcome),
            cell(&output_excerpt(&a.output, 3, 160))
        );
    }
}

/// The Markdown document.
pub fn markdown(r: &Results) -> String {
    let mut o = String::new();
    let reqs = r.value(names::HTTP_REQS, "count").unwrap_or(0.0);
    let failed = r.value(names::HTTP_REQ_FAILED, "passes").unwrap_or(0.0);
    let secs = r.run.duration_ms / 1000.0;
    let verdict = if r.thresholds.iter().all(|t| t.ok) && r.slos.iter().all(|s| s.ok) {
        "✅ passed"
    } else {
        "❌ failed"
    };
    let _ = writeln!(o, "# Load test results: {}\n", r.run.plan);
    let _ = writeln!(
        o,
        "**Verdict:** {verdict} (exit code {})\n",
        r.run.exit_code
    );
    let _ = writeln!(o, "## Test configuration\n");
    let _ = writeln!(o, "| | |\n|---|---|");
    if let Some(c) = &r.run.command {
        let c = throng_metrics::redact::command_line(c);
        let _ = writeln!(o, "| Command | `{}` |", c.replace('|', "\\|"));
    }
    let _ = writeln!(o, "| Plan | `{}` |", r.run.plan_file);
    if let Some(t) = &r.run.target {
        let _ = writeln!(o, "| Target | {} |", throng_metrics::redact::url(t));
    }
    let _ = writeln!(o, "| Started | {} |", local_time(&r.run.started_at));
    let _ = writeln!(o, "| Duration | {} |", format_ms(r.run.duration_ms));
    let max_vus: u64 = r.scenarios.iter().map(|s| s.max_vus).sum();
    let _ = writeln!(o, "| Users (max VUs) | {max_vus} |");
    for s in &r.scenarios {
        let _ = writeln!(o, "| Scenario `{}` | {} |", s.name, s.description);
    }
    if r.run.interrupted {
        let _ = writeln!(
            o,
            "| Note | interrupted by Ctrl-C/SIGTERM; figures cover the time it ran |"
        );
    }
    if let Some(a) = &r.run.aborted_by {
        let _ = writeln!(o, "| Note | aborted early: {a} failed (abortOnFail) |");
    }

    let _ = writeln!(o, "\n## Results summary\n");
    let _ = writeln!(
        o,
        "| Metric | Target | Actual | Status |\n|---|---|---|---|"
    );
    for t in &r.thresholds {
        let base = t.metric.split('{').next().unwrap_or("");
        let time = r
            .metric(base)
            .map(|m| m.contains == throng_metrics::ValueType::Time);
        let actual = if t.stat == "rate" && base != names::HTTP_REQS {
            pct(t.observed)
        } else if time == Some(true) {
            format_ms(t.observed)
        } else {
            format!("{:.2}", t.observed)
        };
        let _ = writeln!(
            o,
            "| `{}` {} | `{}` | {actual} | {} |",
            t.metric,
            t.stat,
            t.expression,
            if t.ok { "✅" } else { "❌" }
        );
    }
    let _ = writeln!(o, "| Total requests | — | {} | |", reqs as u64);
    let _ = writeln!(
        o,
        "| Throughput | — | {:.2} req/s | |",
        if secs > 0.0 { reqs / secs } else { 0.0 }
    );
    let _ = writeln!(
        o,
        "| Error rate | — | {} | |",
        pct(if reqs > 0.0 { failed / reqs } else { 0.0 })
    );
    if let Some(avg) = r.value(names::HTTP_REQ_DURATION, "avg") {
        let _ = writeln!(o, "| Average response time | — | {} | |", format_ms(avg));
    }

    if !r.phases.is_empty() {
        let _ = writeln!(o, "\n## Behaviour by phase\n");
        let _ = writeln!(o, "| Scenario | Phase | Users / rate | Requests | RPS | Avg | p50 | p95 | p99 | Error rate | 429 share |");
        let _ = writeln!(o, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for p in &r.phases {
            let _ = writeln!(
                o,
                "| {} | {} | {}→{} {} | {} | {:.1} | {} | {} | {} | {} | {} | {} |",
                p.scenario,
                p.name,
                p.from,
                p.to,
                p.unit,
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
    }

    if !r.requests.is_empty() {
        let _ = writeln!(o, "\n## Requests\n");
        let _ = writeln!(
            o,
            "| Method | Name | Count | Fails | Avg | p50 | p90 | p95 | p99 | Max | RPS |"
        );
        let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for s in &r.requests {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |",
                s.method,
                throng_metrics::redact::url(&s.name),
                s.count,
                s.failures,
                format_ms(s.avg),
                format_ms(s.p(50.0)),
                format_ms(s.p(90.0)),
                format_ms(s.p(95.0)),
                format_ms(s.p(99.0)),
                format_ms(s.max),
                s.rps
            );
        }
    }

    let limited: u64 = r.status_codes.get("429").copied().unwrap_or(0);
    if limited > 0 {
        let _ = writeln!(o, "\n## Rate limiting\n");
        let _ = writeln!(
            o,
            "{limited} responses were 429 (rate limited): {} of all requests. By scenario and request:\n",
            pct(limited as f64 / reqs.max(1.0))
        );
        let _ = writeln!(o, "| Scenario | Method | Name | 429s |\n|---|---|---|---:|");
        for f in &r.rate_limited {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                f.scenario, f.method, f.name, f.count
            );
        }
        for p in r.phases.iter().filter(|p| p.rate_limited > 0) {
            let _ = writeln!(
                o,
                "\nPhase `{}` / {}: {} × 429 ({}).",
                p.scenario,
                p.name,
                p.rate_limited,
                pct(p.rate_limited_share)
            );
        }
    }

    if !r.failures.is_empty() {
        let _ = writeln!(o, "\n## Failure scenarios\n");
        let _ = writeln!(
            o,
            "| Kind | Count | First seen | Last seen | Requests hit |\n|---|---:|---:|---:|---|"
        );
        for f in &r.failures {
            let _ = writeln!(
                o,
                "| {} | {} | {:.0}s | {:.0}s | {} |",
                f.kind,
                f.count,
                f.first_seen_s,
                f.last_seen_s,
                f.names.join(", ")
            );
        }
    }

    if !r.actions.is_empty() {
        timeline_table(&mut o, &r.actions);
    }

    if !r.checks.is_empty() {
        let _ = writeln!(o, "\n## Checks\n");
        let _ = writeln!(o, "| Check | Group | Passes | Fails |\n|---|---|---:|---:|");
        for c in &r.checks {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                c.name, c.group, c.passes, c.fails
            );
        }
    }

    let custom: Vec<_> = r.custom_metrics().collect();
    if !custom.is_empty() {
        let _ = writeln!(o, "\n## Custom metrics\n");
        let _ = writeln!(o, "| Metric | Type | Values |\n|---|---|---|");
        let elapsed_s = r.run.duration_ms / 1000.0;
        for m in custom {
            let _ = writeln!(
                o,
                "| `{}` | {} | {} |",
                m.name,
                m.kind.as_str(),
                crate::summary::metric_line(m, elapsed_s, &r.shown_trend_stats()).trim()
            );
        }
    }

    o.push_str(&crate::protocols::markdown(r));
    o.push_str(&crate::sut::markdown(r));

    if let Some(g) = &r.generator {
        let _ = writeln!(o, "\n## Load generator\n");
        if let (Some(a), Some(p)) = (g.cpu_avg_pct, g.cpu_peak_pct) {
            let _ = writeln!(
                o,
                "- CPU: {a:.1}% average, {p:.1}% peak of {} cores",
                g.cores
            );
        }
        if let Some(rss) = g.peak_rss_bytes {
            let _ = writeln!(o, "- Peak memory: {}", format_bytes(rss as f64));
        }
        if g.bottleneck {
            let _ = writeln!(o, "- ❌ The generator limited the run:");
            for reason in &g.reasons {
                let _ = writeln!(o, "  - {reason}");
            }
        } else {
            let _ = writeln!(o, "- ✅ The generator kept up with the plan.");
        }
    }

    if !r.thresholds.is_empty() {
        let _ = writeln!(o, "\n## Expected vs actual\n");
        for t in &r.thresholds {
            let _ = writeln!(
                o,
                "- {} expected `{}` on `{}`: observed {} = {:.3} — {}",
                if t.ok { "✅" } else { "❌" },
                t.expression,
                t.metric,
                t.stat,
                t.observed,
                if t.ok { "as expected" } else { "NOT met" }
            );
        }
    }
    o
}

#[cfg(test)]
mod local_time_tests {
    use super::local_time;

    #[test]
    fn started_is_shown_to_the_second_with_its_offset() {
        let shown = local_time("2026-11-25T19:30:12.345678Z");
        // `YYYY-MM-DD HH:MM:SS ±HH:MM` in whatever zone the machine is in
        assert_eq!(shown.len(), "2026-11-25 19:30:12 +00:00".len(), "{shown}");
        assert!(shown.starts_with("2026-11-2"), "{shown}");
        let offset = &shown[20..];
        assert!(
            offset.starts_with('+') || offset.starts_with('-'),
            "{shown}"
        );
        assert_eq!(local_time("not a time"), "not a time");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::tests::with_actions;

    #[test]
    fn timeline_table_escapes_output() {
        let md = markdown(&with_actions());
        assert!(md.contains(
            "\n## Timeline\n\n| Action | Kind | Planned at | Started | Took | Outcome | Output excerpt |\n|---|---|---|---:|---:|---|---|\n"
        ), "{md}");
        assert!(
            md.contains(
                "| ✅ restart-db | exec | 2m | 120.0s | 4.20s | exit 0 | stopping<br>started |\n"
            ),
            "{md}"
        );
        assert!(md.contains(
            "| ❌ db-healthy | wait_for | after another action | 124.3s | 30.00s | not seen within 30s | a \\| b<br>status &lt;down&gt; |\n"
        ), "{md}");
        assert!(!md.contains("TBD"));
        // every table row has the header's eight pipes (escaped ones do not count)
        for line in md
            .lines()
            .filter(|l| l.contains("restart-db") || l.contains("db-healthy"))
        {
            assert_eq!(line.replace("\\|", "").matches('|').count(), 8, "{line}");
        }
    }

    #[test]
    fn no_actions_no_timeline() {
        let mut r = with_actions();
        r.actions.clear();
        assert!(!markdown(&r).contains("Timeline"));
    }
}
