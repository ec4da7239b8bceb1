//! Execution segments split every executor exactly: for N = 1..16 equal segments (and for
//! random uneven sequences) the N shares of every count add up to the unsegmented total, and
//! every arrival of an arrival-rate executor is started by exactly one segment.
use proptest::prelude::*;
use std::time::Duration;
use throng_engine::schedule::Arrivals;
use throng_engine::{Executor, Fraction, Segment, Stage, WhenBusy};

fn stages() -> impl Strategy<Value = Vec<Stage>> {
    prop::collection::vec((1u64..20, 0u64..500), 1..5).prop_map(|v| {
        v.into_iter()
            .map(|(d, t)| Stage {
                duration: Duration::from_secs(d),
                target: t as f64,
            })
            .collect()
    })
}

fn when_busy() -> impl Strategy<Value = WhenBusy> {
    prop_oneof![Just(WhenBusy::Drop), Just(WhenBusy::Queue)]
}

/// Any of the six executors (and externally-controlled), with random options.
fn executor() -> impl Strategy<Value = Executor> {
    let d = Duration::from_secs(30);
    prop_oneof![
        (0u64..1000, 0u64..100_000).prop_map(move |(vus, iterations)| {
            Executor::SharedIterations {
                vus,
                iterations,
                max_duration: d,
            }
        }),
        (0u64..1000, 0u64..1000).prop_map(move |(vus, iterations)| Executor::PerVuIterations {
            vus,
            iterations,
            max_duration: d,
        }),
        (0u64..10_000).prop_map(move |vus| Executor::ConstantVus { vus, duration: d }),
        (0u64..1000, 0u64..1000).prop_map(move |(vus, extra)| {
            Executor::ExternallyControlled {
                vus,
                max_vus: vus + extra,
                duration: d,
            }
        }),
        (0u64..500, stages(), 0u64..30).prop_map(|(start_vus, stages, g)| {
            Executor::RampingVus {
                start_vus,
                stages,
                graceful_ramp_down: Duration::from_secs(g),
            }
        }),
        (1u64..500, 1u64..20, 0u64..100, 0u64..100, when_busy()).prop_map(
            |(rate, secs, pre, extra, when_busy)| Executor::ConstantArrivalRate {
                rate: rate as f64,
                time_unit: Duration::from_secs(1),
                duration: Duration::from_secs(secs),
                pre_allocated_vus: pre,
                max_vus: pre + extra,
                when_busy,
            }
        ),
        (0u64..200, stages(), 0u64..100, 0u64..100, when_busy()).prop_map(
            |(start, stages, pre, extra, when_busy)| Executor::RampingArrivalRate {
                start_rate: start as f64,
                time_unit: Duration::from_secs(1),
                stages,
                pre_allocated_vus: pre,
                max_vus: pre + extra,
                when_busy,
            }
        ),
    ]
}

/// The counts a share must add up to, per executor: the load it runs.
fn totals(e: &Executor) -> Vec<u64> {
    match e {
        Executor::SharedIterations { iterations, .. } => vec![*iterations],
        Executor::PerVuIterations { vus, .. } => vec![*vus, e.total_iterations().unwrap_or(0)],
        Executor::ConstantVus { vus, .. } => vec![*vus],
        Executor::ExternallyControlled { vus, .. } => vec![*vus],
        Executor::RampingVus {
            start_vus, stages, ..
        } => std::iter::once(*start_vus)
            .chain(stages.iter().map(|s| s.target as u64))
            .collect(),
        Executor::ConstantArrivalRate {
            pre_allocated_vus, ..
        }
        | Executor::RampingArrivalRate {
            pre_allocated_vus, ..
        } => vec![*pre_allocated_vus],
    }
}

fn arrivals(e: &Executor) -> Option<Arrivals> {
    match e {
        Executor::ConstantArrivalRate {
            rate,
            time_unit,
            duration,
            ..
        } => Some(Arrivals::constant(*rate, *time_unit, *duration)),
        Executor::RampingArrivalRate {
            start_rate,
            time_unit,
            stages,
            ..
        } => Some(Arrivals::ramping(*start_rate, *time_unit, stages)),
        _ => None,
    }
}

fn check_split(e: &Executor, segments: &[Segment]) -> Result<(), TestCaseError> {
    let want = totals(e);
    let mut sum = vec![0u64; want.len()];
    for s in segments {
        for (acc, v) in sum.iter_mut().zip(totals(&s.share(e))) {
            *acc += v;
        }
    }
    prop_assert_eq!(&sum, &want, "{} split {} ways", e.name(), segments.len());
    if let Some(all) = arrivals(e) {
        let all: Vec<Duration> = all.collect();
        let mut merged: Vec<Duration> = segments
            .iter()
            .flat_map(|s| {
                arrivals(&s.share(e))
                    .map(|a| {
                        a.segmented(std::sync::Arc::new(s.clone()))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
            .collect();
        merged.sort();
        prop_assert_eq!(
            merged,
            all,
            "{} arrivals split {} ways",
            e.name(),
            segments.len()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn equal_segments_add_up_to_the_totals(e in executor()) {
        for n in 1..=16u64 {
            let segs: Vec<Segment> = (1..=n)
                .map(|i| Segment::nth(i, n).map_err(|e| TestCaseError::fail(e.to_string())))
                .collect::<Result<_, _>>()?;
            check_split(&e, &segs)?;
        }
    }

    #[test]
    fn uneven_sequences_add_up_to_the_totals(
        e in executor(),
        cuts in prop::collection::btree_set(1u64..24, 0..8),
    ) {
        let mut seq = vec![Fraction::new(0, 24).unwrap_or_else(|| unreachable!())];
        seq.extend(cuts.iter().filter_map(|c| Fraction::new(*c, 24)));
        seq.extend(Fraction::new(24, 24));
        let segs: Vec<Segment> = seq
            .windows(2)
            .map(|w| Segment::in_sequence(w[0], w[1], seq.clone()))
            .collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_split(&e, &segs)?;
    }
}

#[test]
fn k6_striping_of_vus_across_three_instances() {
    // 10 VUs in thirds: 4, 3, 3 (k6 gives the remainder to the first segments)
    let e = Executor::ConstantVus {
        vus: 10,
        duration: Duration::from_secs(1),
    };
    let vus: Vec<u64> = (1..=3)
        .map(|i| Segment::nth(i, 3).expect("segment").share(&e).max_vus())
        .collect();
    assert_eq!(vus, [4, 3, 3]);
}
