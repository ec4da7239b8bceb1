//! A VU as the engine sees it: a coroutine (its JavaScript) resumed inside the engine's
//! own iteration futures, which do the asynchronous work (requests, sleeps) it asks for.
//! No extra threads: thousands of VUs run on the engine's workers.
use crate::msg::{Cmd, HttpCall, In, Op, Tags};
use crate::shared::{Shared, VuSpec};
use crate::suspend::{Home, VuCoroutine};
use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult};
use std::collections::HashMap;
use std::sync::Arc;
use throng_http::{HttpClient, HttpResponse};
use throng_metrics::{TagSet, TagSetId};
use tokio_util::sync::CancellationToken;

/// One VU: its coroutine, HTTP client and tag cache.
pub(crate) struct JsVu {
    co: Option<VuCoroutine>,
    /// The runtime it shares with other VUs: locked while its coroutine runs.
    home: Arc<Home>,
    /// Why the VU cannot run (its init failed, or its stack could not be made).
    failed: Option<String>,
    client: Option<HttpClient>,
    tags: TagCache,
    /// Clients of `http.batch`'s parallel requests (kept for their connections).
    pool: Vec<(HttpClient, TagCache)>,
    shared: Arc<Shared>,
    started: bool,
    /// The coroutine waits for an answer to a request or sleep of an iteration the engine
    /// stopped waiting for.
    midway: bool,
    /// The running command's token: cancelled to stop busy JavaScript.
    cancel: CancellationToken,
}

impl JsVu {
    /// A VU whose context lives in `home`'s runtime.
    pub(crate) fn new(spec: VuSpec, home: Arc<Home>) -> JsVu {
        let shared = spec.shared.clone();
        let client = shared.http.clone().map(HttpClient::new);
        let made = home.hub().and_then(|hub| {
            let stack = DefaultStack::new(crate::STACK_SIZE)
                .map_err(|e| format!("cannot allocate a VU stack: {e}"))?;
            Ok(VuCoroutine(Coroutine::with_stack(
                stack,
                move |y, _start: In| crate::vm::main(y, hub, spec, false),
            )))
        });
        let (co, failed) = match made {
            Ok(co) => (Some(co), None),
            Err(e) => (None, Some(e)),
        };
        JsVu {
            co,
            home,
            failed,
            client,
            tags: TagCache::default(),
            pool: Vec::new(),
            shared,
            started: false,
            midway: false,
            cancel: CancellationToken::new(),
        }
    }

    /// Resumes the coroutine; `None` when it has ended.
    fn resume(&mut self, input: In) -> Option<Op> {
        let co = self.co.as_mut()?;
        let lock = self.home.lock();
        let r = co.0.resume(input);
        match r {
            CoroutineResult::Yield(op) => Some(op),
            CoroutineResult::Return(r) => {
                self.co = None;
                drop(lock);
                if let Err(e) = r {
                    self.failed = Some(e);
                }
                None
            }
        }
    }

    /// [`Self::resume`], first letting other tasks run while another VU of the runtime
    /// runs (rather than putting the worker thread to sleep on the lock).
    async fn resume_when_free(&mut self, input: In) -> Option<Op> {
        while !self.home.is_free() {
            tokio::task::yield_now().await;
        }
        self.resume(input)
    }

    /// A VU's init code threw: as in k6, the test stops (exit 107) with the first error,
    /// logged once.
    fn init_failed(&self, e: String) {
        // test.abort() in the init code: the abort (exit 108), not a script error
        if self.shared.abort.is_cancelled() {
            return;
        }
        if let Ok(mut first) = self.shared.init_error.lock() {
            if first.is_none() {
                tracing::error!("{}: a VU's init code failed: {e}", self.shared.script.name);
                *first = Some(e);
                self.shared.abort.cancel();
            }
        }
    }

    /// Runs the init code (once).
    pub(crate) fn start(&mut self) {
        if !self.started {
            self.started = true;
            // the init context cannot wait: the first yield is the wait for a command
            let _ = self.resume(In::Start);
        }
    }

    /// Ends an iteration the engine dropped midway: its JavaScript sees the request or
    /// sleep interrupted (and stops at once if busy), until it waits for a command.
    fn settle(&mut self) {
        if !self.midway {
            return;
        }
        self.cancel.cancel();
        while let Some(op) = self.resume(In::Interrupted) {
            if matches!(op, Op::Next) {
                break;
            }
        }
        self.midway = false;
    }

    /// Runs one command to its end (the command answers through its own channel).
    pub(crate) async fn run(&mut self, cmd: Cmd, cancel: CancellationToken) {
        self.start();
        self.settle();
        if let Some(e) = &self.failed {
            if matches!(cmd, Cmd::Iter { .. }) {
                self.init_failed(e.clone());
            }
            // a VU that cannot run answers at once: let the engine's other tasks run first
            tokio::task::yield_now().await;
            refuse(cmd, e.clone());
            return;
        }
        if self.co.is_none() && self.started {
            tokio::task::yield_now().await;
            refuse(cmd, "the VU has ended".into());
            return;
        }
        // k6 starts every iteration with an empty cookie jar
        if let (Cmd::Iter { .. }, Some(c)) = (&cmd, self.client.as_mut()) {
            c.clear_cookies();
        }
        // after test.abort(), an iteration sends nothing more (the engine's stop reaches the
        // VUs a moment later; teardown still runs its requests)
        let iteration = matches!(cmd, Cmd::Iter { .. });
        let aborted = |sh: &crate::shared::Shared| iteration && sh.abort.is_cancelled();
        self.cancel = cancel;
        let mut input = In::Cmd(cmd);
        loop {
            // midway only once the command reached the coroutine: an iteration dropped
            // while waiting for the runtime leaves the VU waiting for a command
            let Some(op) = self.resume_when_free(input).await else {
                self.midway = false;
                return;
            };
            self.midway = !matches!(op, Op::Next);
            input = match op {
                Op::Next => return,
                Op::Sleep(d) => {
                    tokio::time::sleep(d).await;
                    In::Done
                }
                Op::Yield => {
                    tokio::task::yield_now().await;
                    In::Done
                }
                Op::Jar(jar, op) => In::Jar(self.client.as_mut().and_then(|c| {
                    c.use_jar(jar);
                    op.apply(c)
                })),
                Op::Batch(_) | Op::Http(_) if aborted(&self.shared) => In::Interrupted,
                Op::Batch(mut calls) => match self.client.as_mut() {
                    Some(c) => In::Batch(
                        crate::batch::run(
                            c,
                            &mut self.tags,
                            &mut self.pool,
                            &self.shared,
                            &mut calls,
                        )
                        .await,
                    ),
                    None => In::Interrupted,
                },
                Op::Http(call) => match self.client.as_mut() {
                    Some(c) => {
                        In::Http(Box::new(send(c, &self.shared, &mut self.tags, &call).await))
                    }
                    None => In::Interrupted,
                },
            };
        }
    }
}

impl Drop for JsVu {
    fn drop(&mut self) {
        if self.co.is_some() && self.started {
            self.settle();
            // the body returns when told there are no more commands
            while self.resume(In::Exit).is_some() {}
        }
        // a coroutine that never ran still holds its hub: dropped under the lock
        let lock = self.home.lock();
        self.co = None;
        drop(lock);
    }
}

/// Answers a command with `err` (a VU that cannot run).
fn refuse(cmd: Cmd, err: String) {
    match cmd {
        Cmd::Iter { reply, .. } => {
            let _ = reply.send(throng_engine::IterOutcome::Failed(err));
        }
        Cmd::Call { reply, .. } => {
            let _ = reply.send(Err(err));
        }
    }
}

/// Tag sets of responses, by request tags and outcome.
#[derive(Default)]
pub(crate) struct TagCache {
    map: HashMap<Vec<(String, String)>, HashMap<Outcome, TagSetId>>,
    /// The last answer, by the request's tags `Arc` (a VU repeats its requests).
    last: Option<(Tags, Outcome, bool, TagSetId)>,
}

/// Distinct request tag sets a VU remembers.
const MAX_CACHED: usize = 256;

/// Status, error code and protocol of a response.
type Outcome = (u16, Option<u16>, &'static str);

impl TagCache {
    fn get(&mut self, shared: &Shared, call: &HttpCall, r: &HttpResponse, ok: bool) -> TagSetId {
        let key = (r.status, r.error.map(|e| e.code()), r.proto);
        if let Some((tags, k, was_ok, id)) = &self.last {
            if Arc::ptr_eq(tags, &call.tags) && *k == key && *was_ok == ok {
                return *id;
            }
        }
        let id = self.lookup(shared, call, r, ok, key);
        self.last = Some((call.tags.clone(), key, ok, id));
        id
    }

    fn lookup(
        &mut self,
        shared: &Shared,
        call: &HttpCall,
        r: &HttpResponse,
        ok: bool,
        key: Outcome,
    ) -> TagSetId {
        if let Some(id) = self.map.get(call.tags.as_slice()).and_then(|m| m.get(&key)) {
            return *id;
        }
        // URLs with ids in them would grow the cache without bound: start over
        if self.map.len() >= MAX_CACHED {
            self.map.clear();
        }
        let by_outcome = self.map.entry(call.tags.to_vec()).or_default();
        *by_outcome.entry(key).or_insert_with(|| {
            let mut t = TagSet::new(call.tags.iter().cloned())
                .with("status", &r.status.to_string())
                .with("expected_response", if ok { "true" } else { "false" });
            if !r.proto.is_empty() {
                t = t.with("proto", r.proto);
            }
            if let Some(e) = r.error {
                t = t
                    .with("error_code", &e.code().to_string())
                    .with("error", e.name());
            }
            shared.registry.intern(t)
        })
    }
}

fn expected(call: &HttpCall, status: u16) -> bool {
    status != 0
        && call
            .expected
            .iter()
            .any(|(a, b)| (*a..=*b).contains(&status))
}

/// Sends a request and records it (and every redirect hop) as k6's HTTP metrics.
pub(crate) async fn send(
    client: &mut HttpClient,
    shared: &Shared,
    tags: &mut TagCache,
    call: &HttpCall,
) -> HttpResponse {
    client.use_jar(call.jar);
    let reg = &shared.registry;
    let hm = &shared.http_metrics;
    let mut on_extra = |hop: &HttpResponse| {
        let ok = expected(call, hop.status);
        let t = tags.get(shared, call, hop, ok);
        hm.record(reg, t, hop, !ok, call.lateness_ms);
    };
    let resp = client.execute(&call.req, &mut on_extra).await;
    let ok = expected(call, resp.status);
    let t = tags.get(shared, call, &resp, ok);
    hm.record(reg, t, &resp, !ok, call.lateness_ms);
    resp
}
