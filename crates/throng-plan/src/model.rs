//! The validated plan: what the engine and the workloads run.
use crate::data::DataSet;
use crate::template::Template;
use serde_json_path::JsonPath;
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
    /// `--seed`: each VU draws its random values from its own stream derived from it.
    pub seed: Option<u64>,
    /// Values that are secret whatever their names: env values used as keys of
    /// `jwt_hs256` and `hmac_sha256`. Outputs hide them (`throng_metrics::redact::values`).
    pub secrets: Vec<String>,
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
    /// The group path this request is in (empty at top level).
    pub group: String,
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
        path: JsonPath,
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
    Json(JsonPath),
    /// The first capture group (or whole match) of a regex on the body.
    Regex(regex::Regex),
    /// A cookie the response set.
    Cookie(String),
}
