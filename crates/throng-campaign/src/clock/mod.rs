//! How far this machine's clock is from true time: what an instance of a scaled-out run
//! records so `throng merge` can say how well the instances' seconds line up.
//!
//! Two sources. The kernel's own NTP discipline state (`adjtimex(2)`, read only): whether
//! the clock is synchronised and the kernel's estimated and maximum error. And, with
//! `--clock-ref HOST[:PORT]`, a measurement against an NTP server (SNTP, RFC 4330): the
//! offset of this clock from the server's, from the best of a few exchanges.
mod kernel;
mod sntp;

pub use kernel::kernel_state;
pub use sntp::{measure, SntpError};
pub use throng_report::ClockInfo;

use std::time::Duration;

/// The clock estimate an instance records: measured against `reference` when one is given
/// (falling back to the kernel's state, with the reference's error noted), else the
/// kernel's state. Never fails: what could not be estimated is said in the result.
pub fn estimate(reference: Option<&str>) -> ClockInfo {
    let kernel = kernel_state();
    let mut c = match reference {
        None => kernel,
        Some(r) => match measure(r, 4, Duration::from_secs(1)) {
            Ok(m) => ClockInfo {
                synchronised: kernel.synchronised,
                ..m
            },
            Err(e) => ClockInfo {
                error: Some(format!("--clock-ref {r}: {e}")),
                ..kernel
            },
        },
    };
    c.host = hostname();
    c
}

/// This machine's name (instances on one host share its clock).
fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}
