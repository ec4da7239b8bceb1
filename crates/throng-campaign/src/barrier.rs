//! A readiness barrier on a directory every instance of a scaled-out run can see (a shared
//! volume, or a local folder for `--local-segments`): each instance writes that it is
//! ready, waits until all are, and all start their load at one time that each computes
//! alike from the directory's contents — the latest arrival plus a margin — without
//! talking to each other. Pods that are scheduled or pull their image late hold the start
//! back instead of missing it.
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the directory is read while waiting.
const POLL: Duration = Duration::from_millis(100);

/// The barrier of one run: where, how many instances, how long to wait.
#[derive(Debug, Clone)]
pub struct Barrier {
    /// The shared directory (a folder per run id is made in it).
    pub dir: PathBuf,
    /// How many instances must be ready (the segments of the sequence).
    pub expected: usize,
    /// How long to wait for the last one.
    pub timeout: Duration,
    /// The time from the last arrival to the start: long enough for every instance to see
    /// the last file (shared file systems cache directory listings for a second or two).
    pub margin: Duration,
}

/// What an instance writes when it is ready.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Ready {
    instance_id: String,
    segment: String,
    ready_unix_ms: i64,
}

/// Why the barrier did not open.
#[derive(Debug, thiserror::Error)]
pub enum BarrierError {
    /// The directory or this instance's file could not be written or read.
    #[error("barrier {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The system's error.
        source: std::io::Error,
    },
    /// Not every instance was ready in time.
    #[error("barrier {dir}: {ready} of {expected} instances ready after {waited:?} (ready: {ids}); no load was sent")]
    Timeout {
        /// The run's folder.
        dir: String,
        /// Instances ready.
        ready: usize,
        /// Instances expected.
        expected: usize,
        /// How long this instance waited.
        waited: Duration,
        /// The ids of those ready.
        ids: String,
    },
    /// Ctrl-C or SIGTERM while waiting.
    #[error("interrupted while waiting at the barrier; no load was sent")]
    Interrupted,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BarrierError + '_ {
    move |source| BarrierError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A file name for an instance id: letters, digits, `-`, `_`, `.`; anything else `_`.
fn file_name(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}.ready", s.trim_start_matches('.'))
}

impl Barrier {
    /// Says this instance is ready and waits for all; returns when the load starts.
    pub async fn wait(
        &self,
        run_id: &str,
        instance_id: &str,
        segment: &str,
        interrupt: &CancellationToken,
    ) -> Result<jiff::Timestamp, BarrierError> {
        let dir = self.dir.join(file_name(run_id).trim_end_matches(".ready"));
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let now = jiff::Timestamp::now();
        let me = Ready {
            instance_id: instance_id.to_string(),
            segment: segment.to_string(),
            ready_unix_ms: now.as_millisecond(),
        };
        // written aside, then renamed: readers see the whole file or none
        let path = dir.join(file_name(instance_id));
        let tmp = dir.join(format!(".{}.tmp", file_name(instance_id)));
        let body = serde_json::to_vec(&me).unwrap_or_default();
        std::fs::write(&tmp, body).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        // an earlier run with this id left files: older than the timeout, they are not ours
        let stale_before = me.ready_unix_ms - self.timeout.as_millis() as i64;
        let started = std::time::Instant::now();
        loop {
            let ready = read_ready(&dir, stale_before)?;
            if ready.len() >= self.expected {
                let last = ready
                    .iter()
                    .map(|r| r.ready_unix_ms)
                    .max()
                    .unwrap_or(me.ready_unix_ms);
                let margin = self.margin.as_millis() as i64;
                return jiff::Timestamp::from_millisecond(last + margin).map_err(|e| {
                    BarrierError::Io {
                        path: dir.display().to_string(),
                        source: std::io::Error::other(e.to_string()),
                    }
                });
            }
            if started.elapsed() >= self.timeout {
                let mut ids: Vec<String> = ready.into_iter().map(|r| r.instance_id).collect();
                ids.sort();
                return Err(BarrierError::Timeout {
                    dir: dir.display().to_string(),
                    ready: ids.len(),
                    expected: self.expected,
                    waited: started.elapsed(),
                    ids: ids.join(", "),
                });
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = interrupt.cancelled() => return Err(BarrierError::Interrupted),
            }
        }
    }
}

/// The instances ready in `dir` (one per id, the newest), not older than `stale_before`.
fn read_ready(dir: &Path, stale_before: i64) -> Result<Vec<Ready>, BarrierError> {
    let mut out: Vec<Ready> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || !name.ends_with(".ready") {
            continue;
        }
        // a file another instance is replacing, or not ours: skip it this round
        let Ok(text) = std::fs::read(entry.path()) else {
            continue;
        };
        let Ok(r) = serde_json::from_slice::<Ready>(&text) else {
            continue;
        };
        if r.ready_unix_ms < stale_before {
            continue;
        }
        match out.iter_mut().find(|o| o.instance_id == r.instance_id) {
            Some(o) => o.ready_unix_ms = o.ready_unix_ms.max(r.ready_unix_ms),
            None => out.push(r),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn barrier(dir: &Path, expected: usize, timeout_ms: u64) -> Barrier {
        Barrier {
            dir: dir.to_path_buf(),
            expected,
            timeout: Duration::from_millis(timeout_ms),
            margin: Duration::from_millis(500),
        }
    }

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("throng-barrier-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[tokio::test]
    async fn all_instances_get_one_start_after_the_last_arrival() {
        let d = temp("ok");
        let never = CancellationToken::new();
        let mut tasks = Vec::new();
        for i in 0..4u64 {
            let b = barrier(&d, 4, 10_000);
            let never = never.clone();
            tasks.push(tokio::spawn(async move {
                // arrivals spread over 300 ms
                tokio::time::sleep(Duration::from_millis(100 * i)).await;
                b.wait(
                    "run-1",
                    &i.to_string(),
                    &format!("{i}/4:{}/4", i + 1),
                    &never,
                )
                .await
                .expect("opens")
            }));
        }
        let mut starts = Vec::new();
        for t in tasks {
            starts.push(t.await.expect("task"));
        }
        starts.dedup();
        assert_eq!(starts.len(), 1, "one start for all: {starts:?}");
        // the start is the last arrival, as the files say, plus the margin
        let ready = read_ready(&d.join("run-1"), 0).expect("read");
        assert_eq!(ready.len(), 4);
        let last = ready.iter().map(|r| r.ready_unix_ms).max().expect("some");
        assert_eq!(starts[0].as_millisecond(), last + 500);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[tokio::test]
    async fn a_missing_instance_times_out_naming_those_ready() {
        let d = temp("late");
        let never = CancellationToken::new();
        let e = barrier(&d, 3, 300)
            .wait("run-2", "a/b", "0:1/3", &never)
            .await
            .expect_err("times out");
        let s = e.to_string();
        assert!(s.contains("1 of 3 instances ready"), "{s}");
        assert!(s.contains("(ready: a/b)"), "{s}");
        // and a stale file of an earlier run with the same id does not count
        let old = Ready {
            instance_id: "old".into(),
            segment: "1/3:2/3".into(),
            ready_unix_ms: jiff::Timestamp::now().as_millisecond() - 3_600_000,
        };
        std::fs::write(
            d.join("run-2").join("old.ready"),
            serde_json::to_vec(&old).expect("json"),
        )
        .expect("write");
        let e = barrier(&d, 2, 300)
            .wait("run-2", "a/b", "0:1/3", &never)
            .await
            .expect_err("stale file ignored");
        assert!(e.to_string().contains("1 of 2 instances ready"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[tokio::test]
    async fn ctrl_c_while_waiting_stops_without_load() {
        let d = temp("int");
        let stop = CancellationToken::new();
        stop.cancel();
        let e = barrier(&d, 2, 10_000)
            .wait("run-3", "0", "0:1/2", &stop)
            .await
            .expect_err("interrupted");
        assert!(matches!(e, BarrierError::Interrupted));
        let _ = std::fs::remove_dir_all(&d);
    }
}
