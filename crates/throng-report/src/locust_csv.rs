//! Locust's `--csv PREFIX` files, with Locust's exact column names, so scripts written for
//! Locust's output keep working: `PREFIX_stats.csv`, `PREFIX_stats_history.csv`,
//! `PREFIX_failures.csv` and `PREFIX_exceptions.csv` (throng raises no exceptions: the
//! header alone, so tools that expect four files find four). With `full_history`
//! (Locust's `--csv-full-history`) the history has a row per request name each second too.
use crate::results::{Results, LOCUST_PERCENTILES};
use std::path::{Path, PathBuf};

const PCT_HEADERS: [&str; 11] = [
    "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
];

fn path(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn ms(v: f64) -> String {
    format!("{}", v.round() as i64)
}

/// Writes the four files; returns their paths.
pub fn write_locust_csv(
    r: &Results,
    prefix: &Path,
    full_history: bool,
) -> Result<Vec<PathBuf>, String> {
    crate::file::create_parent_dir(prefix).map_err(|e| e.to_string())?;
    let err = |p: &Path, e: csv::Error| format!("{}: {e}", p.display());
    let stats = path(prefix, "_stats.csv");
    let mut w = csv::Writer::from_path(&stats).map_err(|e| err(&stats, e))?;
    let mut header = vec![
        "Type",
        "Name",
        "Request Count",
        "Failure Count",
        "Median Response Time",
        "Average Response Time",
        "Min Response Time",
        "Max Response Time",
        "Average Content Size",
        "Requests/s",
        "Failures/s",
    ];
    header.extend(PCT_HEADERS);
    w.write_record(&header).map_err(|e| err(&stats, e))?;
    for s in &r.requests {
        let mut row = vec![
            s.method.clone(),
            s.name.clone(),
            s.count.to_string(),
            s.failures.to_string(),
            ms(s.p(50.0)),
            format!("{:.2}", s.avg),
            format!("{:.2}", s.min),
            format!("{:.2}", s.max),
            format!("{:.2}", s.avg_size),
            format!("{:.2}", s.rps),
            format!("{:.2}", s.fps),
        ];
        row.extend(LOCUST_PERCENTILES.iter().map(|q| ms(s.p(*q))));
        w.write_record(&row).map_err(|e| err(&stats, e))?;
    }
    w.flush().map_err(|e| format!("{}: {e}", stats.display()))?;

    let history = path(prefix, "_stats_history.csv");
    let mut w = csv::Writer::from_path(&history).map_err(|e| err(&history, e))?;
    let mut header = vec![
        "Timestamp",
        "User Count",
        "Type",
        "Name",
        "Requests/s",
        "Failures/s",
    ];
    header.extend(PCT_HEADERS);
    header.extend([
        "Total Request Count",
        "Total Failure Count",
        "Total Median Response Time",
        "Total Average Response Time",
        "Total Min Response Time",
        "Total Max Response Time",
        "Total Average Content Size",
    ]);
    w.write_record(&header).map_err(|e| err(&history, e))?;
    let start = r
        .run
        .started_at
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .unwrap_or(0);
    for p in &r.seconds {
        let mut row = vec![
            (start + p.t.round() as i64).to_string(),
            p.vus.to_string(),
            String::new(),
            "Aggregated".to_string(),
            format!("{:.6}", p.rps()),
            format!("{:.6}", p.fps()),
        ];
        for q in LOCUST_PERCENTILES {
            let v = p
                .percentiles
                .iter()
                .find(|(k, _)| (*k - q).abs() < 1e-9)
                .map(|x| x.1);
            row.push(match v {
                Some(v) if p.reqs > 0 => ms(v),
                _ => "N/A".to_string(),
            });
        }
        row.extend([
            p.total_reqs.to_string(),
            p.total_failures.to_string(),
            ms(p.total_p50),
            format!("{:.2}", p.total_avg),
            format!("{:.2}", p.total_min),
            format!("{:.2}", p.total_max),
            format!("{:.2}", p.total_avg_size),
        ]);
        w.write_record(&row).map_err(|e| err(&history, e))?;
    }
    if full_history {
        // per name: what each second holds and the running totals, as Locust writes them
        for (name, points) in &r.by_name {
            let method = r
                .requests
                .iter()
                .find(|s| &s.name == name)
                .map(|s| s.method.as_str())
                .unwrap_or("");
            let (mut total, mut total_failed) = (0u64, 0u64);
            for p in points {
                total += p.reqs;
                total_failed += p.failures;
                let span = p.span_s.max(1e-9);
                let mut row = vec![
                    (start + p.t.round() as i64).to_string(),
                    String::new(),
                    method.to_string(),
                    name.to_string(),
                    format!("{:.6}", p.reqs as f64 / span),
                    format!("{:.6}", p.failures as f64 / span),
                ];
                for q in LOCUST_PERCENTILES {
                    let v = p
                        .percentiles
                        .iter()
                        .find(|(k, _)| (*k - q).abs() < 1e-9)
                        .map(|x| x.1)
                        // results from before the full percentiles were kept: p95 only
                        .or(((q - 95.0).abs() < 1e-9).then_some(p.p95));
                    row.push(match v {
                        Some(v) if p.reqs > 0 => ms(v),
                        _ => "N/A".to_string(),
                    });
                }
                match &p.totals {
                    Some(t) => row.extend([
                        t.reqs.to_string(),
                        t.failures.to_string(),
                        ms(t.p50),
                        format!("{:.2}", t.avg),
                        format!("{:.2}", t.min),
                        format!("{:.2}", t.max),
                        format!("{:.2}", t.avg_size),
                    ]),
                    None => row.extend([
                        total.to_string(),
                        total_failed.to_string(),
                        "N/A".into(),
                        "N/A".into(),
                        "N/A".into(),
                        "N/A".into(),
                        "N/A".into(),
                    ]),
                }
                w.write_record(&row).map_err(|e| err(&history, e))?;
            }
        }
    }
    w.flush()
        .map_err(|e| format!("{}: {e}", history.display()))?;

    let failures = path(prefix, "_failures.csv");
    let mut w = csv::Writer::from_path(&failures).map_err(|e| err(&failures, e))?;
    w.write_record(["Method", "Name", "Error", "Occurrences"])
        .map_err(|e| err(&failures, e))?;
    for f in &r.failure_rows {
        w.write_record([
            f.method.as_str(),
            f.name.as_str(),
            f.error.as_str(),
            &f.occurrences.to_string(),
        ])
        .map_err(|e| err(&failures, e))?;
    }
    w.flush()
        .map_err(|e| format!("{}: {e}", failures.display()))?;
    let exceptions = path(prefix, "_exceptions.csv");
    let mut w = csv::Writer::from_path(&exceptions).map_err(|e| err(&exceptions, e))?;
    w.write_record(["Count", "Message", "Traceback", "Nodes"])
        .map_err(|e| err(&exceptions, e))?;
    w.flush()
        .map_err(|e| format!("{}: {e}", exceptions.display()))?;
    Ok(vec![stats, history, failures, exceptions])
}
