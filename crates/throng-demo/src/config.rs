//! Demo target settings.
use std::str::FromStr;
use std::time::Duration;
// k6 durations (`500ms`, `1m30s`; `0` alone is zero), read as throng's plans and flags read them
use throng_metrics::duration::parse_duration as duration;

/// Added response latency.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Latency {
    /// None.
    #[default]
    None,
    /// Always this long.
    Fixed(Duration),
    /// Uniform in `min..=max`.
    Uniform(Duration, Duration),
    /// Log-normal with this median and sigma (of the underlying normal).
    LogNormal(Duration, f64),
}

impl Latency {
    /// Draws one delay.
    pub fn sample(&self, rng: &mut fastrand::Rng) -> Duration {
        match *self {
            Latency::None => Duration::ZERO,
            Latency::Fixed(d) => d,
            Latency::Uniform(a, b) => {
                if b <= a {
                    a
                } else {
                    a + Duration::from_nanos(rng.u64(0..=(b - a).as_nanos() as u64))
                }
            }
            Latency::LogNormal(median, sigma) => {
                // Box-Muller
                let u1 = rng.f64().max(1e-12);
                let u2 = rng.f64();
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                let v = median.as_secs_f64() * (sigma * z).exp();
                Duration::from_secs_f64(v.min(60.0))
            }
        }
    }
}

/// A token bucket on `POST /api/v1/ingest`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Tokens added per second.
    pub per_second: f64,
    /// Bucket size.
    pub burst: f64,
}

/// How the demo target behaves.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Added latency on API routes.
    pub latency: Latency,
    /// Share of API requests answered with 500.
    pub error_rate: f64,
    /// `(hold, every)`: every `every`, hold all responses for `hold`.
    pub stall: Option<(Duration, Duration)>,
    /// Rate limiter on ingest.
    pub rate_limit: Option<RateLimit>,
    /// The accepted `X-API-KEY`.
    pub api_key: String,
    /// The password `login` accepts (any user name).
    pub password: String,
    /// JWT signing secret.
    pub jwt_secret: String,
    /// How long the circuit breaker takes to follow the dependency (`/admin/dependency`).
    pub breaker_delay: Duration,
    /// A known capacity: API requests queue for one server of this rate (`--capacity`).
    pub capacity: Option<crate::Capacity>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            latency: Latency::None,
            error_rate: 0.0,
            stall: None,
            rate_limit: None,
            api_key: "test-api-key".into(),
            password: "secret".into(),
            jwt_secret: "throng-demo-secret".into(),
            breaker_delay: Duration::from_secs(1),
            capacity: None,
        }
    }
}

/// Holding every response for `hold` once every `every` (`--stall 1s/10s`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stall {
    /// How long responses are held.
    pub hold: Duration,
    /// How often.
    pub every: Duration,
}

/// The share of API requests answered 500 (`--error-rate`, 0 to 1).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ErrorRate(pub f64);

/// A demo setting that could not be read; its text is the message for the user.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingError(String);

impl std::fmt::Display for SettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingError {}

impl From<String> for SettingError {
    fn from(s: String) -> Self {
        SettingError(s)
    }
}

impl From<&str> for SettingError {
    fn from(s: &str) -> Self {
        SettingError(s.into())
    }
}

/// `20ms` (fixed), `5ms..50ms` (uniform) or `lognormal:20ms,0.5`.
impl FromStr for Latency {
    type Err = SettingError;

    fn from_str(s: &str) -> Result<Self, SettingError> {
        if let Some(rest) = s.strip_prefix("lognormal:") {
            let (m, sigma) = rest.split_once(',').ok_or(
                "lognormal latency: expected `lognormal:MEDIAN,SIGMA`, e.g. lognormal:20ms,0.5",
            )?;
            let sigma: f64 = sigma
                .trim()
                .parse()
                .map_err(|_| format!("lognormal sigma `{sigma}` is not a number"))?;
            return Ok(Latency::LogNormal(duration(m)?, sigma));
        }
        match s.split_once("..") {
            Some((a, b)) => Ok(Latency::Uniform(duration(a)?, duration(b)?)),
            None => Ok(Latency::Fixed(duration(s)?)),
        }
    }
}

/// `100/s` or `100/s,burst=20` (the burst defaults to the rate, at least 1).
impl FromStr for RateLimit {
    type Err = SettingError;

    fn from_str(s: &str) -> Result<Self, SettingError> {
        let (rate, burst) = match s.split_once(",burst=") {
            Some((r, b)) => (r, Some(b)),
            None => (s, None),
        };
        let n = rate.strip_suffix("/s").ok_or_else(|| {
            format!("rate limit `{s}`: expected e.g. `100/s` or `100/s,burst=20`")
        })?;
        let per_second: f64 = n
            .parse()
            .map_err(|_| format!("rate limit `{s}`: `{n}` is not a number"))?;
        let burst: f64 = match burst {
            Some(b) => b
                .parse()
                .map_err(|_| format!("rate limit burst `{b}` is not a number"))?,
            None => per_second.max(1.0),
        };
        if per_second <= 0.0 || burst < 1.0 {
            return Err(format!("rate limit `{s}`: rate must be > 0 and burst >= 1").into());
        }
        Ok(RateLimit { per_second, burst })
    }
}

/// `HOLD/EVERY`, e.g. `1s/10s`; HOLD must be shorter than EVERY.
impl FromStr for Stall {
    type Err = SettingError;

    fn from_str(s: &str) -> Result<Self, SettingError> {
        let (hold, every) = s
            .split_once('/')
            .ok_or("expected HOLD/EVERY, e.g. 1s/10s")?;
        let (hold, every) = (duration(hold)?, duration(every)?);
        if hold >= every || every.is_zero() {
            return Err("HOLD must be shorter than EVERY".into());
        }
        Ok(Stall { hold, every })
    }
}

/// A number from 0 to 1.
impl FromStr for ErrorRate {
    type Err = SettingError;

    fn from_str(s: &str) -> Result<Self, SettingError> {
        let r: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a number"))?;
        if !(0.0..=1.0).contains(&r) {
            return Err("must be between 0 and 1".into());
        }
        Ok(ErrorRate(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_specs() {
        let ms = Duration::from_millis;
        assert_eq!("20ms".parse(), Ok(Latency::Fixed(ms(20))));
        assert_eq!("5ms..50ms".parse(), Ok(Latency::Uniform(ms(5), ms(50))));
        assert_eq!(
            "lognormal:20ms,0.5".parse(),
            Ok(Latency::LogNormal(ms(20), 0.5))
        );
        for bad in [
            "fast",
            "10",
            "10x",
            "lognormal:20ms",
            "lognormal:20ms,x",
            "",
        ] {
            assert!(bad.parse::<Latency>().is_err(), "{bad}");
        }
        assert_eq!(
            "fast".parse::<Latency>().expect_err("rejected").to_string(),
            "`fast` is not a duration: expected something like `10s`, `500ms` or `1m30s`"
        );
        assert_eq!(
            "lognormal:20ms,x"
                .parse::<Latency>()
                .expect_err("rejected")
                .to_string(),
            "lognormal sigma `x` is not a number"
        );
    }

    #[test]
    fn durations_read_as_plans_read_them() {
        assert_eq!(duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        assert_eq!(duration(" 2h "), Ok(Duration::from_secs(7200)));
        for bad in ["", "10", "s", "10x", "1m-3s", "abc", "1..2s"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
        assert_eq!(
            duration("10x"),
            Err("unknown duration unit `x` in `10x` (use ms, s, m or h)".into())
        );
        assert_eq!(
            duration("10"),
            Err("`10` has a number without a unit (use ms, s, m or h)".into())
        );
    }

    #[test]
    fn rate_limits() {
        let r: RateLimit = "100/s,burst=20".parse().expect("rate");
        assert_eq!((r.per_second, r.burst), (100.0, 20.0));
        let r: RateLimit = "0.5/s".parse().expect("rate");
        assert_eq!((r.per_second, r.burst), (0.5, 1.0));
        for bad in ["100", "x/s", "100/s,burst=y", "0/s", "10/s,burst=0.5"] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
        assert_eq!(
            "100"
                .parse::<RateLimit>()
                .expect_err("rejected")
                .to_string(),
            "rate limit `100`: expected e.g. `100/s` or `100/s,burst=20`"
        );
    }

    #[test]
    fn stalls_and_error_rates() {
        let s: Stall = "1s/10s".parse().expect("stall");
        assert_eq!(
            (s.hold, s.every),
            (Duration::from_secs(1), Duration::from_secs(10))
        );
        assert_eq!(
            "10s/1s".parse::<Stall>().expect_err("rejected").to_string(),
            "HOLD must be shorter than EVERY"
        );
        assert!("1s".parse::<Stall>().is_err());
        assert_eq!("0.25".parse(), Ok(ErrorRate(0.25)));
        assert_eq!(
            "1.5"
                .parse::<ErrorRate>()
                .expect_err("rejected")
                .to_string(),
            "must be between 0 and 1"
        );
        assert!("x".parse::<ErrorRate>().is_err());
    }
}
