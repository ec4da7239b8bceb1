//! What every VU of one script shares: the script, the registry, the HTTP settings.
use crate::suspend::Home;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use throng_flow::HttpMetrics;
use throng_http::SharedConfig;
use throng_metrics::Registry;
use tokio_util::sync::CancellationToken;

/// A script as read from disk.
#[derive(Debug)]
pub struct ScriptSource {
    /// The file name as given (used in errors and stack traces).
    pub name: String,
    /// Its text.
    pub text: String,
    /// The folder `open()` resolves relative paths from.
    pub dir: PathBuf,
    /// `__ENV`: the environment overlaid by `-e`.
    pub env: BTreeMap<String, String>,
    /// How long the init code may run (each VU's, and the load-time one).
    pub init_timeout: std::time::Duration,
    /// The local files and built-in jslib modules it imports (transitively).
    pub modules: Vec<crate::modules::LocalModule>,
}

impl ScriptSource {
    /// Whether the script or a module it imports contains `s`.
    pub(crate) fn mentions(&self, s: &str) -> bool {
        self.text.contains(s) || self.modules.iter().any(|m| m.text.contains(s))
    }
}

/// Run-wide state of a script's VUs.
pub(crate) struct Shared {
    pub script: Arc<ScriptSource>,
    pub registry: Registry,
    /// `None` in the load-time probe, which sends no requests.
    pub http: Option<Arc<SharedConfig>>,
    pub http_metrics: HttpMetrics,
    /// `options.discardResponseBodies`.
    pub discard_bodies: bool,
    /// Files `open()` read, read once for all VUs.
    pub files: Mutex<HashMap<PathBuf, Arc<[u8]>>>,
    /// Cancelled by `test.abort()`.
    pub abort: CancellationToken,
    /// The message given to `test.abort()`.
    pub abort_reason: Mutex<Option<String>>,
    /// The first VU init error (k6 stops the test on it, exit 107).
    pub init_error: Mutex<Option<String>>,
    /// The URLs requests without a `name` tag were tagged with (at most [`URL_TAGS`]).
    urls: Mutex<std::collections::HashSet<String>>,
    /// The runtime new VUs join, and how many have joined it.
    homes: Mutex<(Arc<Home>, usize)>,
    /// `SharedArray`s by name: one copy for all VUs, each row as JSON text.
    pub arrays: Mutex<HashMap<String, Arc<[Box<str>]>>>,
}

impl Shared {
    pub(crate) fn new(
        script: Arc<ScriptSource>,
        registry: Registry,
        http: Option<Arc<SharedConfig>>,
        discard_bodies: bool,
        abort: CancellationToken,
    ) -> Shared {
        Shared {
            http_metrics: HttpMetrics::new(&registry),
            script,
            registry,
            http,
            discard_bodies,
            files: Mutex::new(HashMap::new()),
            abort,
            abort_reason: Mutex::new(None),
            init_error: Mutex::new(None),
            urls: Mutex::new(std::collections::HashSet::new()),
            homes: Mutex::new((Arc::new(Home::new()), 0)),
            arrays: Mutex::new(HashMap::new()),
        }
    }

    /// The runtime a new VU's context goes in: VUs share one
    /// ([`crate::suspend::vus_per_runtime`]).
    pub(crate) fn home(&self) -> Arc<Home> {
        let mut h = self.homes.lock().unwrap_or_else(|e| e.into_inner());
        if h.1 >= crate::suspend::vus_per_runtime() {
            *h = (Arc::new(Home::new()), 0);
        }
        h.1 += 1;
        h.0.clone()
    }

    /// The `url` (and `name`) tag of a request the script did not name: the URL itself,
    /// for the first [`URL_TAGS`] URLs of the run; past them, requests to new URLs are
    /// tagged [`OTHER_URLS`] (with a warning, once), so a script that builds a URL per
    /// request (`/items/${id}`) does not make a series, and its memory, per request.
    pub(crate) fn url_tag(&self, url: &str) -> String {
        let Ok(mut seen) = self.urls.lock() else {
            return url.to_string();
        };
        if seen.contains(url) {
            return url.to_string();
        }
        if seen.len() < URL_TAGS {
            seen.insert(url.to_string());
            return url.to_string();
        }
        if seen.insert(String::new()) {
            tracing::warn!(
                "{}: requests went to more than {URL_TAGS} different URLs; those to new ones are tagged url=name=\"{OTHER_URLS}\" (give them a name: `http.get(url, {{ tags: {{ name: 'items' }} }})`)",
                self.script.name
            );
        }
        OTHER_URLS.to_string()
    }

    /// `open(file)`: the file's bytes, relative to the script's folder.
    pub(crate) fn open(&self, file: &str) -> Result<Arc<[u8]>, String> {
        let path = self.script.dir.join(file);
        let mut files = self
            .files
            .lock()
            .map_err(|_| "open(): a VU panicked".to_string())?;
        if let Some(t) = files.get(&path) {
            return Ok(t.clone());
        }
        let text: Arc<[u8]> = std::fs::read(&path)
            .map_err(|e| format!("open({file:?}): cannot read {}: {e}", path.display()))?
            .into();
        files.insert(path, text.clone());
        Ok(text)
    }
}

/// How many different URLs become `url` tags of unnamed requests (k6 warns about as many
/// series; each costs throng a set of histograms).
pub const URL_TAGS: usize = 1000;

/// The `url` and `name` tag of unnamed requests to URLs past the first [`URL_TAGS`].
pub const OTHER_URLS: &str = "(other URLs)";

/// What one VU is made with.
pub(crate) struct VuSpec {
    /// `__VU` (0 for the probe, setup and teardown).
    pub id: u64,
    /// Its scenario (empty for the probe, setup and teardown).
    pub scenario: String,
    /// The group setup and teardown samples carry (`::setup`), else empty.
    pub root_group: String,
    pub shared: Arc<Shared>,
    /// setup()'s result as JSON, handed to each call of the default function.
    pub data: Option<Arc<str>>,
    /// Tags every sample of the VU carries (`options.tags`, the scenario's `tags`).
    pub tags: Arc<[(String, String)]>,
}
