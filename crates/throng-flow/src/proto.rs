//! Steps of other protocols (`ws:`, `grpc:`): rendered here, executed by the protocol's
//! client (throng-ws, throng-grpc: they time and classify, recording nothing), recorded
//! under k6's metric names, then checked and extracted like HTTP responses.
use crate::checks::{evaluate_checks, extract_values, ParsedBody, Reply};
use crate::step::{Failure, Outcome};
use crate::{FlowShared, FlowVu};
use base64::Engine as _;
use std::collections::HashMap;
use throng_grpc::{GrpcClient, GrpcRequest, GrpcResponse};
use throng_metrics::{MetricId, Registry, TagSet, TagSetId, ValueType};
use throng_plan::{ProtoCall, ProtoStep, RenderCtx, Template, WsAction};
use throng_ws::{WsClient, WsRequest, WsResponse};

/// A protocol step with its tags and metric ids resolved at load.
pub(crate) struct ProtoInfo {
    pub step: ProtoStep,
    /// Tags of its samples before the outcome's (`status`, `error`).
    pub base: TagSet,
    /// Tag set of each check's `checks` samples.
    pub check_tags: Vec<TagSetId>,
    pub index: u32,
    /// The step kind's metrics, in [`throng_plan::protocol_metrics`] order.
    pub metrics: Vec<MetricId>,
}

impl ProtoInfo {
    /// Resolves `step`'s tags (`common` plus its group, name and kind's own) and metrics.
    pub fn new(
        step: &ProtoStep,
        common: &[(String, String)],
        reg: &Registry,
        index: u32,
    ) -> ProtoInfo {
        let mut base: Vec<(String, String)> = common.to_vec();
        base.push(("group".into(), step.group.clone()));
        base.push(("name".into(), step.name.clone()));
        match &step.call {
            ProtoCall::Ws(_) => base.push(("url".into(), step.name.clone())),
            ProtoCall::Grpc(g) => {
                let m = &g.method;
                let call = format!("{}/{}", m.parent_service().full_name(), m.name());
                base.push(("method".into(), call));
                let rpc = if m.is_server_streaming() {
                    "server_streaming"
                } else {
                    "unary"
                };
                base.push(("rpc_type".into(), rpc.into()));
            }
        }
        base.extend(step.tags.iter().cloned());
        let check_tags = step
            .checks
            .iter()
            .map(|c| {
                let mut t: Vec<(String, String)> = common.to_vec();
                t.push(("group".into(), step.group.clone()));
                t.push(("check".into(), c.name.clone()));
                t.push(("name".into(), step.name.clone()));
                reg.intern(TagSet::new(t))
            })
            .collect();
        let metrics = throng_plan::protocol_metrics(step.call.kind())
            .iter()
            .filter_map(|(name, kind, time)| {
                let vt = if *time {
                    ValueType::Time
                } else {
                    ValueType::Default
                };
                reg.metric(name)
                    .map(|m| m.0)
                    .or_else(|| reg.define(name, *kind, vt))
            })
            .collect();
        ProtoInfo {
            step: step.clone(),
            base: TagSet::new(base),
            check_tags,
            index,
            metrics,
        }
    }
}

/// What a protocol step returned.
pub(crate) enum ProtoReply {
    Ws(WsResponse),
    Grpc(GrpcResponse),
}

impl Outcome for ProtoReply {
    fn status(&self) -> u16 {
        Reply::status(self)
    }

    fn failure(&self) -> Option<Failure> {
        match self {
            ProtoReply::Ws(r) => r.error.map(|e| Failure {
                code: e.code(),
                name: e.name(),
            }),
            ProtoReply::Grpc(r) => r.error.map(|e| Failure {
                code: e.code(),
                name: e.name(),
            }),
        }
    }
}

impl Reply for ProtoReply {
    fn status(&self) -> u16 {
        match self {
            ProtoReply::Ws(r) => r.status,
            ProtoReply::Grpc(r) => r.status,
        }
    }
    fn errored(&self) -> bool {
        self.failure().is_some()
    }
    fn duration_ms(&self) -> f64 {
        match self {
            ProtoReply::Ws(r) => r.session_ms,
            ProtoReply::Grpc(r) => r.duration_ms,
        }
    }
    fn header(&self, name: &str) -> Option<&str> {
        match self {
            ProtoReply::Ws(r) => r.header(name),
            ProtoReply::Grpc(r) => r.header(name),
        }
    }
}

impl ProtoReply {
    fn body(&self) -> &[u8] {
        match self {
            ProtoReply::Ws(r) => &r.last,
            ProtoReply::Grpc(r) => &r.body,
        }
    }

    /// `status 0` or `status 14, connection refused`, for messages.
    fn describe(&self) -> String {
        match self.failure() {
            Some(f) => format!("status {}, {}", Reply::status(self), f.name),
            None => format!("status {}", Reply::status(self)),
        }
    }

    /// Records the step kind's metrics (`m` in [`throng_plan::protocol_metrics`] order).
    fn record(&self, reg: &Registry, tags: TagSetId, m: &[MetricId]) {
        match (self, m) {
            (ProtoReply::Ws(r), [connecting, session, sessions, sent, received]) => {
                let samples = [
                    (*sessions, 1.0),
                    (*connecting, r.connecting_ms),
                    (*session, r.session_ms),
                    (*sent, r.sent as f64),
                    (*received, r.received as f64),
                ];
                // a session that never opened has no session figures
                let n = if r.status == 101 { 5 } else { 2 };
                reg.add_many(tags, &samples[..n]);
            }
            (ProtoReply::Grpc(r), [duration, reqs, stream_msgs]) => {
                reg.add_many(tags, &[(*reqs, 1.0), (*duration, r.duration_ms)]);
                if r.messages > 1 {
                    reg.add(*stream_msgs, tags, r.messages as f64);
                }
            }
            _ => {}
        }
    }
}

/// A VU's clients of other protocols, made on first use.
#[derive(Default)]
pub(crate) struct ProtoClients {
    ws: Option<WsClient>,
    grpc: Option<GrpcClient>,
    /// (step, status, failure) → tag set: interned once per combination.
    tags: HashMap<(u32, u16, Option<Failure>), TagSetId>,
}

impl ProtoClients {
    /// Drops kept connections (`keepalive: false`).
    pub fn close_all(&mut self) {
        if let Some(g) = self.grpc.as_mut() {
            g.close_all();
        }
    }

    fn tags(&mut self, reg: &Registry, pi: &ProtoInfo, r: &ProtoReply) -> TagSetId {
        let (status, failure) = (Reply::status(r), r.failure());
        *self
            .tags
            .entry((pi.index, status, failure))
            .or_insert_with(|| {
                let mut t = pi.base.with("status", &status.to_string());
                if let Some(f) = failure {
                    t = t
                        .with("error_code", &f.code.to_string())
                        .with("error", f.name);
                }
                reg.intern(t)
            })
    }
}

impl FlowVu {
    /// Renders `t` with this VU's context.
    fn render_with(&mut self, shared: &FlowShared, iter: u64, t: &Template) -> String {
        let rows: Vec<Option<&[String]>> = self
            .rows
            .iter()
            .zip(&shared.plan.data)
            .map(|(r, d)| r.and_then(|i| d.rows.get(i).map(|v| v.as_slice())))
            .collect();
        let mut cx = RenderCtx {
            vu: self.id,
            iter,
            scenario: &shared.label,
            rows: &rows,
            vars: &self.vars,
            rng: &mut self.rng,
            seq: &shared.env.seq,
            row: None,
            now: None,
        };
        t.render_string(&mut cx)
    }

    /// Runs one protocol step: render, execute, record, check, extract.
    pub(crate) async fn proto_step(&mut self, shared: &FlowShared, pi: &ProtoInfo, iter: u64) {
        let step = &pi.step;
        let reply = match &step.call {
            ProtoCall::Ws(w) => {
                let url = self.render_with(shared, iter, &w.url);
                let headers = w
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), self.render_with(shared, iter, v)))
                    .collect();
                let mut actions = Vec::with_capacity(w.actions.len());
                for a in &w.actions {
                    actions.push(match a {
                        WsAction::Send(t) => {
                            throng_ws::WsAction::Text(self.render_with(shared, iter, t))
                        }
                        WsAction::SendBinary(t) => {
                            let b64 = self.render_with(shared, iter, t);
                            let bytes = base64::engine::general_purpose::STANDARD
                                .decode(b64.trim())
                                .unwrap_or_else(|_| b64.into_bytes());
                            throng_ws::WsAction::Binary(bytes)
                        }
                        WsAction::Receive(r) => throng_ws::WsAction::Receive {
                            contains: r
                                .contains
                                .as_ref()
                                .map(|c| self.render_with(shared, iter, c)),
                            matches: r.matches.clone(),
                            timeout: r.timeout,
                        },
                        WsAction::Sleep(d) => throng_ws::WsAction::Sleep(*d),
                    });
                }
                let req = WsRequest {
                    url,
                    headers,
                    actions,
                    timeout: step.timeout,
                };
                let http = &shared.env.http;
                let client = self
                    .protos
                    .ws
                    .get_or_insert_with(|| WsClient::new(http.tls_with_alpn(&[b"http/1.1"])));
                ProtoReply::Ws(client.execute(&req).await)
            }
            ProtoCall::Grpc(g) => {
                let req = GrpcRequest {
                    target: self.render_with(shared, iter, &g.target),
                    method: g.method.clone(),
                    message: self.render_with(shared, iter, &g.message),
                    metadata: g
                        .metadata
                        .iter()
                        .map(|(k, v)| (k.clone(), self.render_with(shared, iter, v)))
                        .collect(),
                    timeout: step.timeout,
                    keep_body: !step.checks.is_empty() || !step.extract.is_empty(),
                };
                let http = &shared.env.http;
                let client = self
                    .protos
                    .grpc
                    .get_or_insert_with(|| GrpcClient::new(http.tls_with_alpn(&[b"h2"])));
                ProtoReply::Grpc(client.execute(&req).await)
            }
        };
        let reg = &shared.env.registry;
        let tags = self.protos.tags(reg, pi, &reply);
        reply.record(reg, tags, &pi.metrics);
        let what = format!("{} {}", step.call.kind(), step.name);
        if let Some(t) = self.tally.as_mut() {
            t.last = Some(format!("{what}: {}", reply.describe()));
            if reply.failure().is_some() {
                t.failures.push(format!("{what}: {}", reply.describe()));
            }
        }
        let mut body = ParsedBody::new(reply.body());
        let tally = &mut self.tally;
        evaluate_checks(&step.checks, &reply, &mut body, |i, ok| {
            reg.add(
                shared.checks_metric,
                pi.check_tags[i],
                if ok { 1.0 } else { 0.0 },
            );
            if let (false, Some(t)) = (ok, tally.as_mut()) {
                t.failures.push(format!(
                    "check `{}` failed on {what} ({})",
                    step.checks[i].name,
                    reply.describe()
                ));
            }
        });
        extract_values(&step.extract, &reply, &mut body, |_| None, &mut self.vars);
    }
}
