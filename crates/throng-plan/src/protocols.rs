//! Steps of protocols other than HTTP (`ws:`, `grpc:`, `sql:`, `redis:`) and the
//! `data_sources:` they use: what the flow renders and hands to a protocol client. They
//! share the name, tags, checks and extracts of [`ProtoStep`].
use crate::model::{Check, Extract};
use crate::template::Template;
use std::time::Duration;

/// A step of a protocol other than HTTP, with what every step kind has.
#[derive(Debug, Clone)]
pub struct ProtoStep {
    /// The `name` tag (the URL as written for `ws:`, `package.Service/Method` for `grpc:`).
    pub name: String,
    /// The group path this step is in (empty at top level).
    pub group: String,
    /// Extra tags.
    pub tags: Vec<(String, String)>,
    /// Checks on the outcome (`status` is 101 for a WebSocket session, the gRPC code for
    /// a call; the body is the last message received).
    pub checks: Vec<Check>,
    /// Values to extract from the outcome.
    pub extract: Vec<Extract>,
    /// Longest the step may take (`timeout:`, else the plan's request timeout).
    pub timeout: Duration,
    /// What the step does.
    pub call: ProtoCall,
}

/// What a protocol step does.
#[derive(Debug, Clone)]
pub enum ProtoCall {
    /// A WebSocket session.
    Ws(WsStep),
    /// A gRPC call.
    Grpc(Box<GrpcStep>),
    /// A PostgreSQL statement.
    Sql(SqlStep),
    /// A Redis command or pipeline.
    Redis(RedisStep),
}

impl ProtoCall {
    /// `ws` or `grpc`.
    pub fn kind(&self) -> &'static str {
        match self {
            ProtoCall::Ws(_) => "ws",
            ProtoCall::Grpc(_) => "grpc",
            ProtoCall::Sql(_) => "sql",
            ProtoCall::Redis(_) => "redis",
        }
    }

    /// Adds the data sources its templates read to `out`.
    pub fn data_sources(&self, out: &mut Vec<usize>) {
        let mut add = |t: &Template| out.extend(t.data_sources());
        match self {
            ProtoCall::Ws(w) => {
                add(&w.url);
                w.headers.iter().for_each(|(_, t)| add(t));
                for a in &w.actions {
                    match a {
                        WsAction::Send(t) | WsAction::SendBinary(t) => add(t),
                        WsAction::Receive(r) => r.contains.iter().for_each(&mut add),
                        WsAction::Sleep(_) => {}
                    }
                }
            }
            ProtoCall::Grpc(g) => {
                add(&g.target);
                add(&g.message);
                g.metadata.iter().for_each(|(_, t)| add(t));
            }
            ProtoCall::Sql(q) => q.params.iter().for_each(add),
            ProtoCall::Redis(r) => r.commands.iter().flatten().for_each(add),
        }
    }
}

/// A `ws:` step: connect, run the session's actions, close.
#[derive(Debug, Clone)]
pub struct WsStep {
    /// `ws://` or `wss://` URL.
    pub url: Template,
    /// Handshake headers.
    pub headers: Vec<(String, Template)>,
    /// The session, in order.
    pub actions: Vec<WsAction>,
}

/// One action of a WebSocket session.
#[derive(Debug, Clone)]
pub enum WsAction {
    /// Send a text message.
    Send(Template),
    /// Send a binary message (the template renders base64).
    SendBinary(Template),
    /// Wait for a message.
    Receive(WsReceive),
    /// Pause.
    Sleep(Duration),
}

/// Waiting for a message: the first that matches ends the wait.
#[derive(Debug, Clone)]
pub struct WsReceive {
    /// Text it must contain.
    pub contains: Option<Template>,
    /// A regex it must match.
    pub matches: Option<regex::Regex>,
    /// Longest wait.
    pub timeout: Duration,
}

/// A `grpc:` step: one unary or server-streaming call.
#[derive(Debug, Clone)]
pub struct GrpcStep {
    /// `host:port` with an optional `http://` (plaintext) or `https://` (TLS) in front.
    pub target: Template,
    /// The method: from the `.proto` compiled at load, or found by server reflection when
    /// the run starts.
    pub method: GrpcMethod,
    /// The request message as JSON text.
    pub message: Template,
    /// Request metadata.
    pub metadata: Vec<(String, Template)>,
}

/// Where a `grpc:` step's method comes from.
#[derive(Debug, Clone)]
pub enum GrpcMethod {
    /// Declared in the step's `.proto`, compiled at load.
    Known(prost_reflect::MethodDescriptor),
    /// No `proto:`: asked of the server by reflection when the run starts.
    Reflect {
        /// The target, known at load (literal text and env values).
        target: String,
        /// `package.Service`.
        service: String,
        /// The method's name.
        method: String,
        /// Where the step's `call:` is (`plan.yaml:12:7`), for errors.
        at: String,
    },
}

impl GrpcMethod {
    /// `package.Service/Method`.
    pub fn call(&self) -> String {
        match self {
            GrpcMethod::Known(m) => format!("{}/{}", m.parent_service().full_name(), m.name()),
            GrpcMethod::Reflect {
                service, method, ..
            } => format!("{service}/{method}"),
        }
    }

    /// The method once known.
    pub fn descriptor(&self) -> Option<&prost_reflect::MethodDescriptor> {
        match self {
            GrpcMethod::Known(m) => Some(m),
            GrpcMethod::Reflect { .. } => None,
        }
    }
}

/// A `sql:` step.
#[derive(Debug, Clone)]
pub struct SqlStep {
    /// The PostgreSQL source (index into `Plan::sources`).
    pub source: usize,
    /// The statement.
    pub query: String,
    /// Its parameters.
    pub params: Vec<Template>,
}

/// A `redis:` step: one command, or several sent as a pipeline.
#[derive(Debug, Clone)]
pub struct RedisStep {
    /// The Redis source (index into `Plan::sources`).
    pub source: usize,
    /// The commands: name, then arguments.
    pub commands: Vec<Vec<Template>>,
}

/// A database of `data_sources:`.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: SourceKind,
}

/// A PostgreSQL pool or a Redis server.
#[derive(Debug, Clone)]
pub enum SourceKind {
    /// A PostgreSQL pool shared by every VU of the run.
    Postgres {
        /// The connection URL (env templates rendered at load; a secret).
        url: String,
        /// Most connections.
        pool: usize,
        /// Longest wait for a free connection.
        acquire_timeout: Duration,
        /// The server cancels statements running longer.
        statement_timeout: Option<Duration>,
        /// Longest a new connection may take.
        connect_timeout: Duration,
        /// The CA certificates `verify-ca`/`verify-full` trust (`ca_file:`, resolved
        /// against the plan's folder), beside the URL's `sslrootcert=`.
        ca_file: Option<std::path::PathBuf>,
    },
    /// A Redis server, one multiplexed connection shared by every VU of the run.
    Redis {
        /// The URL (env templates rendered at load; a secret).
        url: String,
    },
}

/// The metrics a step kind records (k6's names), defined in a plan that uses it.
pub fn protocol_metrics(kind: &str) -> &'static [(&'static str, throng_metrics::MetricKind, bool)] {
    use throng_metrics::MetricKind::{Counter, Trend};
    match kind {
        "ws" => &[
            ("ws_connecting", Trend, true),
            ("ws_session_duration", Trend, true),
            ("ws_sessions", Counter, false),
            ("ws_msgs_sent", Counter, false),
            ("ws_msgs_received", Counter, false),
        ],
        "grpc" => &[
            ("grpc_req_duration", Trend, true),
            ("grpc_reqs", Counter, false),
            ("grpc_streams_msgs_received", Counter, false),
        ],
        "sql" => &[
            ("sql_query_duration", Trend, true),
            ("sql_pool_wait", Trend, true),
            ("sql_queries", Counter, false),
            ("sql_errors", Counter, false),
        ],
        "redis" => &[
            ("redis_command_duration", Trend, true),
            ("redis_commands", Counter, false),
            ("redis_errors", Counter, false),
        ],
        _ => &[],
    }
}
