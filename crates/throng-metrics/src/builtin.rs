//! k6's built-in metrics, defined in every registry.
use crate::registry::{MetricDef, MetricId};
use crate::{MetricKind, ValueType};

macro_rules! builtins {
    ($($field:ident : $kind:ident, $contains:ident;)*) => {
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
                            name: stringify!($field).to_string(),
                            kind: MetricKind::$kind,
                            contains: ValueType::$contains,
                        });
                        MetricId(defs.len() as u32 - 1)
                    },)*
                }
            }

            /// Kind and value type of a built-in metric name.
            pub fn lookup(name: &str) -> Option<(MetricKind, ValueType)> {
                match name {
                    $(stringify!($field) => Some((MetricKind::$kind, ValueType::$contains)),)*
                    _ => None,
                }
            }
        }
    };
}

builtins! {
    checks: Rate, Default;
    data_received: Counter, Data;
    data_sent: Counter, Data;
    dropped_iterations: Counter, Default;
    group_duration: Trend, Time;
    http_req_blocked: Trend, Time;
    http_req_connecting: Trend, Time;
    http_req_duration: Trend, Time;
    http_req_duration_corrected: Trend, Time;
    http_req_failed: Rate, Default;
    http_req_receiving: Trend, Time;
    http_req_sending: Trend, Time;
    http_req_tls_handshaking: Trend, Time;
    http_req_waiting: Trend, Time;
    http_reqs: Counter, Default;
    iteration_duration: Trend, Time;
    iterations: Counter, Default;
    schedule_lag: Trend, Time;
    vus: Gauge, Default;
    vus_max: Gauge, Default;
}
