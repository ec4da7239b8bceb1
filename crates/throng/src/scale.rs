//! Scale-out flags of `throng run`: which execution segment this instance runs
//! (`--segment`, k6's `--execution-segment`), when the load starts (`--start-at`), the ids
//! written to the results and remote write, and `--local-segments N`.
use clap::Args;
use throng_engine::Segment;
use throng_run::{Instance, InstanceInfo};

/// `run`'s scale-out flags.
#[derive(Args, Debug, Clone, Default)]
pub struct ScaleArgs {
    /// Run only this execution segment: `I/N` is the I-th of N equal parts (1-based; `2/8`
    /// is k6's `--execution-segment 1/8:2/8`). `auto/N` takes I from JOB_COMPLETION_INDEX
    /// (0-based, as a Kubernetes Indexed Job sets it) plus one.
    #[arg(
        long,
        value_name = "I/N",
        env = "THRONG_SEGMENT",
        conflicts_with = "execution_segment"
    )]
    pub segment: Option<String>,
    /// k6's execution segment, `FROM:TO` (`1/4:1/2`, `0.25:0.5`, `25%:50%`).
    #[arg(long, value_name = "FROM:TO", env = "THRONG_EXECUTION_SEGMENT")]
    pub execution_segment: Option<String>,
    /// k6's segment sequence, `0,1/4,1/2,1` (default: `0,FROM,TO,1`).
    #[arg(
        long,
        value_name = "LIST",
        requires = "execution_segment",
        env = "THRONG_EXECUTION_SEGMENT_SEQUENCE"
    )]
    pub execution_segment_sequence: Option<String>,
    /// Start the load at this time (after setup): RFC 3339 (`2026-12-01T10:00:00Z`), or
    /// `+30s` after THRONG_RUN_EPOCH (RFC 3339 or Unix seconds; without it, after now).
    #[arg(long, value_name = "TIME", env = "THRONG_START_AT")]
    pub start_at: Option<String>,
    /// Wait until every instance of the run is ready before the load starts: each writes a
    /// file in DIR (a folder every instance sees, e.g. a shared volume), and all start
    /// together when the last has arrived (plus a margin), or at `--start-at` if later.
    #[arg(long, value_name = "DIR", env = "THRONG_BARRIER_DIR")]
    pub barrier_dir: Option<std::path::PathBuf>,
    /// How long to wait at the barrier for the last instance before giving up (no load is
    /// sent; exit 107).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "10m",
        env = "THRONG_BARRIER_TIMEOUT"
    )]
    pub barrier_timeout: String,
    /// The time from the last instance's arrival at the barrier to the start: long enough
    /// for every instance to see the last one's file.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "2s",
        env = "THRONG_BARRIER_MARGIN"
    )]
    pub barrier_margin: String,
    /// Measure this machine's clock against an NTP server (`HOST[:PORT]`, SNTP) before the
    /// load and record its offset in the results (`throng merge` reports how far apart the
    /// instances' clocks were); without it, the kernel's own NTP state is recorded.
    #[arg(long, value_name = "HOST[:PORT]", env = "THRONG_CLOCK_REF")]
    pub clock_ref: Option<String>,
    /// This instance's id in the results and remote write (default: the segment's index).
    #[arg(long, value_name = "ID", env = "THRONG_INSTANCE_ID")]
    pub instance_id: Option<String>,
    /// The run's id shared by all instances (default: derived from the plan, the segment
    /// sequence and the start time, so instances agree without talking).
    #[arg(long, value_name = "ID", env = "THRONG_RUN_ID")]
    pub run_id: Option<String>,
    /// Record threshold verdicts but exit 0 when they fail (exit 99 is left to `throng
    /// merge`, which judges the whole run): for the segments of a Kubernetes Job.
    #[arg(long, env = "THRONG_THRESHOLDS_ADVISORY", value_parser = clap::builder::FalseyValueParser::new())]
    pub thresholds_advisory: bool,
    /// Run the plan as N segments in N child processes of this binary, then merge their
    /// results exactly (as on Kubernetes).
    #[arg(long, value_name = "N", conflicts_with_all = ["segment", "execution_segment"])]
    pub local_segments: Option<u64>,
}

impl ScaleArgs {
    /// Whether this run is one instance of a scaled-out run.
    pub fn is_segmented(&self) -> bool {
        self.segment.is_some()
            || self.execution_segment.is_some()
            || self.start_at.is_some()
            || self.barrier_dir.is_some()
    }

    /// The readiness barrier these flags ask for, for `segment`'s run.
    pub fn barrier(
        &self,
        segment: &Segment,
    ) -> Result<Option<throng_campaign::barrier::Barrier>, String> {
        let Some(dir) = &self.barrier_dir else {
            return Ok(None);
        };
        let timeout = throng_plan::parse_duration(&self.barrier_timeout)
            .map_err(|e| format!("--barrier-timeout `{}`: {e}", self.barrier_timeout))?;
        let margin = throng_plan::parse_duration(&self.barrier_margin)
            .map_err(|e| format!("--barrier-margin `{}`: {e}", self.barrier_margin))?;
        Ok(Some(throng_campaign::barrier::Barrier {
            dir: dir.clone(),
            expected: segment.sequence().len().saturating_sub(1).max(1),
            timeout,
            margin,
        }))
    }

    /// The segment these flags name (the whole run without them).
    pub fn segment(&self) -> Result<Segment, String> {
        if let Some(s) = &self.segment {
            let s = match s.strip_prefix("auto/") {
                Some(n) => {
                    let idx = std::env::var("JOB_COMPLETION_INDEX").map_err(|_| {
                        format!("--segment {s}: JOB_COMPLETION_INDEX is not set (it is in a Kubernetes Indexed Job)")
                    })?;
                    let idx: u64 = idx.trim().parse().map_err(|_| {
                        format!("--segment {s}: JOB_COMPLETION_INDEX `{idx}` is not a number")
                    })?;
                    format!("{}/{n}", idx + 1)
                }
                None => s.clone(),
            };
            return Segment::parse_nth(&s).map_err(|e| format!("--segment: {e}"));
        }
        if let Some(s) = &self.execution_segment {
            return Segment::parse_k6(s, self.execution_segment_sequence.as_deref())
                .map_err(|e| format!("--execution-segment: {e}"));
        }
        Ok(Segment::whole())
    }

    /// The instance these flags describe; `digest` identifies the plan and load flags.
    pub fn instance(&self, digest: &str) -> Result<Instance, String> {
        let segment = self.segment()?;
        let start_at = match &self.start_at {
            Some(s) => Some(parse_start_at(s, std::env::var("THRONG_RUN_EPOCH").ok())?),
            None => None,
        };
        let index = segment
            .sequence()
            .iter()
            .position(|f| *f == segment.from())
            .unwrap_or(0);
        let run_id = self.run_id.clone().unwrap_or_else(|| {
            let seed = format!(
                "{digest}|{}|{}",
                segment.sequence_text(),
                start_at.map(|t| t.to_string()).unwrap_or_default()
            );
            format!("{:016x}", fnv1a(seed.as_bytes()))
        });
        Ok(Instance {
            info: InstanceInfo {
                instance_id: self
                    .instance_id
                    .clone()
                    .unwrap_or_else(|| index.to_string()),
                run_id,
                segment: segment.to_string(),
                sequence: segment.sequence_text(),
                throng_version: env!("CARGO_PKG_VERSION").to_string(),
                plan_digest: digest.to_string(),
                start_at: start_at.map(|t| t.to_string()),
                clock: Some(throng_campaign::clock::estimate(self.clock_ref.as_deref())),
                ..InstanceInfo::default()
            },
            segment,
            start_at,
        })
    }
}

/// Parses `--start-at`: an RFC 3339 time, or `+DURATION` after `epoch` (RFC 3339 or Unix
/// seconds; `None`: now).
pub fn parse_start_at(s: &str, epoch: Option<String>) -> Result<jiff::Timestamp, String> {
    let s = s.trim();
    if let Some(rel) = s.strip_prefix('+') {
        let d = throng_plan::parse_duration(rel).map_err(|e| format!("--start-at `{s}`: {e}"))?;
        let base = match epoch.as_deref().map(str::trim) {
            None | Some("") => jiff::Timestamp::now(),
            Some(e) => match e.parse::<i64>() {
                Ok(secs) => jiff::Timestamp::from_second(secs)
                    .map_err(|err| format!("THRONG_RUN_EPOCH `{e}`: {err}"))?,
                Err(_) => e.parse::<jiff::Timestamp>().map_err(|err| {
                    format!("THRONG_RUN_EPOCH `{e}` is neither RFC 3339 nor Unix seconds: {err}")
                })?,
            },
        };
        let span =
            jiff::SignedDuration::try_from(d).map_err(|e| format!("--start-at `{s}`: {e}"))?;
        return base
            .checked_add(span)
            .map_err(|e| format!("--start-at `{s}`: {e}"));
    }
    s.parse::<jiff::Timestamp>().map_err(|e| {
        format!("--start-at `{s}` is neither an RFC 3339 time (2026-12-01T10:00:00Z) nor +DURATION: {e}")
    })
}

/// FNV-1a, 64 bits: a stable digest (not a secret) of a plan and its load flags.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_at_is_absolute_or_after_the_epoch() {
        let t = parse_start_at("2026-12-01T10:00:00Z", None).expect("rfc3339");
        assert_eq!(t.as_second(), 1_796_119_200);
        let t = parse_start_at("+30s", Some("1796119200".into())).expect("relative");
        assert_eq!(t.as_second(), 1_796_119_230);
        let t = parse_start_at("+1m", Some("2026-12-01T10:00:00Z".into())).expect("relative");
        assert_eq!(t.as_second(), 1_796_119_260);
        assert!(parse_start_at("tomorrow", None).is_err());
        assert!(parse_start_at("+30s", Some("yesterday".into())).is_err());
    }

    #[test]
    fn instances_agree_on_the_run_id_without_talking() {
        let a = ScaleArgs {
            segment: Some("1/4".into()),
            start_at: Some("2026-12-01T10:00:00Z".into()),
            ..ScaleArgs::default()
        };
        let b = ScaleArgs {
            segment: Some("3/4".into()),
            ..a.clone()
        };
        let (ia, ib) = (a.instance("d").expect("a"), b.instance("d").expect("b"));
        assert_eq!(ia.info.run_id, ib.info.run_id);
        assert_eq!(
            (ia.info.instance_id.as_str(), ib.info.instance_id.as_str()),
            ("0", "2")
        );
        assert_eq!(ib.info.segment, "1/2:3/4");
        assert_ne!(
            a.instance("other plan").expect("a").info.run_id,
            ia.info.run_id
        );
    }
}
