//! throng-campaign: many runs as one answer. [`limit`] searches for the breaking point of a
//! scenario (max sustainable load, the criterion that failed, recovery time); [`suite`]
//! runs plans, commands and searches in order with a cool-down and writes one combined
//! report; [`clock`] estimates how far this machine's clock is from true time, for the
//! instances of a scaled-out run; [`barrier`] starts them together once all are ready.
#![warn(missing_docs)]

pub mod barrier;
pub mod clock;
pub mod k8s;
pub mod limit;
pub mod local;
pub mod suite;

/// A run of `plan` as a campaign makes it: no live output, no servers, the given files.
pub(crate) fn run_request(
    plan: throng_plan::Plan,
    plan_file: &str,
    files: throng_run::ReportFiles,
    interrupt: &tokio_util::sync::CancellationToken,
) -> throng_run::RunRequest {
    throng_run::RunRequest {
        plan,
        plan_file: plan_file.to_string(),
        files,
        no_thresholds: false,
        interrupt: interrupt.clone(),
        color: false,
        live: None,
        command: None,
        dashboard: None,
        prometheus: None,
        http_debug: None,
        control: None,
        instance: None,
    }
}
