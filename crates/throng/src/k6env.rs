//! k6's environment switches, honoured as aliases of throng's own flags so a CI job written
//! for k6 keeps its settings: `K6_WEB_DASHBOARD=true` (`--dashboard`, with
//! `K6_WEB_DASHBOARD_HOST`/`_PORT`), `K6_WEB_DASHBOARD_EXPORT=FILE` (`--html`),
//! `K6_PROMETHEUS_RW_SERVER_URL=URL` (`--out prometheus-rw=URL`), `K6_OUT` (`--out`, comma
//! separated), `K6_SUMMARY_EXPORT` (`--summary-export`), `K6_NO_THRESHOLDS`,
//! `K6_NO_SUMMARY`, `K6_NO_COLOR`. A flag (or its `THRONG_*` variable) wins over the alias.
use crate::cli::{OutputArgs, ProgressArgs};
use std::net::SocketAddr;

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on"
    )
}

/// Applies the k6 switches `get` finds to flags not given; an error names the variable.
pub fn apply(
    get: &dyn Fn(&str) -> Option<String>,
    out: &mut OutputArgs,
    progress: &mut ProgressArgs,
) -> Result<(), String> {
    if progress.dashboard.is_none() && get("K6_WEB_DASHBOARD").is_some_and(|v| truthy(&v)) {
        let host = get("K6_WEB_DASHBOARD_HOST").unwrap_or_else(|| "127.0.0.1".into());
        let port = get("K6_WEB_DASHBOARD_PORT").unwrap_or_else(|| "5665".into());
        let addr = format!("{host}:{port}");
        progress.dashboard = Some(addr.parse::<SocketAddr>().map_err(|_| {
            format!("K6_WEB_DASHBOARD_HOST/_PORT: `{addr}` is not an IP address and port")
        })?);
    }
    if out.html.is_none() {
        if let Some(f) = get("K6_WEB_DASHBOARD_EXPORT").filter(|f| !f.is_empty()) {
            out.html = Some(f.into());
        }
    }
    if out.summary_export.is_none() {
        if let Some(f) = get("K6_SUMMARY_EXPORT").filter(|f| !f.is_empty()) {
            out.summary_export = Some(f.into());
        }
    }
    if out.out.is_empty() {
        if let Some(v) = get("K6_OUT") {
            out.out = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        }
    }
    // k6's `K6_OUT=json=FILE` names match throng's `--out json=FILE` already; k6's
    // `experimental-prometheus-rw` output is throng's `prometheus-rw`
    for o in out.out.iter_mut() {
        if let Some(rest) = o.strip_prefix("experimental-prometheus-rw") {
            let url = rest
                .strip_prefix('=')
                .map(String::from)
                .or_else(|| get("K6_PROMETHEUS_RW_SERVER_URL"));
            *o = format!(
                "prometheus-rw={}",
                url.unwrap_or_else(|| "http://localhost:9090/api/v1/write".into())
            );
        }
    }
    if !out.out.iter().any(|o| o.starts_with("prometheus-rw")) {
        if let Some(url) = get("K6_PROMETHEUS_RW_SERVER_URL").filter(|u| !u.is_empty()) {
            out.out.push(format!("prometheus-rw={url}"));
        }
    }
    for (name, flag) in [
        ("K6_NO_THRESHOLDS", &mut out.no_thresholds),
        ("K6_NO_SUMMARY", &mut out.no_summary),
        ("K6_NO_COLOR", &mut out.no_color),
    ] {
        if get(name).is_some_and(|v| truthy(&v)) {
            *flag = true;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn k6_switches_become_throng_flags_unless_a_flag_is_given() {
        let (mut out, mut progress) = (OutputArgs::default(), ProgressArgs::default());
        let e = env(&[
            ("K6_WEB_DASHBOARD", "true"),
            ("K6_WEB_DASHBOARD_PORT", "6001"),
            ("K6_WEB_DASHBOARD_EXPORT", "report.html"),
            (
                "K6_PROMETHEUS_RW_SERVER_URL",
                "http://127.0.0.1:9090/api/v1/write",
            ),
            ("K6_OUT", "json=a.ndjson, experimental-prometheus-rw"),
            ("K6_NO_COLOR", "1"),
        ]);
        apply(&e, &mut out, &mut progress).expect("applies");
        assert_eq!(progress.dashboard, Some(([127, 0, 0, 1], 6001).into()));
        assert_eq!(out.html, Some("report.html".into()));
        assert_eq!(
            out.out,
            vec![
                "json=a.ndjson".to_string(),
                "prometheus-rw=http://127.0.0.1:9090/api/v1/write".to_string()
            ]
        );
        assert!(out.no_color && !out.no_summary);

        // a flag wins
        let mut out = OutputArgs {
            html: Some("mine.html".into()),
            ..Default::default()
        };
        let mut progress = ProgressArgs {
            dashboard: Some(([127, 0, 0, 1], 7000).into()),
            ..Default::default()
        };
        apply(&e, &mut out, &mut progress).expect("applies");
        assert_eq!(out.html, Some("mine.html".into()));
        assert_eq!(progress.dashboard, Some(([127, 0, 0, 1], 7000).into()));

        let bad = env(&[
            ("K6_WEB_DASHBOARD", "true"),
            ("K6_WEB_DASHBOARD_HOST", "nope"),
        ]);
        let err = apply(
            &bad,
            &mut OutputArgs::default(),
            &mut ProgressArgs::default(),
        )
        .expect_err("bad host");
        assert!(err.contains("K6_WEB_DASHBOARD_HOST"), "{err}");
    }
}
