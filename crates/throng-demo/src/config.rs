//! Demo target settings.
use std::time::Duration;

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
        }
    }
}
