//! One VU's JavaScript: a QuickJS context (in a runtime other VUs share) on the VU's
//! coroutine stack, k6's modules,
//! the natives they call (`__n`), and the loop that runs commands.
use crate::msg::{Cmd, HttpCall, In, Op, Tags};
use crate::shared::VuSpec;
use crate::suspend::{with, HubRef, Suspender};
use corosensei::Yielder;
use rquickjs::{Array, Ctx, Exception, Function, Module, Object, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use throng_engine::IterOutcome;
use throng_http::HttpRequest;
use throng_metrics::{MetricId, MetricKind, TagSet, TagSetId, ValueType};
use tokio_util::sync::CancellationToken;

/// k6's modules, as JavaScript over the natives.
const MODULES: &[(&str, &str)] = &[
    ("k6", include_str!("js/k6.js")),
    ("k6/http", include_str!("js/http.js")),
    ("k6/metrics", include_str!("js/metrics.js")),
    ("k6/execution", include_str!("js/execution.js")),
    ("k6/data", include_str!("js/data.js")),
    ("k6/encoding", include_str!("js/encoding.js")),
    ("k6/crypto", include_str!("js/crypto.js")),
];
const PRELUDE: &str = include_str!("js/prelude.js");

/// How long JavaScript may run without a request or sleep before its VU lets others run.
const SLICE: Duration = Duration::from_millis(10);

/// A custom metric the script made (`new Rate('errors')`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDecl {
    /// Its name.
    pub name: String,
    /// Counter, gauge, rate or trend.
    pub kind: MetricKind,
    /// `isTime` (milliseconds).
    pub time: bool,
}

/// What the load-time run of the init code found.
#[derive(Debug, Default)]
pub struct Probe {
    /// `export const options`, as JSON (`null` when absent).
    pub options: String,
    /// Exported functions.
    pub functions: Vec<String>,
    /// Metrics made at init.
    pub metrics: Vec<MetricDecl>,
}

/// The VU's mutable state, shared by its natives.
pub(crate) struct State {
    id: u64,
    scenario: String,
    iter: u64,
    scenario_iter: u64,
    /// k6's group path (`::a::b`), empty at the top.
    group: String,
    groups: Vec<(usize, Instant)>,
    expected: Arc<[(u16, u16)]>,
    /// The last request's tags (method, url, group), for the next one like it.
    last_tags: Option<(String, String, String, Tags)>,
    /// In the init context: no requests, no sleeps.
    init: bool,
    lateness_ms: Option<f64>,
    metrics: Vec<MetricDecl>,
    metric_ids: Vec<MetricId>,
    /// (group, check) → tag set of `checks` samples.
    check_tags: HashMap<(String, String), TagSetId>,
    /// `randomSeed(n)`'s generator state (mulberry32), when the VU seeded one.
    seed: Option<u32>,
    /// The number of the VU's last `new http.CookieJar()` (0: none yet; 0 is its own jar).
    jars: u32,
    /// Tags of every sample (`options.tags`, the scenario's `tags`).
    tags: Arc<[(String, String)]>,
}

impl State {
    fn new(spec: &VuSpec) -> State {
        let mut s = State::of(spec.id, spec.scenario.clone(), spec.root_group.clone());
        s.tags = spec.tags.clone();
        s
    }

    fn of(id: u64, scenario: String, group: String) -> State {
        State {
            id,
            scenario,
            iter: 0,
            scenario_iter: 0,
            group,
            groups: Vec::new(),
            expected: Arc::new([(200, 399)]),
            last_tags: None,
            init: true,
            lateness_ms: None,
            metrics: Vec::new(),
            metric_ids: Vec::new(),
            check_tags: HashMap::new(),
            seed: None,
            jars: 0,
            tags: Arc::from(Vec::new()),
        }
    }

    /// The VU's next `Math.random()` once the script called `randomSeed` (mulberry32 of
    /// the seed, so every VU seeded alike draws the same sequence, as in k6; unseeded VUs
    /// draw from an unseeded generator).
    fn random(&mut self) -> f64 {
        let Some(s) = self.seed.as_mut() else {
            return fastrand::f64();
        };
        *s = s.wrapping_add(0x6d2b_79f5);
        let s = *s;
        let mut t = (s ^ (s >> 15)).wrapping_mul(1 | s);
        t = t.wrapping_add((t ^ (t >> 7)).wrapping_mul(61 | t)) ^ t;
        f64::from(t ^ (t >> 14)) / 4_294_967_296.0
    }

    /// A state for no VU (still in init: it may do nothing).
    fn idle() -> State {
        State::of(0, String::new(), String::new())
    }

    fn base_tags(&self) -> Vec<(String, String)> {
        let mut t = vec![("group".to_string(), self.group.clone())];
        if !self.scenario.is_empty() {
            t.push(("scenario".to_string(), self.scenario.clone()));
        }
        t.extend(self.tags.iter().cloned());
        t
    }
}

pub(crate) type St = Rc<RefCell<State>>;

/// The VU running on the runtime now, as the natives find it: the VUs of a context share
/// its natives, and each call acts for whichever VU's coroutine runs JavaScript.
#[derive(Clone)]
pub(crate) struct Running(pub(crate) Rc<Suspender>);

impl Running {
    /// The running VU's state (a VU's turn is set before its first JavaScript runs; a
    /// state still in init, which refuses everything, stands in should none be).
    pub(crate) fn st(&self) -> St {
        match self.0.turn() {
            Some(t) => t.st.clone(),
            None => Rc::new(RefCell::new(State::idle())),
        }
    }
}

/// The running VU's hooks, for its runtime's interrupt handler.
pub(crate) struct Turn {
    /// The init code's deadline (an endless loop).
    deadline: Cell<Option<Instant>>,
    /// The running command's token: cancelled to stop busy JavaScript.
    stop: RefCell<Option<CancellationToken>>,
    st: St,
    /// When the VU last let others run.
    last: Cell<Instant>,
}

/// The runtime's interrupt handler (QuickJS asks every few thousand operations): whether
/// to stop the running VU's JavaScript — init code past its deadline (an endless loop),
/// an iteration the engine stopped waiting for. Busy JavaScript also gives the thread
/// back every time slice (never in init, which has no one to answer).
pub(crate) fn interrupt(sus: &Suspender) -> bool {
    let Some(t) = sus.turn() else {
        return false;
    };
    if t.deadline.get().is_some_and(|d| Instant::now() > d)
        || t.stop.borrow().as_ref().is_some_and(|c| c.is_cancelled())
    {
        return true;
    }
    if t.st.try_borrow().map_or(true, |s| s.init) || t.last.get().elapsed() < SLICE {
        return false;
    }
    let r = sus.suspend(Op::Yield);
    t.last.set(Instant::now());
    matches!(r, In::Interrupted)
}

/// The coroutine body of a VU (or of the probe when `probe` is set): returns the probe.
/// The VU's context lives in `hub`'s runtime, which other VUs share.
pub(crate) fn main(
    y: &Yielder<In, Op>,
    hub: HubRef,
    spec: VuSpec,
    probe: bool,
) -> Result<Probe, String> {
    let top = 0u8;
    let base = std::hint::black_box(&top) as *const u8 as usize;
    let hub = hub.0;
    let sus = hub.sus.clone();
    let st: St = Rc::new(RefCell::new(State::new(&spec)));
    let turn = Rc::new(Turn {
        deadline: Cell::new(Some(Instant::now() + spec.shared.script.init_timeout)),
        stop: RefCell::new(None),
        st: st.clone(),
        last: Cell::new(Instant::now()),
    });
    sus.enter(y, base, turn.clone());
    let ctx = vu_context(&hub, &spec)?;
    let init = with(&ctx, |ctx| init(&ctx, &spec)).map_err(|e| {
        if turn.deadline.get().is_some_and(|d| Instant::now() > d) {
            format!(
                "the init code did not finish within {:?} (an endless loop?): {e}",
                spec.shared.script.init_timeout
            )
        } else {
            e
        }
    });
    turn.deadline.set(None);
    // no collection here: one of the shared runtime would walk every VU's heap (QuickJS
    // collects as the runtime's memory grows)
    if probe {
        return init.and_then(|vu| with(&ctx, |ctx| read_probe(&ctx, &vu, &st)));
    }
    // a VU whose init code threw ends here: its driver stops the test with the error
    let init = Ok::<_, String>(init?);
    st.borrow_mut().init = false;
    crate::suspend::trim_stack(base);
    loop {
        let cmd = match sus.suspend(Op::Next) {
            In::Cmd(c) => c,
            In::Exit => break,
            // an answer meant for an iteration that already ended: still waiting
            _ => continue,
        };
        match cmd {
            Cmd::Iter {
                info,
                exec,
                reply,
                cancel,
            } => {
                *turn.stop.borrow_mut() = Some(cancel);
                let out = match &init {
                    Err(e) => IterOutcome::Failed(e.clone()),
                    Ok(vu) => {
                        {
                            let mut s = st.borrow_mut();
                            s.iter = info.iter;
                            s.scenario_iter = info.scenario_iter;
                            s.lateness_ms = info.intended_start.map(|due| {
                                Instant::now().saturating_duration_since(due).as_secs_f64() * 1000.0
                            });
                        }
                        if let Err(e) = with(&ctx, |ctx| iterate(&ctx, vu, &exec)) {
                            // an iteration the run stopped (a hard stop, an abort, Ctrl-C)
                            // is no error of the script's
                            let stopped = spec.shared.abort.is_cancelled()
                                || turn
                                    .stop
                                    .borrow()
                                    .as_ref()
                                    .is_some_and(|c| c.is_cancelled());
                            if stopped {
                                tracing::debug!(
                                    "{}: VU {} iteration {} stopped: {e}",
                                    spec.shared.script.name,
                                    spec.id,
                                    info.iter
                                );
                            } else {
                                tracing::error!(
                                    "{}: VU {} iteration {}: {e}",
                                    spec.shared.script.name,
                                    spec.id,
                                    info.iter
                                );
                            }
                        }
                        let mut s = st.borrow_mut();
                        s.groups.clear();
                        s.group.clone_from(&spec.root_group);
                        IterOutcome::Completed
                    }
                };
                let _ = reply.send(out);
            }
            Cmd::Call { func, arg, reply } => {
                let out = match &init {
                    Err(e) => Err(e.clone()),
                    Ok(vu) => with(&ctx, |ctx| call_once(&ctx, vu, func, arg.as_deref())),
                };
                let _ = reply.send(out);
            }
        }
    }
    Ok(Probe::default())
}

/// A context with every intrinsic (typed arrays included: the VUs of a runtime share the
/// context, so they cost each VU little).
fn context(rt: &rquickjs::Runtime) -> rquickjs::Result<rquickjs::Context> {
    rquickjs::Context::full(rt)
}

/// Text of a JavaScript error: `Error: message` and its stack (file:line:col).
pub(crate) fn describe(ctx: &Ctx<'_>, e: rquickjs::Error) -> String {
    if !matches!(e, rquickjs::Error::Exception) {
        return e.to_string();
    }
    let v = ctx.catch();
    if let Some(ex) = v.as_exception() {
        let name: String = ex.get("name").unwrap_or_else(|_| "Error".into());
        let msg = ex.message().unwrap_or_default();
        let stack = ex.stack().unwrap_or_default();
        let stack = stack.trim_end();
        if stack.is_empty() {
            format!("{name}: {msg}")
        } else {
            format!("{name}: {msg}\n{stack}")
        }
    } else {
        let s: Option<String> = ctx
            .json_stringify(v)
            .ok()
            .flatten()
            .and_then(|s| s.to_string().ok());
        format!("uncaught {}", s.unwrap_or_else(|| "value".into()))
    }
}

/// The context a VU runs in: its runtime's shared one (made by the runtime's first VU),
/// or one of its own when the script imports local files (each VU then evaluates those
/// modules itself, as in k6; a shared context would share their top-level state).
fn vu_context(hub: &crate::suspend::Hub, spec: &VuSpec) -> Result<rquickjs::Context, String> {
    let script = &spec.shared.script;
    let shareable = script.modules.is_empty();
    if shareable {
        if let Some(c) = hub.ctx.borrow().as_ref() {
            return Ok(c.clone());
        }
    }
    if !shareable && !hub.loader.replace(true) {
        hub.rt.set_loader(
            crate::modules::LocalModules(script.modules.clone().into()),
            crate::modules::LocalModules(script.modules.clone().into()),
        );
    }
    let ctx = context(&hub.rt).map_err(|e| format!("cannot start QuickJS: {e}"))?;
    hub.sus.bind(&ctx);
    with(&ctx, |c| setup_context(&c, &spec.shared, &hub.sus))?;
    if shareable {
        *hub.ctx.borrow_mut() = Some(ctx.clone());
    }
    Ok(ctx)
}

/// What every VU of a context shares: the natives, `__ENV`, `__VU` and `__ITER` (read from
/// the running VU), console and `open`, and k6's modules (each evaluated once).
fn setup_context(
    ctx: &Ctx<'_>,
    shared: &Arc<crate::shared::Shared>,
    sus: &Rc<Suspender>,
) -> Result<(), String> {
    let run = || -> rquickjs::Result<()> {
        let g = ctx.globals();
        g.set("__n", natives(ctx, shared, sus)?)?;
        let env = Object::new(ctx.clone())?;
        for (k, v) in &shared.script.env {
            env.set(k.as_str(), v.as_str())?;
        }
        g.set("__ENV", env)?;
        ctx.eval::<(), _>(PRELUDE)?;
        // only the modules the script names: each costs its compiled copy
        let script = &shared.script;
        for (name, src) in MODULES {
            if script.mentions(&format!("'{name}'")) || script.mentions(&format!("\"{name}\"")) {
                Module::declare(ctx.clone(), *name, *src)?;
            }
        }
        // local modules: the runtime's loader compiles them when first imported
        Ok(())
    };
    run().map_err(|e| describe(ctx, e))
}

/// A VU's own instance of the script: its module (its top-level code run for this VU, its
/// top-level variables its own) and its copy of setup()'s data.
pub(crate) struct VuScript {
    exports: rquickjs::Persistent<Object<'static>>,
    data: Option<rquickjs::Persistent<Value<'static>>>,
}

/// Runs the VU's init code: a module of its own, whose imports (k6's modules) its context
/// already holds.
fn init(ctx: &Ctx<'_>, spec: &VuSpec) -> Result<VuScript, String> {
    let run = || -> rquickjs::Result<VuScript> {
        let script = &spec.shared.script;
        let (m, p) =
            Module::declare(ctx.clone(), script.name.as_str(), script.text.as_str())?.eval()?;
        p.finish::<()>()?;
        let exports = rquickjs::Persistent::save(ctx, m.namespace()?);
        let data = match &spec.data {
            Some(d) => Some(rquickjs::Persistent::save(
                ctx,
                ctx.json_parse(d.as_bytes().to_vec())?,
            )),
            None => None,
        };
        Ok(VuScript { exports, data })
    };
    run().map_err(|e| describe(ctx, e))
}

impl VuScript {
    fn exports<'js>(&self, ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
        self.exports.clone().restore(ctx)
    }

    fn data<'js>(&self, ctx: &Ctx<'js>) -> rquickjs::Result<Value<'js>> {
        match &self.data {
            Some(d) => d.clone().restore(ctx),
            None => Ok(Value::new_undefined(ctx.clone())),
        }
    }
}

fn read_probe(ctx: &Ctx<'_>, vu: &VuScript, st: &St) -> Result<Probe, String> {
    let run = || -> rquickjs::Result<Probe> {
        let ex = vu.exports(ctx)?;
        let opts: Value = ex.get("options")?;
        let options = ctx
            .json_stringify(opts)?
            .map(|s| s.to_string())
            .transpose()?
            .unwrap_or_else(|| "null".into());
        let mut functions = Vec::new();
        for k in ex.keys::<String>() {
            let k = k?;
            let v: Value = ex.get(k.as_str())?;
            if v.is_function() {
                functions.push(k);
            }
        }
        Ok(Probe {
            options,
            functions,
            metrics: st.borrow().metrics.clone(),
        })
    };
    run().map_err(|e| describe(ctx, e))
}

fn iterate(ctx: &Ctx<'_>, vu: &VuScript, exec: &str) -> Result<(), String> {
    let run = || -> rquickjs::Result<()> {
        let f: Function = vu.exports(ctx)?.get(exec)?;
        let data = vu.data(ctx)?;
        let r = f.call::<_, Value>((data,))?;
        settle(ctx, r)?;
        Ok(())
    };
    run().map_err(|e| describe(ctx, e))
}

/// Runs the VU's pending promise jobs (an `async` function's continuations) to the end,
/// logging the errors they throw, and gives what `r` settles to: an `async` function that
/// rejects fails as one that throws (k6 logs both).
fn settle<'js>(ctx: &Ctx<'js>, r: Value<'js>) -> rquickjs::Result<Value<'js>> {
    while ctx.execute_pending_job() {
        let e = ctx.catch();
        if e.type_of() != rquickjs::Type::Uninitialized {
            let text = describe(ctx, ctx.throw(e));
            tracing::error!("a promise job failed: {text}");
        }
    }
    match r.as_promise() {
        Some(p) => match p.result::<Value>() {
            Some(v) => v,
            None => Ok(Value::new_undefined(ctx.clone())),
        },
        None => Ok(r),
    }
}

fn call_once(
    ctx: &Ctx<'_>,
    vu: &VuScript,
    func: &str,
    arg: Option<&str>,
) -> Result<Option<String>, String> {
    let run = || -> rquickjs::Result<Option<String>> {
        let ex = vu.exports(ctx)?;
        let Some(f) = ex.get::<_, Option<Function>>(func)? else {
            return Ok(None);
        };
        let arg: Value = match arg {
            Some(a) => ctx.json_parse(a.as_bytes().to_vec())?,
            None => Value::new_undefined(ctx.clone()),
        };
        let r: Value = f.call((arg,))?;
        let r = settle(ctx, r)?;
        if r.is_undefined() {
            return Ok(None);
        }
        ctx.json_stringify(r)?.map(|s| s.to_string()).transpose()
    };
    run().map_err(|e| describe(ctx, e))
}

/// A JavaScript value as tag text.
fn tag_text(v: &Value<'_>) -> String {
    if let Some(s) = v.as_string() {
        return s.to_string().unwrap_or_default();
    }
    if let Some(b) = v.as_bool() {
        return b.to_string();
    }
    if let Some(n) = v.as_number() {
        return if n.fract() == 0.0 && n.abs() < 9e15 {
            format!("{}", n as i64)
        } else {
            n.to_string()
        };
    }
    String::new()
}

fn tags_of(obj: Option<Object<'_>>, into: &mut Vec<(String, String)>) -> rquickjs::Result<()> {
    if let Some(o) = obj {
        for p in o.props::<String, Value>() {
            let (k, v) = p?;
            into.push((k, tag_text(&v)));
        }
    }
    Ok(())
}

fn throw(ctx: &Ctx<'_>, msg: &str) -> rquickjs::Error {
    Exception::throw_message(ctx, msg)
}

/// `params.timeout`: milliseconds or a duration (`"10s"`).
fn parse_timeout(s: &str) -> Option<Duration> {
    if let Ok(ms) = s.trim().parse::<f64>() {
        return (ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0));
    }
    throng_metrics::duration::parse_duration(s).ok()
}

/// The natives object `__n`, one for all the VUs of a context: each call acts for the VU
/// running now ([`Running`]). Closures hold the suspender, never a context.
fn natives<'js>(
    ctx: &Ctx<'js>,
    shared: &Arc<crate::shared::Shared>,
    sus: &Rc<Suspender>,
) -> rquickjs::Result<Object<'js>> {
    let n = Object::new(ctx.clone())?;
    let shared = shared.clone();
    let st = &Running(sus.clone());
    let s = st.clone();
    n.set(
        "log",
        Function::new(ctx.clone(), move |level: String, msg: String| {
            let id = s.st().borrow().id;
            match level.as_str() {
                "error" => tracing::error!(target: "console", vu = id, "{msg}"),
                "warn" => tracing::warn!(target: "console", vu = id, "{msg}"),
                "debug" => tracing::debug!(target: "console", vu = id, "{msg}"),
                _ => tracing::info!(target: "console", vu = id, "{msg}"),
            }
        })?,
    )?;
    let (s, sh) = (st.clone(), shared.clone());
    n.set(
        "check",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>, name: String, ok: bool, tags: Option<Object<'_>>| {
                let st = s.st();
                let mut state = st.borrow_mut();
                if state.init {
                    return Err(throw(&ctx, "check() is not available in the init context"));
                }
                let reg = &sh.registry;
                let metric = reg.builtin().checks;
                let tid = if tags.is_none() {
                    let key = (state.group.clone(), name.clone());
                    match state.check_tags.get(&key) {
                        Some(t) => *t,
                        None => {
                            let mut t = state.base_tags();
                            t.push(("check".into(), name));
                            let id = reg.intern(TagSet::new(t));
                            state.check_tags.insert(key, id);
                            id
                        }
                    }
                } else {
                    let mut t = state.base_tags();
                    t.push(("check".into(), name));
                    tags_of(tags, &mut t)?;
                    reg.intern(TagSet::new(t))
                };
                reg.add(metric, tid, if ok { 1.0 } else { 0.0 });
                Ok(())
            },
        )?,
    )?;
    let s = st.clone();
    n.set(
        "groupEnter",
        Function::new(ctx.clone(), move |ctx: Ctx<'_>, name: String| {
            let st = s.st();
            let mut state = st.borrow_mut();
            if state.init {
                return Err(throw(&ctx, "group() is not available in the init context"));
            }
            if name.contains("::") {
                return Err(throw(&ctx, "group names may not contain '::'"));
            }
            let len = state.group.len();
            state.groups.push((len, Instant::now()));
            state.group.push_str("::");
            state.group.push_str(&name);
            Ok(())
        })?,
    )?;
    let (s, sh) = (st.clone(), shared.clone());
    n.set(
        "groupExit",
        Function::new(ctx.clone(), move || {
            let st = s.st();
            let mut state = st.borrow_mut();
            if let Some((len, t0)) = state.groups.pop() {
                let reg = &sh.registry;
                let tid = reg.intern(TagSet::new(state.base_tags()));
                reg.add(
                    reg.builtin().group_duration,
                    tid,
                    t0.elapsed().as_secs_f64() * 1000.0,
                );
                state.group.truncate(len);
            }
        })?,
    )?;
    let (s, su) = (st.clone(), sus.clone());
    n.set(
        "sleep",
        Function::new(ctx.clone(), move |ctx: Ctx<'_>, secs: f64| {
            if s.st().borrow().init {
                return Err(throw(&ctx, "sleep() is not available in the init context"));
            }
            let d = Duration::try_from_secs_f64(secs).unwrap_or(Duration::ZERO);
            match su.suspend(Op::Sleep(d)) {
                In::Done => Ok(()),
                _ => Err(throw(&ctx, "the iteration was interrupted")),
            }
        })?,
    )?;
    let s = st.clone();
    n.set(
        "expected",
        Function::new(ctx.clone(), move |ranges: Option<Vec<Vec<u16>>>| {
            let r: Vec<(u16, u16)> = ranges
                .unwrap_or_else(|| vec![vec![200, 399]])
                .into_iter()
                .filter_map(|p| Some((*p.first()?, *p.get(1)?)))
                .collect();
            s.st().borrow_mut().expected = Arc::from(r);
        })?,
    )?;
    let (s, sh) = (st.clone(), shared.clone());
    n.set(
        "metric",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>, name: String, kind: String, time: bool| {
                let st = s.st();
                let mut state = st.borrow_mut();
                if !state.init {
                    return Err(throw(&ctx, "metrics can only be made in the init context"));
                }
                let kind = match kind.as_str() {
                    "counter" => MetricKind::Counter,
                    "gauge" => MetricKind::Gauge,
                    "rate" => MetricKind::Rate,
                    _ => MetricKind::Trend,
                };
                let vt = if time {
                    ValueType::Time
                } else {
                    ValueType::Default
                };
                let Some(id) = sh.registry.define(&name, kind, vt) else {
                    return Err(throw(
                        &ctx,
                        &format!("metric `{name}` already exists with another type"),
                    ));
                };
                state.metrics.push(MetricDecl { name, kind, time });
                state.metric_ids.push(id);
                Ok(state.metric_ids.len() - 1)
            },
        )?,
    )?;
    let (s, sh) = (st.clone(), shared.clone());
    n.set(
        "add",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>, idx: usize, value: f64, tags: Option<Object<'_>>| {
                let st = s.st();
                let state = st.borrow();
                if state.init {
                    return Err(throw(
                        &ctx,
                        "metrics cannot be added to in the init context",
                    ));
                }
                let Some(&m) = state.metric_ids.get(idx) else {
                    return Err(throw(&ctx, "no such metric"));
                };
                if value.is_nan() {
                    return Err(throw(&ctx, "a metric's value must be a number"));
                }
                let mut t = state.base_tags();
                tags_of(tags, &mut t)?;
                let reg = &sh.registry;
                reg.add(m, reg.intern(TagSet::new(t)), value);
                Ok(())
            },
        )?,
    )?;
    let s = st.clone();
    n.set(
        "info",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| {
            let st = s.st();
            let state = st.borrow();
            let o = Object::new(ctx)?;
            o.set("vu", state.id)?;
            o.set("iter", state.iter)?;
            o.set("scenario", state.scenario.as_str())?;
            o.set("scenarioIter", state.scenario_iter)?;
            Ok::<_, rquickjs::Error>(o)
        })?,
    )?;
    let (s, sh) = (st.clone(), shared.clone());
    n.set(
        "open",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, file: String, mode: Option<String>| {
                if !s.st().borrow().init {
                    return Err(throw(&ctx, "open() is only available in the init context"));
                }
                let bytes = sh.open(&file).map_err(|e| throw(&ctx, &e))?;
                if mode.as_deref() == Some("b") {
                    // k6: the file's bytes as an ArrayBuffer
                    return Ok(rquickjs::ArrayBuffer::new_copy(ctx.clone(), &bytes[..])?.into_value());
                }
                match std::str::from_utf8(&bytes) {
                    Ok(t) => Ok(rquickjs::String::from_str(ctx.clone(), t)?.into_value()),
                    Err(_) => Err(throw(
                        &ctx,
                        &format!("open({file:?}): the file is not UTF-8 text; open it with open(file, 'b')"),
                    )),
                }
            },
        )?,
    )?;
    let (s, sh, su) = (st.clone(), shared.clone(), sus.clone());
    n.set(
        "http",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  method: String,
                  url: String,
                  body: Value<'js>,
                  ct: Option<String>,
                  params: Option<Object<'js>>| {
                http(&ctx, &s.st(), &sh, &su, method, url, body, ct, params)
            },
        )?,
    )?;
    let sh = shared.clone();
    n.set(
        "abort",
        Function::new(ctx.clone(), move |ctx: Ctx<'_>, msg: Option<String>| {
            // in the init code too: k6 stops the test there as well (exit 108)
            if let Ok(mut r) = sh.abort_reason.lock() {
                r.get_or_insert_with(|| msg.clone().unwrap_or_default());
            }
            sh.abort.cancel();
            let text = match msg {
                Some(m) => format!("test aborted: {m}"),
                None => "test aborted".to_string(),
            };
            Err::<(), _>(throw(&ctx, &text))
        })?,
    )?;
    let s = st.clone();
    n.set(
        "vu",
        Function::new(ctx.clone(), move || s.st().borrow().id)?,
    )?;
    let s = st.clone();
    n.set(
        "iter",
        Function::new(ctx.clone(), move || s.st().borrow().iter)?,
    )?;
    let s = st.clone();
    n.set(
        "seed",
        Function::new(ctx.clone(), move |seed: f64| {
            // ToUint32, as `seed >>> 0`
            let seed = if seed.is_finite() {
                seed.trunc().rem_euclid(4_294_967_296.0) as u32
            } else {
                0
            };
            s.st().borrow_mut().seed = Some(seed);
        })?,
    )?;
    let s = st.clone();
    n.set(
        "newJar",
        Function::new(ctx.clone(), move || {
            let st = s.st();
            let mut state = st.borrow_mut();
            state.jars = state.jars.saturating_add(1);
            state.jars
        })?,
    )?;
    let s = st.clone();
    n.set(
        "random",
        Function::new(ctx.clone(), move || s.st().borrow_mut().random())?,
    )?;
    // the natives of the modules the script uses (each costs every VU a function object)
    let script = &shared.script;
    if script.mentions("k6/crypto") {
        crate::crypto::register(ctx, &n)?;
    }
    if script.mentions("k6/data") {
        crate::data::register(ctx, &n, &shared)?;
    }
    if script.mentions("k6/http") {
        crate::batch::register(ctx, &n, st, &shared, sus)?;
        let s = st.clone();
        crate::cookies::register(ctx, &n, sus, move || s.st().borrow().init)?;
    }
    Ok(n)
}

/// `http.request`: suspends the VU while the driver sends the request.
#[allow(clippy::too_many_arguments)]
fn http<'js>(
    ctx: &Ctx<'js>,
    st: &St,
    shared: &crate::shared::Shared,
    sus: &Suspender,
    method: String,
    url: String,
    body: Value<'js>,
    ct: Option<String>,
    params: Option<Object<'js>>,
) -> rquickjs::Result<Array<'js>> {
    let (call, keep_body) = prepare(ctx, st, shared, method, url, body, ct, params)?;
    let r = match sus.suspend(Op::Http(Box::new(call))) {
        In::Http(r) => r,
        _ => return Err(throw(ctx, "the iteration was interrupted")),
    };
    answer(ctx, &r, keep_body)
}

/// What a response's body becomes in JavaScript (`params.responseType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// `null` (`responseType: 'none'`, `discardResponseBodies`).
    No,
    /// A string (k6's default).
    Text,
    /// An ArrayBuffer (`responseType: 'binary'`).
    Binary,
}

/// A request body from JavaScript: a string (UTF-8), an ArrayBuffer or a view of one
/// (its bytes), or an array of those (concatenated: a multipart body with binary files).
fn body_bytes<'js>(ctx: &Ctx<'js>, v: &Value<'js>) -> rquickjs::Result<bytes::Bytes> {
    // the common case, a string: its one copy out of QuickJS becomes the body
    if let Some(s) = v.as_string() {
        return Ok(bytes::Bytes::from(s.to_string()?.into_bytes()));
    }
    let mut out = Vec::new();
    body_into(ctx, v, &mut out, true)?;
    Ok(bytes::Bytes::from(out))
}

fn body_into<'js>(
    ctx: &Ctx<'js>,
    v: &Value<'js>,
    out: &mut Vec<u8>,
    top: bool,
) -> rquickjs::Result<()> {
    if v.is_null() || v.is_undefined() {
        return Ok(());
    }
    if let Some(s) = v.as_string() {
        out.extend_from_slice(s.to_string()?.as_bytes());
        return Ok(());
    }
    if let Some(b) = rquickjs::ArrayBuffer::from_value(v.clone()) {
        out.extend_from_slice(b.as_bytes().unwrap_or_default());
        return Ok(());
    }
    if let Some(o) = v.as_object() {
        if let Ok(buf) = o.get::<_, rquickjs::ArrayBuffer>("buffer") {
            let off: usize = o.get("byteOffset").unwrap_or(0);
            let len: usize = o.get("byteLength").unwrap_or(0);
            let all = buf.as_bytes().unwrap_or_default();
            if let Some(part) = all.get(off..off.saturating_add(len)) {
                out.extend_from_slice(part);
            }
            return Ok(());
        }
        if top {
            if let Some(parts) = o.as_array() {
                for p in parts.iter::<Value>() {
                    body_into(ctx, &p?, out, false)?;
                }
                return Ok(());
            }
        }
    }
    let text = tag_text(v);
    if text.is_empty() && !v.is_number() && !v.is_bool() {
        return Err(throw(
            ctx,
            "a request body must be a string, an ArrayBuffer or a typed array",
        ));
    }
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// A request of the script as the driver sends it, and what its body becomes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn prepare<'js>(
    ctx: &Ctx<'js>,
    st: &St,
    shared: &crate::shared::Shared,
    method: String,
    url: String,
    body: Value<'js>,
    ct: Option<String>,
    params: Option<Object<'js>>,
) -> rquickjs::Result<(HttpCall, Keep)> {
    if st.borrow().init {
        return Err(throw(
            ctx,
            "http requests are not available in the init context",
        ));
    }
    let m: http::Method = method
        .parse()
        .map_err(|_| throw(ctx, &format!("not an HTTP method: {method}")))?;
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut user_tags = Vec::new();
    let mut timeout = None;
    let body = body_bytes(ctx, &body)?;
    let mut keep_body = if shared.discard_bodies {
        Keep::No
    } else {
        Keep::Text
    };
    let mut max_redirects = None;
    let mut jar = 0;
    if let Some(p) = &params {
        max_redirects = p.get::<_, Option<u32>>("redirects")?;
        if let Some(j) = p.get::<_, Option<Object>>("jar")? {
            jar = j.get::<_, Option<u32>>("_id")?.unwrap_or(0);
        }
        if let Some(h) = p.get::<_, Option<Object>>("headers")? {
            tags_of(Some(h), &mut headers)?;
        }
        tags_of(p.get::<_, Option<Object>>("tags")?, &mut user_tags)?;
        if let Some(t) = p.get::<_, Option<Value>>("timeout")? {
            let text = tag_text(&t);
            timeout = Some(
                parse_timeout(&text)
                    .ok_or_else(|| throw(ctx, &format!("not a timeout: {text:?}")))?,
            );
        }
        match p.get::<_, Option<String>>("responseType")?.as_deref() {
            Some("none") => keep_body = Keep::No,
            Some("text") => keep_body = Keep::Text,
            Some("binary") => keep_body = Keep::Binary,
            _ => {}
        }
    }
    if let Some(ct) = ct {
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".into(), ct));
        }
    }
    let (tags, expected, lateness_ms) = {
        let mut s = st.borrow_mut();
        let tags = if user_tags.is_empty() {
            match &s.last_tags {
                Some((m, u, g, t)) if *m == method && *u == url && *g == s.group => t.clone(),
                _ => {
                    let t = Arc::new(request_tags(&s, shared, &method, &url, Vec::new()));
                    s.last_tags = Some((method.clone(), url.clone(), s.group.clone(), t.clone()));
                    t
                }
            }
        } else {
            Arc::new(request_tags(&s, shared, &method, &url, user_tags))
        };
        (tags, s.expected.clone(), s.lateness_ms)
    };
    let call = HttpCall {
        req: HttpRequest {
            method: m,
            url,
            headers,
            body,
            timeout,
            keep_body: keep_body != Keep::No,
            keep_headers: true,
            max_redirects,
        },
        tags,
        expected,
        lateness_ms,
        jar,
    };
    Ok((call, keep_body))
}

/// A response as the natives' compact array (http.js's `Response` reads it).
pub(crate) fn answer<'js>(
    ctx: &Ctx<'js>,
    r: &throng_http::HttpResponse,
    keep_body: Keep,
) -> rquickjs::Result<Array<'js>> {
    let a = Array::new(ctx.clone())?;
    a.set(0, r.status)?;
    a.set(1, r.url.as_str())?;
    a.set(2, r.proto)?;
    match keep_body {
        Keep::Text => a.set(3, String::from_utf8_lossy(&r.body).as_ref())?,
        Keep::Binary => a.set(
            3,
            rquickjs::ArrayBuffer::new_copy(ctx.clone(), &r.body[..])?,
        )?,
        Keep::No => a.set(3, Value::new_null(ctx.clone()))?,
    }
    match r.error {
        Some(e) => {
            a.set(4, e.name())?;
            a.set(5, e.code())?;
        }
        None => {
            a.set(4, "")?;
            a.set(5, 0)?;
        }
    }
    let tm = &r.timings;
    for (i, v) in [
        tm.blocked,
        tm.connecting,
        tm.tls_handshaking,
        tm.sending,
        tm.waiting,
        tm.receiving,
    ]
    .into_iter()
    .enumerate()
    {
        a.set(6 + i, v)?;
    }
    // one "Name: value" line per header: JavaScript splits them if it reads them
    let mut h = String::with_capacity(r.headers.len() * 32);
    for (k, v) in r.headers.iter() {
        if !h.is_empty() {
            h.push('\n');
        }
        canonical(k.as_str(), &mut h);
        h.push_str(": ");
        h.push_str(v.to_str().unwrap_or_default());
    }
    a.set(12, h)?;
    Ok(a)
}

/// A request's tags: the VU's, `method`, `url`, `name` (the URL unless the script's tags
/// name it) and the script's.
fn request_tags(
    s: &State,
    shared: &crate::shared::Shared,
    method: &str,
    url: &str,
    user: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut tags = s.base_tags();
    tags.push(("method".into(), method.to_string()));
    match user.iter().find(|(k, _)| k == "name") {
        // a request named by the script is aggregated under its name: its `url` tag is
        // the name too (as a YAML plan's), so URLs made per request (`/items/${id}`)
        // do not make a series each
        Some((_, name)) => tags.push(("url".into(), name.clone())),
        None => {
            let u = shared.url_tag(url);
            tags.push(("url".into(), u.clone()));
            tags.push(("name".into(), u));
        }
    }
    tags.extend(user);
    tags
}

/// `content-type` as Go (and so k6) writes it: `Content-Type`.
fn canonical(name: &str, out: &mut String) {
    let mut up = true;
    for c in name.chars() {
        out.push(if up { c.to_ascii_uppercase() } else { c });
        up = c == '-';
    }
}
