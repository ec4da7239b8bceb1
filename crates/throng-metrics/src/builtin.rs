//! k6's built-in metrics, defined in every registry.
use crate::registry::{MetricDef, MetricId};
use crate::{names, MetricKind, ValueType};
use std::sync::OnceLock;

macro_rules! builtins {
    ($($field:ident = $name:ident : $kind:ident, $contains:ident;)*) => {
        /// Ids of k6's built-in metrics (plus throng's corrected-latency trends).
        #[derive(Clone, Debug)]
        pub struct Builtin {
            $(
                #[doc = concat!("`", stringify!($field), "`")]
                pub $field: MetricId,
            )*
        }

        impl Builtin {
            pub(crate) fn define(defs: &mut Vec<MetricDef>) -> Builtin {
                Builtin {
                    $($field: {
                        defs.push(MetricDef {
                            name: names::$name.to_string(),
                            kind: MetricKind::$kind,
                            contains: ValueType::$contains,
                        });
                        MetricId(defs.len() as u32 - 1)
                    },)*
                }
            }

            /// The ids every registry gives the built-in metrics (they are defined first,
            /// in this order, so the ids are the same in every registry and snapshot).
            pub fn ids() -> &'static Builtin {
                static IDS: OnceLock<Builtin> = OnceLock::new();
                IDS.get_or_init(|| Builtin::define(&mut Vec::new()))
            }

            /// Kind and value type of a built-in metric name.
            pub fn lookup(name: &str) -> Option<(MetricKind, ValueType)> {
                match name {
                    $(names::$name => Some((MetricKind::$kind, ValueType::$contains)),)*
                    _ => None,
                }
            }
        }
    };
}

builtins! {
    action_duration = ACTION_DURATION: Trend, Time;
    actions_failed = ACTIONS_FAILED: Counter, Default;
    checks = CHECKS: Rate, Default;
    data_received = DATA_RECEIVED: Counter, Data;
    data_sent = DATA_SENT: Counter, Data;
    dropped_iterations = DROPPED_ITERATIONS: Counter, Default;
    group_duration = GROUP_DURATION: Trend, Time;
    http_req_blocked = HTTP_REQ_BLOCKED: Trend, Time;
    http_req_connecting = HTTP_REQ_CONNECTING: Trend, Time;
    http_req_duration = HTTP_REQ_DURATION: Trend, Time;
    http_req_duration_corrected = HTTP_REQ_DURATION_CORRECTED: Trend, Time;
    http_req_failed = HTTP_REQ_FAILED: Rate, Default;
    http_req_receiving = HTTP_REQ_RECEIVING: Trend, Time;
    http_req_sending = HTTP_REQ_SENDING: Trend, Time;
    http_req_tls_handshaking = HTTP_REQ_TLS_HANDSHAKING: Trend, Time;
    http_req_waiting = HTTP_REQ_WAITING: Trend, Time;
    http_reqs = HTTP_REQS: Counter, Default;
    iteration_duration = ITERATION_DURATION: Trend, Time;
    iterations = ITERATIONS: Counter, Default;
    schedule_lag = SCHEDULE_LAG: Trend, Time;
    vus = VUS: Gauge, Default;
    vus_max = VUS_MAX: Gauge, Default;
}

#[cfg(test)]
mod tests {
    use super::Builtin;
    use crate::{names, Registry};

    #[test]
    fn ids_are_the_registry_ids_and_names_match() {
        let reg = Registry::new();
        let ids = Builtin::ids();
        assert_eq!(reg.builtin().http_reqs, ids.http_reqs);
        assert_eq!(reg.builtin().vus_max, ids.vus_max);
        assert_eq!(
            reg.metric(names::HTTP_REQS).map(|m| m.0),
            Some(ids.http_reqs)
        );
        assert_eq!(
            reg.metric(names::SCHEDULE_LAG).map(|m| m.0),
            Some(ids.schedule_lag)
        );
        let snap = reg.collect();
        assert_eq!(
            snap.metric(ids.checks).map(|m| m.1.name.as_str()),
            Some("checks")
        );
        assert_eq!(snap.metric("checks").map(|m| m.0), Some(ids.checks));
    }
}
