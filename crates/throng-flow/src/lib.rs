//! throng-flow: the YAML step interpreter. A [`FlowWorkload`] runs one scenario's flow of
//! requests, sleeps, groups, conditions, weighted choices and loops as a throng-engine
//! [`Workload`]; [`run_once`] runs a flow once around the load (setup, teardown, preflight)
//! and [`timeline`] runs the plan's actions on the run's clock.
#![warn(missing_docs)]

mod checks;
mod debug;
mod host;
mod once;
mod proto;
mod record;
mod reflect;
mod request;
mod rows;
mod sources;
mod step;
mod tags;
pub mod timeline;

pub use debug::{HttpDebug, HttpDebugMode};
pub use host::{BoxFuture, ScriptHost};
pub use once::{run_once, run_preflight, OnceOutcome, OnceRun, PollResult};
pub use record::HttpMetrics;
pub use reflect::discover_grpc_methods;
pub use sources::SourceClient;

use checks::{evaluate_checks, extract_values, ParsedBody};
use rows::Rows;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tags::{FStep, Prepared, ReqInfo, TagCache};
use throng_engine::hot::region_of;
use throng_engine::{IterFuture, IterInfo, IterOutcome, RunFuture, Turns, Vu, VuInit, Workload};
use throng_http::{HttpClient, HttpRequest, HttpResponse, SharedConfig};
use throng_metrics::{MetricId, Registry};
use throng_plan::{DataCursor, Plan, RenderCtx, Step, Template};

/// What a flow runs with, beside the plan: the run's registry, HTTP settings, the
/// run-wide `{{seq}}` counter, the data cursors every flow of the run shares, and the
/// values `setup:` extracted.
#[derive(Clone)]
pub struct FlowEnv {
    /// Where samples go.
    pub registry: Registry,
    /// The HTTP client settings.
    pub http: Arc<SharedConfig>,
    /// The run-wide `{{seq}}` counter.
    pub seq: Arc<AtomicU64>,
    /// Where the run is in each data source (from [`DataCursor::for_sets`]).
    pub cursors: Arc<[DataCursor]>,
    /// The values of the plan's `setup_vars` (`setup.NAME`), in order; empty before setup.
    pub setup_values: Arc<[String]>,
    /// Prints every request and response (`--http-debug`), if set.
    pub debug: Option<Arc<HttpDebug>>,
    /// The clients of the plan's `data_sources:`, shared by every flow of the run.
    pub sources: Arc<[SourceClient]>,
}

impl FlowEnv {
    /// An environment with fresh cursors, a new counter and no setup values.
    pub fn new(plan: &Plan, registry: Registry, http: Arc<SharedConfig>) -> FlowEnv {
        FlowEnv {
            registry,
            http,
            seq: Arc::new(AtomicU64::new(0)),
            cursors: DataCursor::for_sets(&plan.data),
            setup_values: Arc::from(Vec::new()),
            debug: None,
            sources: SourceClient::for_plan(plan),
        }
    }
}

/// Shared, read-only state of one flow (a scenario's, or one run once).
struct FlowShared {
    plan: Arc<Plan>,
    env: FlowEnv,
    http_metrics: HttpMetrics,
    checks_metric: MetricId,
    group_metric: MetricId,
    /// `{{scenario}}`: the scenario's name (or the phase of a flow run once).
    label: String,
    prepared: Prepared,
    /// The flow has a top-level `sleep:` (its iterations run stretch by stretch, see
    /// `run_paced`): decided once at load, not per iteration.
    paced: bool,
    /// Variables of the flow; the first `persistent` keep their values across iterations.
    n_vars: usize,
    persistent: usize,
    /// Data sources whose row is picked per iteration.
    data_used: Vec<usize>,
    /// Which random stream its VUs draw from (with `--seed`): the scenario's index, or a
    /// number of the phase for flows run once.
    stream: u64,
}

/// What a flow is made of, to build its [`FlowShared`].
struct FlowParts<'a> {
    label: String,
    common_tags: Vec<(String, String)>,
    steps: &'a [Step],
    init: &'a [Step],
    n_vars: usize,
    persistent: usize,
    data_used: Vec<usize>,
    stream: u64,
}

impl FlowShared {
    /// A VU's render context: its number, iteration, picked rows, variables and random
    /// stream, with the scenario's name and the run's `seq`.
    fn render_cx<'a>(
        &'a self,
        vu: u64,
        iter: u64,
        rows: &'a [Option<&'a [String]>],
        vars: &'a [String],
        rng: &'a mut fastrand::Rng,
    ) -> RenderCtx<'a> {
        RenderCtx {
            vu,
            iter,
            scenario: &self.label,
            rows,
            vars,
            rng,
            seq: &self.env.seq,
            row: None,
            now: None,
        }
    }

    fn new(plan: Arc<Plan>, env: FlowEnv, parts: FlowParts<'_>) -> FlowShared {
        let reg = &env.registry;
        let prepared = tags::prepare(parts.steps, parts.init, &parts.common_tags, reg);
        let b = reg.builtin().clone();
        let paced = prepared.steps.iter().any(|s| matches!(s, FStep::Sleep(..)));
        FlowShared {
            paced,
            http_metrics: HttpMetrics::new(reg),
            checks_metric: b.checks,
            group_metric: b.group_duration,
            label: parts.label,
            prepared,
            n_vars: parts.n_vars,
            persistent: parts.persistent,
            data_used: parts.data_used,
            stream: parts.stream,
            plan,
            env,
        }
    }

    fn new_vu(self: &Arc<Self>, id: u64) -> FlowVu {
        // the flow's variables, then this response's `status` and `duration` for `add:`
        let mut vars = vec![String::new(); self.n_vars + throng_plan::RESPONSE_VARS.len()];
        for (slot, v) in vars.iter_mut().zip(self.env.setup_values.iter()) {
            slot.clone_from(v);
        }
        FlowVu {
            id,
            client: HttpClient::new(self.env.http.clone()),
            // one stream per flow and VU, repeatable with --seed
            rng: throng_plan::stream_rng(self.plan.seed, &[self.stream, id]),
            vars,
            rows: vec![None; self.plan.data.len()],
            tags: TagCache::default(),
            shared: self.clone(),
            buf: String::new(),
            body: bytes::BytesMut::new(),
            req: HttpRequest::default(),
            built: None,
            resp: None,
            lateness_ms: None,
            initialized: false,
            tally: None,
            protos: None,
        }
    }
}

/// A scenario's flow as a workload.
pub struct FlowWorkload {
    shared: Arc<FlowShared>,
}

impl FlowWorkload {
    /// Prepares scenario `scenario` of `plan`: resolves every tag set and metric up front.
    /// Rows of data sources are picked with `env.cursors`, which every scenario of one run
    /// shares (so a `sequential` source continues and a `unique` row is used once
    /// run-wide); VUs start with `env.setup_values` as their `setup.NAME` values.
    pub fn new(plan: Arc<Plan>, scenario: usize, env: FlowEnv) -> FlowWorkload {
        let sc = &plan.scenarios[scenario];
        let parts = FlowParts {
            label: sc.name.clone(),
            common_tags: throng_metrics::scenario_tags(&plan.http.tags, &sc.tags, &sc.name),
            steps: &sc.flow,
            init: &sc.vu_init,
            n_vars: sc.vars.len(),
            persistent: sc.persistent_vars,
            data_used: sc.data_used.clone(),
            stream: scenario as u64,
        };
        let shared = FlowShared::new(plan.clone(), env, parts);
        FlowWorkload {
            shared: Arc::new(shared),
        }
    }
}

impl Workload for FlowWorkload {
    fn new_vu(&self, init: VuInit) -> Box<dyn Vu> {
        Box::new(self.shared.new_vu(init.id))
    }
}

/// What a flow run once saw go wrong (setup, teardown, actions).
#[derive(Default)]
struct Tally {
    /// One line per failed request or check.
    failures: Vec<String>,
    /// Every poll (`until:`) that ran, in order.
    polls: Vec<PollResult>,
    /// The last response: status and request, for messages.
    last: Option<String>,
}

/// One VU running a flow.
#[repr(C, align(64))]
struct FlowVu {
    // The fields every request reads come first, in declaration order (`repr(C)`), then
    // the client (its own such fields first): with a thousand VUs a request's cost is
    // mostly the cache lines of VU state it touches (see bench/notes.md). On lines of its
    // own (`align(64)`), so that they are as few as its layout says.
    /// The request being sent, rendered again in place for each request.
    req: HttpRequest,
    /// The fixed request (see `ReqInfo::fixed`) `req` holds, by index: sent again as it is.
    built: Option<u32>,
    /// The last response, written again in place by the next request (boxed: a VU that
    /// sleeps lets it go before its sleeps, see `run_paced`).
    resp: Option<Box<HttpResponse>>,
    /// How late this iteration started against its schedule, ms (open-model executors).
    lateness_ms: Option<f64>,
    /// Kept only when the flow runs once, to judge it.
    tally: Option<Box<Tally>>,
    shared: Arc<FlowShared>,
    buf: String,
    vars: Vec<String>,
    rows: Vec<Option<usize>>,
    tags: TagCache,
    client: HttpClient,
    id: u64,
    rng: fastrand::Rng,
    /// Where request bodies are rendered, lent to each request and reclaimed by the next.
    body: bytes::BytesMut,
    /// `vu_init:` has run.
    initialized: bool,
    /// Clients of other protocols (`ws:`, `grpc:`, `sql:`), made on first use: boxed,
    /// so a VU that speaks only HTTP holds 8 bytes for them, not 360.
    protos: Option<Box<proto::ProtoClients>>,
}

impl FlowVu {
    /// Tells the engine where this VU's state is (see `throng_engine::hot`): the VU, its
    /// last response, the request's URL, and the client's connection. Cheap when nothing
    /// moved (a compare per region).
    fn hint(&self, turns: &dyn Turns) {
        turns.hint(0, region_of(self));
        let resp = self.resp.as_deref().map_or((0, 0), region_of);
        turns.hint(1, resp);
        let url = self.resp.as_deref().map_or("", |r| r.url.as_str());
        turns.hint(2, (url.as_ptr() as usize, url.len()));
        turns.hint(3, (self.req.url.as_ptr() as usize, self.req.url.len()));
        let mut slot = 4;
        self.client.hot(|region| {
            turns.hint(slot, region);
            slot += 1;
        });
    }
}

impl Vu for FlowVu {
    fn iteration(&mut self, info: IterInfo) -> IterFuture<'_> {
        self.set_lateness(&info);
        if self.shared.paced {
            // a flow that sleeps: the future held while the VU sleeps is this small one
            // (with the timer), not one sized for a request (see `run_paced`)
            return Box::pin(async move {
                let shared = self.shared.clone();
                if let Err(e) = self.begin_iteration(&shared) {
                    return IterOutcome::Failed(e);
                }
                self.run_paced(&shared, &shared.prepared.steps, info.iter)
                    .await;
                self.end_iteration(&shared);
                IterOutcome::Completed
            });
        }
        Box::pin(async move {
            let shared = self.shared.clone();
            if let Err(e) = self.begin_iteration(&shared) {
                return IterOutcome::Failed(e);
            }
            self.run_steps(&shared, &shared.prepared.steps, info.iter)
                .await;
            self.end_iteration(&shared);
            IterOutcome::Completed
        })
    }

    /// Iterations back to back in one future: the request's future inside it is
    /// kilobytes, which one boxed future per iteration allocated and copied every time. A
    /// flow that sleeps runs `run_paced`, whose future stays small while the VU sleeps.
    fn run<'a>(&'a mut self, turns: &'a mut dyn Turns) -> RunFuture<'a> {
        // one loop, two bodies: each future is sized for its own
        macro_rules! iterations {
            ($steps:ident) => {
                throng_engine::run_future(async move {
                    let shared = self.shared.clone();
                    self.hint(turns);
                    while let Some(info) = turns.next() {
                        self.set_lateness(&info);
                        let out = match self.begin_iteration(&shared) {
                            Err(e) => IterOutcome::Failed(e),
                            Ok(()) => {
                                self.$steps(&shared, &shared.prepared.steps, info.iter)
                                    .await;
                                self.end_iteration(&shared);
                                IterOutcome::Completed
                            }
                        };
                        turns.done(out);
                        self.hint(turns);
                        // iterations that never wait (each fails before it is sent: an
                        // invalid URL) would keep the thread, and nothing else on it would
                        // run (Ctrl-C, a threshold's abort, the other VUs): each iteration
                        // spends a unit of the task's budget, and one that finds it spent
                        // lets the others have the thread (a VU that waits never does)
                        tokio::task::consume_budget().await;
                    }
                })
            };
        }
        if self.shared.paced {
            iterations!(run_paced)
        } else {
            iterations!(run_steps)
        }
    }

    fn init(&mut self) -> Option<IterFuture<'_>> {
        if self.initialized || self.shared.prepared.init.is_empty() {
            return None;
        }
        self.initialized = true;
        Some(Box::pin(async move {
            let shared = self.shared.clone();
            if let Err(e) = self.pick_rows(&shared) {
                return IterOutcome::Failed(e);
            }
            self.lateness_ms = None;
            self.run_steps(&shared, &shared.prepared.init, 0).await;
            IterOutcome::Completed
        }))
    }
}

impl FlowVu {
    /// How late an arrival's iteration starts against its schedule.
    fn set_lateness(&mut self, info: &IterInfo) {
        self.lateness_ms = info
            .intended_start
            .map(|due| Instant::now().saturating_duration_since(due).as_secs_f64() * 1000.0);
    }

    /// Clears the variables that do not persist and picks the iteration's data rows.
    fn begin_iteration(&mut self, shared: &FlowShared) -> Result<(), String> {
        for v in self.vars.iter_mut().skip(shared.persistent) {
            v.clear();
        }
        self.pick_rows(shared)
    }

    /// The VU's clients of other protocols, made on first use.
    fn protos(&mut self) -> &mut proto::ProtoClients {
        self.protos.get_or_insert_with(Box::default)
    }

    /// Closes the connections after an iteration when keep-alive is off.
    fn end_iteration(&mut self, shared: &FlowShared) {
        if !shared.plan.http.keepalive {
            self.client.close_all();
            if let Some(p) = self.protos.as_mut() {
                p.close_all();
            }
        }
    }

    /// Picks this iteration's row of every data source the flow reads.
    fn pick_rows(&mut self, shared: &FlowShared) -> Result<(), String> {
        for &src in &shared.data_used {
            let ds = &shared.plan.data[src];
            match shared.env.cursors[src].next_row(ds, &mut self.rng) {
                Some(r) => self.rows[src] = Some(r),
                None => {
                    return Err(format!(
                        "data source `{}` has no rows left (pick: unique)",
                        ds.name
                    ))
                }
            }
        }
        Ok(())
    }

    /// Renders `t` in this VU's context and says whether it holds.
    fn holds(&mut self, shared: &FlowShared, t: &Template, iter: u64) -> bool {
        let plan = &shared.plan;
        let rows = Rows::of(&self.rows, &plan.data);
        let mut cx = shared.render_cx(self.id, iter, rows.as_slice(), &self.vars, &mut self.rng);
        t.render_truthy(&mut cx)
    }

    /// Runs `steps` in order. Requests and sleeps run in this future; a step holding steps
    /// of its own runs in a boxed future of its own (the recursion needs one), so a flat
    /// flow allocates no future per step.
    #[allow(clippy::manual_async_fn)] // its future keeps the arguments once, not twice
    fn run_steps<'a>(
        &'a mut self,
        shared: &'a FlowShared,
        steps: &'a [FStep],
        iter: u64,
    ) -> impl Future<Output = ()> + Send + 'a {
        // an `async` block (here and in `request`, `send` and the HTTP client's layers): an
        // `async fn` keeps its arguments twice in its future (as arguments, then again as
        // locals), this block once; every VU holds the future, and at 1,000 VUs each cache
        // line of it is a miss per request
        async move {
            for step in steps {
                match step {
                    FStep::Request(i) => {
                        self.request(shared, &shared.prepared.reqs[*i], iter).await
                    }
                    FStep::Sleep(min, max) => {
                        tokio::time::sleep(self.sleep_time(*min, *max)).await;
                    }
                    nested => self.run_nested(shared, nested, iter).await,
                }
            }
        }
    }

    /// Runs `steps` (some of them sleeps) with each stretch between two sleeps in a boxed
    /// future of its own, dropped before the sleep: a VU asleep holds this future (a
    /// pointer and the timer; the iteration's box is 240 bytes in a debug build) instead
    /// of one sized for the largest step (a request's; 3.1 KB), which was most of a
    /// sleeping VU's memory. The cost is one allocation per stretch, next to a timer that
    /// sleeps for milliseconds at least. Sleeps inside groups and loops still run in their
    /// step's future.
    async fn run_paced(&mut self, shared: &FlowShared, steps: &[FStep], iter: u64) {
        let mut rest = steps;
        while !rest.is_empty() {
            let stretch = rest
                .iter()
                .position(|s| matches!(s, FStep::Sleep(..)))
                .unwrap_or(rest.len());
            if stretch > 0 {
                Box::pin(self.run_steps(shared, &rest[..stretch], iter)).await;
            }
            if let Some(FStep::Sleep(min, max)) = rest.get(stretch) {
                // asleep, the VU holds no response (its URL buffer goes back to the client)
                if let Some(r) = self.resp.take() {
                    self.client.recycle(*r);
                }
                tokio::time::sleep(self.sleep_time(*min, *max)).await;
            }
            rest = rest.get(stretch + 1..).unwrap_or_default();
        }
    }

    /// How long a `sleep:` step sleeps: `min`, or uniformly between `min` and `max`.
    fn sleep_time(&mut self, min: Duration, max: Duration) -> Duration {
        if max > min {
            let span = (max - min).as_nanos() as u64;
            min + Duration::from_nanos(self.rng.u64(0..=span))
        } else {
            min
        }
    }

    /// A step holding steps of its own (group, condition, choice, loop, transaction) or of
    /// another protocol.
    fn run_nested<'a>(
        &'a mut self,
        shared: &'a FlowShared,
        step: &'a FStep,
        iter: u64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            match step {
                FStep::Request(_) | FStep::Sleep(..) => {
                    self.run_steps(shared, std::slice::from_ref(step), iter)
                        .await
                }
                FStep::Group { steps, tags } => {
                    let t0 = Instant::now();
                    self.run_steps(shared, steps, iter).await;
                    shared.env.registry.add(
                        shared.group_metric,
                        *tags,
                        t0.elapsed().as_secs_f64() * 1000.0,
                    );
                }
                FStep::If { cond, step } => {
                    if self.holds(shared, cond, iter) {
                        self.run_steps(shared, std::slice::from_ref(&**step), iter)
                            .await;
                    }
                }
                FStep::Choose {
                    cumulative,
                    branches,
                } => {
                    let total = cumulative.last().copied().unwrap_or(0.0);
                    let x = self.rng.f64() * total;
                    let i = cumulative
                        .iter()
                        .position(|c| x < *c)
                        .unwrap_or(branches.len().saturating_sub(1));
                    if let Some(b) = branches.get(i) {
                        self.run_steps(shared, b, iter).await;
                    }
                }
                FStep::Repeat(r) => self.repeat(shared, r, iter).await,
                FStep::Transaction(t) => self.transaction(shared, t, iter).await,
                FStep::Proto(i) => {
                    self.proto_step(shared, &shared.prepared.protos[*i], iter)
                        .await
                }
            }
        })
    }

    /// A `repeat:` loop: passes until `until` holds or a bound ends it. Ending by a bound
    /// is a success only for a loop without `until`.
    async fn repeat(&mut self, shared: &FlowShared, r: &tags::FRepeat, iter: u64) {
        let spec = &r.spec;
        let t0 = Instant::now();
        let mut passes = 0u64;
        let ok = loop {
            self.run_steps(shared, &r.steps, iter).await;
            passes += 1;
            if let Some(u) = &spec.until {
                if self.holds(shared, u, iter) {
                    break true;
                }
            }
            let bounded_out =
                spec.times.is_some_and(|t| passes >= t) || spec.max.is_some_and(|m| passes >= m);
            let remaining = spec.within.map(|w| w.saturating_sub(t0.elapsed()));
            if bounded_out || remaining == Some(Duration::ZERO) {
                break spec.until.is_none();
            }
            let pause = remaining.map_or(spec.every, |left| left.min(spec.every));
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            } else {
                // passes that never wait must not keep the thread (see `run`)
                tokio::task::consume_budget().await;
            }
        };
        let reg = &shared.env.registry;
        if spec.until.is_some() {
            reg.add(
                shared.checks_metric,
                r.check_tags,
                if ok { 1.0 } else { 0.0 },
            );
            if !ok {
                if let Some(t) = self.tally.as_mut() {
                    t.failures.push(format!(
                        "{} did not hold after {passes} passes ({:.0} ms)",
                        spec.label,
                        t0.elapsed().as_secs_f64() * 1000.0
                    ));
                }
            }
        }
        if ok {
            if let Some((m, tags)) = r.trend {
                reg.add(m, tags, t0.elapsed().as_secs_f64() * 1000.0);
            }
        }
    }

    /// Sends one request (again and again while its `until:` does not hold), records it,
    /// then checks and extracts from the final response.
    #[allow(clippy::manual_async_fn)] // its future keeps the arguments once, not twice
    fn request<'a>(
        &'a mut self,
        shared: &'a FlowShared,
        ri: &'a ReqInfo,
        iter: u64,
    ) -> impl Future<Output = ()> + Send + 'a {
        async move {
            let poll = ri.req.poll.as_ref();
            // the clock is read for polls only (a plain request is timed by its client)
            let t0 = poll.map(|_| Instant::now());
            let mut tries = 0u64;
            // the response stays where it is written: a box kept from request to request
            let mut resp = self.resp.take().unwrap_or_default();
            loop {
                self.send(shared, ri, iter, &mut resp).await;
                tries += 1;
                let (Some(p), Some(t0)) = (poll, t0) else {
                    break;
                };
                let mut met = true;
                let mut body = ParsedBody::new(&resp.body);
                evaluate_checks(&p.until, &*resp, &mut body, |_, ok| met &= ok);
                let remaining = p.within.map(|w| w.saturating_sub(t0.elapsed()));
                let out =
                    p.max_tries.is_some_and(|m| tries >= m) || remaining == Some(Duration::ZERO);
                if met || out {
                    let took_ms = t0.elapsed().as_secs_f64() * 1000.0;
                    self.poll_done(shared, ri, &resp, met, tries, took_ms);
                    break;
                }
                let pause = remaining.map_or(p.every, |left| left.min(p.every));
                tokio::time::sleep(pause).await;
            }
            if let Some(t) = self.tally.as_mut() {
                let what = format!("{} {}", ri.req.method, ri.req.name);
                t.last = Some(format!("{what}: {}", describe(&resp)));
                if !ri.req.expected.contains(resp.status) {
                    t.failures.push(format!("{what}: {}", describe(&resp)));
                }
            }
            if !ri.req.checks.is_empty() || !ri.req.extract.is_empty() {
                self.check_and_extract(shared, ri, &resp);
            }
            // after extracting, so an extracted number can be added
            if !ri.adds.is_empty() {
                self.add_to_metrics(shared, ri, &resp, iter);
            }
            self.resp = Some(resp);
        }
    }

    /// Evaluates the request's checks and extracts its values from the final response.
    fn check_and_extract(&mut self, shared: &FlowShared, ri: &ReqInfo, resp: &HttpResponse) {
        let reg = &shared.env.registry;
        let mut body = ParsedBody::new(&resp.body);
        let tally = &mut self.tally;
        evaluate_checks(&ri.req.checks, resp, &mut body, |i, ok| {
            reg.add(
                shared.checks_metric,
                ri.check_tags[i],
                if ok { 1.0 } else { 0.0 },
            );
            if let (false, Some(t)) = (ok, tally.as_mut()) {
                t.failures.push(format!(
                    "check `{}` failed on {} {} ({})",
                    ri.req.checks[i].name,
                    ri.req.method,
                    ri.req.name,
                    describe(resp)
                ));
            }
        });
        let client = &self.client;
        extract_values(
            &ri.req.extract,
            resp,
            &mut body,
            |name| client.cookie(&resp.url, name),
            &mut self.vars,
        );
    }

    /// Renders the request's `add:` values (with this response's `status` and `duration`)
    /// and records them: a number, or `true`/`false` as 1/0; empty adds nothing.
    fn add_to_metrics(
        &mut self,
        shared: &FlowShared,
        ri: &ReqInfo,
        resp: &HttpResponse,
        iter: u64,
    ) {
        let n = shared.n_vars;
        if let [status, duration] = &mut self.vars[n..] {
            status.clear();
            duration.clear();
            let _ = write!(status, "{}", resp.status);
            let _ = write!(duration, "{}", resp.timings.duration());
        }
        let rows = Rows::of(&self.rows, &shared.plan.data);
        for (a, &(metric, tags)) in ri.req.add.iter().zip(&ri.adds) {
            let mut cx =
                shared.render_cx(self.id, iter, rows.as_slice(), &self.vars, &mut self.rng);
            self.buf.clear();
            a.value.render(&mut cx, &mut self.buf);
            let v = match self.buf.trim() {
                "" => continue,
                "true" => 1.0,
                "false" => 0.0,
                t => match t.parse::<f64>() {
                    Ok(v) if v.is_finite() => v,
                    _ => {
                        if let Some(t) = self.tally.as_mut() {
                            t.failures.push(format!(
                                "add: `{}` is not a number for {}",
                                self.buf, a.metric
                            ));
                        }
                        continue;
                    }
                },
            };
            let reg = &shared.env.registry;
            let v = match a.kind {
                throng_metrics::MetricKind::Rate => f64::from(u8::from(v != 0.0)),
                _ => v,
            };
            reg.add(metric, tags, v);
        }
    }

    /// Records the verdict of a poll: its check, its trend (the time to the try that
    /// held) and, when run once, its result.
    fn poll_done(
        &mut self,
        shared: &FlowShared,
        ri: &ReqInfo,
        last: &HttpResponse,
        met: bool,
        tries: u64,
        took_ms: f64,
    ) {
        let reg = &shared.env.registry;
        if let Some(pi) = &ri.poll {
            reg.add(
                shared.checks_metric,
                pi.check_tags,
                if met { 1.0 } else { 0.0 },
            );
            if let (true, Some((m, tags))) = (met, pi.trend) {
                reg.add(m, tags, took_ms);
            }
        }
        if let Some(t) = self.tally.as_mut() {
            let label = ri.req.poll.as_ref().map(|p| p.label.as_str()).unwrap_or("");
            t.polls.push(PollResult {
                met,
                tries,
                took_ms,
                last: describe(last),
            });
            if !met {
                t.failures.push(format!(
                    "{} {}: {label} not seen after {tries} tries in {:.0} ms (last: {})",
                    ri.req.method,
                    ri.req.name,
                    took_ms,
                    describe(last)
                ));
            }
        }
    }

    /// Renders, sends and records one request (and every extra hop it took).
    #[allow(clippy::manual_async_fn)] // its future keeps the arguments once, not twice
    fn send<'a>(
        &'a mut self,
        shared: &'a FlowShared,
        ri: &'a ReqInfo,
        iter: u64,
        out: &'a mut HttpResponse,
    ) -> impl Future<Output = ()> + Send + 'a {
        async move {
            let plan = &shared.plan;
            // a fixed request this VU rendered last is still in `req`, as it was sent
            if !(ri.fixed && self.built == Some(ri.index)) {
                // in a block of its own: what rendering uses is not kept across the await
                // (in the future every VU in flight holds)
                let rows = Rows::of(&self.rows, &plan.data);
                let mut cx =
                    shared.render_cx(self.id, iter, rows.as_slice(), &self.vars, &mut self.rng);
                let scratch = (&mut self.buf, &mut self.body);
                request::build_into(plan, &ri.req, &ri.method, &mut cx, scratch, &mut self.req);
                self.built = ri.fixed.then_some(ri.index);
            }
            if let Some(d) = shared.env.debug.as_deref() {
                self.req.keep_headers = true;
                self.req.keep_body |= d.wants_body();
            }
            // what the hops' recording needs, and no more: the closure is a field of the
            // future every VU in flight holds
            let (tags, late) = (&mut self.tags, self.lateness_ms);
            let on_extra = move |hop: &HttpResponse| record(shared, ri, tags, hop, late, None);
            self.client.execute_into(&self.req, on_extra, out).await;
            let req = Some(&self.req);
            record(shared, ri, &mut self.tags, out, self.lateness_ms, req);
        }
    }
}

/// Records one response of request `ri` (a redirect hop, an attempt sent again, or the
/// final response: `req` is given for the final one) and prints it when debugging.
fn record(
    shared: &FlowShared,
    ri: &ReqInfo,
    tags: &mut TagCache,
    resp: &HttpResponse,
    late: Option<f64>,
    req: Option<&throng_http::HttpRequest>,
) {
    if let Some(d) = shared.env.debug.as_deref() {
        d.print(req, resp);
    }
    let reg = &shared.env.registry;
    let t = tags.get(reg, ri, resp);
    let failed = !ri.req.expected.contains(resp.status);
    shared.http_metrics.record(reg, t, resp, failed, late);
}

/// `status 200`, or the failure (`status 0, connection refused`), for messages.
fn describe(r: &HttpResponse) -> String {
    match r.error {
        Some(e) => format!("status {}, {}", r.status, e.name()),
        None => format!("status {}", r.status),
    }
}
