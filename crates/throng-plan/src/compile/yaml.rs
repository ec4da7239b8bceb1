//! YAML syntax errors and breached YAML budgets as plan errors, in our words.
use crate::error::{PlanError, Source};

/// The plan error for text that is not YAML of the plan's shape.
pub(crate) fn yaml_error(src: &Source, e: &serde_saphyr::Error) -> PlanError {
    let (line, col) = e
        .location()
        .map(|l| (l.line() as usize, l.column() as usize))
        .unwrap_or((0, 0));
    if let serde_saphyr::Error::Budget { breach, .. } = e.without_snippet() {
        return src.error_at(line.max(1), col.max(1), budget_message(breach));
    }
    let full = e.without_snippet().to_string();
    // keep the first line of the message; positions are shown by us
    let msg = full.lines().next().unwrap_or("invalid YAML").to_string();
    let msg = strip_location_suffix(&msg);
    src.error_at(line, col, msg)
}

/// What a breached YAML budget (serde-saphyr's defence against huge or hostile input) means.
fn budget_message(b: &serde_saphyr::budget::BudgetBreach) -> String {
    use crate::limits::{thousands, yaml as lim};
    use serde_saphyr::budget::BudgetBreach as B;
    let n = |v: usize| thousands(v as u64);
    match b {
        B::Nodes { nodes } => format!(
            "plan too large: {} nodes (limit {} keys, values and list items)",
            n(*nodes),
            n(lim::MAX_NODES)
        ),
        B::Events { events } => format!(
            "plan too large: {} YAML events (limit {})",
            n(*events),
            n(lim::MAX_EVENTS)
        ),
        B::Depth { depth } => format!(
            "plan nested too deeply: {} levels (limit {})",
            n(*depth),
            n(lim::MAX_DEPTH)
        ),
        B::ScalarBytes { total_scalar_bytes } => format!(
            "plan too large: {} bytes of values (limit {})",
            n(*total_scalar_bytes),
            n(lim::MAX_SCALAR_BYTES)
        ),
        B::CommentBytes {
            total_comment_bytes,
        } => format!(
            "plan too large: {} bytes of comments (limit {})",
            n(*total_comment_bytes),
            n(lim::MAX_COMMENT_BYTES)
        ),
        B::InputBytes { input_bytes } => format!("plan too large: {} bytes", n(*input_bytes)),
        B::Documents { documents } => format!(
            "too many YAML documents: {} (a plan is one document)",
            n(*documents)
        ),
        B::Aliases { aliases } => format!(
            "too many YAML aliases (`*name`): {} (limit {})",
            n(*aliases),
            n(lim::MAX_ALIASES)
        ),
        B::Anchors { anchors } => format!(
            "too many YAML anchors (`&name`): {} (limit {})",
            n(*anchors),
            n(lim::MAX_ANCHORS)
        ),
        B::AliasAnchorRatio { aliases, anchors } => format!(
            "too many YAML aliases for the anchors: {} aliases of {} anchors (a YAML bomb?)",
            n(*aliases),
            n(*anchors)
        ),
        B::MergeKeys { merge_keys } => format!(
            "too many YAML merge keys (`<<`): {} (limit {})",
            n(*merge_keys),
            n(lim::MAX_MERGE_KEYS)
        ),
        _ => "plan too large or too complex for the YAML reader".to_string(),
    }
}

fn strip_location_suffix(msg: &str) -> String {
    let msg = match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    let msg = msg.split(", set DuplicateKeyPolicy").next().unwrap_or(msg);
    match msg {
        "invalid u64" | "invalid u32" => "expected a whole number (0 or more)".to_string(),
        "invalid f64" => "expected a number".to_string(),
        "unexpected event: expected mapping start" => {
            "expected a mapping (`key: value` lines) here".to_string()
        }
        m => m.to_string(),
    }
}
