//! A Simple Network Time Protocol client (RFC 4330): this clock's offset from an NTP
//! server's, from the exchange with the shortest round trip among a few.
use std::net::{ToSocketAddrs, UdpSocket};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use throng_report::ClockInfo;

/// Seconds from 1900-01-01 (NTP's era 0) to 1970-01-01.
const NTP_UNIX: f64 = 2_208_988_800.0;

/// Why the reference could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SntpError {
    /// The address does not resolve or the socket fails.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The name resolves to nothing.
    #[error("`{0}` resolves to no address")]
    NoAddress(String),
    /// No exchange got a usable answer; the last reason.
    #[error("no usable answer in {tries} tries ({last})")]
    NoAnswer {
        /// Exchanges tried.
        tries: u32,
        /// Why the last one failed.
        last: String,
    },
}

/// One exchange's result: offset of the reference from this clock, and the round trip (s).
#[derive(Debug, Clone, Copy)]
struct Sample {
    theta: f64,
    delay: f64,
}

/// Measures this clock against the NTP server `server` (`host` or `host:port`, port 123 by
/// default) with `tries` exchanges, each waiting at most `timeout`, and keeps the one with
/// the shortest round trip (its offset error is at most half of it).
pub fn measure(server: &str, tries: u32, timeout: Duration) -> Result<ClockInfo, SntpError> {
    let with_port = if server
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && !h.ends_with(':') && p.parse::<u16>().is_ok())
    {
        server.to_string()
    } else {
        format!("{server}:123")
    };
    let addr = with_port
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| SntpError::NoAddress(server.to_string()))?;
    let bind = if addr.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let sock = UdpSocket::bind(bind)?;
    sock.connect(addr)?;
    sock.set_read_timeout(Some(timeout))?;
    let mut best: Option<Sample> = None;
    let mut last = String::new();
    for i in 0..tries.max(1) {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
        match exchange(&sock) {
            Ok(s) => {
                if best.is_none_or(|b| s.delay < b.delay) {
                    best = Some(s);
                }
            }
            Err(e) => last = e,
        }
    }
    let s = best.ok_or(SntpError::NoAnswer {
        tries: tries.max(1),
        last,
    })?;
    Ok(ClockInfo {
        source: format!("sntp {server}"),
        // positive: this clock is ahead of the reference
        offset_ms: Some(-s.theta * 1000.0),
        error_ms: Some(s.delay.max(0.0) * 1000.0 / 2.0),
        round_trip_ms: Some(s.delay.max(0.0) * 1000.0),
        ..ClockInfo::default()
    })
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Unix seconds as an NTP timestamp (seconds and 2^-32 fractions since 1900, era-wrapped).
fn to_ntp(unix: f64) -> [u8; 8] {
    let t = unix + NTP_UNIX;
    let secs = (t.floor() as u64 & 0xffff_ffff) as u32;
    let frac = ((t - t.floor()) * 4_294_967_296.0) as u32;
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&secs.to_be_bytes());
    b[4..].copy_from_slice(&frac.to_be_bytes());
    b
}

/// An NTP timestamp as Unix seconds, taking the era nearest to `near` (Unix seconds).
fn from_ntp(b: &[u8], near: f64) -> f64 {
    let secs = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f64;
    let frac = u32::from_be_bytes([b[4], b[5], b[6], b[7]]) as f64 / 4_294_967_296.0;
    let era = 4_294_967_296.0;
    let mut t = secs + frac - NTP_UNIX;
    while t < near - era / 2.0 {
        t += era;
    }
    while t > near + era / 2.0 {
        t -= era;
    }
    t
}

/// One request and its answer: the reference's offset from this clock and the round trip.
fn exchange(sock: &UdpSocket) -> Result<Sample, String> {
    let mut req = [0u8; 48];
    req[0] = 0x23; // LI 0, version 4, mode 3 (client)
    let t1 = now_unix();
    let origin = to_ntp(t1);
    req[40..48].copy_from_slice(&origin);
    sock.send(&req).map_err(|e| e.to_string())?;
    let mut buf = [0u8; 128];
    let n = loop {
        let n = sock.recv(&mut buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => "timed out".into(),
            _ => e.to_string(),
        })?;
        // an answer to an earlier, timed-out request: wait for ours
        if n >= 48 && buf[24..32] != origin {
            continue;
        }
        break n;
    };
    let t4 = now_unix();
    if n < 48 {
        return Err(format!("a {n}-byte answer (an NTP packet has 48)"));
    }
    let mode = buf[0] & 0x7;
    if mode != 4 {
        return Err(format!("answer in mode {mode}, not 4 (server)"));
    }
    if buf[1] == 0 {
        let code = String::from_utf8_lossy(&buf[12..16]).to_string();
        return Err(format!("the server refused (kiss-o'-death {code})"));
    }
    if buf[0] >> 6 == 3 {
        return Err("the server's clock is not synchronised (leap indicator 3)".into());
    }
    let t2 = from_ntp(&buf[32..40], t1);
    let t3 = from_ntp(&buf[40..48], t1);
    Ok(Sample {
        theta: ((t2 - t1) + (t3 - t4)) / 2.0,
        delay: (t4 - t1) - (t3 - t2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An NTP server on 127.0.0.1 whose clock is `skew` seconds ahead of this one; `reply`
    /// may spoil its answers.
    fn server(skew: f64, spoil: fn(&mut [u8; 48])) -> String {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let addr = sock.local_addr().expect("addr").to_string();
        std::thread::spawn(move || {
            let mut buf = [0u8; 48];
            while let Ok((n, from)) = sock.recv_from(&mut buf) {
                if n < 48 {
                    continue;
                }
                let mut out = [0u8; 48];
                out[0] = 0x24; // version 4, mode 4 (server)
                out[1] = 2; // stratum
                out[24..32].copy_from_slice(&buf[40..48]);
                out[32..40].copy_from_slice(&to_ntp(now_unix() + skew));
                out[40..48].copy_from_slice(&to_ntp(now_unix() + skew));
                spoil(&mut out);
                let _ = sock.send_to(&out, from);
            }
        });
        addr
    }

    #[test]
    fn timestamps_round_trip_across_eras() {
        for t in [0.0, 1_796_119_200.25, 2_085_978_496.5, 2_200_000_000.75] {
            let back = from_ntp(&to_ntp(t), t);
            assert!((back - t).abs() < 1e-6, "{t} -> {back}");
        }
    }

    #[test]
    fn measures_a_server_that_runs_ahead() {
        let addr = server(0.250, |_| {});
        let c = measure(&addr, 4, Duration::from_secs(1)).expect("measured");
        let off = c.offset_ms.expect("offset");
        // this clock is 250 ms behind the reference; loopback adds well under 50 ms
        assert!((off + 250.0).abs() < 50.0, "offset {off} ms");
        assert!(c.error_ms.expect("error") < 50.0);
        assert_eq!(c.source, format!("sntp {addr}"));
    }

    #[test]
    fn a_refusing_or_silent_server_is_an_error_not_a_panic() {
        let kod = server(0.0, |p| {
            p[1] = 0;
            p[12..16].copy_from_slice(b"RATE");
        });
        let e = measure(&kod, 2, Duration::from_millis(500)).expect_err("kiss-o'-death");
        assert!(e.to_string().contains("kiss-o'-death RATE"), "{e}");
        let client_mode = server(0.0, |p| p[0] = 0x23);
        let e = measure(&client_mode, 1, Duration::from_millis(500)).expect_err("mode");
        assert!(e.to_string().contains("mode 3"), "{e}");
        // a port nobody answers on
        let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let addr = silent.local_addr().expect("addr").to_string();
        let e = measure(&addr, 2, Duration::from_millis(200)).expect_err("silent");
        assert!(e.to_string().contains("no usable answer in 2 tries"), "{e}");
    }
}
