//! The kernel's NTP discipline state, read with `adjtimex(2)` in read-only mode.
//!
//! The one `unsafe` of this crate: a zeroed `timex` (every field an integer, so all-zero is
//! valid, and `modes == 0` asks the kernel only to read) passed by exclusive reference to
//! the system call, which writes into it and keeps no pointer.
#![allow(unsafe_code)]

use throng_report::ClockInfo;

/// The kernel's view of this clock: synchronised or not, and when it is, its estimated and
/// maximum error (ms). Other systems than Linux report nothing.
pub fn kernel_state() -> ClockInfo {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `timex` holds only integers; zero is a valid value of each and `modes = 0`
        // makes the call read-only. The pointer is to a live, exclusively borrowed local.
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        let state = unsafe { libc::adjtimex(&mut tx) };
        if state < 0 {
            return ClockInfo {
                source: "kernel".into(),
                error: Some(format!("adjtimex: {}", std::io::Error::last_os_error())),
                ..ClockInfo::default()
            };
        }
        let synchronised = state != libc::TIME_ERROR && tx.status & libc::STA_UNSYNC == 0;
        ClockInfo {
            source: "kernel".into(),
            synchronised: Some(synchronised),
            // the kernel's figures are in microseconds; unsynchronised, they mean nothing
            error_ms: synchronised.then(|| tx.esterror as f64 / 1000.0),
            max_error_ms: synchronised.then(|| tx.maxerror as f64 / 1000.0),
            ..ClockInfo::default()
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        ClockInfo {
            source: "kernel".into(),
            error: Some("the kernel's clock state is read on Linux only".into()),
            ..ClockInfo::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_state_is_consistent() {
        let k = kernel_state();
        assert_eq!(k.source, "kernel");
        assert!(k.error.is_none(), "{:?}", k.error);
        // bounds are given exactly when the clock is synchronised, and are not negative
        let synced = k.synchronised.expect("linux reports a state");
        assert_eq!(k.error_ms.is_some(), synced);
        assert_eq!(k.max_error_ms.is_some(), synced);
        assert!(k.error_ms.unwrap_or(0.0) >= 0.0);
        assert!(k.offset_ms.is_none(), "the kernel does not know its offset");
    }
}
