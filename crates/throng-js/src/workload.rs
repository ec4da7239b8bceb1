//! The script as throng-run's [`ScriptHost`]: setup, a workload per scenario, teardown.
use crate::msg::Cmd;
use crate::pool::Pool;
use crate::shared::{Shared, VuSpec};
use crate::Loaded;
use std::sync::{Arc, OnceLock};
use throng_engine::{IterFuture, IterInfo, IterOutcome, Vu, VuInit, Workload};
use throng_run::{BoxFuture, FlowEnv, ScriptHost};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// A loaded script, ready to run.
pub struct JsHost {
    loaded: Loaded,
    pool: Arc<Pool>,
    shared: OnceLock<Arc<Shared>>,
    /// setup()'s result as JSON.
    data: OnceLock<Option<Arc<str>>>,
    /// Cancelled by `test.abort()`.
    abort: CancellationToken,
}

impl JsHost {
    /// Starts the worker threads (one per core) for `loaded`.
    pub fn new(loaded: Loaded) -> Result<JsHost, crate::JsError> {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(JsHost {
            loaded,
            pool: Arc::new(Pool::new(n).map_err(crate::JsError)?),
            shared: OnceLock::new(),
            data: OnceLock::new(),
            abort: CancellationToken::new(),
        })
    }

    fn shared(&self, env: &FlowEnv) -> Arc<Shared> {
        self.shared
            .get_or_init(|| {
                Arc::new(Shared::new(
                    self.loaded.script.clone(),
                    env.registry.clone(),
                    Some(env.http.clone()),
                    self.loaded.plan.discard_bodies,
                    self.abort.clone(),
                ))
            })
            .clone()
    }

    /// Calls `func` once on a VU of its own, whose samples carry `group: ::func`.
    async fn call(
        &self,
        env: &FlowEnv,
        func: &'static str,
        arg: Option<String>,
    ) -> Result<Option<String>, String> {
        if !self.loaded.probe.functions.iter().any(|f| f == func) {
            return Ok(None);
        }
        let tx = self.pool.spawn(VuSpec {
            id: 0,
            scenario: String::new(),
            root_group: format!("::{func}"),
            shared: self.shared(env),
            data: None,
        });
        let (reply, rx) = oneshot::channel();
        tx.send(Cmd::Call { func, arg, reply })
            .map_err(|_| "the JavaScript worker has stopped".to_string())?;
        rx.await
            .map_err(|_| "the JavaScript worker has stopped".to_string())?
            .map_err(|e| format!("{func}(): {e}"))
    }
}

impl ScriptHost for JsHost {
    fn setup<'a>(&'a self, env: &'a FlowEnv) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let data = self.call(env, "setup", None).await?;
            let _ = self.data.set(data.map(Arc::from));
            Ok(())
        })
    }

    fn workload(&self, scenario: &str, env: &FlowEnv) -> Arc<dyn Workload> {
        let exec = self
            .loaded
            .plan
            .exec
            .iter()
            .find(|(s, _)| s == scenario)
            .map_or("default", |(_, f)| f.as_str());
        Arc::new(JsWorkload {
            shared: self.shared(env),
            pool: self.pool.clone(),
            exec: Arc::from(exec),
            data: self.data.get().cloned().flatten(),
        })
    }

    fn abort_requested(&self) -> CancellationToken {
        self.abort.clone()
    }

    fn abort_reason(&self) -> Option<String> {
        let s = self.shared.get()?;
        s.abort_reason.lock().ok()?.clone()
    }

    fn teardown<'a>(&'a self, env: &'a FlowEnv) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let data = self.data.get().cloned().flatten().map(|d| d.to_string());
            self.call(env, "teardown", data).await.map(|_| ())
        })
    }
}

/// One scenario's VUs.
struct JsWorkload {
    shared: Arc<Shared>,
    pool: Arc<Pool>,
    exec: Arc<str>,
    data: Option<Arc<str>>,
}

impl Workload for JsWorkload {
    fn new_vu(&self, init: VuInit) -> Box<dyn Vu> {
        let tx = self.pool.spawn(VuSpec {
            id: init.id,
            scenario: init.scenario,
            root_group: String::new(),
            shared: self.shared.clone(),
            data: self.data.clone(),
        });
        Box::new(JsVu {
            tx,
            exec: self.exec.clone(),
        })
    }
}

/// The engine's handle on a VU that lives on a worker thread.
struct JsVu {
    tx: tokio::sync::mpsc::UnboundedSender<Cmd>,
    exec: Arc<str>,
}

impl Vu for JsVu {
    fn iteration(&mut self, info: IterInfo) -> IterFuture<'_> {
        let (reply, rx) = oneshot::channel();
        let cancel = CancellationToken::new();
        // dropped by the engine (a hard stop): the VU's request or sleep ends at once
        let guard = cancel.clone().drop_guard();
        let sent = self.tx.send(Cmd::Iter {
            info,
            exec: self.exec.clone(),
            reply,
            cancel,
        });
        Box::pin(async move {
            let _guard = guard;
            if sent.is_err() {
                return IterOutcome::Failed("the JavaScript worker has stopped".into());
            }
            rx.await
                .unwrap_or_else(|_| IterOutcome::Failed("the JavaScript worker has stopped".into()))
        })
    }
}
