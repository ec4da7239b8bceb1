//! Documented limits on what a plan (or `throng quick`) may ask for, so that an absurd
//! number is a clear error at load time instead of an allocation failure or a run that
//! cannot be stopped.

/// Most VUs one scenario option may ask for (`vus`, `maxVUs`, `preAllocatedVUs`, `startVUs`,
/// a `ramping-vus` stage target). Past this, split the load over several machines.
pub const MAX_VUS: u64 = 1_000_000;

/// Highest arrival rate, per second (one arrival every microsecond).
pub const MAX_RATE_PER_SECOND: f64 = 1_000_000.0;

/// File descriptors throng keeps for itself (stdio, the runtime, output files, listeners)
/// on top of one connection per VU.
pub const RESERVED_FILES: u64 = 20;

/// The YAML reader's limits (serde-saphyr's default budget, which throng uses as is).
pub mod yaml {
    /// Most nodes (keys, values, list items and mappings) in a plan.
    pub const MAX_NODES: usize = 250_000;
    /// Most parser events.
    pub const MAX_EVENTS: usize = 1_000_000;
    /// Deepest nesting.
    pub const MAX_DEPTH: usize = 64;
    /// Most bytes of values in all.
    pub const MAX_SCALAR_BYTES: usize = 64 * 1024 * 1024;
    /// Most bytes of comments in all.
    pub const MAX_COMMENT_BYTES: usize = 64 * 1024 * 1024;
    /// Most aliases (`*name`).
    pub const MAX_ALIASES: usize = 50_000;
    /// Most anchors (`&name`).
    pub const MAX_ANCHORS: usize = 50_000;
    /// Most merge keys (`<<`).
    pub const MAX_MERGE_KEYS: usize = 10_000;
}

/// `n` with thousands separators: `1,000,000`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Checks a VU count (`what` names the option or flag) against [`MAX_VUS`] and the
/// process's open-file limit (`ulimit -n`, when known): each VU holds its own connection.
pub fn check_vus(what: &str, n: u64, open_files: Option<u64>) -> Result<(), String> {
    if n > MAX_VUS {
        return Err(format!(
            "{what} {n} is above the limit of {} VUs: lower it, or split the load over several machines",
            thousands(MAX_VUS)
        ));
    }
    if let Some(limit) = open_files {
        let need = n.saturating_add(RESERVED_FILES);
        if need > limit {
            return Err(format!(
                "{what} {n} needs about {} open files (one connection per VU) but the open-file limit is {}: raise it (`ulimit -n {}`) or lower {what}",
                thousands(need),
                thousands(limit),
                need
            ));
        }
    }
    Ok(())
}

/// Checks an arrival rate of `rate` per `time_unit_s` seconds (`what` names the option).
pub fn check_rate(what: &str, rate: f64, time_unit_s: f64) -> Result<(), String> {
    if !rate.is_finite() || rate < 0.0 {
        return Err(format!("{what} must be a finite number, 0 or more"));
    }
    let per_s = if time_unit_s > 0.0 {
        rate / time_unit_s
    } else {
        rate
    };
    if per_s > MAX_RATE_PER_SECOND {
        let per = if (time_unit_s - 1.0).abs() < 1e-12 || time_unit_s <= 0.0 {
            " a second".to_string()
        } else {
            format!(" per {time_unit_s}s ({} a second)", num(per_s))
        };
        return Err(format!(
            "{what} {}{per} is above the limit of {} a second (one arrival every microsecond): lower it",
            num(rate),
            thousands(MAX_RATE_PER_SECOND as u64)
        ));
    }
    Ok(())
}

/// A number as a person would write it: `0.5`, `2000000` (whole from 1,000), `1e12`.
fn num(v: f64) -> String {
    if v.abs() >= 1e9 {
        format!("{v:e}")
    } else if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vu_counts_are_checked_against_the_ceiling_and_the_file_limit() {
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(250_001), "250,001");
        assert_eq!(thousands(999), "999");
        assert!(check_vus("vus", 1_000_000, None).is_ok());
        let e = check_vus("vus", 4_294_967_297, None).expect_err("ceiling");
        assert!(e.contains("above the limit of 1,000,000 VUs"), "{e}");
        let e = check_vus("vus", 2000, Some(1024)).expect_err("files");
        assert!(e.contains("the open-file limit is 1,024"), "{e}");
        assert!(e.contains("ulimit -n 2020"), "{e}");
        assert!(check_vus("vus", 1000, Some(1024)).is_ok());
    }

    #[test]
    fn rates_are_checked() {
        assert!(check_rate("rate", 1e6, 1.0).is_ok());
        assert!(check_rate("rate", 60e6, 60.0).is_ok());
        assert_eq!(
            check_rate("rate", 1e12, 1.0).expect_err("fast"),
            "rate 1e12 a second is above the limit of 1,000,000 a second (one arrival every microsecond): lower it"
        );
        assert_eq!(
            check_rate("rate", 2e8, 60.0).expect_err("fast"),
            "rate 200000000 per 60s (3333333 a second) is above the limit of 1,000,000 a second (one arrival every microsecond): lower it"
        );
        assert!(check_rate("rate", f64::INFINITY, 1.0).is_err());
        assert!(check_rate("rate", -1.0, 1.0).is_err());
    }
}
