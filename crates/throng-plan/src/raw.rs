//! The plan as written: serde shapes whose errors land on the offending field.
//! [`crate::compile_raw`] turns these into the validated [`crate::Plan`].
//!
//! The shapes are public so that a plan can be built in code (as `throng quick` does) and
//! printed: they serialise back to the YAML they are read from, so `--print-plan` prints
//! the very value that is compiled. Values built in code are tagged with where they came
//! from by [`crate::Origins`].
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// A value with the place it was written (a YAML line and column, or a [`crate::Origins`]
/// tag for values built in code).
pub type S<T> = Spanned<T>;
/// A free-form YAML value (JSON bodies, `http2`, threshold items, check values).
pub type Json = serde_json::Value;

/// A number option of an executor: a YAML number, or a string resolved when the plan loads —
/// a number in quotes or a template such as `"{{env.TARGET_RPS}}"` or
/// `"{{env.VUS | default('10')}}"` (see `compile/options.rs`).
#[derive(Debug, Clone, PartialEq)]
pub enum RawNum {
    /// A number as written.
    Number(f64),
    /// Text: a number or an env template, resolved at load.
    Text(String),
}

impl From<u64> for RawNum {
    fn from(v: u64) -> Self {
        RawNum::Number(v as f64)
    }
}

impl From<f64> for RawNum {
    fn from(v: f64) -> Self {
        RawNum::Number(v)
    }
}

impl Serialize for RawNum {
    fn serialize<Ser: serde::Serializer>(&self, s: Ser) -> Result<Ser::Ok, Ser::Error> {
        match self {
            RawNum::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n < 9.0e15 => {
                s.serialize_u64(*n as u64)
            }
            RawNum::Number(n) => s.serialize_f64(*n),
            RawNum::Text(t) => s.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for RawNum {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RawNum;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a template string such as \"{{env.VUS}}\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawNum, E> {
                Ok(RawNum::Number(v as f64))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawNum, E> {
                Ok(RawNum::Number(v as f64))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RawNum, E> {
                Ok(RawNum::Number(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawNum, E> {
                Ok(RawNum::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A whole plan file.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    /// `name:` (defaults to the file name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `description:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `base_url:` that request paths are joined to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<S<String>>,
    /// `env:` values (overridden by `-e`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// `defaults:` for every request.
    #[serde(default)]
    pub defaults: RawDefaults,
    /// `data:` sources by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, S<RawData>>,
    /// `scenarios:` by name.
    #[serde(default)]
    pub scenarios: BTreeMap<String, S<RawScenario>>,
    /// `thresholds:`: metric key → expressions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub thresholds: BTreeMap<String, S<Vec<S<Json>>>>,
    /// `metrics:` custom metrics by name: `counter`, `gauge`, `rate`, `trend` (or
    /// `{type: trend, time: true}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, S<Json>>,
    /// `expected_statuses:` the statuses that are not failures (`[200..299, 429]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_statuses: Option<S<Vec<S<Json>>>>,
    /// `preflight:` a request that must pass before any load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preflight: Option<S<RawStep>>,
    /// `setup:` steps run once before the load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup: Option<S<Vec<S<RawStep>>>>,
    /// `teardown:` steps run once after the load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teardown: Option<S<Vec<S<RawStep>>>>,
    /// `vu_init:` steps every VU runs once (unless its scenario has its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vu_init: Option<S<Vec<S<RawStep>>>>,
    /// `timeline:` actions during the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<S<Vec<S<RawAction>>>>,
    /// `locust:` the user pool that scenarios with `weight:` share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locust: Option<S<RawLocust>>,
    /// `summary_trend_stats:` the stats the summary and k6's JSON summaries show of each
    /// trend (k6's `summaryTrendStats`: `avg`, `min`, `med`, `max`, `count`, `p(N)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary_trend_stats: Option<S<Vec<S<String>>>>,
    /// `profiles:` named load shapes for `--profile`: executor options without a flow.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: BTreeMap<String, S<RawScenario>>,
    /// `monitors:` samplers of the system under test, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub monitors: BTreeMap<String, S<RawMonitor>>,
    /// `slos:` objectives judged per window, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub slos: BTreeMap<String, S<RawSlo>>,
    /// `data_sources:` database connections by name (`postgres:` pools, `redis:` servers).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data_sources: BTreeMap<String, S<RawDataSource>>,
}

/// A database a flow's `sql:` or `redis:` steps use.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDataSource {
    /// `postgres://user:password@host:port/database` (env templates allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres: Option<S<String>>,
    /// `redis://[:password@]host:port[/db]` (env templates allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<S<String>>,
    /// Most connections of a PostgreSQL pool (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<S<u64>>,
    /// Longest wait for a free connection (default 5s); then the query fails as
    /// `pool_timeout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquire_timeout: Option<S<String>>,
    /// The server cancels statements running longer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_timeout: Option<S<String>>,
    /// Longest a new connection may take (default 10s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<S<String>>,
    /// CA certificates (PEM, relative to the plan) a `sslmode=verify-ca`/`verify-full`
    /// connection trusts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<S<String>>,
}

/// `sql:` one statement.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSql {
    /// The data source (optional when the plan has one PostgreSQL source).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db: Option<S<String>>,
    /// The statement, with `$1`, `$2`... for parameters.
    pub query: S<String>,
    /// The parameters (templates), converted to the statement's types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<S<Json>>,
}

/// A Redis command: its name, then its arguments (text templates, numbers, booleans).
pub type RawCommand = Vec<S<Json>>;

/// `redis:` one command or a pipeline.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedis {
    /// The data source (optional when the plan has one Redis source).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<S<String>>,
    /// `[SET, "user:{{vu}}", "{{uuid}}"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmd: Option<S<RawCommand>>,
    /// Several commands sent at once: `[[INCR, a], [GET, a]]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<S<Vec<S<RawCommand>>>>,
}

/// `locust:` Locust's user pool: `users` split over the scenarios with `weight:`, started at
/// `spawn_rate` users a second, running for `run_time`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLocust {
    /// `users:` how many users in all (Locust's `-u`).
    pub users: S<RawNum>,
    /// `spawn_rate:` users started a second (Locust's `-r`).
    pub spawn_rate: S<RawNum>,
    /// `run_time:` how long the test runs (Locust's `-t`).
    pub run_time: S<String>,
}

/// One monitor: exactly one of `prometheus`, `promql`, `process`, `postgres`, `redis`,
/// `log`, `http`, and `every`.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawMonitor {
    /// `every:` sampling interval (default 1s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every: Option<S<String>>,
    /// `prometheus: {url, select}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<S<RawPromMonitor>>,
    /// `process: {pid | name | cgroup}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<S<RawProcessMonitor>>,
    /// `log: {file, patterns}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<S<RawLogMonitor>>,
    /// `http: {get, save_as}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<S<RawArtefactMonitor>>,
    /// `postgres: {url, top, reset_statements}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres: Option<S<RawPostgresMonitor>>,
    /// `redis: {url, keys}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<S<RawRedisMonitor>>,
    /// `promql: {url, queries}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promql: Option<S<RawPromqlMonitor>>,
}

/// `postgres:` a PostgreSQL server's statistics views.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPostgresMonitor {
    /// `url:` `postgres://user:password@host:port/db` (or `"{{ env.NAME }}"`).
    pub url: S<String>,
    /// `top:` how many top queries by mean time to report (default 5; 0: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<S<u32>>,
    /// `reset_statements:` reset `pg_stat_statements` at the first sample (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_statements: Option<S<bool>>,
}

/// `redis:` a Redis server's `INFO` and custom commands.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedisMonitor {
    /// `url:` `redis://[:password@]host:port[/db]` (or `"{{ env.NAME }}"`).
    pub url: S<String>,
    /// `keys:` series name → command with a numeric answer (`LLEN mutt:queue`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, S<String>>,
}

/// `promql:` instant queries against a Prometheus server.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPromqlMonitor {
    /// `url:` the server (`http://prometheus:9090`).
    pub url: S<String>,
    /// `queries:` series name → PromQL.
    pub queries: BTreeMap<String, S<String>>,
}

/// `prometheus:` a text exposition endpoint.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPromMonitor {
    /// `url:` (a path is joined to `base_url`).
    pub url: S<String>,
    /// `select:` metric names (or `name{label="v"}`) to keep (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub select: Vec<S<String>>,
}

/// `process:` exactly one of `pid`, `name`, `cgroup`.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawProcessMonitor {
    /// `pid:` (a number, or a template like `"{{ env.PID }}"` after rendering).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<S<Json>>,
    /// `name:` process name or a part of its command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<S<String>>,
    /// `cgroup:` a cgroup v2 folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<S<String>>,
}

/// `log:` a file and named patterns.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogMonitor {
    /// `file:` (relative to the plan).
    pub file: S<String>,
    /// `patterns:` name → regular expression.
    pub patterns: BTreeMap<String, S<String>>,
}

/// `http:` an artefact fetched and saved.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArtefactMonitor {
    /// `get:` URL (a path is joined to `base_url`).
    pub get: S<String>,
    /// `save_as:` file name; `{{elapsed}}` becomes the elapsed time.
    pub save_as: S<String>,
}

/// One SLO.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    /// `objective:` (`rate(http_req_failed) < 0.001`).
    pub objective: S<String>,
    /// `window:` (default 1m).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<S<String>>,
    /// `target:` `95%` or `0.95` (default 95%).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<S<Json>>,
}

/// One action on the timeline: when, and exactly one of `http`, `exec`, `wait_for`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    /// `at:` offset from the start of the load (after `after:`, a delay).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<S<String>>,
    /// `after:` the name of an earlier action this one follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<S<String>>,
    /// `name:` (the `action` tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<S<String>>,
    /// `http:` one request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<S<RawStep>>,
    /// `exec:` a command: argv list, or a string with `shell: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<S<Json>>,
    /// `shell: true` runs `exec` through `sh -c`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<S<bool>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// `env:` for the command.
    pub env: BTreeMap<String, S<String>>,
    /// `timeout:` for `http` and `exec`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<S<String>>,
    /// `wait_for:` a request polled `until:` a condition holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_for: Option<S<RawStep>>,
    /// `abort_on_fail: true` stops the load when the action fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort_on_fail: Option<S<bool>>,
}

/// A weighted branch of a `choose:` step.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBranch {
    /// `weight:` relative weight (> 0).
    pub weight: S<f64>,
    /// `flow:` the branch's steps.
    pub flow: S<Vec<S<RawStep>>>,
}

/// A `repeat:` loop.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRepeat {
    /// `times:` passes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<S<u64>>,
    /// `until:` a template condition checked after each pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<S<String>>,
    /// `max:` passes at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<S<u64>>,
    /// `within:` at most this long.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<S<String>>,
    /// `every:` pause between passes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every: Option<S<String>>,
    /// `trend:` a metric for the loop's elapsed time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trend: Option<S<String>>,
    /// `flow:` the steps of one pass.
    pub flow: S<Vec<S<RawStep>>>,
}

impl RawPlan {
    /// The plan as YAML that [`crate::load_str`] reads back to the same plan.
    pub fn to_yaml(&self) -> Result<String, String> {
        serde_saphyr::to_string(self).map_err(|e| format!("cannot write the plan as YAML: {e}"))
    }
}

/// `defaults:`: HTTP options for every request.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    /// Headers sent with every request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, S<String>>,
    /// Per-request timeout (a duration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<S<String>>,
    /// `true`, `false` or `prior-knowledge`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2: Option<S<Json>>,
    /// VUs share HTTP/2 connections: at most this many per origin (h2load's `-c`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2_connections: Option<S<u64>>,
    /// With `http2_connections`: the most streams in flight on each (h2load's `-m`;
    /// default 100, lowered by the server's SETTINGS_MAX_CONCURRENT_STREAMS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2_streams: Option<S<u64>>,
    /// Accept any TLS certificate.
    #[serde(default, skip_serializing_if = "is_false")]
    pub insecure_skip_tls_verify: bool,
    /// A PEM file of extra trusted CAs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<S<String>>,
    /// Keep connections alive (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<bool>,
    /// Most redirects followed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_redirects: Option<u32>,
    /// k6's `dns`: `"ttl=1m,select=first,policy=onlyIPv4"` or a mapping of those keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<S<Json>>,
    /// Tags on every sample.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// A data source: `file:` and how rows are picked.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawData {
    /// The CSV or JSON file (or `generate:`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<S<String>>,
    /// A fixtures spec to generate the rows from at load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generate: Option<S<String>>,
    /// How many rows `generate:` makes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<S<u64>>,
    /// `sequential`, `random` or `unique`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pick: Option<S<String>>,
}

/// One stage of a ramping executor.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    /// How long the stage lasts.
    pub duration: S<String>,
    /// VUs (or the rate) reached at its end.
    pub target: S<RawNum>,
}

/// A scenario: its executor with k6's options, and its flow.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// k6's executor name (`constant-vus`, ...); absent for a weighted (Locust) scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<S<String>>,
    /// `weight:` the scenario's share of the `locust:` users (Locust's class `weight`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<S<f64>>,
    /// `wait:` between iterations: `2s` (Locust's `constant`) or `1s..3s` (`between`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait: Option<S<String>>,
    /// `wait_constant_throughput:` iterations a second per VU (Locust's
    /// `constant_throughput`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_constant_throughput: Option<S<f64>>,
    /// `vus:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vus: Option<S<RawNum>>,
    /// `iterations:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iterations: Option<S<RawNum>>,
    /// `duration:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<S<String>>,
    /// `maxDuration:`.
    #[serde(rename = "maxDuration", skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<S<String>>,
    /// `startVUs:`.
    #[serde(rename = "startVUs", skip_serializing_if = "Option::is_none")]
    pub start_vus: Option<S<RawNum>>,
    /// `gracefulRampDown:`.
    #[serde(rename = "gracefulRampDown", skip_serializing_if = "Option::is_none")]
    pub graceful_ramp_down: Option<S<String>>,
    /// `rate:` (iterations per `timeUnit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<S<RawNum>>,
    /// `startRate:`.
    #[serde(rename = "startRate", skip_serializing_if = "Option::is_none")]
    pub start_rate: Option<S<RawNum>>,
    /// `timeUnit:`.
    #[serde(rename = "timeUnit", skip_serializing_if = "Option::is_none")]
    pub time_unit: Option<S<String>>,
    /// `preAllocatedVUs:`.
    #[serde(rename = "preAllocatedVUs", skip_serializing_if = "Option::is_none")]
    pub pre_allocated_vus: Option<S<RawNum>>,
    /// `maxVUs:`.
    #[serde(rename = "maxVUs", skip_serializing_if = "Option::is_none")]
    pub max_vus: Option<S<RawNum>>,
    /// `when_busy:` (`drop` or `queue`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when_busy: Option<S<String>>,
    /// `stages:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stages: Option<S<Vec<RawStage>>>,
    /// `startTime:`.
    #[serde(rename = "startTime", skip_serializing_if = "Option::is_none")]
    pub start_time: Option<S<String>>,
    /// `gracefulStop:`.
    #[serde(rename = "gracefulStop", skip_serializing_if = "Option::is_none")]
    pub graceful_stop: Option<S<String>>,
    /// Tags on the scenario's samples.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// `vu_init:` steps run once per VU before its first iteration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vu_init: Option<S<Vec<S<RawStep>>>>,
    /// The steps of one iteration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<S<Vec<S<RawStep>>>>,
}

impl RawScenario {
    /// A scenario with this executor and every option unset.
    pub fn new(executor: S<String>) -> Self {
        RawScenario {
            executor: Some(executor),
            weight: None,
            wait: None,
            wait_constant_throughput: None,
            vus: None,
            iterations: None,
            duration: None,
            max_duration: None,
            start_vus: None,
            graceful_ramp_down: None,
            rate: None,
            start_rate: None,
            time_unit: None,
            pre_allocated_vus: None,
            max_vus: None,
            when_busy: None,
            stages: None,
            start_time: None,
            graceful_stop: None,
            tags: BTreeMap::new(),
            vu_init: None,
            flow: None,
        }
    }
}

/// One step: a request (`get: URL`, ... or `method:` + `url:`), `sleep:` or `group:`.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// `get: URL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub get: Option<S<String>>,
    /// `post: URL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post: Option<S<String>>,
    /// `put: URL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub put: Option<S<String>>,
    /// `patch: URL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<S<String>>,
    /// `delete: URL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete: Option<S<String>>,
    /// `head: URL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<S<String>>,
    /// `options: URL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<S<String>>,
    /// `method:` (with `url:`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<S<String>>,
    /// `url:` (with `method:`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<S<String>>,
    /// The `name` tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<S<String>>,
    /// Query parameters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query: BTreeMap<String, S<String>>,
    /// Request headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, S<String>>,
    /// A templated text body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<S<String>>,
    /// A JSON body whose strings are templates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<S<Json>>,
    /// A form body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form: Option<S<BTreeMap<String, S<String>>>>,
    /// Tags on the step's samples.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Per-request timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<S<String>>,
    /// Checks on the response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<S<RawCheck>>,
    /// More checks, each a `check:` mapping (several on one field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<S<RawCheck>>,
    /// `expected_statuses:` for this request (overrides the plan's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_statuses: Option<S<Vec<S<Json>>>>,
    /// `add:` values for custom metrics, by metric name (templates; `status` and
    /// `duration` are this response's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub add: BTreeMap<String, S<String>>,
    /// Values extracted from the response, by variable name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extract: BTreeMap<String, S<RawExtract>>,
    /// `sleep:` a duration or range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sleep: Option<S<String>>,
    /// `group:` name (with `flow:`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<S<String>>,
    /// The group's steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<S<Vec<S<RawStep>>>>,
    /// `if:` a template condition: the step runs only when it holds.
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub if_: Option<S<String>>,
    /// `choose:` weighted branches, one picked per pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choose: Option<S<Vec<S<RawBranch>>>>,
    /// `repeat:` a loop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat: Option<S<RawRepeat>>,
    /// `until:` send again until this check passes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<S<RawCheck>>,
    /// `every:` pause between polls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every: Option<S<String>>,
    /// `max_tries:` polls at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tries: Option<S<u64>>,
    /// `within:` poll at most this long.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<S<String>>,
    /// `trend:` a metric for the time to the poll that passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trend: Option<S<String>>,
    /// `ws:` a WebSocket session at this URL (`ws://` or `wss://`), its actions in
    /// `session:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ws: Option<S<String>>,
    /// `session:` what a `ws:` step does once connected, in order; it closes after them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<S<Vec<S<RawWsAction>>>>,
    /// `grpc:` one gRPC call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc: Option<S<RawGrpc>>,
    /// `sql:` one PostgreSQL statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<S<RawSql>>,
    /// `redis:` one Redis command or pipeline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<S<RawRedis>>,
    /// `transaction: DB` with `flow:`: the `sql:` steps inside run in one transaction on
    /// one connection (committed when every one succeeds, else rolled back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<S<String>>,
}

/// One action of a WebSocket `session:` (exactly one field).
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawWsAction {
    /// `send:` a text message (a template).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send: Option<S<String>>,
    /// `send_binary:` a binary message, written in base64 (a template).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_binary: Option<S<String>>,
    /// `receive:` wait for a message (one that matches, when it says what to match).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receive: Option<S<RawWsReceive>>,
    /// `sleep:` pause with the connection open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sleep: Option<S<String>>,
}

/// `receive:` in a WebSocket session: messages that do not match are counted and skipped.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawWsReceive {
    /// Text the message must contain (a template).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contains: Option<S<String>>,
    /// A regex the message must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<S<String>>,
    /// How long to wait (default 10s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<S<String>>,
}

/// `grpc:` one call, its method found in a `.proto` compiled at load (or by reflection).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGrpc {
    /// Where the server is: `http://host:port` (plaintext), `https://host:port` or
    /// `host:port` (TLS).
    pub target: S<String>,
    /// The `.proto` file declaring the service (relative to the plan); without it the
    /// method is asked of the server by reflection when the run starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proto: Option<S<String>>,
    /// More folders imports are searched in (the proto's own folder always is).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub import_paths: Vec<S<String>>,
    /// `package.Service/Method`.
    pub call: S<String>,
    /// The request message as JSON (strings are templates); `{}` when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<S<Json>>,
    /// Request metadata (templates).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, S<String>>,
}

/// `check:` on a response.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    /// `name:` the check's name (when the mapping holds one check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<S<String>>,
    /// Expected status (a number, list or `2xx`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<S<Json>>,
    /// Longest acceptable duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<S<String>>,
    /// Text the body must contain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<S<String>>,
    /// A regex the body must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_matches: Option<S<String>>,
    /// JSONPath → expected value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub json: BTreeMap<String, S<Json>>,
    /// Header name → expected value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub header: BTreeMap<String, S<String>>,
    /// Rows a `sql:` step returned (or affected): `3`, `">0"`, `"<=10"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<S<Json>>,
}

/// `extract:` one value from a response (one of the fields).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExtract {
    /// A header name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<S<String>>,
    /// A JSONPath.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<S<String>>,
    /// A regex (its first group).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex: Option<S<String>>,
    /// A cookie name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie: Option<S<String>>,
    /// A column of the first row a `sql:` step returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<S<String>>,
}
