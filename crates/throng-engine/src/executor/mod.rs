//! k6's executors, one module per family.
mod arrival_rate;
mod constant_vus;
mod external;
mod iterations;
mod ramping_vus;

pub use arrival_rate::MAX_QUEUED_ARRIVALS;

use crate::config::Executor;
use crate::ctx::ScenarioCtx;
use crate::schedule::Arrivals;
use crate::segment::Segment;
use std::sync::Arc;

/// Runs a scenario's executor to its end (including the graceful stop).
pub(crate) async fn run(exec: &Executor, ctx: Arc<ScenarioCtx>, segment: Option<Arc<Segment>>) {
    let stripe = |a: Arrivals| match &segment {
        Some(s) => a.segmented(s.clone()),
        None => a,
    };
    match exec {
        Executor::SharedIterations {
            vus,
            iterations,
            max_duration,
        } => iterations::shared(ctx, *vus, *iterations, *max_duration).await,
        Executor::PerVuIterations {
            vus,
            iterations,
            max_duration,
        } => iterations::per_vu(ctx, *vus, *iterations, *max_duration).await,
        Executor::ConstantVus { vus, duration } => constant_vus::run(ctx, *vus, *duration).await,
        Executor::ExternallyControlled {
            vus,
            max_vus,
            duration,
        } => external::run(ctx, *vus, *max_vus, *duration).await,
        Executor::RampingVus {
            start_vus,
            stages,
            graceful_ramp_down,
        } => ramping_vus::run(ctx, *start_vus, stages.clone(), *graceful_ramp_down).await,
        Executor::ConstantArrivalRate {
            rate,
            time_unit,
            duration,
            pre_allocated_vus,
            max_vus,
            when_busy,
        } => {
            let arrivals = stripe(Arrivals::constant(*rate, *time_unit, *duration));
            arrival_rate::run(ctx, arrivals, *pre_allocated_vus, *max_vus, *when_busy).await
        }
        Executor::RampingArrivalRate {
            start_rate,
            time_unit,
            stages,
            pre_allocated_vus,
            max_vus,
            when_busy,
        } => {
            let arrivals = stripe(Arrivals::ramping(*start_rate, *time_unit, stages));
            arrival_rate::run(ctx, arrivals, *pre_allocated_vus, *max_vus, *when_busy).await
        }
    }
}
