//! Steps of other protocols: `ws:` sessions, `grpc:` calls (their `.proto` compiled
//! here, at load, with protox: no protoc, no generated code).
use super::check::{compile_checks_for, HTTP_STATUSES};
use super::extract::compile_extract;
use super::http::check_header;
use super::step::FlowCx;
use super::Cx;
use crate::model::{CustomMetric, Extract, Step};
use crate::protocols::{
    protocol_metrics, GrpcMethod, GrpcStep, ProtoCall, ProtoStep, RedisStep, SqlStep, WsAction,
    WsReceive, WsStep,
};
use crate::raw::{Json, RawGrpc, RawRedis, RawSql, RawStep, RawWsAction, S};
use crate::template::Template;
use prost_reflect::DescriptorPool;
use std::path::PathBuf;
use std::time::Duration;

/// gRPC status codes a `status` check may name (OK is 0).
const GRPC_STATUSES: (u16, u16, &str) = (0, 16, "a gRPC status code (0-16; OK is 0)");

/// A `.proto` compiled once per plan, by path.
pub(super) type ProtoCache = Vec<(PathBuf, Option<DescriptorPool>)>;

/// Options only HTTP requests take, present on step `r`.
fn http_only(r: &RawStep) -> Vec<&'static str> {
    [
        ("query", !r.query.is_empty()),
        ("body", r.body.is_some()),
        ("json", r.json.is_some()),
        ("form", r.form.is_some()),
        ("expected_statuses", r.expected_statuses.is_some()),
        ("add", !r.add.is_empty()),
        ("until", r.until.is_some()),
        ("every", r.every.is_some()),
        ("max_tries", r.max_tries.is_some()),
        ("within", r.within.is_some()),
        ("trend", r.trend.is_some()),
    ]
    .iter()
    .filter(|(_, p)| *p)
    .map(|(n, _)| *n)
    .collect()
}

/// Defines the metrics step kind `kind` records (once per plan).
pub(super) fn define_metrics(cx: &mut Cx<'_>, kind: &str) {
    for (name, kind, time) in protocol_metrics(kind) {
        if !cx.custom_metrics.iter().any(|m| m.name == *name) {
            cx.custom_metrics.push(CustomMetric {
                name: name.to_string(),
                kind: *kind,
                time: *time,
            });
        }
    }
}

/// A `ws:`, `grpc:`, `sql:` or `redis:` step.
pub(super) fn compile_proto(cx: &mut Cx<'_>, s: &S<RawStep>, fcx: &FlowCx<'_>) -> Option<Step> {
    let r = &s.value;
    let kind = if r.ws.is_some() {
        "ws"
    } else if r.grpc.is_some() {
        "grpc"
    } else if r.sql.is_some() {
        "sql"
    } else {
        "redis"
    };
    if kind != "ws" && !r.headers.is_empty() {
        cx.err(
            s,
            format!("a {kind} step has no `headers:` (gRPC sends `metadata:` inside `grpc:`)"),
        );
    }
    let stray = http_only(r);
    if !stray.is_empty() {
        cx.err(
            s,
            format!(
                "{} only apply to HTTP requests, not to a `{kind}:` step",
                stray.join(", ")
            ),
        );
    }
    define_metrics(cx, kind);
    let (call, name, statuses) = if let Some(url) = &r.ws {
        let call = compile_ws(cx, s, url, fcx)?;
        (call, url.value.clone(), HTTP_STATUSES)
    } else if let Some(g) = &r.grpc {
        let call = compile_grpc(cx, g, fcx)?;
        (call, g.value.call.value.clone(), GRPC_STATUSES)
    } else if let Some(q) = &r.sql {
        let call = compile_sql(cx, q, fcx)?;
        (call, q.value.query.value.clone(), HTTP_STATUSES)
    } else {
        let rd = r.redis.as_ref()?;
        let (call, name) = compile_redis(cx, rd, fcx)?;
        (call, name, HTTP_STATUSES)
    };
    let mut checks = Vec::new();
    for c in r.check.iter().chain(&r.checks) {
        checks.extend(compile_checks_for(cx, c, statuses));
    }
    let mut extract = Vec::new();
    for (var, e) in &r.extract {
        let stored = format!("{}{var}", fcx.extract_prefix);
        let var_i = fcx.vars.iter().position(|v| *v == stored).unwrap_or(0);
        if let Some(from) = compile_extract(cx, var, e) {
            extract.push(Extract { var: var_i, from });
        }
    }
    let timeout = r
        .timeout
        .as_ref()
        .and_then(|t| cx.dur(t, "timeout"))
        .unwrap_or(fcx.http.timeout);
    Some(Step::Proto(Box::new(ProtoStep {
        name: r.name.as_ref().map(|n| n.value.clone()).unwrap_or(name),
        group: fcx.group.to_string(),
        tags: r.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        checks,
        extract,
        timeout,
        call,
    })))
}

/// A WebSocket session: its URL, handshake headers and actions.
fn compile_ws(
    cx: &mut Cx<'_>,
    s: &S<RawStep>,
    url: &S<String>,
    fcx: &FlowCx<'_>,
) -> Option<ProtoCall> {
    let u = url.value.as_str();
    if !(u.starts_with("ws://") || u.starts_with("wss://") || u.starts_with("{{")) {
        cx.err(
            url,
            format!("`{u}` is not a WebSocket URL: expected ws://host:port/path or wss://..."),
        );
    }
    let headers = s
        .value
        .headers
        .iter()
        .map(|(k, v)| {
            check_header(cx, k, v);
            (k.clone(), cx.tpl(v, fcx.vars))
        })
        .collect();
    let mut actions = Vec::new();
    for a in s.value.session.iter().flat_map(|x| &x.value) {
        if let Some(act) = compile_ws_action(cx, a, fcx) {
            actions.push(act);
        }
    }
    Some(ProtoCall::Ws(WsStep {
        url: cx.tpl(url, fcx.vars),
        headers,
        actions,
    }))
}

/// One action of a session: exactly one of send, send_binary, receive, sleep.
fn compile_ws_action(cx: &mut Cx<'_>, a: &S<RawWsAction>, fcx: &FlowCx<'_>) -> Option<WsAction> {
    let r = &a.value;
    let n = [
        r.send.is_some(),
        r.send_binary.is_some(),
        r.receive.is_some(),
        r.sleep.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if n != 1 {
        cx.err(
            a,
            "a session action is exactly one of send, send_binary, receive or sleep",
        );
        return None;
    }
    if let Some(t) = &r.send {
        return Some(WsAction::Send(cx.tpl(t, fcx.vars)));
    }
    if let Some(t) = &r.send_binary {
        return Some(WsAction::SendBinary(cx.tpl(t, fcx.vars)));
    }
    if let Some(d) = &r.sleep {
        return cx.dur(d, "sleep").map(WsAction::Sleep);
    }
    let rv = r.receive.as_ref()?;
    let matches = match &rv.value.matches {
        Some(m) => match regex::Regex::new(&m.value) {
            Ok(re) => Some(re),
            Err(e) => {
                cx.err(
                    m,
                    format!(
                        "receive matches: invalid regex: {}",
                        e.to_string().replace('\n', " ")
                    ),
                );
                None
            }
        },
        None => None,
    };
    Some(WsAction::Receive(WsReceive {
        contains: rv.value.contains.as_ref().map(|c| cx.tpl(c, fcx.vars)),
        matches,
        timeout: rv
            .value
            .timeout
            .as_ref()
            .and_then(|t| cx.dur(t, "receive timeout"))
            .unwrap_or(Duration::from_secs(10)),
    }))
}

/// A gRPC call: its method found in the compiled `.proto`, or left for reflection.
fn compile_grpc(cx: &mut Cx<'_>, g: &S<RawGrpc>, fcx: &FlowCx<'_>) -> Option<ProtoCall> {
    let r = &g.value;
    let call = r.call.value.trim().trim_start_matches('/');
    let Some((svc, m)) = call.split_once('/') else {
        cx.err(
            &r.call,
            format!("call: `{call}` is not a method: expected package.Service/Method"),
        );
        return None;
    };
    let target = cx.tpl(&r.target, fcx.vars);
    let method = match &r.proto {
        Some(proto) => GrpcMethod::Known(proto_method(cx, r, proto, svc, m)?),
        None => {
            if let Some(i) = r.import_paths.first() {
                cx.err(i, "import_paths: only apply with a `proto:`");
            }
            let Some(known) = target.render_constant() else {
                cx.err(
                    &r.target,
                    "target: without a `proto:` the method is found by server reflection when the run starts, so the target must be known then (literal text and env values, no vu, data or variables)",
                );
                return None;
            };
            let (l, c) = super::lc(&r.call);
            GrpcMethod::Reflect {
                target: known,
                service: svc.to_string(),
                method: m.to_string(),
                at: format!("{}:{l}:{c}", cx.src.file.display()),
            }
        }
    };
    let t = r.target.value.as_str();
    if t.trim().is_empty() || t.contains(' ') {
        cx.err(
            &r.target,
            format!("target: `{t}` is not an address: expected host:port, http://host:port (plaintext) or https://host:port"),
        );
    }
    let message = match &r.message {
        Some(msg) => {
            if !msg.value.is_object() {
                cx.err(
                    msg,
                    "message: expected a mapping (the request message as JSON)",
                );
            }
            cx.json_tpl(msg, fcx.vars)
        }
        None => Template::literal("{}"),
    };
    let metadata = r
        .metadata
        .iter()
        .map(|(k, v)| {
            if !k
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
            {
                cx.err(
                    v,
                    format!(
                        "metadata: `{k}` is not a metadata key (lower-case letters, digits, - _ .)"
                    ),
                );
            }
            (k.clone(), cx.tpl(v, fcx.vars))
        })
        .collect();
    Some(ProtoCall::Grpc(Box::new(GrpcStep {
        target,
        method,
        message,
        metadata,
    })))
}

/// Method `svc/m` of the call's `.proto`; `None` (reported) when the file does not
/// compile, does not declare it, or it streams from the client.
fn proto_method(
    cx: &mut Cx<'_>,
    r: &RawGrpc,
    proto: &S<String>,
    svc: &str,
    m: &str,
) -> Option<prost_reflect::MethodDescriptor> {
    let pool = proto_pool(cx, r, proto)?;
    let Some(service) = pool.get_service_by_name(svc) else {
        let known: Vec<String> = pool.services().map(|s| s.full_name().to_string()).collect();
        cx.err(
            &r.call,
            format!(
                "call: no service `{svc}` in {} (it declares: {})",
                proto.value,
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ),
        );
        return None;
    };
    let Some(method) = service.methods().find(|x| x.name() == m) else {
        let known: Vec<String> = service.methods().map(|x| x.name().to_string()).collect();
        cx.err(
            &r.call,
            format!(
                "call: service `{svc}` has no method `{m}` (it has: {})",
                known.join(", ")
            ),
        );
        return None;
    };
    if method.is_client_streaming() {
        cx.err(
            &r.call,
            format!("call: `{svc}/{m}` streams from the client: only unary and server-streaming calls are supported"),
        );
        return None;
    }
    Some(method)
}

/// The `.proto` of a call, compiled once per plan; `None` (reported at `proto:`, naming
/// the .proto's own line and column) when it does not compile.
fn proto_pool(cx: &mut Cx<'_>, r: &RawGrpc, proto: &S<String>) -> Option<DescriptorPool> {
    let path = cx.base_dir.join(&proto.value);
    if let Some((_, pool)) = cx.protos.iter().find(|(p, _)| *p == path) {
        return pool.clone();
    }
    let pool = match compile_proto_file(&path, &cx.base_dir, &r.import_paths) {
        Ok(p) => Some(p),
        Err(msg) => {
            cx.err(proto, format!("proto: {msg}"));
            None
        }
    };
    cx.protos.push((path, pool.clone()));
    pool
}

/// Compiles `path` (imports searched beside it, then in `imports` relative to `base`);
/// the error names the .proto file, line and column.
fn compile_proto_file(
    path: &std::path::Path,
    base: &std::path::Path,
    imports: &[S<String>],
) -> Result<DescriptorPool, String> {
    let dir = path.parent().unwrap_or(base).to_path_buf();
    let Some(file) = path.file_name() else {
        return Err(format!("`{}` is not a file", path.display()));
    };
    if !path.is_file() {
        return Err(format!("cannot read `{}`: no such file", path.display()));
    }
    let mut includes = vec![dir.clone()];
    includes.extend(imports.iter().map(|i| base.join(&i.value)));
    let mut compiler = protox::Compiler::new(&includes).map_err(|e| e.to_string())?;
    compiler.include_imports(true);
    match compiler.open_file(file) {
        Ok(_) => Ok(compiler.descriptor_pool()),
        Err(e) => Err(describe_proto_error(&e, &dir)),
    }
}

/// `events.proto:7:3: expected ';'` from a protox error (its span read back as line and
/// column).
fn describe_proto_error(e: &protox::Error, dir: &std::path::Path) -> String {
    use miette::Diagnostic;
    let msg = e.to_string();
    let file = e.file().unwrap_or("");
    let at = e.labels().and_then(|mut l| l.next()).and_then(|label| {
        let src = e.source_code()?;
        let span = src.read_span(label.inner(), 0, 0).ok()?;
        Some((span.line() + 1, span.column() + 1))
    });
    let shown = if file.is_empty() {
        String::new()
    } else {
        dir.join(file).display().to_string()
    };
    match (at, shown.is_empty()) {
        (Some((l, c)), false) => format!("{shown}:{l}:{c}: {msg}"),
        (_, false) => format!("{shown}: {msg}"),
        _ => msg,
    }
}

/// A `sql:` statement on a PostgreSQL source.
fn compile_sql(cx: &mut Cx<'_>, q: &S<RawSql>, fcx: &FlowCx<'_>) -> Option<ProtoCall> {
    let r = &q.value;
    let source = super::sources::pick_source(cx, r.db.as_ref(), "postgres", q)?;
    if r.query.value.trim().is_empty() {
        cx.err(&r.query, "sql: the query is empty");
    }
    let params = r.params.iter().map(|p| arg_tpl(cx, p, fcx)).collect();
    Some(ProtoCall::Sql(SqlStep {
        source,
        query: r.query.value.clone(),
        params,
    }))
}

/// A parameter or command argument: text as a template, a number or boolean as written.
fn arg_tpl(cx: &mut Cx<'_>, v: &S<Json>, fcx: &FlowCx<'_>) -> Template {
    match &v.value {
        Json::String(t) => {
            let s = S {
                value: t.clone(),
                referenced: v.referenced,
                defined: v.defined,
            };
            cx.tpl(&s, fcx.vars)
        }
        Json::Number(n) => Template::literal(&n.to_string()),
        Json::Bool(b) => Template::literal(if *b { "true" } else { "false" }),
        _ => {
            cx.err(v, "expected a text, a number or a boolean");
            Template::literal("")
        }
    }
}

/// A `redis:` command or pipeline; its name is the command (`GET`), or the pipeline's
/// commands joined (`INCR+GET`).
fn compile_redis(
    cx: &mut Cx<'_>,
    rd: &S<RawRedis>,
    fcx: &FlowCx<'_>,
) -> Option<(ProtoCall, String)> {
    let r = &rd.value;
    let source = super::sources::pick_source(cx, r.server.as_ref(), "redis", rd)?;
    let raw: Vec<&S<crate::raw::RawCommand>> = match (&r.cmd, &r.pipeline) {
        (Some(c), None) => vec![c],
        (None, Some(p)) if !p.value.is_empty() => p.value.iter().collect(),
        _ => {
            cx.err(rd, "redis: expected exactly one of `cmd: [NAME, args...]` or `pipeline: [[NAME, args...], ...]`");
            return None;
        }
    };
    let mut names = Vec::new();
    let mut commands = Vec::new();
    for c in raw {
        let Some(first) = c.value.first() else {
            cx.err(c, "redis: a command needs its name: [GET, key]");
            return None;
        };
        match first.value.as_str() {
            Some(n)
                if !n.is_empty()
                    && n.chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '.' || ch == '_') =>
            {
                names.push(n.to_uppercase())
            }
            _ => {
                cx.err(
                    first,
                    "redis: a command's name is a word such as GET, SET or INCR",
                );
                return None;
            }
        }
        commands.push(c.value.iter().map(|a| arg_tpl(cx, a, fcx)).collect());
    }
    Some((
        ProtoCall::Redis(RedisStep { source, commands }),
        names.join("+"),
    ))
}
