//! The script as a [`ScriptHost`] (throng-flow's): setup, a workload per scenario,
//! teardown, handleSummary.
use crate::driver::JsVu;
use crate::msg::Cmd;
use crate::shared::{Shared, VuSpec};
use crate::suspend::Home;
use crate::Loaded;
use std::sync::{Arc, OnceLock};
use throng_engine::{IterFuture, IterInfo, IterOutcome, Vu, VuInit, Workload};
use throng_flow::{BoxFuture, FlowEnv, ScriptHost};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// A loaded script, ready to run.
pub struct JsHost {
    loaded: Loaded,
    shared: OnceLock<Arc<Shared>>,
    /// setup()'s result as JSON.
    data: OnceLock<Option<Arc<str>>>,
    /// Cancelled by `test.abort()`.
    abort: CancellationToken,
}

impl JsHost {
    /// A host for `loaded`.
    pub fn new(loaded: Loaded) -> Result<JsHost, crate::JsError> {
        Ok(JsHost {
            loaded,
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
        self.call_on(self.shared(env), func, arg).await
    }

    /// [`JsHost::call`] with the run-wide state given.
    async fn call_on(
        &self,
        shared: Arc<Shared>,
        func: &'static str,
        arg: Option<String>,
    ) -> Result<Option<String>, String> {
        if !self.loaded.probe.functions.iter().any(|f| f == func) {
            return Ok(None);
        }
        let mut vu = JsVu::new(
            VuSpec {
                id: 0,
                scenario: String::new(),
                root_group: format!("::{func}"),
                shared,
                data: None,
                tags: Arc::from(Vec::new()),
            },
            Arc::new(Home::new()),
        );
        let (reply, mut rx) = oneshot::channel();
        vu.run(Cmd::Call { func, arg, reply }, CancellationToken::new())
            .await;
        rx.try_recv()
            .map_err(|_| format!("{func}(): the VU ended without an answer"))?
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
        let tags = self
            .loaded
            .plan
            .tags
            .iter()
            .find(|(s, _)| s == scenario)
            .map(|(_, t)| t.clone())
            .unwrap_or_default();
        Arc::new(JsWorkload {
            shared: self.shared(env),
            exec: Arc::from(exec),
            data: self.data.get().cloned().flatten(),
            tags: Arc::from(tags),
        })
    }

    fn abort_requested(&self) -> CancellationToken {
        self.abort.clone()
    }

    fn abort_reason(&self) -> Option<String> {
        let s = self.shared.get()?;
        s.abort_reason.lock().ok()?.clone()
    }

    fn script_error(&self) -> Option<String> {
        let s = self.shared.get()?;
        s.init_error.lock().ok()?.clone()
    }

    fn handles_summary(&self) -> bool {
        self.loaded
            .probe
            .functions
            .iter()
            .any(|f| f == "handleSummary")
    }

    fn handle_summary(&self, data: serde_json::Value) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            // after the run the VUs' state is there; a run that never started gets its own
            let shared = self.shared.get().cloned().unwrap_or_else(|| {
                Arc::new(Shared::new(
                    self.loaded.script.clone(),
                    throng_metrics::Registry::new(),
                    None,
                    false,
                    CancellationToken::new(),
                ))
            });
            match self
                .call_on(shared, "handleSummary", Some(data.to_string()))
                .await
            {
                Ok(Some(a)) => crate::summary::write(&a),
                Ok(None) => Ok(String::new()),
                Err(e) => Err(e),
            }
        })
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
    exec: Arc<str>,
    data: Option<Arc<str>>,
    /// The scenario's tags (with `options.tags`).
    tags: Arc<[(String, String)]>,
}

impl Workload for JsWorkload {
    fn new_vu(&self, init: VuInit) -> Box<dyn Vu> {
        Box::new(EngineVu {
            vu: JsVu::new(
                VuSpec {
                    id: init.id,
                    scenario: init.scenario,
                    root_group: String::new(),
                    shared: self.shared.clone(),
                    data: self.data.clone(),
                    tags: self.tags.clone(),
                },
                self.shared.home(),
            ),
            exec: self.exec.clone(),
            started: false,
        })
    }
}

/// A VU in the engine: its iterations resume the VU's coroutine on the engine's threads.
struct EngineVu {
    vu: JsVu,
    exec: Arc<str>,
    started: bool,
}

impl Vu for EngineVu {
    fn iteration(&mut self, info: IterInfo) -> IterFuture<'_> {
        Box::pin(async move {
            let (reply, mut rx) = oneshot::channel();
            let cancel = CancellationToken::new();
            let cmd = Cmd::Iter {
                info,
                exec: self.exec.clone(),
                reply,
                cancel: cancel.clone(),
            };
            self.vu.run(cmd, cancel).await;
            rx.try_recv()
                .unwrap_or_else(|_| IterOutcome::Failed("the VU ended without an answer".into()))
        })
    }

    /// Runs the VU's init code before its first iteration (not timed as one).
    fn init(&mut self) -> Option<IterFuture<'_>> {
        if self.started {
            return None;
        }
        self.started = true;
        self.vu.start();
        None
    }
}
