//! `throng pause|resume|scale|status`: k6's commands against a running throng's control
//! API (`throng run --address`), printing the status afterwards as k6 does.
use clap::Args;
use std::net::SocketAddr;
use throng_live::control::client::{self, ClientError};
use throng_live::control::StatusPatch;
use throng_run::ExitCode;

/// Where the running throng listens.
#[derive(Args, Debug, Clone)]
pub struct ControlArgs {
    /// The running throng's control API (`throng run --address`).
    #[arg(long, short = 'a', value_name = "ADDR", default_value = throng_live::control::DEFAULT_ADDRESS)]
    pub address: SocketAddr,
}

/// `throng scale`.
#[derive(Args, Debug, Clone)]
pub struct ScaleArgs {
    #[command(flatten)]
    pub ctl: ControlArgs,
    /// Active VUs of the externally-controlled scenario (at most its maxVUs).
    #[arg(long, short = 'u', required_unless_present = "max")]
    pub vus: Option<u64>,
    /// New maxVUs of the externally-controlled scenario.
    #[arg(long, short = 'm')]
    pub max: Option<u64>,
}

/// Sends `patch` (or only reads the status) and prints the status; returns the exit code:
/// 0, 104 when the run refuses the change (e.g. VUs above maxVUs), 107 when no throng
/// answers.
pub async fn send(args: &ControlArgs, patch: Option<StatusPatch>) -> i32 {
    let r = match patch {
        Some(p) => client::patch(args.address, p).await,
        None => client::status(args.address).await,
    };
    match r {
        Ok(s) => {
            print!("{}", client::render(&s));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                ClientError::Refused(_) => ExitCode::InvalidPlan.code(),
                _ => ExitCode::RuntimeError.code(),
            }
        }
    }
}

/// `throng scale --vus N [--max M]`.
pub async fn scale(args: &ScaleArgs) -> i32 {
    let patch = StatusPatch {
        vus: args.vus,
        vus_max: args.max,
        ..StatusPatch::default()
    };
    send(&args.ctl, Some(patch)).await
}

/// `throng pause` (`paused` true) and `throng resume` (false).
pub async fn pause(args: &ControlArgs, paused: bool) -> i32 {
    let patch = StatusPatch {
        paused: Some(paused),
        ..StatusPatch::default()
    };
    send(args, Some(patch)).await
}
