//! Charts drawn as inline SVG by our own code: one time axis, several series, a legend.
//! No JavaScript, no external library, so a report opens offline.
use crate::format::escape_xml as esc;
use std::fmt::Write as _;

/// One line of a chart.
pub struct Line<'a> {
    /// Legend label.
    pub label: &'a str,
    /// CSS colour.
    pub color: &'a str,
    /// (x, y) points, x ascending.
    pub points: Vec<(f64, f64)>,
}

/// A vertical marker on a time chart: a timeline action, where it started.
pub struct Marker<'a> {
    /// The action's name (label, `<title>` and `data-action`).
    pub name: &'a str,
    /// Hover text (what it was and what happened).
    pub detail: String,
    /// Seconds from the start of the load.
    pub t: f64,
    /// It did what it should (failed ones are drawn red).
    pub ok: bool,
}

/// A shaded span of a time chart: a phase of the load.
pub struct Band<'a> {
    /// The phase's name (label and `<title>`).
    pub label: &'a str,
    /// Start, seconds.
    pub from: f64,
    /// End, seconds.
    pub to: f64,
}

const W: f64 = 720.0;
const H: f64 = 240.0;
const L: f64 = 56.0;
const R: f64 = 12.0;
const T: f64 = 28.0;
const B: f64 = 36.0;

/// A "nice" step for about `n` ticks over `span`.
fn step(span: f64, n: f64) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let raw = span / n;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.5 {
        2.0
    } else if norm < 7.5 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

fn fmt_tick(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A line chart over time (x in seconds), with a vertical dashed marker for each timeline
/// action in `markers` (none: the chart is drawn as it always was).
pub fn line_chart(
    id: &str,
    title: &str,
    y_unit: &str,
    lines: &[Line<'_>],
    markers: &[Marker<'_>],
) -> String {
    xy_chart_with_bands(id, title, "s", y_unit, lines, markers, &[])
}

/// [`line_chart`] with the load's phases shaded behind the lines (alternating tints, each
/// labelled at the foot of the chart).
pub fn line_chart_with_bands(
    id: &str,
    title: &str,
    y_unit: &str,
    lines: &[Line<'_>],
    markers: &[Marker<'_>],
    bands: &[Band<'_>],
) -> String {
    xy_chart_with_bands(id, title, "s", y_unit, lines, markers, bands)
}

/// A line chart over any x axis (ticks suffixed with `x_unit`: `s`, `%`, ` it/s`), with a
/// vertical dashed marker at each of `markers`' x values (e.g. the knee of a load curve).
pub fn xy_chart(
    id: &str,
    title: &str,
    x_unit: &str,
    y_unit: &str,
    lines: &[Line<'_>],
    markers: &[Marker<'_>],
) -> String {
    xy_chart_with_bands(id, title, x_unit, y_unit, lines, markers, &[])
}

/// [`xy_chart`] with shaded bands (phases) behind the lines.
fn xy_chart_with_bands(
    id: &str,
    title: &str,
    x_unit: &str,
    y_unit: &str,
    lines: &[Line<'_>],
    markers: &[Marker<'_>],
    bands: &[Band<'_>],
) -> String {
    let xs = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .chain(markers.iter().map(|m| m.t).filter(|t| t.is_finite()))
        .chain(bands.iter().map(|b| b.to).filter(|t| t.is_finite()));
    let x_max = xs.fold(0.0f64, f64::max).max(1.0);
    let y_max = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    let ys = step(y_max.max(1e-9), 4.0);
    let y_top = (y_max / ys).ceil().max(1.0) * ys;
    let px = |x: f64| L + x / x_max * (W - L - R);
    let py = |y: f64| H - B - y / y_top * (H - T - B);
    let points: usize = lines.iter().map(|l| l.points.len()).sum();
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg class="chart" id="{id}" data-points="{points}" viewBox="0 0 {W} {H}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg">"#,
        t = esc(title)
    );
    let _ = write!(
        o,
        r#"<text x="{L}" y="18" class="title">{}</text>"#,
        esc(title)
    );
    for (i, b) in bands.iter().enumerate() {
        if !(b.from.is_finite() && b.to.is_finite()) || b.to <= b.from {
            continue;
        }
        let (x0, x1) = (px(b.from.max(0.0)), px(b.to));
        let _ = write!(
            o,
            r#"<g class="phase-band" data-phase="{label}"><title>{label}: {:.0}s–{:.0}s</title><rect x="{x0:.1}" y="{T}" width="{:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" class="tick" style="fill:#6b7280">{label}</text></g>"#,
            b.from,
            b.to,
            (x1 - x0).max(0.5),
            H - T - B,
            if i % 2 == 0 { "#eef2fb" } else { "#f6f1e4" },
            x0 + 3.0,
            H - B - 4.0,
            label = esc(b.label),
        );
    }
    // grid and y ticks
    let mut y = 0.0;
    while y <= y_top + 1e-9 {
        let yy = py(y);
        let _ = write!(
            o,
            r##"<line x1="{L}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" class="grid"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{}</text>"##,
            W - R,
            L - 6.0,
            yy + 4.0,
            fmt_tick(y)
        );
        y += ys;
    }
    let _ = write!(
        o,
        r#"<text x="12" y="{:.1}" class="tick" transform="rotate(-90 12 {:.1})" text-anchor="middle">{}</text>"#,
        (T + H - B) / 2.0,
        (T + H - B) / 2.0,
        esc(y_unit)
    );
    // x ticks (seconds)
    let xs_step = step(x_max, 8.0);
    let mut x = 0.0;
    while x <= x_max + 1e-9 {
        let xx = px(x);
        let _ = write!(
            o,
            r#"<text x="{xx:.1}" y="{:.1}" class="tick" text-anchor="middle">{}{}</text>"#,
            H - B + 16.0,
            fmt_tick(x),
            esc(x_unit)
        );
        x += xs_step;
    }
    let _ = write!(
        o,
        r#"<line x1="{L}" y1="{:.1}" x2="{:.1}" y2="{:.1}" class="axis"/>"#,
        H - B,
        W - R,
        H - B
    );
    for (i, l) in lines.iter().enumerate() {
        if l.points.is_empty() {
            continue;
        }
        let pts: Vec<String> = l
            .points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        let _ = write!(
            o,
            r#"<polyline fill="none" stroke="{}" stroke-width="1.8" points="{}"/>"#,
            l.color,
            pts.join(" ")
        );
        let lx = L + 10.0 + i as f64 * 130.0;
        let _ = write!(
            o,
            r#"<rect x="{lx:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" class="legend">{}</text>"#,
            H - 12.0,
            l.color,
            lx + 14.0,
            H - 3.0,
            esc(l.label)
        );
    }
    for (i, m) in markers.iter().enumerate() {
        if !m.t.is_finite() {
            continue;
        }
        let xx = px(m.t.max(0.0));
        let color = if m.ok { "#6b7280" } else { "#d64545" };
        // labels of close actions are staggered so they do not print over each other
        let ly = T + 10.0 + (i % 3) as f64 * 11.0;
        // near the right edge the label goes to the left of its line
        let right = xx > W - R - 120.0;
        let anchor = if right { "end" } else { "start" };
        let _ = write!(
            o,
            r#"<g class="action-marker" data-action="{name}"><title>{detail}</title><line x1="{xx:.1}" y1="{T}" x2="{xx:.1}" y2="{:.1}" stroke="{color}" stroke-width="1.2" stroke-dasharray="4 3"/><text x="{:.1}" y="{ly:.1}" class="tick" style="fill:{color}" text-anchor="{anchor}">{name}</text></g>"#,
            H - B,
            if right { xx - 3.0 } else { xx + 3.0 },
            name = esc(m.name),
            detail = esc(&m.detail),
        );
    }
    o.push_str("</svg>");
    o
}

/// A bar chart (labels under bars).
pub fn bar_chart(id: &str, title: &str, bars: &[(String, f64)]) -> String {
    let max = bars.iter().map(|b| b.1).fold(0.0f64, f64::max).max(1.0);
    let n = bars.len().max(1) as f64;
    let bw = (W - L - R) / n;
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg class="chart" id="{id}" data-points="{}" viewBox="0 0 {W} {H}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg">"#,
        bars.len(),
        t = esc(title)
    );
    let _ = write!(
        o,
        r#"<text x="{L}" y="18" class="title">{}</text>"#,
        esc(title)
    );
    for (i, (label, v)) in bars.iter().enumerate() {
        let h = v / max * (H - T - B);
        let x = L + i as f64 * bw;
        let _ = write!(
            o,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" class="bar"><title>{}: {v}</title></rect><text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text><text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text>"#,
            x + 2.0,
            H - B - h,
            (bw - 4.0).max(1.0),
            esc(label),
            x + bw / 2.0,
            H - B + 14.0,
            esc(label),
            x + bw / 2.0,
            H - B - h - 4.0,
            fmt_tick(*v)
        );
    }
    let _ = write!(
        o,
        r#"<line x1="{L}" y1="{:.1}" x2="{:.1}" y2="{:.1}" class="axis"/>"#,
        H - B,
        W - R,
        H - B
    );
    o.push_str("</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_shaded_behind_the_lines() {
        let line = || Line {
            label: "cpu",
            color: "#36c",
            points: vec![(0.0, 1.0), (10.0, 2.0)],
        };
        let bands = [
            Band {
                label: "s: ramp-up",
                from: 0.0,
                to: 4.0,
            },
            Band {
                label: "s: <peak>",
                from: 4.0,
                to: 20.0,
            },
        ];
        let c = line_chart_with_bands("c", "CPU", "%", &[line()], &[], &bands);
        assert_eq!(c.matches(r#"class="phase-band""#).count(), 2);
        assert!(c.contains(r#"data-phase="s: &lt;peak&gt;""#), "{c}");
        // the x axis reaches the last phase's end, and bands come before the lines
        assert!(c.contains(">20s</text>"), "{c}");
        assert!(c.find("phase-band") < c.find("<polyline"));
        // without bands the chart is the one line_chart draws
        assert_eq!(
            line_chart_with_bands("c", "CPU", "%", &[line()], &[], &[]),
            line_chart("c", "CPU", "%", &[line()], &[])
        );
    }

    #[test]
    fn charts_are_svg_with_their_points() {
        let c = line_chart(
            "rps",
            "Requests/s",
            "req/s",
            &[Line {
                label: "rps",
                color: "#36c",
                points: vec![(1.0, 10.0), (2.0, 30.0), (3.0, 20.0)],
            }],
            &[],
        );
        assert!(c.starts_with("<svg") && c.ends_with("</svg>"));
        assert!(c.contains(r#"data-points="3""#));
        assert!(c.contains("<polyline"));
        let b = bar_chart("h", "Latency", &[("1ms".into(), 5.0), ("2ms".into(), 2.0)]);
        assert!(b.contains(r#"data-points="2""#));
        assert_eq!(step(97.0, 4.0), 20.0);
    }

    #[test]
    fn markers_are_dashed_lines_named_and_escaped() {
        let lines = [Line {
            label: "rps",
            color: "#36c",
            points: vec![(1.0, 10.0), (10.0, 30.0)],
        }];
        let markers = [
            Marker {
                name: "restart <db>",
                detail: "exec: exit 0".into(),
                t: 5.0,
                ok: true,
            },
            Marker {
                name: "late",
                detail: "x".into(),
                t: 20.0,
                ok: false,
            },
        ];
        let c = line_chart("rps", "Requests/s", "req/s", &lines, &markers);
        assert_eq!(c.matches(r#"class="action-marker""#).count(), 2);
        assert!(c.contains(r#"data-action="restart &lt;db&gt;""#));
        assert!(c.contains("<title>exec: exit 0</title>"));
        assert!(c.contains(r#"stroke-dasharray="4 3""#));
        // a marker after the last point widens the time axis to show it
        assert!(c.contains(">20s</text>"));
        // markers inside the run leave the chart as it was, plus the markers
        let within = line_chart("rps", "Requests/s", "req/s", &lines, &markers[..1]);
        assert_eq!(
            within
                .split(r#"<g class="action-marker""#)
                .next()
                .unwrap_or(""),
            line_chart("rps", "Requests/s", "req/s", &lines, &[]).trim_end_matches("</svg>")
        );
    }
}
