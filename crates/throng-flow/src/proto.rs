//! Steps of other protocols (`ws:`, `grpc:`, `sql:`, `redis:`, and `transaction:` blocks):
//! rendered here, executed by the protocol's client (throng-ws, throng-grpc, throng-sql,
//! throng-redis: they time and classify, recording nothing), recorded under k6's metric
//! names, then checked and extracted like HTTP responses.
use crate::checks::{evaluate_checks, extract_values, ParsedBody, Reply};
use crate::rows::Rows;
use crate::sources::SourceClient;
use crate::step::{Failure, Outcome};
use crate::tags::FStep;
use crate::{FlowShared, FlowVu};
use base64::Engine as _;
use std::collections::HashMap;
use throng_grpc::{GrpcClient, GrpcRequest, GrpcResponse};
use throng_metrics::{MetricId, Registry, TagSet, TagSetId, ValueType};
use throng_plan::{ProtoCall, ProtoStep, Template, WsAction};
use throng_redis::RedisResponse;
use throng_sql::{SqlConn, SqlError, SqlResponse};
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
            ProtoCall::Sql(_) => {}
            ProtoCall::Redis(r) => {
                let names: Vec<String> = r
                    .commands
                    .iter()
                    .map(|c| {
                        c.first()
                            .and_then(|t| t.as_static())
                            .unwrap_or("")
                            .to_uppercase()
                    })
                    .collect();
                base.push(("command".into(), names.join("+")));
            }
            ProtoCall::Grpc(g) => {
                base.push(("method".into(), g.method.call()));
                let streams = g.method.descriptor().map(|m| m.is_server_streaming());
                let rpc = if streams == Some(true) {
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
    Sql(SqlResponse),
    /// The reply, and how many commands were sent.
    Redis(RedisResponse, usize),
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
            ProtoReply::Sql(r) => r.error.map(|e| Failure {
                code: e.code(),
                name: e.name(),
            }),
            ProtoReply::Redis(r, _) => r.error.map(|e| Failure {
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
            ProtoReply::Sql(_) | ProtoReply::Redis(..) => 0,
        }
    }
    fn errored(&self) -> bool {
        self.failure().is_some()
    }
    fn duration_ms(&self) -> f64 {
        match self {
            ProtoReply::Ws(r) => r.session_ms,
            ProtoReply::Grpc(r) => r.duration_ms,
            ProtoReply::Sql(r) => r.duration_ms,
            ProtoReply::Redis(r, _) => r.duration_ms,
        }
    }
    fn header(&self, name: &str) -> Option<&str> {
        match self {
            ProtoReply::Ws(r) => r.header(name),
            ProtoReply::Grpc(r) => r.header(name),
            ProtoReply::Sql(_) | ProtoReply::Redis(..) => None,
        }
    }
    fn rows(&self) -> Option<u64> {
        match self {
            ProtoReply::Sql(r) if r.error.is_none() => Some(r.rows),
            _ => None,
        }
    }
    fn column(&self, name: &str) -> Option<&str> {
        match self {
            ProtoReply::Sql(r) => r.column(name),
            _ => None,
        }
    }
}

impl ProtoReply {
    fn body(&self) -> &[u8] {
        match self {
            ProtoReply::Ws(r) => &r.last,
            ProtoReply::Grpc(r) => &r.body,
            ProtoReply::Sql(r) => &r.body,
            ProtoReply::Redis(r, _) => &r.body,
        }
    }

    /// The tag that tells outcomes apart beside the error: `status` (WebSocket, gRPC) or
    /// `sqlstate` (SQL: `00000` when it succeeded); none for Redis.
    fn outcome_tag(&self) -> Option<(&'static str, String)> {
        match self {
            ProtoReply::Ws(r) => Some(("status", r.status.to_string())),
            ProtoReply::Grpc(r) => Some(("status", r.status.to_string())),
            ProtoReply::Sql(r) => match r.error {
                None => Some(("sqlstate", "00000".into())),
                Some(e) => e.sqlstate().map(|s| ("sqlstate", s.to_string())),
            },
            ProtoReply::Redis(..) => None,
        }
    }

    /// What tells this outcome's tag set apart (with the failure): the status, or a
    /// SQLSTATE's address (interned, so equal codes are one key).
    fn tag_key(&self) -> u64 {
        match self {
            ProtoReply::Sql(r) => r
                .error
                .and_then(SqlError::sqlstate)
                .map_or(0, |s| s.as_ptr() as u64),
            _ => u64::from(Reply::status(self)),
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
            (ProtoReply::Sql(r), [duration, pool_wait, queries, errors]) => {
                let ran = !matches!(r.error, Some(SqlError::PoolTimeout));
                let failed = f64::from(u8::from(r.error.is_some()));
                reg.add_many(tags, &[(*queries, 1.0), (*pool_wait, r.pool_wait_ms)]);
                if ran {
                    reg.add(*duration, tags, r.duration_ms);
                }
                if failed > 0.0 {
                    reg.add(*errors, tags, failed);
                }
            }
            (ProtoReply::Redis(r, n), [duration, commands, errors]) => {
                reg.add_many(tags, &[(*commands, *n as f64), (*duration, r.duration_ms)]);
                if r.error.is_some() {
                    reg.add(*errors, tags, 1.0);
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
    /// (step, status or SQLSTATE, failure) → tag set: interned once per combination.
    tags: HashMap<(u32, u64, Option<Failure>), TagSetId>,
    /// The transaction this VU is in (`transaction:`), with its connection.
    tx: Option<Tx>,
}

/// An open transaction.
struct Tx {
    source: usize,
    conn: SqlConn,
    /// A statement inside failed: the transaction is rolled back.
    failed: bool,
}

impl ProtoClients {
    /// Drops kept connections (`keepalive: false`).
    pub fn close_all(&mut self) {
        if let Some(g) = self.grpc.as_mut() {
            g.close_all();
        }
    }

    fn tags(&mut self, reg: &Registry, pi: &ProtoInfo, r: &ProtoReply) -> TagSetId {
        let failure = r.failure();
        *self
            .tags
            .entry((pi.index, r.tag_key(), failure))
            .or_insert_with(|| {
                let mut t = pi.base.clone();
                if let Some((k, v)) = r.outcome_tag() {
                    t = t.with(k, &v);
                }
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
        let rows = Rows::of(&self.rows, &shared.plan.data);
        let mut cx = shared.render_cx(self.id, iter, rows.as_slice(), &self.vars, &mut self.rng);
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
                    .protos()
                    .ws
                    .get_or_insert_with(|| WsClient::new(http.tls_with_alpn(&[b"http/1.1"])));
                ProtoReply::Ws(client.execute(&req).await)
            }
            ProtoCall::Grpc(g) => 'call: {
                let Some(method) = g.method.descriptor() else {
                    // reflection had not run (a run resolves methods before any load)
                    break 'call ProtoReply::Grpc(GrpcResponse {
                        status: 12,
                        error: Some(throng_grpc::GrpcError::Unresolved),
                        ..GrpcResponse::default()
                    });
                };
                let req = GrpcRequest {
                    target: self.render_with(shared, iter, &g.target),
                    method: method.clone(),
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
                    .protos()
                    .grpc
                    .get_or_insert_with(|| GrpcClient::new(http.tls_with_alpn(&[b"h2"])));
                ProtoReply::Grpc(client.execute(&req).await)
            }
            ProtoCall::Sql(q) => {
                let params: Vec<String> = q
                    .params
                    .iter()
                    .map(|t| self.render_with(shared, iter, t))
                    .collect();
                let keep = !step.checks.is_empty() || !step.extract.is_empty();
                ProtoReply::Sql(
                    self.sql(shared, q.source, &q.query, &params, keep, step.timeout)
                        .await,
                )
            }
            ProtoCall::Redis(r) => {
                let cmds: Vec<Vec<String>> = r
                    .commands
                    .iter()
                    .map(|c| {
                        c.iter()
                            .map(|t| self.render_with(shared, iter, t))
                            .collect()
                    })
                    .collect();
                let resp = match shared.env.sources.get(r.source) {
                    Some(SourceClient::Redis(c)) => c.execute(&cmds, step.timeout).await,
                    _ => RedisResponse {
                        error: Some(throng_redis::RedisError::InvalidUrl),
                        ..Default::default()
                    },
                };
                ProtoReply::Redis(resp, cmds.len())
            }
        };
        let reg = &shared.env.registry;
        let tags = self.protos().tags(reg, pi, &reply);
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

/// A `transaction:` block with its tags and metrics resolved.
pub(crate) struct FTransaction {
    source: usize,
    steps: Vec<FStep>,
    /// Tags of the block's own samples (its pool wait; BEGIN/COMMIT failures).
    ok_tags: TagSetId,
    timeout_tags: TagSetId,
    pool_wait: Option<MetricId>,
    errors: Option<MetricId>,
}

impl FTransaction {
    pub fn new(
        source: usize,
        steps: Vec<FStep>,
        common: &[(String, String)],
        group: &str,
        reg: &Registry,
    ) -> FTransaction {
        let tags = |extra: &[(&str, &str)]| {
            let mut t: Vec<(String, String)> = common.to_vec();
            t.push(("group".into(), group.into()));
            t.push(("name".into(), "transaction".into()));
            t.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            reg.intern(TagSet::new(t))
        };
        let metric = |name: &str| reg.metric(name).map(|m| m.0);
        FTransaction {
            source,
            steps,
            ok_tags: tags(&[]),
            timeout_tags: tags(&[("error", "pool_timeout"), ("error_code", "1901")]),
            pool_wait: metric("sql_pool_wait"),
            errors: metric("sql_errors"),
        }
    }
}

impl FTransaction {
    /// Counts a failure of the block itself (taking a connection, BEGIN, COMMIT) in
    /// `sql_errors`.
    fn count_error(&self, reg: &Registry, e: SqlError) {
        if let Some(m) = self.errors {
            let tags = if e == SqlError::PoolTimeout {
                self.timeout_tags
            } else {
                self.ok_tags
            };
            reg.add(m, tags, 1.0);
        }
    }
}

impl FlowVu {
    /// Runs one statement on `source`: in the open transaction when there is one on it,
    /// else on a connection taken from the pool for this statement.
    async fn sql(
        &mut self,
        shared: &FlowShared,
        source: usize,
        query: &str,
        params: &[String],
        keep: bool,
        timeout: std::time::Duration,
    ) -> SqlResponse {
        if let Some(tx) = self.protos().tx.as_mut().filter(|t| t.source == source) {
            let r = run_timed(&mut tx.conn, query, params, keep, timeout).await;
            tx.failed |= r.error.is_some();
            return r;
        }
        let Some(pool) = shared.env.sources.get(source).and_then(SourceClient::pool) else {
            return SqlResponse {
                error: Some(SqlError::Connect(throng_http::ErrorKind::InvalidUrl)),
                ..Default::default()
            };
        };
        let (conn, waited) = pool.acquire().await;
        let mut r = match conn {
            Ok(mut c) => run_timed(&mut c, query, params, keep, timeout).await,
            Err(e) => SqlResponse {
                error: Some(e),
                ..Default::default()
            },
        };
        r.pool_wait_ms = waited;
        r
    }

    /// A `transaction:` block: BEGIN on a connection of the pool, the steps, then COMMIT
    /// (ROLLBACK when a statement inside failed).
    pub(crate) async fn transaction(&mut self, shared: &FlowShared, t: &FTransaction, iter: u64) {
        let reg = &shared.env.registry;
        let Some(pool) = shared
            .env
            .sources
            .get(t.source)
            .and_then(SourceClient::pool)
        else {
            return;
        };
        let (conn, waited) = pool.acquire().await;
        if let Some(m) = t.pool_wait {
            reg.add(m, t.ok_tags, waited);
        }
        let began = match conn {
            Ok(mut c) => c.batch("BEGIN").await.map(|()| c),
            Err(e) => Err(e),
        };
        let conn = match began {
            Ok(c) => c,
            Err(e) => {
                t.count_error(reg, e);
                if let Some(tally) = self.tally.as_mut() {
                    tally.failures.push(format!("transaction: {e}"));
                }
                return;
            }
        };
        self.protos().tx = Some(Tx {
            source: t.source,
            conn,
            failed: false,
        });
        self.run_steps(shared, &t.steps, iter).await;
        if let Some(mut tx) = self.protos().tx.take() {
            let end = if tx.failed { "ROLLBACK" } else { "COMMIT" };
            if let Err(e) = tx.conn.batch(end).await {
                t.count_error(reg, e);
            }
        }
    }
}

/// A statement bounded by the step's timeout (the connection is then dropped, not reused).
async fn run_timed(
    conn: &mut SqlConn,
    query: &str,
    params: &[String],
    keep: bool,
    timeout: std::time::Duration,
) -> SqlResponse {
    match tokio::time::timeout(timeout, conn.query(query, params, keep)).await {
        Ok(r) => r,
        Err(_) => SqlResponse {
            error: Some(SqlError::Connect(throng_http::ErrorKind::Timeout)),
            duration_ms: timeout.as_secs_f64() * 1000.0,
            ..Default::default()
        },
    }
}
