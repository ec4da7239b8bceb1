//! The plan's `timeline:`: actions at offsets from the start of the load, or after another
//! action ended, run beside the load. Each sends one request (`http`), runs a command
//! (`exec`) or polls until a condition holds (`wait_for`); each records
//! `action_duration{action:NAME}` (for `wait_for`, the time to detect), counts
//! `actions_failed` when it fails, and leaves an [`ActionRecord`] for the reports.
use crate::once::run_request;
use crate::FlowEnv;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use throng_metrics::names::PHASE_TAG;
use throng_metrics::redact::Secrets;
use throng_metrics::{ActionRecord, TagSet};
use throng_plan::{Action, ActionAt, ActionKind, Plan, RenderCtx, Template};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Lines of a command's output kept for the reports.
const OUTPUT_LINES: usize = 5;
/// Bytes of each output stream kept while it runs (the tail).
const OUTPUT_TAIL: usize = 8192;

/// The run's timeline while it runs: what each action did so far.
#[derive(Clone, Default)]
pub struct Timeline {
    records: Arc<Mutex<Vec<ActionRecord>>>,
    aborted_by: Arc<Mutex<Option<String>>>,
}

impl Timeline {
    /// The actions that ended so far, in the order they ended.
    pub fn records(&self) -> Vec<ActionRecord> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The action whose failure stopped the load (`abort_on_fail: true`), if one did.
    pub fn aborted_by(&self) -> Option<String> {
        self.aborted_by.lock().ok().and_then(|a| a.clone())
    }

    fn push(&self, r: ActionRecord) {
        if let Ok(mut v) = self.records.lock() {
            v.push(r);
        }
    }
}

/// Where and when the actions run.
pub struct TimelineCx {
    /// The plan.
    pub plan: Arc<Plan>,
    /// Registry, HTTP settings, setup values.
    pub env: FlowEnv,
    /// The start of the load: `at:` offsets count from here.
    pub start: Instant,
    /// Cancelled when the load ends: actions not yet started are skipped; running ones
    /// finish (each is bounded by its `timeout` or `within`).
    pub stop: CancellationToken,
    /// Cancelled on Ctrl-C or an abort: running actions are cut off too.
    pub cut: CancellationToken,
    /// Cancelled by a failed action with `abort_on_fail: true`, to stop the load.
    pub abort: CancellationToken,
}

/// Starts every action of the plan's timeline; the task ends when all have ended (or been
/// skipped). Read what they did from the returned [`Timeline`] (also while they run).
pub fn start(cx: TimelineCx) -> (Timeline, tokio::task::JoinHandle<()>) {
    let timeline = Timeline::default();
    let t = timeline.clone();
    let task = tokio::spawn(async move {
        let cx = Arc::new(cx);
        let n = cx.plan.timeline.len();
        // per action: None while pending, Some(ran) once it ended
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..n).map(|_| watch::channel(None::<bool>)).unzip();
        let mut tasks = Vec::new();
        for (i, done) in senders.into_iter().enumerate() {
            let wait_on = match cx.plan.timeline[i].at {
                ActionAt::After { action, .. } => receivers.get(action).cloned(),
                ActionAt::At(_) => None,
            };
            let (cx, t) = (cx.clone(), t.clone());
            tasks.push(tokio::spawn(async move {
                let action = &cx.plan.timeline[i];
                let rec = one(&cx, action, wait_on).await;
                let ran = rec.started_s.is_some();
                if !rec.ok && ran && action.abort_on_fail {
                    if let Ok(mut a) = t.aborted_by.lock() {
                        a.get_or_insert_with(|| format!("action `{}` failed", action.name));
                    }
                    cx.abort.cancel();
                }
                t.push(rec);
                let _ = done.send(Some(ran));
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
    });
    (timeline, task)
}

/// Waits for an action's time, runs it, records it.
async fn one(
    cx: &TimelineCx,
    action: &Action,
    wait_on: Option<watch::Receiver<Option<bool>>>,
) -> ActionRecord {
    let mut rec = ActionRecord {
        name: action.name.clone(),
        kind: action.kind.name().to_string(),
        ..Default::default()
    };
    let due = match action.at {
        ActionAt::At(d) => {
            rec.planned_s = Some(d.as_secs_f64());
            cx.start + d
        }
        ActionAt::After { delay, action: j } => {
            rec.follows = cx.plan.timeline.get(j).map(|a| a.name.clone());
            let Some(mut rx) = wait_on else {
                return skipped(cx, rec, "did not run: the action it follows is missing");
            };
            let ended = tokio::select! {
                r = rx.wait_for(|v| v.is_some()) => r.ok().and_then(|v| *v),
                _ = cx.stop.cancelled() => None,
            };
            match ended {
                Some(true) => Instant::now() + delay,
                Some(false) => {
                    return skipped(cx, rec, "did not run: the action it follows did not run")
                }
                None => return skipped(cx, rec, "did not run: the load ended first"),
            }
        }
    };
    tokio::select! {
        _ = tokio::time::sleep_until(due.into()) => {}
        _ = cx.stop.cancelled() => return skipped(cx, rec, "did not run: the load ended first"),
    }
    let t0 = Instant::now();
    rec.started_s = Some(t0.saturating_duration_since(cx.start).as_secs_f64());
    let tags = {
        let mut t: Vec<(String, String)> = cx.plan.http.tags.clone();
        t.push((PHASE_TAG.to_string(), "timeline".to_string()));
        t.push(("action".to_string(), action.name.clone()));
        t
    };
    let done = tokio::select! {
        d = run_action(cx, action, &tags) => Some(d),
        _ = cx.cut.cancelled() => None,
    };
    let (ok, took_ms, outcome, output) = match done {
        Some(d) => d,
        None => (
            false,
            t0.elapsed().as_secs_f64() * 1000.0,
            format!(
                "cut off after {:.1}s: the run was stopped",
                t0.elapsed().as_secs_f64()
            ),
            String::new(),
        ),
    };
    rec.ok = ok;
    rec.took_ms = took_ms;
    rec.outcome = outcome;
    rec.output = output;
    let reg = &cx.env.registry;
    let b = reg.builtin().clone();
    // the action's own metrics exist only for actions: no `phase` tag, so thresholds see them
    let own: Vec<(String, String)> = tags.into_iter().filter(|(k, _)| k != PHASE_TAG).collect();
    let tag_id = reg.intern(TagSet::new(own));
    reg.add(b.action_duration, tag_id, took_ms);
    if !ok {
        reg.add(b.actions_failed, tag_id, 1.0);
    }
    rec
}

/// An action that never ran: it fails the verdict, so it counts in `actions_failed` too.
fn skipped(cx: &TimelineCx, mut rec: ActionRecord, why: &str) -> ActionRecord {
    rec.ok = false;
    rec.outcome = why.to_string();
    let mut tags: Vec<(String, String)> = cx.plan.http.tags.clone();
    tags.push(("action".to_string(), rec.name.clone()));
    let reg = &cx.env.registry;
    let tag_id = reg.intern(TagSet::new(tags));
    reg.add(reg.builtin().actions_failed, tag_id, 1.0);
    rec
}

/// What running an action gave: ok, ms, outcome, output excerpt.
type Done = (bool, f64, String, String);

async fn run_action(cx: &TimelineCx, action: &Action, tags: &[(String, String)]) -> Done {
    let t0 = Instant::now();
    let ms = |t0: Instant| t0.elapsed().as_secs_f64() * 1000.0;
    let extra: Vec<(String, String)> = tags
        .iter()
        .filter(|(k, _)| k == "action")
        .cloned()
        .collect();
    match &action.kind {
        ActionKind::Http(req) => {
            let run = tokio::time::timeout(
                action.timeout,
                run_request(&cx.plan, req, "timeline", cx.env.clone(), &extra),
            )
            .await;
            match run {
                Ok(r) => {
                    let what = r.last.clone().unwrap_or_default();
                    let outcome = match &r.outcome {
                        crate::OnceOutcome::Passed => what,
                        crate::OnceOutcome::Failed(f) => f.join("; "),
                    };
                    (r.passed(), ms(t0), outcome, String::new())
                }
                Err(_) => (false, ms(t0), timed_out(action.timeout), String::new()),
            }
        }
        ActionKind::WaitFor(req) => {
            let r = run_request(&cx.plan, req, "timeline", cx.env.clone(), &extra).await;
            let Some(p) = r.polls.first() else {
                return (
                    false,
                    ms(t0),
                    "the request did not poll".into(),
                    String::new(),
                );
            };
            let outcome = if p.met {
                format!("seen after {} {} ({})", p.tries, tries(p.tries), p.last)
            } else {
                let bound = req
                    .poll
                    .as_ref()
                    .and_then(|q| q.within)
                    .map(|w| format!("within {}", throng_plan::format_duration(w)))
                    .unwrap_or_else(|| format!("in {} {}", p.tries, tries(p.tries)));
                format!("not seen {bound} (last: {})", p.last)
            };
            (p.met, p.took_ms, outcome, String::new())
        }
        ActionKind::Exec { argv, shell, env } => exec(cx, action, argv, *shell, env).await,
    }
}

fn tries(n: u64) -> &'static str {
    if n == 1 {
        "try"
    } else {
        "tries"
    }
}

fn timed_out(d: Duration) -> String {
    format!("timed out after {}", throng_plan::format_duration(d))
}

/// Renders the templates of an action (env values, `setup.NAME`).
fn render(cx: &TimelineCx, t: &Template, rng: &mut fastrand::Rng) -> String {
    let mut c = RenderCtx {
        vu: 0,
        iter: 0,
        scenario: "timeline",
        rows: &[],
        vars: &cx.env.setup_values,
        rng,
        seq: &cx.env.seq,
        row: None,
        now: None,
    };
    t.render_string(&mut c)
}

/// Runs a command in the plan's folder, with a timeout; keeps the tail of its output.
async fn exec(
    cx: &TimelineCx,
    action: &Action,
    argv: &[Template],
    shell: bool,
    env: &[(String, Template)],
) -> Done {
    let t0 = Instant::now();
    let ms = || t0.elapsed().as_secs_f64() * 1000.0;
    let mut rng = fastrand::Rng::new();
    let words: Vec<String> = argv.iter().map(|t| render(cx, t, &mut rng)).collect();
    let mut secrets = Secrets::new();
    for (k, v) in &cx.plan.env {
        secrets.add_named(k, v);
    }
    let mut cmd = if shell {
        let mut c = tokio::process::Command::new("sh");
        c.arg("-c")
            .arg(words.first().map(String::as_str).unwrap_or(""));
        c
    } else {
        let Some((program, args)) = words.split_first() else {
            return (false, ms(), "the command is empty".into(), String::new());
        };
        let mut c = tokio::process::Command::new(program);
        c.args(args);
        c
    };
    for (k, v) in env {
        let value = render(cx, v, &mut rng);
        secrets.add_named(k, &value);
        cmd.env(k, value);
    }
    if let Some(b) = &cx.plan.base_url {
        cmd.env("THRONG_BASE_URL", b);
    }
    cmd.current_dir(&cx.plan.base_dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let program = if shell { "sh" } else { words[0].as_str() };
            return (
                false,
                ms(),
                format!("cannot start `{program}`: {e}"),
                String::new(),
            );
        }
    };
    let out = tail(child.stdout.take());
    let err = tail(child.stderr.take());
    let waited = tokio::time::timeout(action.timeout, async {
        let (status, out, err) = tokio::join!(child.wait(), out, err);
        (status, out, err)
    })
    .await;
    match waited {
        Ok((status, out, err)) => {
            let excerpt = secrets.scrub(&excerpt(&out, &err)).into_owned();
            match status {
                Ok(s) if s.success() => (true, ms(), "exit 0".into(), excerpt),
                Ok(s) => {
                    let outcome = match s.code() {
                        Some(c) => format!("exit {c}"),
                        None => "killed by a signal".to_string(),
                    };
                    (false, ms(), outcome, excerpt)
                }
                Err(e) => (
                    false,
                    ms(),
                    format!("cannot wait for the command: {e}"),
                    excerpt,
                ),
            }
        }
        Err(_) => {
            // the child is killed when dropped (kill_on_drop)
            (false, ms(), timed_out(action.timeout), String::new())
        }
    }
}

/// Reads a stream to its end, keeping its last [`OUTPUT_TAIL`] bytes.
async fn tail<R: tokio::io::AsyncRead + Unpin>(r: Option<R>) -> Vec<u8> {
    let Some(mut r) = r else {
        return Vec::new();
    };
    let mut kept: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * OUTPUT_TAIL {
                    kept.drain(..kept.len() - OUTPUT_TAIL);
                }
            }
        }
    }
    if kept.len() > OUTPUT_TAIL {
        kept.drain(..kept.len() - OUTPUT_TAIL);
    }
    kept
}

/// The last lines of stdout, then of stderr.
fn excerpt(out: &[u8], err: &[u8]) -> String {
    let last = |b: &[u8]| -> Vec<String> {
        let text = String::from_utf8_lossy(b);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(OUTPUT_LINES)..]
            .iter()
            .map(|l| l.chars().take(200).collect())
            .collect()
    };
    let mut lines = last(out);
    lines.extend(last(err));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn the_excerpt_keeps_the_last_lines_of_each_stream() {
        let out = (1..=8).map(|i| format!("line {i}\n")).collect::<String>();
        let e = excerpt(out.as_bytes(), b"oops\n");
        assert_eq!(e, "line 4\nline 5\nline 6\nline 7\nline 8\noops");
        assert_eq!(excerpt(b"", b""), "");
    }
}
