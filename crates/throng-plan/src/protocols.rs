//! Steps of protocols other than HTTP (`ws:`, `grpc:`): what the flow renders and hands to
//! a protocol client. They share the name, tags, checks and extracts of [`ProtoStep`].
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
}

impl ProtoCall {
    /// `ws` or `grpc`.
    pub fn kind(&self) -> &'static str {
        match self {
            ProtoCall::Ws(_) => "ws",
            ProtoCall::Grpc(_) => "grpc",
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
    /// The method, from the `.proto` compiled at load.
    pub method: prost_reflect::MethodDescriptor,
    /// The request message as JSON text.
    pub message: Template,
    /// Request metadata.
    pub metadata: Vec<(String, Template)>,
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
        _ => &[],
    }
}
