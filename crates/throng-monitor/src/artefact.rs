//! `http:` fetch an artefact (a heap profile, a thread dump) every interval and save it
//! next to the results as `save_as`, with `{{elapsed}}` replaced by the run's elapsed time
//! in whole seconds (`heap-60s.pb.gz`). Series: `bytes` of each fetch. Facts: the files.
use crate::{http, Monitor, MonitorError, SampleCx, Value};
use std::time::Duration;

/// The artefact monitor.
pub struct ArtefactMonitor {
    url: String,
    save_as: String,
    saved: Vec<String>,
}

impl ArtefactMonitor {
    /// A monitor saving `url` as `save_as`.
    pub fn new(url: &str, save_as: &str) -> ArtefactMonitor {
        ArtefactMonitor {
            url: url.to_string(),
            save_as: save_as.to_string(),
            saved: Vec::new(),
        }
    }
}

impl Monitor for ArtefactMonitor {
    fn sample(&mut self, cx: &SampleCx) -> Result<Vec<Value>, MonitorError> {
        let r = http::get(&self.url, Duration::from_secs(30))?;
        if !(200..300).contains(&r.status) {
            return Err(MonitorError(format!("{}: status {}", self.url, r.status)));
        }
        let name = self
            .save_as
            .replace("{{elapsed}}", &format!("{:.0}s", cx.elapsed))
            .replace(['/', '\\'], "_");
        let path = cx.out_dir.join(&name);
        std::fs::write(&path, &r.body)
            .map_err(|e| MonitorError(format!("cannot write {}: {e}", path.display())))?;
        if !self.saved.contains(&name) {
            self.saved.push(name);
        }
        Ok(vec![Value::new("bytes", r.body.len() as f64)])
    }

    fn facts(&self) -> Vec<(String, String)> {
        self.saved
            .iter()
            .map(|f| ("saved".to_string(), f.clone()))
            .collect()
    }
}
