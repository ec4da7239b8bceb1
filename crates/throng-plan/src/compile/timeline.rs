//! `timeline:`: actions at offsets from the start of the load (`at: 2m`) or after another
//! action ended (`after: NAME`), each one of `http`, `exec` or `wait_for`.
use super::step::{compile_steps, FlowCx};
use super::{lc, Cx};
use crate::model::{Action, ActionAt, ActionKind, HttpOptions, Step};
use crate::raw::{Json, RawAction, S};
use crate::template::Template;
use std::time::Duration;

/// What actions compile against.
pub(super) struct TimelineCx<'a> {
    pub http: &'a HttpOptions,
    pub has_base_url: bool,
    /// The values setup extracts (actions may use `{{setup.NAME}}`).
    pub setup_vars: &'a [String],
    /// When the load ends (the latest scenario's start + duration), if known.
    pub run_end: Option<Duration>,
}

/// Every action; bad ones are reported and left out.
pub(super) fn compile_timeline(
    cx: &mut Cx<'_>,
    raw: &S<Vec<S<RawAction>>>,
    tcx: &TimelineCx<'_>,
) -> Vec<Action> {
    let mut names: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, a) in raw.value.iter().enumerate() {
        let r = &a.value;
        let kinds: Vec<&str> = [
            ("http", r.http.is_some()),
            ("exec", r.exec.is_some()),
            ("wait_for", r.wait_for.is_some()),
        ]
        .iter()
        .filter(|(_, p)| *p)
        .map(|(n, _)| *n)
        .collect();
        let name = match &r.name {
            Some(n) if n.value.trim().is_empty() => {
                cx.err(n, "name: expected a non-empty name");
                continue;
            }
            Some(n) => n.value.clone(),
            None => format!("{} {}", kinds.first().copied().unwrap_or("action"), i + 1),
        };
        if names.contains(&name) {
            let at = r.name.as_ref().map(lc).unwrap_or_else(|| lc(a));
            cx.err_at(
                at,
                format!("two actions are named `{name}`: names must be unique"),
            );
        }
        names.push(name.clone());
        if kinds.len() != 1 {
            cx.err(
                a,
                if kinds.is_empty() {
                    "an action needs exactly one of http, exec or wait_for".to_string()
                } else {
                    format!(
                        "an action does one thing, but this one has {}: split it",
                        kinds.join(", ")
                    )
                },
            );
            continue;
        }
        let Some(at) = when(cx, a, &names[..names.len() - 1], tcx) else {
            continue;
        };
        let timeout = cx.opt_dur(&r.timeout, "timeout", Duration::from_secs(60));
        let fcx = FlowCx {
            vars: tcx.setup_vars,
            http: tcx.http,
            group: "",
            has_base_url: tcx.has_base_url,
            extract_prefix: "",
        };
        let kind = if let Some(h) = &r.http {
            match compile_steps(cx, std::slice::from_ref(h), &fcx).pop() {
                Some(Step::Request(req)) if req.poll.is_none() => ActionKind::Http(req),
                Some(Step::Request(_)) => {
                    cx.err(
                        h,
                        "http: sends one request; to poll until a condition holds, use `wait_for:`",
                    );
                    continue;
                }
                Some(_) => {
                    cx.err(
                        h,
                        "http: expected a request, e.g. `{post: /admin/config, json: {...}}`",
                    );
                    continue;
                }
                None => continue,
            }
        } else if let Some(w) = &r.wait_for {
            if w.value.until.is_none() {
                cx.err(
                    w,
                    "wait_for: expected `until:` with the condition to wait for, e.g. `until: {status: 200}`, and `within: 30s`",
                );
                continue;
            }
            match compile_steps(cx, std::slice::from_ref(w), &fcx).pop() {
                Some(Step::Request(req)) => ActionKind::WaitFor(req),
                Some(_) => {
                    cx.err(w, "wait_for: expected a request with `until:`");
                    continue;
                }
                None => continue,
            }
        } else if let Some(e) = &r.exec {
            match exec(cx, e, r.shell.as_ref().is_some_and(|s| s.value), tcx) {
                Some(argv) => ActionKind::Exec {
                    argv,
                    shell: r.shell.as_ref().is_some_and(|s| s.value),
                    env: r
                        .env
                        .iter()
                        .map(|(k, v)| (k.clone(), cx.tpl(v, tcx.setup_vars)))
                        .collect(),
                },
                None => continue,
            }
        } else {
            continue;
        };
        if r.shell.is_some() && r.exec.is_none() {
            if let Some(s) = &r.shell {
                cx.err(s, "shell: only applies to exec");
            }
        }
        if !r.env.is_empty() && r.exec.is_none() {
            cx.err(a, "env: only applies to exec");
        }
        out.push(Action {
            name,
            at,
            kind,
            timeout,
            abort_on_fail: r.abort_on_fail.as_ref().is_some_and(|b| b.value),
        });
    }
    out
}

/// `at:` and `after:`: an offset within the run, or after an earlier action.
fn when(
    cx: &mut Cx<'_>,
    a: &S<RawAction>,
    earlier: &[String],
    tcx: &TimelineCx<'_>,
) -> Option<ActionAt> {
    let r = &a.value;
    let at = match &r.at {
        Some(s) => Some(cx.dur(s, "at")?),
        None => None,
    };
    if let Some(after) = &r.after {
        let Some(i) = earlier.iter().position(|n| *n == after.value) else {
            cx.err(
                after,
                format!(
                    "after: no earlier action is named `{}`{}",
                    after.value,
                    if earlier.is_empty() {
                        String::new()
                    } else {
                        format!(" (earlier actions: {})", earlier.join(", "))
                    }
                ),
            );
            return None;
        };
        return Some(ActionAt::After {
            action: i,
            delay: at.unwrap_or(Duration::ZERO),
        });
    }
    let Some(at) = at else {
        cx.err(a, "an action needs `at: 2m` (from the start of the load) or `after: NAME` (when another action ended)");
        return None;
    };
    if let (Some(end), Some(s)) = (tcx.run_end, &r.at) {
        if at > end {
            cx.err(
                s,
                format!(
                    "at: {} is past the end of the load ({}): the action would never run",
                    s.value,
                    crate::format_duration(end)
                ),
            );
            return None;
        }
    }
    Some(ActionAt::At(at))
}

/// The command of an `exec`: a list (program and arguments) or, with `shell: true`, a
/// string for `sh -c`. A program that is not there is an error now, not at its time.
fn exec(cx: &mut Cx<'_>, e: &S<Json>, shell: bool, tcx: &TimelineCx<'_>) -> Option<Vec<Template>> {
    let words: Vec<String> = match &e.value {
        Json::String(s) if shell => vec![s.clone()],
        Json::String(_) => {
            cx.err(
                e,
                "exec: expected a list `[program, arg, ...]` (or a string with `shell: true`)",
            );
            return None;
        }
        Json::Array(a) if !a.is_empty() && !shell => {
            let mut v = Vec::new();
            for w in a {
                match w {
                    Json::String(s) => v.push(s.clone()),
                    Json::Number(n) => v.push(n.to_string()),
                    _ => {
                        cx.err(e, "exec: every argument must be a string");
                        return None;
                    }
                }
            }
            v
        }
        Json::Array(a) if a.is_empty() => {
            cx.err(
                e,
                "exec: the command is empty: expected `[program, arg, ...]`",
            );
            return None;
        }
        _ => {
            cx.err(
                e,
                if shell {
                    "exec: with `shell: true`, expected one string of shell code"
                } else {
                    "exec: expected a list `[program, arg, ...]`"
                },
            );
            return None;
        }
    };
    let program = if shell { "sh" } else { words[0].as_str() };
    if !program.contains("{{") && !cx.files.find_program(&cx.base_dir, program) {
        cx.err(
            e,
            format!(
                "exec: cannot find the program `{program}`{}",
                if program.contains('/') {
                    let dir = if cx.base_dir.as_os_str().is_empty() {
                        std::path::Path::new(".")
                    } else {
                        cx.base_dir.as_path()
                    };
                    format!(
                        " (relative paths are from the plan's folder, {})",
                        dir.display()
                    )
                } else {
                    " on PATH".to_string()
                }
            ),
        );
        return None;
    }
    Some(
        words
            .iter()
            .map(|w| {
                let s = S {
                    value: w.clone(),
                    referenced: e.referenced,
                    defined: e.defined,
                };
                cx.tpl(&s, tcx.setup_vars)
            })
            .collect(),
    )
}
