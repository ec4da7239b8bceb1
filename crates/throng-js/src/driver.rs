//! A VU's driver: a task on a JS worker thread that resumes the VU's coroutine and does
//! the asynchronous work (requests, sleeps) it asks for.
use crate::msg::{Cmd, HttpCall, In, Op};
use crate::shared::{Shared, VuSpec};
use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult};
use std::collections::HashMap;
use throng_engine::IterOutcome;
use throng_http::{HttpClient, HttpResponse};
use throng_metrics::{TagSet, TagSetId};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Answers every command with `err` (a VU that could not start).
async fn refuse(mut rx: mpsc::UnboundedReceiver<Cmd>, err: String) {
    while let Some(c) = rx.recv().await {
        match c {
            Cmd::Iter { reply, .. } => {
                let _ = reply.send(IterOutcome::Failed(err.clone()));
            }
            Cmd::Call { reply, .. } => {
                let _ = reply.send(Err(err.clone()));
            }
        }
    }
}

/// Runs one VU until its command channel closes.
pub(crate) async fn drive(spec: VuSpec, mut rx: mpsc::UnboundedReceiver<Cmd>) {
    let stack = match DefaultStack::new(crate::STACK_SIZE) {
        Ok(s) => s,
        Err(e) => return refuse(rx, format!("cannot allocate a VU stack: {e}")).await,
    };
    let shared = spec.shared.clone();
    let Some(http) = shared.http.clone() else {
        return refuse(rx, "no HTTP client settings".into()).await;
    };
    let mut client = HttpClient::new(http);
    let mut tags = TagCache::default();
    let mut co = Coroutine::with_stack(stack, move |y, _start: In| {
        crate::vm::main(y, spec, false).map(|_| ())
    });
    let mut input = In::Start;
    let mut cancel = CancellationToken::new();
    loop {
        let op = match co.resume(input) {
            CoroutineResult::Yield(op) => op,
            CoroutineResult::Return(r) => {
                if let Err(e) = r {
                    refuse(rx, e).await;
                }
                return;
            }
        };
        input = match op {
            Op::Next => match rx.recv().await {
                Some(cmd) => {
                    cancel = match &cmd {
                        Cmd::Iter { cancel, .. } => cancel.clone(),
                        Cmd::Call { .. } => CancellationToken::new(),
                    };
                    In::Cmd(cmd)
                }
                None => In::Exit,
            },
            Op::Sleep(d) => tokio::select! {
                _ = tokio::time::sleep(d) => In::Done,
                _ = cancel.cancelled() => In::Interrupted,
            },
            Op::Http(call) => tokio::select! {
                r = send(&mut client, &shared, &mut tags, &call) => In::Http(Box::new(r)),
                _ = cancel.cancelled() => In::Interrupted,
            },
        };
    }
}

/// Tag sets of responses, by request tags and outcome.
#[derive(Default)]
struct TagCache {
    map: HashMap<Vec<(String, String)>, HashMap<Outcome, TagSetId>>,
}

/// Distinct request tag sets a VU remembers.
const MAX_CACHED: usize = 256;

/// Status, error code and protocol of a response.
type Outcome = (u16, Option<u16>, &'static str);

impl TagCache {
    fn get(&mut self, shared: &Shared, call: &HttpCall, r: &HttpResponse, ok: bool) -> TagSetId {
        let key = (r.status, r.error.map(|e| e.code()), r.proto);
        if let Some(id) = self.map.get(&call.tags).and_then(|m| m.get(&key)) {
            return *id;
        }
        // URLs with ids in them would grow the cache without bound: start over
        if self.map.len() >= MAX_CACHED {
            self.map.clear();
        }
        let by_outcome = self.map.entry(call.tags.clone()).or_default();
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
async fn send(
    client: &mut HttpClient,
    shared: &Shared,
    tags: &mut TagCache,
    call: &HttpCall,
) -> HttpResponse {
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
