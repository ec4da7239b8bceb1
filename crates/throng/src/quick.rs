//! `throng quick URL`: hey/oha/wrk-style one-liners, turned into a plan built as data (so
//! `--print-plan` serialises exactly what runs, and the one-liner can grow into a plan file).
use crate::cli::{EnvArgs, OutputArgs, ProgressArgs, RunArgs};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use throng_plan::raw::{Json, RawNum, RawPlan, RawScenario, RawStage, RawStep, S};
use throng_plan::Origins;
use throng_run::ExitCode;

/// Load shapes teams already use.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Preset {
    /// 1,000 requests over 50 connections.
    Quick,
    /// 10,000 requests over 200 connections.
    Stress,
    /// 50,000 requests over 500 connections.
    Extreme,
}

#[derive(Args, Debug)]
pub struct QuickArgs {
    /// The URL to load.
    pub url: String,
    /// Total requests (shared among the VUs).
    #[arg(short = 'n', long = "requests", allow_negative_numbers = true, value_parser = count)]
    pub requests: Option<u64>,
    /// Concurrent VUs (each with its own keep-alive connection; at most 1,000,000).
    #[arg(short = 'c', long = "concurrency", allow_negative_numbers = true, value_parser = vu_count)]
    pub concurrency: Option<u64>,
    /// Run for this long (e.g. 30s) instead of a request count. A limit: nothing starts
    /// after it, and requests still running get --grace to finish.
    #[arg(short = 'z', long = "duration")]
    pub duration: Option<String>,
    /// How long requests still running at the end of -z may take to finish before they are
    /// interrupted (the scenario's gracefulStop).
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub grace: String,
    /// Open model: start this many requests per second, shared by the -c VUs as in wrk2 (a
    /// send that is late because every VU was busy is queued and timed from its intended
    /// start: see http_req_duration_corrected).
    /// At most 1,000,000 a second.
    #[arg(short = 'q', long = "rate", allow_negative_numbers = true, value_parser = rate)]
    pub rate: Option<f64>,
    /// Most VUs an open-model run may use (default: the concurrency).
    #[arg(long, allow_negative_numbers = true, value_parser = vu_count)]
    pub max_vus: Option<u64>,
    /// Stages `TARGET:DURATION,...` for VUs, or for the rate with -q (e.g. 0:10s,200:1m,0:10s).
    #[arg(long)]
    pub ramp: Option<String>,
    /// HTTP method.
    #[arg(short = 'm', long, default_value = "GET")]
    pub method: String,
    /// A header `Name: value` (repeatable).
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Request body (templated like plans, e.g. `{"id":{{random_int(1,100)}}}`).
    #[arg(short = 'd', long = "body")]
    pub body: Option<String>,
    /// Read the request body from a file.
    #[arg(short = 'D', long = "body-file")]
    pub body_file: Option<PathBuf>,
    /// HTTP/2 (ALPN over TLS; prior knowledge on plain http://).
    #[arg(long)]
    pub http2: bool,
    /// With --http2: -c is the number of connections and each carries this many streams,
    /// shared by -c × M VUs (h2load's `-m`; the server's SETTINGS_MAX_CONCURRENT_STREAMS
    /// lowers it). Without it each VU has a connection of its own, as in k6.
    #[arg(long, value_name = "M", requires = "http2", allow_negative_numbers = true, value_parser = vu_count)]
    pub streams: Option<u64>,
    /// Accept any TLS certificate.
    #[arg(long)]
    pub insecure: bool,
    /// Per-request timeout.
    #[arg(long, default_value = "20s")]
    pub timeout: String,
    /// A new connection for every request.
    #[arg(long)]
    pub no_keepalive: bool,
    /// A named load shape.
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// A threshold: `p(95)<500` (on http_req_duration), `rate<0.01` (on http_req_failed), or
    /// `metric{tag:value}:expr` (repeatable; exit 99 when one fails).
    #[arg(long = "threshold")]
    pub thresholds: Vec<String>,
    /// Print the equivalent YAML plan and exit.
    #[arg(long)]
    pub print_plan: bool,
    /// Run this SQL statement instead of HTTP requests: the URL is then a PostgreSQL URL
    /// (`postgres://user:password@host:port/db`) and -c is the pool's size.
    #[arg(long, value_name = "QUERY")]
    pub sql: Option<String>,
    /// With --sql: also write the database-load summary
    /// `{test_name, operations, errors, avg_time, p95_time, throughput, success_rate}`
    /// (times in ms, throughput in queries a second) to FILE.
    #[arg(long, value_name = "FILE", requires = "sql")]
    pub db_json: Option<PathBuf>,
    #[command(flatten)]
    pub env: EnvArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub progress: ProgressArgs,
}

/// `-n`: a whole number, 1 or more.
fn count(s: &str) -> Result<u64, String> {
    let n: i128 = s
        .trim()
        .parse()
        .map_err(|_| "expected a whole number, 1 or more".to_string())?;
    if n < 1 {
        return Err("must be 1 or more".into());
    }
    u64::try_from(n).map_err(|_| "too large".to_string())
}

/// `-c`, `--max-vus`: 1 to [`throng_plan::limits::MAX_VUS`].
fn vu_count(s: &str) -> Result<u64, String> {
    use throng_plan::limits::{thousands, MAX_VUS};
    let n = count(s)?;
    if n > MAX_VUS {
        return Err(format!(
            "above the limit of {} VUs: lower it, or split the load over several machines",
            thousands(MAX_VUS)
        ));
    }
    Ok(n)
}

/// `-q`: a rate above 0, at most [`throng_plan::limits::MAX_RATE_PER_SECOND`].
fn rate(s: &str) -> Result<f64, String> {
    let r: f64 = s
        .trim()
        .parse()
        .map_err(|_| "expected a number of requests a second".to_string())?;
    if !(r.is_finite() && r > 0.0) {
        return Err("the rate must be a number above 0".into());
    }
    if r > throng_plan::limits::MAX_RATE_PER_SECOND {
        return Err(format!(
            "above the limit of {} a second (one request every microsecond): lower it",
            throng_plan::limits::thousands(throng_plan::limits::MAX_RATE_PER_SECOND as u64)
        ));
    }
    Ok(r)
}

/// Checks a header given with -H: a token name, and a value without CR, LF or other
/// control characters (which would split the request or be dropped).
fn header(h: &str) -> Result<(String, String), String> {
    let shown = h.escape_default();
    let (k, v) = h
        .split_once(':')
        .ok_or_else(|| format!("-H `{shown}`: expected `Name: value`"))?;
    let (k, v) = (k.trim(), v.trim());
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if k.is_empty() || !k.chars().all(token) {
        return Err(format!(
            "-H `{shown}`: `{}` is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)",
            k.escape_default()
        ));
    }
    if v.chars().any(|c| c.is_control() && c != '\t') {
        return Err(format!(
            "-H `{shown}`: a header value must not contain CR, LF or other control characters"
        ));
    }
    Ok((k.to_string(), v.to_string()))
}

fn stages(spec: &str, vus: bool) -> Result<Vec<(f64, String)>, String> {
    spec.split(',')
        .map(|part| {
            let (t, d) = part
                .trim()
                .split_once(':')
                .ok_or_else(|| format!("--ramp `{part}`: expected TARGET:DURATION, e.g. 200:1m"))?;
            let target: f64 = t
                .parse()
                .map_err(|_| format!("--ramp `{part}`: `{t}` is not a number"))?;
            if !(target.is_finite() && target >= 0.0) {
                return Err(format!("--ramp `{part}`: the target must be 0 or more"));
            }
            if vus {
                throng_plan::limits::check_vus("the target", target.ceil() as u64, None)
            } else {
                throng_plan::limits::check_rate("the target", target, 1.0)
            }
            .map_err(|e| format!("--ramp `{part}`: {e}"))?;
            throng_plan::parse_duration(d).map_err(|e| format!("--ramp `{part}`: {e}"))?;
            Ok((target, d.to_string()))
        })
        .collect()
}

/// `metric:expr` → (metric, expr); a bare expr goes to the metric its stat implies.
fn threshold(spec: &str) -> (String, String) {
    let mut depth = 0;
    for (i, c) in spec.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ':' if depth == 0 => return (spec[..i].trim().into(), spec[i + 1..].trim().into()),
            _ => {}
        }
    }
    let s = spec.trim_start();
    let metric = if s.starts_with("rate") {
        "http_req_failed"
    } else if s.starts_with("count") {
        "http_reqs"
    } else {
        "http_req_duration"
    };
    (metric.into(), spec.trim().into())
}

/// The plan for these flags, built as data: every value is tagged with the flag it came
/// from, so compile errors name the flag (see [`throng_plan::Origins`]).
pub fn plan(a: &QuickArgs) -> Result<(RawPlan, Origins), String> {
    let (preset_n, preset_c) = match a.preset {
        Some(Preset::Quick) => (Some(1000), Some(50)),
        Some(Preset::Stress) => (Some(10_000), Some(200)),
        Some(Preset::Extreme) => (Some(50_000), Some(500)),
        None => (None, None),
    };
    if a.ramp.is_some() {
        // the stages are the whole load shape: a count, a duration or a preset would be dropped
        let clash: Vec<&str> = [
            ("--preset", a.preset.is_some()),
            ("-n", a.requests.is_some()),
            ("-z", a.duration.is_some()),
        ]
        .into_iter()
        .filter_map(|(f, on)| on.then_some(f))
        .collect();
        if !clash.is_empty() {
            return Err(format!(
                "--ramp sets the whole load shape (targets and durations), so {} would be ignored: drop {}, or drop --ramp",
                clash.join(" and "),
                if clash.len() == 1 { "it" } else { "them" }
            ));
        }
    }
    let conns = a.concurrency.or(preset_c).unwrap_or(50).max(1);
    // --streams M: -c connections carrying M streams each, one VU a stream
    let c = match a.streams {
        Some(m) => {
            if a.no_keepalive {
                return Err("--streams shares kept-alive connections: drop --no-keepalive".into());
            }
            let vus = conns.saturating_mul(m);
            throng_plan::limits::check_vus("-c × --streams", vus, None)?;
            vus
        }
        None => conns,
    };
    let n = a.requests.or(preset_n);
    if let Some(z) = &a.duration {
        let d = throng_plan::parse_duration(z).map_err(|e| format!("-z {z}: {e}"))?;
        if d.is_zero() {
            return Err(format!("-z {z}: the duration must be longer than 0s"));
        }
    }
    throng_plan::parse_duration(&a.grace).map_err(|e| format!("--grace {}: {e}", a.grace))?;
    let mut o = Origins::new("quick");
    let mut raw = RawPlan {
        name: Some("quick".into()),
        ..RawPlan::default()
    };
    raw.defaults.timeout = Some(o.tag("--timeout", a.timeout.clone()));
    let http2 = match (a.http2, a.url.starts_with("http://")) {
        (true, true) => Json::from("prior-knowledge"),
        (true, false) => Json::from(true),
        (false, _) => Json::from(false),
    };
    raw.defaults.http2 = Some(o.tag("--http2", http2));
    if let Some(m) = a.streams {
        raw.defaults.http2_connections = Some(o.tag("-c", conns));
        raw.defaults.http2_streams = Some(o.tag("--streams", m));
    }
    raw.defaults.insecure_skip_tls_verify = a.insecure;
    raw.defaults.keepalive = a.no_keepalive.then_some(false);

    let max_vus = a.max_vus.unwrap_or(c).max(c);
    let mut sc = match (&a.ramp, a.rate) {
        (Some(r), Some(_)) => {
            let mut sc = RawScenario::new(o.tag("-q", "ramping-arrival-rate".into()));
            sc.start_rate = Some(o.tag("-q", RawNum::from(0.0)));
            sc.time_unit = tag(&mut o, "-q", "1s");
            sc.pre_allocated_vus = Some(o.tag("-c", RawNum::from(c)));
            sc.max_vus = Some(o.tag("--max-vus", RawNum::from(max_vus)));
            sc.when_busy = tag(&mut o, "-q", "queue");
            sc.stages = Some(ramp(&mut o, r, false)?);
            sc
        }
        (Some(r), None) => {
            let mut sc = RawScenario::new(o.tag("--ramp", "ramping-vus".into()));
            sc.start_vus = Some(o.tag("--ramp", RawNum::from(0u64)));
            sc.stages = Some(ramp(&mut o, r, true)?);
            sc
        }
        (None, Some(rate)) => {
            if rate <= 0.0 || !rate.is_finite() {
                return Err("-q: the rate must be above 0".into());
            }
            let (flag, duration) = match (&a.duration, n) {
                (Some(z), _) => ("-z", z.clone()),
                (None, Some(n)) => (
                    "-n",
                    format!("{}ms", ((n as f64 / rate) * 1000.0).ceil() as u64),
                ),
                (None, None) => ("-q", "10s".into()),
            };
            let mut sc = RawScenario::new(o.tag("-q", "constant-arrival-rate".into()));
            sc.rate = Some(o.tag("-q", RawNum::from(rate)));
            sc.time_unit = tag(&mut o, "-q", "1s");
            sc.duration = tag(&mut o, flag, &duration);
            sc.pre_allocated_vus = Some(o.tag("-c", RawNum::from(c)));
            sc.max_vus = Some(o.tag("--max-vus", RawNum::from(max_vus)));
            sc.when_busy = tag(&mut o, "-q", "queue");
            sc
        }
        (None, None) => match &a.duration {
            Some(z) => {
                let mut sc = RawScenario::new(o.tag("-z", "constant-vus".into()));
                sc.vus = Some(o.tag("-c", RawNum::from(c)));
                sc.duration = tag(&mut o, "-z", z);
                sc
            }
            None => {
                let n = n.unwrap_or(200).max(1);
                let mut sc = RawScenario::new(o.tag("-n", "shared-iterations".into()));
                sc.vus = Some(o.tag("-c", RawNum::from(c.min(n))));
                sc.iterations = Some(o.tag("-n", RawNum::from(n)));
                sc.max_duration = tag(&mut o, "-n", "24h");
                sc
            }
        },
    };
    sc.graceful_stop = tag(&mut o, "--grace", &a.grace);
    let step = match &a.sql {
        Some(q) => sql_step(a, q, c, &mut raw, &mut o),
        None => request(a, &mut o)?,
    };
    let step = o.tag("the URL", step);
    sc.flow = Some(o.tag("the URL", vec![step]));
    raw.scenarios.insert("quick".into(), o.tag("quick", sc));

    for t in &a.thresholds {
        let (m, e) = threshold(t);
        let item = o.tag(&format!("--threshold {t}"), Json::from(e));
        match raw.thresholds.get_mut(&m) {
            Some(list) => list.value.push(item),
            None => {
                let list = o.tag(&format!("--threshold {t}"), vec![item]);
                raw.thresholds.insert(m, list);
            }
        }
    }
    Ok((raw, o))
}

/// A string option from `flag`.
fn tag(o: &mut Origins, flag: &str, v: &str) -> Option<S<String>> {
    Some(o.tag(flag, v.to_string()))
}

/// `--ramp`: the stages, checked (for VUs or for a rate).
fn ramp(o: &mut Origins, spec: &str, vus: bool) -> Result<S<Vec<RawStage>>, String> {
    let flag = format!("--ramp {spec}");
    let stages = stages(spec, vus)?
        .into_iter()
        .map(|(target, d)| RawStage {
            duration: o.tag(&flag, d),
            target: o.tag(&flag, RawNum::from(target)),
        })
        .collect();
    Ok(o.tag(&flag, stages))
}

/// `--sql QUERY`: one statement on a pool of `-c` connections to the URL.
fn sql_step(a: &QuickArgs, query: &str, c: u64, raw: &mut RawPlan, o: &mut Origins) -> RawStep {
    let source = throng_plan::raw::RawDataSource {
        postgres: Some(o.tag("the URL", a.url.clone())),
        pool: Some(o.tag("-c", c)),
        ..Default::default()
    };
    raw.data_sources
        .insert("db".into(), o.tag("the URL", source));
    let sql = throng_plan::raw::RawSql {
        db: None,
        query: o.tag("--sql", query.to_string()),
        params: Vec::new(),
    };
    RawStep {
        sql: Some(o.tag("--sql", sql)),
        name: Some(o.tag("--sql", "sql".to_string())),
        ..RawStep::default()
    }
}

/// `--db-json`: the database-load summary of a `--sql` run.
pub fn db_json(r: &throng_report::Results) -> serde_json::Value {
    let v = |m: &str, k: &str| r.value(m, k).unwrap_or(0.0);
    let ops = v("sql_queries", "count");
    let errors = v("sql_errors", "count");
    serde_json::json!({
        "test_name": "quick --sql",
        "operations": ops as u64,
        "errors": errors as u64,
        "avg_time": v("sql_query_duration", "avg"),
        "p95_time": v("sql_query_duration", "p(95)"),
        "throughput": v("sql_queries", "rate"),
        "success_rate": if ops > 0.0 { (ops - errors) / ops } else { 0.0 },
    })
}

/// The one request step: method, URL, headers (-H, plus a JSON content type for a JSON
/// body) and body (-d or -D).
fn request(a: &QuickArgs, o: &mut Origins) -> Result<RawStep, String> {
    let (body, body_flag) = match (&a.body, &a.body_file) {
        (Some(b), _) => (Some(b.clone()), "-d".to_string()),
        (None, Some(f)) => (
            Some(std::fs::read_to_string(f).map_err(|e| format!("-D {}: {e}", f.display()))?),
            format!("-D {}", f.display()),
        ),
        (None, None) => (None, String::new()),
    };
    let mut headers: Vec<(String, String, String)> = Vec::new();
    for h in &a.headers {
        let (k, v) = header(h)?;
        let flag = format!("-H {k}");
        headers.push((k, v, flag));
    }
    if let Some(b) = &body {
        let t = b.trim_start();
        if (t.starts_with('{') || t.starts_with('['))
            && !headers
                .iter()
                .any(|(k, _, _)| k.eq_ignore_ascii_case("content-type"))
        {
            let v = "application/json".to_string();
            headers.push(("Content-Type".into(), v, body_flag.clone()));
        }
    }
    let mut step = RawStep {
        method: Some(o.tag("-m", a.method.to_uppercase())),
        url: Some(o.tag("the URL", a.url.clone())),
        name: Some(o.tag("the URL", a.url.clone())),
        ..RawStep::default()
    };
    for (k, v, flag) in headers {
        step.headers.insert(k, o.tag(&flag, v));
    }
    step.body = body.map(|b| o.tag(&body_flag, b));
    Ok(step)
}

/// The plan as YAML (secret header values hidden), serialised from the value that runs.
pub fn plan_yaml(raw: &RawPlan) -> Result<String, String> {
    let y = raw.to_yaml()?;
    Ok(format!(
        "# generated by: throng quick (see --print-plan)\n{}",
        throng_metrics::redact::yaml(&y)
    ))
}

/// `throng quick`.
pub async fn run(a: QuickArgs) -> i32 {
    let url_ok = match &a.sql {
        Some(_) if a.url.starts_with("postgres://") || a.url.starts_with("postgresql://") => Ok(()),
        Some(_) => Err(format!(
            "with --sql, the URL `{}` must be a postgres:// URL",
            throng_metrics::redact::url(&a.url)
        )),
        None => throng_run::check_url("the URL", &a.url),
    };
    if let Err(e) = url_ok {
        eprintln!("error: {e}");
        return ExitCode::InvalidPlan.code();
    }
    // each VU holds a connection: the counts must fit in the open-file limit
    let limit = crate::env::open_file_limit();
    let checks = [("-c", a.concurrency), ("--max-vus", a.max_vus)];
    for (flag, n) in checks {
        if let Some(n) = n {
            if let Err(e) = throng_plan::limits::check_vus(flag, n, limit) {
                eprintln!("error: {e}");
                return ExitCode::InvalidPlan.code();
            }
        }
    }
    let (raw, origins) = match plan(&a) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::InvalidPlan.code();
        }
    };
    if a.print_plan {
        return match plan_yaml(&raw) {
            Ok(y) => {
                // a database URL's password (--sql) is hidden like any URL's
                let y = y.replace(&a.url, &throng_metrics::redact::url(&a.url));
                print!("{y}");
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::RuntimeError.code()
            }
        };
    }
    let args = RunArgs {
        plan: PathBuf::from("quick.yaml"),
        base_url: None,
        env: a.env.clone(),
        load: crate::cli::LoadArgs::default(),
        out: a.out.clone(),
        progress: a.progress.clone(),
        scale: crate::scale::ScaleArgs::default(),
    };
    let input = crate::cli::PlanInput::Built(&raw, &origins);
    if a.sql.is_some() {
        let out = a.db_json.clone();
        return crate::cli::run_plan_then(args, input, move |r| {
            let Some(path) = out else {
                return String::new();
            };
            let text = serde_json::to_string_pretty(&db_json(r)).unwrap_or_default();
            match std::fs::write(&path, text + "\n") {
                Ok(()) => format!("\n  database summary: {}\n", path.display()),
                Err(e) => format!("\n  could not write {}: {e}\n", path.display()),
            }
        })
        .await;
    }
    crate::cli::run_plan_then(args, input, throng_report::render_distribution).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        q: QuickArgs,
    }

    fn args(args: &[&str]) -> QuickArgs {
        let mut v = vec!["quick"];
        v.extend_from_slice(args);
        T::try_parse_from(v).expect("args").q
    }

    fn compile(args_: &[&str]) -> Result<throng_plan::Plan, throng_plan::PlanErrors> {
        let (raw, origins) = plan(&args(args_)).expect("plan");
        throng_plan::compile_raw(&raw, &origins, &Default::default(), &throng_plan::DiskFiles)
    }

    fn yaml(args_: &[&str]) -> String {
        let (raw, _) = plan(&args(args_)).expect("plan");
        plan_yaml(&raw).expect("yaml")
    }

    fn load(y: &str) -> throng_plan::Plan {
        throng_plan::load_str(y, std::path::Path::new("quick.yaml"), &Default::default())
            .unwrap_or_else(|e| panic!("{e}\n{y}"))
    }

    #[test]
    fn printed_plan_loads_to_the_plan_that_runs() {
        let cases: &[&[&str]] = &[
            &["-n", "1000", "-c", "50", "http://127.0.0.1:1/"],
            &[
                "-z",
                "10s",
                "-c",
                "5",
                "--grace",
                "2s",
                "http://127.0.0.1:1/",
            ],
            &[
                "-q",
                "200",
                "-n",
                "500",
                "--max-vus",
                "80",
                "http://127.0.0.1:1/",
            ],
            &["-q", "2.5", "-z", "10s", "--http2", "http://127.0.0.1:1/"],
            &[
                "-n",
                "1000",
                "--http2",
                "-c",
                "5",
                "--streams",
                "10",
                "http://127.0.0.1:1/",
            ],
            &["--ramp", "0:10s,200:1m,0:10s", "--insecure", "https://h/x"],
            &[
                "-q",
                "50",
                "--ramp",
                "100:5s,0.5:1s",
                "--no-keepalive",
                "http://h/",
            ],
            &[
                "-m",
                "put",
                "-H",
                "X-Key: a:b # c",
                "-H",
                "Accept: */*",
                "-d",
                "[{\"q\": \"{{uuid}}\"}]\n  second: line\n",
                "--timeout",
                "1500ms",
                "--threshold",
                "p(95)<500",
                "--threshold",
                "http_req_duration{status:200}:p(99)<900",
                "--threshold",
                "rate<0.01",
                "http://127.0.0.1:1/a?b=c&d=\"e\"",
            ],
        ];
        for case in cases {
            let built = compile(case).unwrap_or_else(|e| panic!("{case:?}: {e}"));
            let printed = yaml(case);
            let loaded = load(&printed);
            // the same plan, field for field (templates, executor, request, thresholds)
            assert_eq!(
                format!("{:?}", built.scenarios),
                format!("{:?}", loaded.scenarios),
                "{case:?}\n{printed}"
            );
            assert_eq!(format!("{:?}", built.http), format!("{:?}", loaded.http));
            assert_eq!(
                format!("{:?}", built.thresholds),
                format!("{:?}", loaded.thresholds)
            );
            assert_eq!(built.name, loaded.name);
        }
    }

    #[test]
    fn streams_share_c_connections_among_c_times_m_vus() {
        let p = load(&yaml(&[
            "-z",
            "1s",
            "--http2",
            "-c",
            "50",
            "--streams",
            "10",
            "http://127.0.0.1:1/",
        ]));
        assert!(matches!(
            p.scenarios[0].executor,
            throng_plan::Executor::ConstantVus { vus: 500, .. }
        ));
        assert_eq!(
            p.http.http2_sharing,
            Some(throng_plan::Http2Sharing {
                connections: 50,
                streams: 10
            })
        );
        assert_eq!(p.http.http2, throng_plan::Http2Mode::PriorKnowledge);
        // without --streams each VU has its own connection
        let p = load(&yaml(&["-z", "1s", "--http2", "-c", "50", "http://h/"]));
        assert_eq!(p.http.http2_sharing, None);
        assert!(T::try_parse_from(["quick", "--streams", "10", "http://h/"]).is_err());
        let e = plan(&args(&[
            "--http2",
            "--streams",
            "2",
            "--no-keepalive",
            "http://h/",
        ]))
        .err()
        .expect("an error");
        assert!(e.contains("--no-keepalive"), "{e}");
    }

    #[test]
    fn errors_name_the_flag() {
        let e = compile(&["-d", "{{nope}}", "http://127.0.0.1:1/"])
            .expect_err("unknown name")
            .to_string();
        assert!(
            e.starts_with("error: -d: unknown name `nope`: expected one of"),
            "{e}"
        );
        let e = compile(&["-H", "X-A: {{nope}}", "http://127.0.0.1:1/"])
            .expect_err("unknown name")
            .to_string();
        assert!(e.starts_with("error: -H X-A: unknown name `nope`"), "{e}");
        let e = compile(&["--timeout", "5x", "--threshold", "p(95)<x", "http://h/"])
            .expect_err("two errors")
            .to_string();
        assert!(e.contains("error: --timeout: "), "{e}");
        assert!(
            e.contains("error: --threshold p(95)<x: invalid threshold"),
            "{e}"
        );
        assert!(!e.contains(":0:0") && !e.contains("quick.yaml"), "{e}");
    }

    #[test]
    fn a_ramp_with_a_count_a_duration_or_a_preset_is_an_error_not_a_silent_drop() {
        for (extra, names) in [
            (vec!["--preset", "stress"], "--preset would be ignored"),
            (vec!["-n", "100"], "-n would be ignored"),
            (vec!["-z", "5s", "-n", "9"], "-n and -z would be ignored"),
        ] {
            let mut a = vec!["--ramp", "0:1s,10:2s"];
            a.extend(extra);
            a.push("http://127.0.0.1:1/");
            let e = plan(&args(&a)).err().expect("an error");
            assert!(e.starts_with("--ramp sets the whole load shape"), "{e}");
            assert!(e.contains(names), "{e}");
        }
        // -c and -q still combine with a ramp
        assert!(plan(&args(&[
            "--ramp",
            "0:1s,10:2s",
            "-c",
            "5",
            "-q",
            "9",
            "http://h/"
        ]))
        .is_ok());
    }

    #[test]
    fn flags_map_to_k6_executors() {
        use throng_plan::Executor::*;
        let p = load(&yaml(&["-n", "1000", "-c", "50", "http://127.0.0.1:1/"]));
        assert!(matches!(
            p.scenarios[0].executor,
            SharedIterations {
                vus: 50,
                iterations: 1000,
                ..
            }
        ));
        let p = load(&yaml(&["-z", "10s", "-c", "5", "http://127.0.0.1:1/"]));
        assert!(matches!(
            p.scenarios[0].executor,
            ConstantVus { vus: 5, .. }
        ));
        let p = load(&yaml(&["-q", "200", "-z", "10s", "http://127.0.0.1:1/"]));
        assert!(
            matches!(p.scenarios[0].executor, ConstantArrivalRate { rate, .. } if rate == 200.0)
        );
        let p = load(&yaml(&[
            "--ramp",
            "0:10s,200:1m,0:10s",
            "http://127.0.0.1:1/",
        ]));
        assert!(matches!(&p.scenarios[0].executor, RampingVus { stages, .. } if stages.len() == 3));
        let p = load(&yaml(&[
            "-q",
            "50",
            "--ramp",
            "100:5s",
            "http://127.0.0.1:1/",
        ]));
        assert!(matches!(p.scenarios[0].executor, RampingArrivalRate { .. }));
        let p = load(&yaml(&["--preset", "stress", "http://127.0.0.1:1/"]));
        assert!(matches!(
            p.scenarios[0].executor,
            SharedIterations {
                vus: 200,
                iterations: 10_000,
                ..
            }
        ));
    }

    #[test]
    fn body_headers_and_thresholds() {
        let y = yaml(&[
            "-m",
            "post",
            "-H",
            "X-Key: a:b",
            "-d",
            r#"{"user_id":{{random_int(1,10000)}},"content":"msg {{uuid}}"}"#,
            "--threshold",
            "p(95)<500",
            "--threshold",
            "rate<0.01",
            "--threshold",
            "http_req_duration{status:200}:p(99)<900",
            "http://127.0.0.1:1/api",
        ]);
        let p = load(&y);
        let throng_plan::Step::Request(r) = &p.scenarios[0].flow[0] else {
            panic!("request")
        };
        assert_eq!(r.method, "POST");
        assert!(r.headers.iter().any(|(k, _)| k == "X-Key"));
        assert!(r.headers.iter().any(|(k, _)| k == "Content-Type"));
        let keys: Vec<&str> = p.thresholds.items.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "http_req_duration",
                "http_req_duration{status:200}",
                "http_req_failed"
            ]
        );
    }
}
