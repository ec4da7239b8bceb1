//! The validated plan: what the engine and the workloads run.
use crate::data::DataSet;
use crate::json_query::JsonQuery;
use crate::template::Template;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
pub use throng_engine::{Executor, Stage, WhenBusy};
use throng_metrics::ThresholdSet;

/// A whole, validated plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The plan's name (defaults to the file stem).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Prefix for request URLs that start with `/`.
    pub base_url: Option<String>,
    /// HTTP defaults for every request.
    pub http: HttpOptions,
    /// Data sources, by index.
    pub data: Vec<Arc<DataSet>>,
    /// Scenarios, which run concurrently (each from its `startTime`).
    pub scenarios: Vec<Scenario>,
    /// Thresholds.
    pub thresholds: ThresholdSet,
    /// Env values the plan was compiled with (plan `env:` overlaid by `-e`).
    pub env: BTreeMap<String, String>,
    /// A health check that must pass before any load (`preflight:`): a request with a poll.
    pub preflight: Option<Box<Request>>,
    /// Runs once before the load (k6's `setup()`); its extracts are `setup.NAME`.
    pub setup: Option<Flow>,
    /// Runs once after the load, even after Ctrl-C or an abort (k6's `teardown()`).
    pub teardown: Option<Flow>,
    /// Names of the values `setup:` extracts (`setup.NAME`), visible to every flow.
    pub setup_vars: Vec<String>,
    /// Actions at offsets from the start of the run (`timeline:`).
    pub timeline: Vec<Action>,
    /// Metrics the plan defines beyond k6's built-in ones (e.g. the trends of `repeat:` and
    /// `until:` loops), to be defined in the run's registry.
    pub custom_metrics: Vec<CustomMetric>,
    /// Folder the plan's relative paths are resolved from (`exec` runs there).
    pub base_dir: std::path::PathBuf,
    /// `--seed`: each VU draws its random values from its own stream derived from it.
    pub seed: Option<u64>,
    /// Values that are secret whatever their names: env values used as keys of
    /// `jwt_hs256` and `hmac_sha256`. Outputs hide them (`throng_metrics::redact::values`).
    pub secrets: Vec<String>,
    /// The plan's own `profiles:` for `--profile NAME`: the executor each one gives every
    /// scenario.
    pub profiles: Vec<(String, Executor)>,
    /// Monitors of the system under test (`monitors:`, and `--monitor` flags).
    pub monitors: Vec<throng_metrics::monitor::MonitorSpec>,
    /// SLOs judged per window (`slos:`).
    pub slos: Vec<throng_metrics::monitor::Slo>,
    /// Locust's user pool (`locust:`), which the weighted scenarios share.
    pub locust: Option<LocustPool>,
    /// Databases of `sql:` and `redis:` steps (`data_sources:`), by index.
    pub sources: Vec<crate::protocols::Source>,
    /// The stats shown of each trend (`summary_trend_stats:`; empty: k6's defaults).
    pub trend_stats: Vec<String>,
}

/// Locust's user pool: `users` spawned at `spawn_rate` a second over the weighted
/// scenarios, for `run_time`.
#[derive(Debug, Clone, PartialEq)]
pub struct LocustPool {
    /// Users in the pool.
    pub users: u64,
    /// Users started a second.
    pub spawn_rate: f64,
    /// How long the pool runs.
    pub run_time: Duration,
    /// The weighted scenarios and their weights, in plan order.
    pub weights: Vec<(String, f64)>,
}

impl Plan {
    /// Replaces `base_url` (`--base-url`); monitor URLs that were joined to the old one
    /// move with it.
    pub fn set_base_url(&mut self, new: &str) {
        let new = new.trim_end_matches('/').to_string();
        if let Some(old) = self.base_url.replace(new.clone()) {
            for m in &mut self.monitors {
                if let throng_metrics::monitor::MonitorKind::Prometheus { url, .. }
                | throng_metrics::monitor::MonitorKind::Http { url, .. } = &mut m.kind
                {
                    if let Some(rest) = url.strip_prefix(old.as_str()) {
                        *url = format!("{new}{rest}");
                    }
                }
            }
        }
    }
}

/// Statuses that count as expected (not failed) responses: k6's `setResponseCallback`
/// with `http.expectedStatuses(...)`. Status 0 (no response) is never expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet(pub Vec<(u16, u16)>);

impl StatusSet {
    /// k6's default: 200 to 399.
    pub fn k6_default() -> StatusSet {
        StatusSet(vec![(200, 399)])
    }

    /// Whether `status` is expected.
    pub fn contains(&self, status: u16) -> bool {
        status != 0 && self.0.iter().any(|(a, b)| (*a..=*b).contains(&status))
    }
}

impl Default for StatusSet {
    fn default() -> Self {
        StatusSet::k6_default()
    }
}

/// A value a step adds to a custom metric (`add: { errors: "{{ status != 200 }}" }`).
#[derive(Debug, Clone)]
pub struct MetricAdd {
    /// The metric's name (declared under `metrics:`).
    pub metric: String,
    /// Its kind.
    pub kind: throng_metrics::MetricKind,
    /// The value: a number (`true`/`false` count as 1/0; empty adds nothing).
    pub value: Template,
}

/// A metric a plan defines.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomMetric {
    /// Its name.
    pub name: String,
    /// Counter, gauge, rate or trend.
    pub kind: throng_metrics::MetricKind,
    /// Whether values are milliseconds (shown as times).
    pub time: bool,
}

/// A flow run once, outside the load (setup, teardown).
#[derive(Debug, Clone, Default)]
pub struct Flow {
    /// The steps.
    pub steps: Vec<Step>,
    /// The flow's variables (`setup.*` first).
    pub vars: Vec<String>,
    /// Data sources (indexes) the flow reads.
    pub data_used: Vec<usize>,
}

/// One action on the run's timeline.
#[derive(Debug, Clone)]
pub struct Action {
    /// Its name (the `action` tag).
    pub name: String,
    /// When it starts.
    pub at: ActionAt,
    /// What it does.
    pub kind: ActionKind,
    /// Longest it may take (exec and http).
    pub timeout: Duration,
    /// Stop the load when it fails.
    pub abort_on_fail: bool,
}

/// When an action starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ActionAt {
    /// At this offset from the start of the load.
    At(Duration),
    /// This long after another action (by index) ended.
    After {
        /// The action it follows.
        action: usize,
        /// Extra delay after that action's end.
        delay: Duration,
    },
}

/// What an action does.
#[derive(Debug, Clone)]
pub enum ActionKind {
    /// Sends one request (with the plan's defaults).
    Http(Box<Request>),
    /// Runs a command.
    Exec {
        /// Program and arguments (templated with `env`).
        argv: Vec<Template>,
        /// Run `argv[0]` through `sh -c`.
        shell: bool,
        /// Extra environment for the command.
        env: Vec<(String, Template)>,
    },
    /// Polls a request until its `until:` holds (the request's [`Poll`]).
    WaitFor(Box<Request>),
}

impl ActionKind {
    /// `http`, `exec` or `wait_for`.
    pub fn name(&self) -> &'static str {
        match self {
            ActionKind::Http(_) => "http",
            ActionKind::Exec { .. } => "exec",
            ActionKind::WaitFor(_) => "wait_for",
        }
    }
}

/// Sending a request again until a condition holds (`until:` on a request, `wait_for`).
#[derive(Debug, Clone)]
pub struct Poll {
    /// The condition: every check passes on a response.
    pub until: Vec<Check>,
    /// Pause between tries.
    pub every: Duration,
    /// At most this many tries.
    pub max_tries: Option<u64>,
    /// At most this long from the first try.
    pub within: Option<Duration>,
    /// A trend metric that records the time from the first try to the one that passed.
    pub trend: Option<String>,
    /// The `check` tag of the poll's own pass/fail sample (`until status is 200`).
    pub label: String,
}

/// How HTTP/2 is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Http2Mode {
    /// Offer h2 and http/1.1 over TLS (ALPN); HTTP/1.1 on plain connections.
    #[default]
    Auto,
    /// HTTP/1.1 only.
    Off,
    /// HTTP/2 without negotiation (h2c on plain connections).
    PriorKnowledge,
}

/// HTTP options from `defaults:`.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Per-request timeout (k6's default is 60 s).
    pub timeout: Duration,
    /// HTTP/2 mode.
    pub http2: Http2Mode,
    /// Accept any TLS certificate.
    pub insecure_skip_tls_verify: bool,
    /// Extra CA certificates (PEM).
    pub ca_file: Option<std::path::PathBuf>,
    /// Reuse connections (keep-alive).
    pub keepalive: bool,
    /// Redirects followed per request.
    pub max_redirects: u32,
    /// Headers sent with every request.
    pub headers: Vec<(String, Template)>,
    /// Tags added to every sample.
    pub tags: Vec<(String, String)>,
    /// Name resolution (k6's `dns` option).
    pub dns: crate::DnsSettings,
    /// VUs share HTTP/2 connections (`http2_connections`, `http2_streams`); `None`: each VU
    /// has its own, as in k6.
    pub http2_sharing: Option<Http2Sharing>,
}

/// How VUs share HTTP/2 connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Http2Sharing {
    /// Most connections per origin.
    pub connections: u32,
    /// Most streams in flight on each connection.
    pub streams: u32,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(60),
            http2: Http2Mode::Auto,
            insecure_skip_tls_verify: false,
            ca_file: None,
            keepalive: true,
            max_redirects: 10,
            headers: Vec::new(),
            tags: Vec::new(),
            dns: crate::DnsSettings::default(),
            http2_sharing: None,
        }
    }
}

/// One scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name (the `scenario` tag).
    pub name: String,
    /// Executor and options.
    pub executor: Executor,
    /// Offset from the start of the run.
    pub start_time: Duration,
    /// Time in-flight iterations get after the scenario's end.
    pub graceful_stop: Duration,
    /// Tags added to every sample of the scenario.
    pub tags: Vec<(String, String)>,
    /// The steps of one iteration.
    pub flow: Vec<Step>,
    /// Names of variables extracted in the flow (index = variable id).
    pub vars: Vec<String>,
    /// Data sources (indexes) the flow reads; a row of each is picked per iteration.
    pub data_used: Vec<usize>,
    /// Steps run once per VU before its first iteration (`vu_init:`); their extracts are
    /// `vu.NAME` and last for the VU's life.
    pub vu_init: Vec<Step>,
    /// How many of [`Scenario::vars`] (the first ones: `setup.*`, then `vu.*`) keep their
    /// values across iterations.
    pub persistent_vars: usize,
    /// What a VU waits between iterations (`wait:`, `wait_constant_throughput:`).
    pub pacing: throng_engine::Pacing,
}

/// A step of a flow.
#[derive(Debug, Clone)]
pub enum Step {
    /// An HTTP request.
    Request(Box<Request>),
    /// A pause, uniformly random within `min..=max`.
    Sleep {
        /// Shortest pause.
        min: Duration,
        /// Longest pause.
        max: Duration,
    },
    /// A named group of steps (the `group` tag, `group_duration`).
    Group {
        /// The group's name.
        name: String,
        /// k6's group path (`::outer::inner`).
        path: String,
        /// The steps inside.
        steps: Vec<Step>,
    },
    /// A step that runs only when a template condition holds (`if:`).
    If {
        /// The condition as written (for errors and docs).
        source: String,
        /// Renders to a truthy value when the step should run.
        cond: Template,
        /// The step.
        step: Box<Step>,
    },
    /// One of several sub-flows, picked at random by weight (`choose:`).
    Choose {
        /// The branches.
        branches: Vec<Branch>,
    },
    /// A loop (`repeat:`).
    Repeat(Box<Repeat>),
    /// A step of another protocol (`ws:`, `grpc:`, `sql:`, `redis:`).
    Proto(Box<crate::protocols::ProtoStep>),
    /// `sql:` steps run in one transaction on one connection of a PostgreSQL source.
    Transaction {
        /// The source (index into [`Plan::sources`]).
        source: usize,
        /// The steps inside.
        steps: Vec<Step>,
    },
}

/// A weighted branch of a `choose:` step.
#[derive(Debug, Clone)]
pub struct Branch {
    /// Relative weight (> 0).
    pub weight: f64,
    /// Its steps.
    pub steps: Vec<Step>,
}

/// A `repeat:` loop: runs its steps until a bound or a condition.
#[derive(Debug, Clone)]
pub struct Repeat {
    /// Exactly this many times (unless `until` holds first).
    pub times: Option<u64>,
    /// Stop once this renders truthy (checked after each pass).
    pub until: Option<Template>,
    /// At most this many passes.
    pub max: Option<u64>,
    /// At most this long.
    pub within: Option<Duration>,
    /// Pause between passes.
    pub every: Duration,
    /// A trend metric recording the loop's elapsed time when `until` held.
    pub trend: Option<String>,
    /// The `check` tag of the loop's `until` verdict (`until {{ found }}`).
    pub label: String,
    /// The steps of one pass.
    pub steps: Vec<Step>,
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// Text (also JSON, compiled to text).
    Text(Template),
    /// URL-encoded form fields.
    Form(Vec<(String, Template)>),
}

/// An HTTP request step.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method (`GET`, ...).
    pub method: String,
    /// URL (base_url is prepended when it starts with `/`).
    pub url: Template,
    /// The `name` tag (defaults to the URL as written, so stats don't explode).
    pub name: String,
    /// Query parameters.
    pub query: Vec<(String, Template)>,
    /// Headers (after the plan defaults).
    pub headers: Vec<(String, Template)>,
    /// Body.
    pub body: Option<Body>,
    /// Content-Type implied by `json:` or `form:`.
    pub content_type: Option<&'static str>,
    /// Timeout override.
    pub timeout: Option<Duration>,
    /// Extra tags.
    pub tags: Vec<(String, String)>,
    /// Checks on the response.
    pub checks: Vec<Check>,
    /// Values to extract from the response.
    pub extract: Vec<Extract>,
    /// Whether the body must be kept (a check or extract reads it).
    pub needs_body: bool,
    /// Whether a check or extract reads the response's headers (`header` checks and
    /// extracts): otherwise only `Set-Cookie` and `Location` are kept.
    pub needs_headers: bool,
    /// The group path this request is in (empty at top level).
    pub group: String,
    /// Send it again until a condition holds (`until:`), if set.
    pub poll: Option<Poll>,
    /// Which statuses are not failures (the request's `expected_statuses`, else the
    /// plan's, else k6's 200–399).
    pub expected: StatusSet,
    /// Values added to custom metrics after the response.
    pub add: Vec<MetricAdd>,
}

/// A comparison for `duration` checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A check on a response.
#[derive(Debug, Clone)]
pub struct Check {
    /// The `check` tag, e.g. `status is 200`.
    pub name: String,
    /// What is checked.
    pub kind: CheckKind,
}

/// What a check tests.
#[derive(Debug, Clone)]
pub enum CheckKind {
    /// Status is one of these.
    Status(Vec<u16>),
    /// `http_req_duration` compared with a bound in ms.
    Duration(CmpOp, f64),
    /// Body contains this text.
    BodyContains(String),
    /// Body matches this regex.
    BodyMatches(regex::Regex),
    /// A JSON path's first match equals a value (`"*"`: the path matches anything).
    Json {
        /// The path.
        path: JsonQuery,
        /// The expected value.
        expected: serde_json::Value,
    },
    /// A header contains a value (`*` = is present).
    Header {
        /// Header name.
        name: String,
        /// Expected substring, or `*`.
        expected: String,
    },
    /// The rows a `sql:` step returned (or affected) compare with a number (`None`:
    /// equal).
    Rows(Option<CmpOp>, u64),
}

/// A value to extract into a variable.
#[derive(Debug, Clone)]
pub struct Extract {
    /// Variable index in [`Scenario::vars`].
    pub var: usize,
    /// Where from.
    pub from: ExtractFrom,
}

/// Where an extracted value comes from.
#[derive(Debug, Clone)]
pub enum ExtractFrom {
    /// A response header.
    Header(String),
    /// The first match of a JSON path in the body (strings unquoted).
    Json(JsonQuery),
    /// The first capture group (or whole match) of a regex on the body.
    Regex(regex::Regex),
    /// A cookie the response set.
    Cookie(String),
    /// A column of the first row a `sql:` step returned.
    Column(String),
}
