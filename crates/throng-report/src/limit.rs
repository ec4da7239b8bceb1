//! The answer of a breaking-point search (`throng find-limit`): one phase per load level
//! (each with its own HDR histogram), the max sustainable load, the breaking point and the
//! criterion that failed, the recovery time; and its report sections — Markdown's
//! "Breaking point" and "Degradation by load level", HTML's "Load vs latency" chart.
use crate::format::{escape_xml as esc, format_ms, format_percent as pct};
use crate::series::PhaseResult;
use crate::svg::{xy_chart, Line, Marker};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The schema version of a find-limit results file.
pub const LIMIT_VERSION: u32 = 1;

/// One load level, as run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LevelResult {
    /// The level as a phase: offered load (`from` = `to`), requests, latency, errors, 429s.
    pub phase: PhaseResult,
    /// Offered load: iterations per second (or VUs with `--vus`).
    pub offered: f64,
    /// Iterations started per second (what the generator achieved).
    pub achieved: f64,
    /// Every request of the level's run (`http_reqs`), graceful stop included.
    pub requests: u64,
    /// Iterations never started (no free VU).
    pub dropped: u64,
    /// The generator's average CPU use, % of its cores.
    pub generator_cpu_pct: Option<f64>,
    /// The generator, not the target, limited this level.
    pub generator_bottleneck: bool,
    /// Why it was flagged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generator_reasons: Vec<String>,
    /// Every criterion held.
    pub ok: bool,
    /// The criteria that failed: `p(95)<500 (observed 812.4)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
    /// Run while bisecting between the last good and the first bad level.
    #[serde(default)]
    pub refine: bool,
    /// `http_req_duration` of the level: HDR histogram, V2 + DEFLATE, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hdr: Option<String>,
}

/// The first failing level and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BreakingPoint {
    /// The lowest load that failed.
    pub load: f64,
    /// The criteria it failed.
    pub criteria: Vec<String>,
    /// The generator was flagged at that level: the limit may be throng's, not the target's.
    pub generator_bottleneck: bool,
}

/// Recovery after the breaking level.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecoveryResult {
    /// The load dropped to (50 % of the max sustainable load).
    pub load: f64,
    /// Seconds from the drop until the first window that met every criterion (`None`: it
    /// did not recover while watched).
    pub recovered_after_s: Option<f64>,
    /// How long it was watched.
    pub watched_s: f64,
    /// Requests sent while watching.
    #[serde(default)]
    pub requests: u64,
    /// Each window: (end, seconds since the drop; met the criteria).
    pub windows: Vec<(f64, bool)>,
}

/// A breaking-point search's results file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LimitReport {
    /// [`LIMIT_VERSION`].
    pub version: u32,
    /// Plan name.
    pub plan: String,
    /// The plan file (or the URL of `--quick`).
    pub plan_file: String,
    /// The scenario driven.
    pub scenario: String,
    /// `it/s` or `VUs`.
    pub unit: String,
    /// Start, RFC 3339.
    pub started_at: String,
    /// Each level's hold.
    pub hold_s: f64,
    /// The criteria (`--until`, then the plan's thresholds).
    pub criteria: Vec<String>,
    /// Levels in the order run (the step search, then the bisection).
    pub levels: Vec<LevelResult>,
    /// The highest passing load (`None`: even the first level failed).
    pub max_sustainable: Option<f64>,
    /// The lowest failing load (`None`: nothing failed in the range).
    pub breaking: Option<BreakingPoint>,
    /// With `--recovery`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoveryResult>,
    /// Stopped by Ctrl-C.
    #[serde(default)]
    pub interrupted: bool,
}

fn load(v: f64, unit: &str) -> String {
    format!(
        "{} {unit}",
        throng_metrics::threshold::fmt_num((v * 100.0).round() / 100.0)
    )
}

impl LimitReport {
    /// Levels sorted by offered load.
    pub fn by_load(&self) -> Vec<&LevelResult> {
        let mut v: Vec<&LevelResult> = self.levels.iter().collect();
        v.sort_by(|a, b| a.offered.total_cmp(&b.offered));
        v
    }

    /// The answer in two or three lines.
    pub fn headline(&self) -> String {
        let mut o = String::new();
        match self.max_sustainable {
            Some(m) => {
                let _ = writeln!(o, "max sustainable load: {}", load(m, &self.unit));
            }
            None => {
                let _ = writeln!(o, "max sustainable load: none (the first level failed)");
            }
        }
        match &self.breaking {
            Some(b) => {
                let _ = writeln!(
                    o,
                    "breaking point: {} — {}{}",
                    load(b.load, &self.unit),
                    b.criteria.join("; "),
                    if b.generator_bottleneck {
                        " (the generator was the bottleneck at this level: the limit may be throng's)"
                    } else {
                        ""
                    }
                );
            }
            None => {
                let _ = writeln!(o, "breaking point: not reached in the range");
            }
        }
        if let Some(r) = &self.recovery {
            let _ = match r.recovered_after_s {
                Some(s) => writeln!(
                    o,
                    "recovery: {s:.1}s at {} after the breaking level",
                    load(r.load, &self.unit)
                ),
                None => writeln!(
                    o,
                    "recovery: not within {:.0}s at {}",
                    r.watched_s,
                    load(r.load, &self.unit)
                ),
            };
        }
        o
    }

    /// The terminal output: the degradation table and the answer.
    pub fn text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{:>12} {:>10} {:>9} {:>10} {:>10} {:>10} {:>8} {:>7} {:>7}  verdict",
            "offered", "achieved", "req/s", "p50", "p95", "p99", "errors", "429", "cpu"
        );
        for l in self.by_load() {
            let c = cells(l, &self.unit);
            let _ = writeln!(
                o,
                "{:>12} {:>10} {:>9} {:>10} {:>10} {:>10} {:>8} {:>7} {:>7}  {}",
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]
            );
        }
        o.push('\n');
        o.push_str(&self.headline());
        o
    }

    /// Markdown: "Breaking point" and "Degradation by load level".
    pub fn markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# Breaking-point search: {}\n", self.plan);
        let _ = writeln!(
            o,
            "Scenario `{}` of `{}`, each level held {:.0}s, judged by {}.\n",
            self.scenario,
            self.plan_file,
            self.hold_s,
            self.criteria
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(o, "## Breaking point\n\n| | |\n|---|---|");
        let _ = writeln!(
            o,
            "| Max sustainable load | {} |",
            self.max_sustainable
                .map(|m| load(m, &self.unit))
                .unwrap_or("none: the first level failed".into())
        );
        match &self.breaking {
            Some(b) => {
                let _ = writeln!(o, "| Breaking point | {} |", load(b.load, &self.unit));
                let _ = writeln!(o, "| Failed criterion | {} |", b.criteria.join("; "));
                if b.generator_bottleneck {
                    let _ = writeln!(
                        o,
                        "| Note | the generator, not the target, was the bottleneck at this level |"
                    );
                }
            }
            None => {
                let _ = writeln!(o, "| Breaking point | not reached in the range |");
            }
        }
        if let Some(r) = &self.recovery {
            let _ = writeln!(
                o,
                "| Recovery time | {} (load dropped to {}) |",
                r.recovered_after_s
                    .map(|s| format!("{s:.1}s"))
                    .unwrap_or(format!("not within {:.0}s", r.watched_s)),
                load(r.load, &self.unit)
            );
        }
        let _ = writeln!(
            o,
            "\n## Degradation by load level\n\n| offered | achieved | req/s | p50 | p95 | p99 | errors | 429 | generator CPU | verdict |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        );
        for l in self.by_load() {
            let c = cells(l, &self.unit).map(|c| c.replace('|', "\\|"));
            let _ = writeln!(o, "| {} |", c.join(" | "));
        }
        let flagged: Vec<&LevelResult> = self
            .by_load()
            .into_iter()
            .filter(|l| l.generator_bottleneck)
            .collect();
        if !flagged.is_empty() {
            let _ = writeln!(
                o,
                "\nGenerator-bound levels (the load generator, not the target, limited them):\n"
            );
            for l in flagged {
                let _ = writeln!(
                    o,
                    "- {}: {}",
                    load(l.offered, &self.unit),
                    l.generator_reasons.join("; ")
                );
            }
        }
        o
    }

    /// The HTML page: the answer, the "Load vs latency" chart (knee marked) and the table.
    pub fn html(&self) -> String {
        let ok = self.max_sustainable.is_some();
        let mut o = String::new();
        let _ = write!(
            o,
            r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>throng find-limit — {}</title><style>{}</style></head><body><header><h1>Breaking-point search: {}<span class="verdict {}">{}</span></h1><div class="meta">scenario <code>{}</code> · plan <code>{}</code> · started {}</div></header><main>"#,
            esc(&self.plan),
            crate::html::CSS,
            esc(&self.plan),
            if ok { "pass" } else { "fail" },
            if ok {
                "LIMIT FOUND"
            } else {
                "FIRST LEVEL FAILED"
            },
            esc(&self.scenario),
            esc(&self.plan_file),
            esc(&self.started_at)
        );
        let _ = write!(
            o,
            r#"<section id="breaking-point"><h2>Breaking point</h2><pre>{}</pre></section>"#,
            esc(&self.headline())
        );
        let levels = self.by_load();
        let pts = |f: fn(&LevelResult) -> f64| -> Vec<(f64, f64)> {
            levels.iter().map(|l| (l.offered, f(l))).collect()
        };
        let knee: Vec<Marker<'_>> = self
            .max_sustainable
            .map(|m| Marker {
                name: "knee",
                detail: format!("max sustainable load {}", load(m, &self.unit)),
                t: m,
                ok: true,
            })
            .into_iter()
            .chain(self.breaking.as_ref().map(|b| Marker {
                name: "breaking",
                detail: format!("breaking point {}", load(b.load, &self.unit)),
                t: b.load,
                ok: false,
            }))
            .collect();
        let x_unit = format!(" {}", self.unit);
        let _ = write!(
            o,
            r#"<section id="load-vs-latency"><h2>Load vs latency</h2><div class="charts">{}{}</div></section>"#,
            xy_chart(
                "load-latency",
                "Latency by offered load",
                &x_unit,
                "ms",
                &[
                    Line {
                        label: "p50",
                        color: "#1f9d55",
                        points: pts(|l| l.phase.p50)
                    },
                    Line {
                        label: "p95",
                        color: "#b7791f",
                        points: pts(|l| l.phase.p95)
                    },
                    Line {
                        label: "p99",
                        color: "#d64545",
                        points: pts(|l| l.phase.p99)
                    },
                ],
                &knee
            ),
            xy_chart(
                "load-throughput",
                "Throughput by offered load",
                &x_unit,
                "per second",
                &[
                    Line {
                        label: "offered",
                        color: "#9aa3af",
                        points: pts(|l| l.offered)
                    },
                    Line {
                        label: "achieved it/s",
                        color: "#4c7bd9",
                        points: pts(|l| l.achieved)
                    },
                    Line {
                        label: "req/s",
                        color: "#805ad5",
                        points: pts(|l| l.phase.rps)
                    },
                ],
                &knee
            )
        );
        o.push_str(r#"<section id="degradation"><h2>Degradation by load level</h2><table><tr><th class="n">offered</th><th class="n">achieved</th><th class="n">req/s</th><th class="n">p50</th><th class="n">p95</th><th class="n">p99</th><th class="n">errors</th><th class="n">429</th><th class="n">generator CPU</th><th>verdict</th></tr>"#);
        for l in levels {
            let c = cells(l, &self.unit);
            o.push_str("<tr>");
            for v in &c[..9] {
                let _ = write!(o, r#"<td class="n">{}</td>"#, esc(v));
            }
            let _ = write!(
                o,
                r#"<td class="{}">{}</td></tr>"#,
                if l.ok { "ok" } else { "bad" },
                esc(&c[9])
            );
        }
        o.push_str("</table></section></main></body></html>\n");
        o
    }
}

/// A row of the degradation table: offered, achieved, req/s, p50, p95, p99, errors, 429
/// share, generator CPU, verdict.
fn cells(l: &LevelResult, unit: &str) -> [String; 10] {
    [
        load(l.offered, unit),
        format!("{:.1}", l.achieved),
        format!("{:.1}", l.phase.rps),
        format_ms(l.phase.p50),
        format_ms(l.phase.p95),
        format_ms(l.phase.p99),
        pct(l.phase.error_rate),
        pct(l.phase.rate_limited_share),
        l.generator_cpu_pct
            .map(|c| format!("{c:.0}%"))
            .unwrap_or("—".into()),
        verdict(l),
    ]
}

/// `✅`, `❌ p(95)<500 (observed 812)`, with the generator flag.
fn verdict(l: &LevelResult) -> String {
    let mut v = if l.ok {
        "✅".to_string()
    } else {
        format!("❌ {}", l.failed.join("; "))
    };
    if l.generator_bottleneck {
        v.push_str(" ⚠ generator-bound");
    }
    v
}
