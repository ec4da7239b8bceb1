//! Execution segments (k6's `--execution-segment`): one instance of a distributed run owns a
//! fraction of every executor, computed from the plan alone, so that N instances that never
//! talk to each other together run exactly the unsegmented load.
//!
//! A *sequence* cuts `0..1` into segments (`0, 1/4, 1/2, 1` has three); its period `L` is the
//! least common denominator of its cut points. Global indices (VU numbers, iteration numbers,
//! arrival numbers, data rows) are striped: index `k` belongs to the segment that owns
//! position `k mod L` of the period, and the positions of one period are dealt out in an
//! interleaved, largest-deficit order so each segment holds its share of every prefix to
//! within one index. Because every index has exactly one owner, the shares of any count add
//! up to exactly that count on every instance's arithmetic — no rounding is lost or doubled.
use crate::config::{Executor, Stage};
use std::fmt;

/// Longest period (least common denominator of a sequence) accepted: the ownership table
/// holds one entry per position.
pub const MAX_PERIOD: u64 = 1_000_000;

/// A fraction `num/den` of the run, `0 <= num/den <= 1`, kept reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fraction {
    num: u64,
    den: u64,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Fraction {
    /// `num/den`, reduced; `None` when `den` is zero or the fraction is above one.
    pub fn new(num: u64, den: u64) -> Option<Fraction> {
        if den == 0 || num > den {
            return None;
        }
        let g = gcd(num, den).max(1);
        Some(Fraction {
            num: num / g,
            den: den / g,
        })
    }

    /// Parses `3/8`, `0.375`, `37.5%`, `0` or `1`.
    pub fn parse(s: &str) -> Result<Fraction, SegmentError> {
        let bad = || SegmentError::Fraction(s.to_string());
        let s = s.trim();
        if let Some((n, d)) = s.split_once('/') {
            let n: u64 = n.trim().parse().map_err(|_| bad())?;
            let d: u64 = d.trim().parse().map_err(|_| bad())?;
            return Fraction::new(n, d).ok_or_else(bad);
        }
        let (digits, scale) = match s.strip_suffix('%') {
            Some(p) => (p.trim(), 100u64),
            None => (s, 1u64),
        };
        // a decimal: exact, from its digits
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
            || frac.len() > 9
        {
            return Err(bad());
        }
        let den = 10u64.pow(frac.len() as u32);
        let int: u64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| bad())?
        };
        let frac_v: u64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| bad())?
        };
        let num = int
            .checked_mul(den)
            .and_then(|v| v.checked_add(frac_v))
            .ok_or_else(bad)?;
        Fraction::new(num, den.checked_mul(scale).ok_or_else(bad)?).ok_or_else(bad)
    }

    /// Numerator (reduced).
    pub fn num(&self) -> u64 {
        self.num
    }

    /// Denominator (reduced).
    pub fn den(&self) -> u64 {
        self.den
    }

    fn cmp_value(&self, other: &Fraction) -> std::cmp::Ordering {
        (self.num as u128 * other.den as u128).cmp(&(other.num as u128 * self.den as u128))
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.num, self.den) {
            (0, _) => write!(f, "0"),
            (n, d) if n == d => write!(f, "1"),
            (n, d) => write!(f, "{n}/{d}"),
        }
    }
}

/// A segment that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    /// Not a fraction between 0 and 1.
    #[error("`{0}` is not a fraction between 0 and 1 (write 1/4, 0.25 or 25%)")]
    Fraction(String),
    /// `--segment i/N` out of range.
    #[error("`{0}` is not a segment: write I/N with 1 <= I <= N (the I-th of N equal parts)")]
    Index(String),
    /// `from:to` badly formed or empty.
    #[error("`{0}` is not an execution segment: write FROM:TO with 0 <= FROM < TO <= 1")]
    Range(String),
    /// The sequence is not increasing from 0 to 1, or lacks the segment.
    #[error("execution segment sequence `{sequence}`: {problem}")]
    Sequence {
        /// The sequence as given.
        sequence: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The sequence's common denominator is too large.
    #[error("execution segment sequence `{0}` needs a period of more than {MAX_PERIOD} (use simpler fractions)")]
    Period(String),
}

/// One instance's segment of a run, with the striping of its sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    from: Fraction,
    to: Fraction,
    sequence: Vec<Fraction>,
    /// Positions of the period this segment owns, ascending.
    owned: Vec<u64>,
    period: u64,
}

impl Segment {
    /// The `index`-th (1-based) of `count` equal segments: `--segment 2/8` is `1/8:2/8`
    /// of the sequence `0,1/8,…,1`.
    pub fn nth(index: u64, count: u64) -> Result<Segment, SegmentError> {
        let spec = format!("{index}/{count}");
        if count == 0 || index == 0 || index > count || count > MAX_PERIOD {
            return Err(SegmentError::Index(spec));
        }
        let sequence: Vec<Fraction> = (0..=count)
            .map(|i| Fraction::new(i, count).ok_or_else(|| SegmentError::Index(spec.clone())))
            .collect::<Result<_, _>>()?;
        Segment::in_sequence(
            sequence[index as usize - 1],
            sequence[index as usize],
            sequence,
        )
    }

    /// Parses `--segment I/N`.
    pub fn parse_nth(s: &str) -> Result<Segment, SegmentError> {
        let bad = || SegmentError::Index(s.to_string());
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let i: u64 = i.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        Segment::nth(i, n)
    }

    /// Parses k6's `--execution-segment FROM:TO` (a lone `TO` means `0:TO`) with an optional
    /// `--execution-segment-sequence 0,1/4,…,1`; without a sequence it is `0,FROM,TO,1`.
    pub fn parse_k6(segment: &str, sequence: Option<&str>) -> Result<Segment, SegmentError> {
        let range = || SegmentError::Range(segment.to_string());
        let (from, to) = match segment.split_once(':') {
            Some((f, t)) => (Fraction::parse(f)?, Fraction::parse(t)?),
            None => (Fraction { num: 0, den: 1 }, Fraction::parse(segment)?),
        };
        if from.cmp_value(&to).is_ge() {
            return Err(range());
        }
        let seq = match sequence {
            Some(s) => s
                .split(',')
                .map(Fraction::parse)
                .collect::<Result<Vec<_>, _>>()?,
            None => {
                let mut v = vec![
                    Fraction { num: 0, den: 1 },
                    from,
                    to,
                    Fraction { num: 1, den: 1 },
                ];
                v.dedup();
                v
            }
        };
        Segment::in_sequence(from, to, seq).map_err(|e| match (e, sequence) {
            (SegmentError::Sequence { problem, .. }, Some(s)) => SegmentError::Sequence {
                sequence: s.to_string(),
                problem,
            },
            (e, _) => e,
        })
    }

    /// The segment `from..to` of `sequence` (cut points from 0 to 1, increasing, that include
    /// `from` and `to` next to each other).
    pub fn in_sequence(
        from: Fraction,
        to: Fraction,
        sequence: Vec<Fraction>,
    ) -> Result<Segment, SegmentError> {
        let text = sequence
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let problem = |p: &str| SegmentError::Sequence {
            sequence: text.clone(),
            problem: p.to_string(),
        };
        if sequence.first().map(|f| f.num) != Some(0)
            || sequence.last().map(|f| f.num == f.den) != Some(true)
        {
            return Err(problem("it must start at 0 and end at 1"));
        }
        if sequence.windows(2).any(|w| w[0].cmp_value(&w[1]).is_ge()) {
            return Err(problem("its points must increase"));
        }
        let pos = sequence
            .windows(2)
            .position(|w| w[0] == from && w[1] == to)
            .ok_or_else(|| problem(&format!("it has no segment {from}:{to}")))?;
        let mut period: u64 = 1;
        for f in &sequence {
            let g = gcd(period, f.den);
            period = (period / g)
                .checked_mul(f.den)
                .filter(|p| *p <= MAX_PERIOD)
                .ok_or_else(|| SegmentError::Period(text.clone()))?;
        }
        // each segment's positions per period, dealt by largest deficit: position p goes
        // to the segment furthest behind its share of p+1 positions (ties: the earlier one)
        let shares: Vec<u64> = sequence
            .windows(2)
            .map(|w| w[1].num * (period / w[1].den) - w[0].num * (period / w[0].den))
            .collect();
        let mut dealt = vec![0u64; shares.len()];
        let mut owned = Vec::with_capacity(shares[pos] as usize);
        for p in 0..period {
            let mut best = 0;
            let mut best_deficit = i128::MIN;
            for (j, s) in shares.iter().enumerate() {
                let deficit = (p as i128 + 1) * *s as i128 - dealt[j] as i128 * period as i128;
                if deficit > best_deficit {
                    best = j;
                    best_deficit = deficit;
                }
            }
            dealt[best] += 1;
            if best == pos {
                owned.push(p);
            }
        }
        Ok(Segment {
            from,
            to,
            sequence,
            owned,
            period,
        })
    }

    /// The whole run (`0:1`): owns everything.
    pub fn whole() -> Segment {
        let zero = Fraction { num: 0, den: 1 };
        let one = Fraction { num: 1, den: 1 };
        Segment {
            from: zero,
            to: one,
            sequence: vec![zero, one],
            owned: vec![0],
            period: 1,
        }
    }

    /// Start of the segment.
    pub fn from(&self) -> Fraction {
        self.from
    }

    /// End of the segment.
    pub fn to(&self) -> Fraction {
        self.to
    }

    /// The sequence's cut points, `0,…,1`.
    pub fn sequence(&self) -> &[Fraction] {
        &self.sequence
    }

    /// The sequence as k6 writes it (`0,1/4,1/2,1`).
    pub fn sequence_text(&self) -> String {
        self.sequence
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The number of positions in one period of the striping.
    pub fn period(&self) -> u64 {
        self.period
    }

    /// Whether this is the whole run.
    pub fn is_whole(&self) -> bool {
        self.owned.len() as u64 == self.period
    }

    /// Whether global index `k` (0-based) belongs to this segment.
    pub fn owns(&self, k: u64) -> bool {
        self.owned.binary_search(&(k % self.period)).is_ok()
    }

    /// This segment's share of a count `v`: how many of the indices `0..v` it owns. The
    /// shares of all segments of a sequence add up to exactly `v`.
    pub fn scale(&self, v: u64) -> u64 {
        let per = self.owned.len() as u64;
        (v / self.period) * per + self.owned.partition_point(|p| *p < v % self.period) as u64
    }

    /// This segment's share of a whole VU target (rounded up first, as VUs are whole).
    fn scale_target(&self, target: f64) -> f64 {
        self.scale(target.max(0.0).ceil() as u64) as f64
    }

    /// The executor this instance runs: the load (iterations, looping VUs, stage targets)
    /// scaled so the shares of all segments add up to the totals. Arrival-rate executors keep
    /// their rates — the engine starts only the arrivals this segment owns (see
    /// [`crate::Engine::with_segment`]) — and get their VU pools scaled, at least one VU
    /// when the pool is not empty (a pool is a capacity, not load). A shared-iterations
    /// executor keeps at least one VU while it has iterations to run.
    pub fn share(&self, e: &Executor) -> Executor {
        let at_least_one = |share: u64, total: u64| if total > 0 { share.max(1) } else { 0 };
        match e.clone() {
            Executor::SharedIterations {
                vus,
                iterations,
                max_duration,
            } => {
                let iterations = self.scale(iterations);
                let vus = at_least_one(self.scale(vus), iterations).min(iterations.max(1));
                Executor::SharedIterations {
                    vus: if iterations == 0 { 0 } else { vus },
                    iterations,
                    max_duration,
                }
            }
            Executor::PerVuIterations {
                vus,
                iterations,
                max_duration,
            } => Executor::PerVuIterations {
                vus: self.scale(vus),
                iterations,
                max_duration,
            },
            Executor::ConstantVus { vus, duration } => Executor::ConstantVus {
                vus: self.scale(vus),
                duration,
            },
            Executor::ExternallyControlled {
                vus,
                max_vus,
                duration,
            } => {
                let vus = self.scale(vus);
                Executor::ExternallyControlled {
                    vus,
                    max_vus: self.scale(max_vus).max(vus),
                    duration,
                }
            }
            Executor::RampingVus {
                start_vus,
                stages,
                graceful_ramp_down,
            } => Executor::RampingVus {
                start_vus: self.scale(start_vus),
                stages: stages
                    .iter()
                    .map(|s| Stage {
                        duration: s.duration,
                        target: self.scale_target(s.target),
                    })
                    .collect(),
                graceful_ramp_down,
            },
            Executor::ConstantArrivalRate {
                rate,
                time_unit,
                duration,
                pre_allocated_vus,
                max_vus,
                when_busy,
            } => Executor::ConstantArrivalRate {
                rate,
                time_unit,
                duration,
                pre_allocated_vus: self.scale(pre_allocated_vus),
                max_vus: at_least_one(self.scale(max_vus), max_vus)
                    .max(self.scale(pre_allocated_vus)),
                when_busy,
            },
            Executor::RampingArrivalRate {
                start_rate,
                time_unit,
                stages,
                pre_allocated_vus,
                max_vus,
                when_busy,
            } => Executor::RampingArrivalRate {
                start_rate,
                time_unit,
                stages,
                pre_allocated_vus: self.scale(pre_allocated_vus),
                max_vus: at_least_one(self.scale(max_vus), max_vus)
                    .max(self.scale(pre_allocated_vus)),
                when_busy,
            },
        }
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.from, self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fractions() {
        assert_eq!(Fraction::parse("2/8"), Ok(Fraction { num: 1, den: 4 }));
        assert_eq!(Fraction::parse("0.25"), Ok(Fraction { num: 1, den: 4 }));
        assert_eq!(Fraction::parse("25%"), Ok(Fraction { num: 1, den: 4 }));
        assert_eq!(Fraction::parse("1"), Ok(Fraction { num: 1, den: 1 }));
        assert!(Fraction::parse("3/2").is_err());
        assert!(Fraction::parse("x").is_err());
        assert!(Fraction::parse("1/0").is_err());
    }

    #[test]
    fn nth_is_k6s_segment() {
        let a = Segment::parse_nth("2/8").expect("2/8");
        let b = Segment::parse_k6("1/8:2/8", Some("0,1/8,2/8,3/8,4/8,5/8,6/8,7/8,1")).expect("k6");
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "1/8:1/4");
        assert!(Segment::parse_nth("0/8").is_err());
        assert!(Segment::parse_nth("9/8").is_err());
        let e = Segment::parse_k6("1/8:2/8", Some("0,1/2,1")).expect_err("not in sequence");
        assert!(e.to_string().contains("has no segment 1/8:1/4"), "{e}");
    }

    #[test]
    fn striping_is_interleaved() {
        // thirds of a sequence 0,1/3,2/3,1: owners go round-robin
        let s: Vec<Segment> = (1..=3).map(|i| Segment::nth(i, 3).expect("seg")).collect();
        let owners: Vec<usize> = (0..6)
            .map(|k| s.iter().position(|seg| seg.owns(k)).expect("owner"))
            .collect();
        assert_eq!(owners, [0, 1, 2, 0, 1, 2]);
        // an uneven sequence: 0:1/2 owns every other index
        let half = Segment::parse_k6("0:1/2", Some("0,1/2,3/4,1")).expect("half");
        assert_eq!((0..8).filter(|k| half.owns(*k)).count(), 4);
        // of 0..7 it owns 0, 3 and 4 (half of 7, within one)
        assert_eq!(half.scale(7), 3);
        assert_eq!(Segment::whole().scale(7), 7);
    }
}
