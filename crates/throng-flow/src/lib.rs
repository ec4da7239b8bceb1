//! throng-flow: the YAML step interpreter. A [`FlowWorkload`] runs one scenario's flow of
//! requests, sleeps and groups as a throng-engine [`Workload`].
#![warn(missing_docs)]

mod checks;
mod record;
mod request;
mod step;
mod tags;

use checks::{evaluate_checks, extract_values, ParsedBody};
use record::HttpMetrics;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};
use step::Protocol;
use tags::{FStep, ReqInfo, TagCache};
use throng_engine::{IterFuture, IterInfo, IterOutcome, Vu, VuInit, Workload};
use throng_http::{HttpClient, HttpResponse, SharedConfig};
use throng_metrics::{MetricId, Registry};
use throng_plan::{DataCursor, Plan, RenderCtx};

/// Shared, read-only state of one scenario's flow.
struct FlowShared {
    plan: Arc<Plan>,
    scenario: usize,
    registry: Registry,
    http: Arc<SharedConfig>,
    http_metrics: HttpMetrics,
    checks_metric: MetricId,
    group_metric: MetricId,
    seq: Arc<AtomicU64>,
    /// Where the run is in each data source (run state; the plan holds none).
    cursors: Arc<[DataCursor]>,
    steps: Vec<FStep>,
    reqs: Vec<ReqInfo>,
}

/// A scenario's flow as a workload.
pub struct FlowWorkload {
    shared: Arc<FlowShared>,
}

impl FlowWorkload {
    /// Prepares scenario `scenario` of `plan`: resolves every tag set and metric up front.
    /// `seq` is the run-wide `{{seq}}` counter shared by all scenarios. Rows of the plan's
    /// data sources are picked with cursors of this workload's own; scenarios that share
    /// them use [`FlowWorkload::with_data_cursors`].
    pub fn new(
        plan: Arc<Plan>,
        scenario: usize,
        registry: Registry,
        http: Arc<SharedConfig>,
        seq: Arc<AtomicU64>,
    ) -> FlowWorkload {
        let cursors = DataCursor::for_sets(&plan.data);
        FlowWorkload::with_data_cursors(plan, scenario, registry, http, seq, cursors)
    }

    /// Like [`FlowWorkload::new`], picking data rows with `cursors` (one per data source of
    /// `plan`, from [`DataCursor::for_sets`]): the run state that every scenario of one run
    /// shares, so a `sequential` source continues and a `unique` row is used once run-wide.
    pub fn with_data_cursors(
        plan: Arc<Plan>,
        scenario: usize,
        registry: Registry,
        http: Arc<SharedConfig>,
        seq: Arc<AtomicU64>,
        cursors: Arc<[DataCursor]>,
    ) -> FlowWorkload {
        let (steps, reqs) = tags::prepare(&plan, scenario, &registry);
        let b = registry.builtin().clone();
        FlowWorkload {
            shared: Arc::new(FlowShared {
                http_metrics: HttpMetrics::new(&registry),
                checks_metric: b.checks,
                group_metric: b.group_duration,
                plan,
                scenario,
                registry,
                http,
                seq,
                cursors,
                steps,
                reqs,
            }),
        }
    }
}

impl Workload for FlowWorkload {
    fn new_vu(&self, init: VuInit) -> Box<dyn Vu> {
        let sh = &self.shared;
        let sc = &sh.plan.scenarios[sh.scenario];
        Box::new(FlowVu {
            id: init.id,
            client: HttpClient::new(sh.http.clone()),
            // one stream per scenario and VU, repeatable with --seed
            rng: throng_plan::stream_rng(sh.plan.seed, &[sh.scenario as u64, init.id]),
            vars: vec![String::new(); sc.vars.len()],
            rows: vec![None; sh.plan.data.len()],
            tags: TagCache::default(),
            shared: sh.clone(),
            buf: String::new(),
            lateness_ms: None,
        })
    }
}

/// One VU running a flow.
struct FlowVu {
    id: u64,
    client: HttpClient,
    rng: fastrand::Rng,
    vars: Vec<String>,
    rows: Vec<Option<usize>>,
    tags: TagCache,
    shared: Arc<FlowShared>,
    buf: String,
    /// How late this iteration started against its schedule, ms (open-model executors).
    lateness_ms: Option<f64>,
}

impl Vu for FlowVu {
    fn iteration(&mut self, info: IterInfo) -> IterFuture<'_> {
        self.lateness_ms = info
            .intended_start
            .map(|due| Instant::now().saturating_duration_since(due).as_secs_f64() * 1000.0);
        Box::pin(async move {
            let shared = self.shared.clone();
            let sc = &shared.plan.scenarios[shared.scenario];
            for v in &mut self.vars {
                v.clear();
            }
            for &src in &sc.data_used {
                let ds = &shared.plan.data[src];
                match shared.cursors[src].next_row(ds, &mut self.rng) {
                    Some(r) => self.rows[src] = Some(r),
                    None => {
                        return IterOutcome::Failed(format!(
                            "data source `{}` has no rows left (pick: unique)",
                            ds.name
                        ))
                    }
                }
            }
            self.run_steps(&shared, &shared.steps, info.iter).await;
            if !shared.plan.http.keepalive {
                self.client.close_all();
            }
            IterOutcome::Completed
        })
    }
}

impl FlowVu {
    fn run_steps<'a>(
        &'a mut self,
        shared: &'a FlowShared,
        steps: &'a [FStep],
        iter: u64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            for step in steps {
                match step {
                    FStep::Request(i) => self.request(shared, &shared.reqs[*i], iter).await,
                    FStep::Sleep(min, max) => {
                        let d = if max > min {
                            let span = (*max - *min).as_nanos() as u64;
                            *min + Duration::from_nanos(self.rng.u64(0..=span))
                        } else {
                            *min
                        };
                        tokio::time::sleep(d).await;
                    }
                    FStep::Group { steps, tags } => {
                        let t0 = Instant::now();
                        self.run_steps(shared, steps, iter).await;
                        shared.registry.add(
                            shared.group_metric,
                            *tags,
                            t0.elapsed().as_secs_f64() * 1000.0,
                        );
                    }
                }
            }
        })
    }

    async fn request(&mut self, shared: &FlowShared, ri: &ReqInfo, iter: u64) {
        let plan = &shared.plan;
        let sc = &plan.scenarios[shared.scenario];
        let rows: Vec<Option<&[String]>> = self
            .rows
            .iter()
            .zip(&plan.data)
            .map(|(r, d)| r.and_then(|i| d.rows.get(i).map(|v| v.as_slice())))
            .collect();
        let mut cx = RenderCtx {
            vu: self.id,
            iter,
            scenario: &sc.name,
            rows: &rows,
            vars: &self.vars,
            rng: &mut self.rng,
            seq: &shared.seq,
            row: None,
            now: None,
        };
        let req = request::build(plan, &ri.req, &mut cx, &mut self.buf);
        let reg = &shared.registry;
        let hm = &shared.http_metrics;
        let tags = &mut self.tags;
        let late = self.lateness_ms;
        let mut on_extra = |hop: &HttpResponse| {
            let t = tags.get(reg, ri, hop);
            hm.record(reg, t, hop, !record::expected_status(hop.status), late);
        };
        let resp = Protocol::execute(&mut self.client, &req, &mut on_extra).await;
        let t = self.tags.get(reg, ri, &resp);
        let failed = !record::expected_status(resp.status);
        hm.record(reg, t, &resp, failed, late);
        if ri.req.checks.is_empty() && ri.req.extract.is_empty() {
            return;
        }
        let mut body = ParsedBody::new(&resp.body);
        evaluate_checks(&ri.req.checks, &resp, &mut body, |i, ok| {
            reg.add(
                shared.checks_metric,
                ri.check_tags[i],
                if ok { 1.0 } else { 0.0 },
            );
        });
        extract_values(
            &ri.req.extract,
            &resp,
            &mut body,
            &self.client,
            &mut self.vars,
        );
    }
}
