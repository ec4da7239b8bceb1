//! What a VU's coroutine and its driver say to each other.
use std::time::Duration;
use throng_engine::{IterInfo, IterOutcome};
use throng_http::{HttpRequest, HttpResponse};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// A command to a VU.
pub(crate) enum Cmd {
    /// Run one iteration of the exported function `exec`.
    Iter {
        info: IterInfo,
        exec: std::sync::Arc<str>,
        reply: oneshot::Sender<IterOutcome>,
        cancel: CancellationToken,
    },
    /// Call `func` once (setup, teardown) with `arg` (JSON); answers its result as JSON.
    Call {
        func: &'static str,
        arg: Option<String>,
        reply: oneshot::Sender<Result<Option<String>, String>>,
    },
}

/// What the coroutine asks its driver for.
pub(crate) enum Op {
    /// The next command.
    Next,
    /// Send a request (and record it).
    Http(Box<HttpCall>),
    /// Sleep.
    Sleep(Duration),
    /// Let other VUs run: busy JavaScript has had its time slice.
    Yield,
    /// Send requests at once (`http.batch`), answered with [`In::Batch`] in the same order.
    Batch(Vec<HttpCall>),
    /// Read or change one of the VU's cookie jars (0: its own; answered at once with
    /// [`In::Jar`]).
    Jar(u32, crate::cookies::JarOp),
}

/// A request's tags, shared by the requests alike.
pub(crate) type Tags = std::sync::Arc<Vec<(String, String)>>;

/// A request with what its samples are tagged with.
pub(crate) struct HttpCall {
    pub req: HttpRequest,
    /// Scenario, group, method, url, name and the script's tags (the same `Arc` for the
    /// same request again, so the driver finds its tag sets by pointer).
    pub tags: Tags,
    /// Statuses that are not failures.
    pub expected: std::sync::Arc<[(u16, u16)]>,
    /// How late the iteration started, ms (arrival-rate executors).
    pub lateness_ms: Option<f64>,
    /// The cookie jar it uses (`params.jar`; 0: the VU's own).
    pub jar: u32,
}

/// What the driver answers.
pub(crate) enum In {
    /// The coroutine starts.
    Start,
    /// A command.
    Cmd(Cmd),
    /// No more commands: the VU ends.
    Exit,
    /// The request's response.
    Http(Box<HttpResponse>),
    /// Slept.
    Done,
    /// The iteration was interrupted (the engine stopped waiting for it).
    Interrupted,
    /// The responses of [`Op::Batch`].
    Batch(Vec<HttpResponse>),
    /// The answer to [`Op::Jar`].
    Jar(Option<String>),
}
