//! The plan as written: serde shapes whose errors land on the offending field.
//! [`crate::compile`] turns these into the validated [`crate::Plan`].
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

pub(crate) type S<T> = Spanned<T>;
pub(crate) type Json = serde_json::Value;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlan {
    pub name: Option<String>,
    pub description: Option<String>,
    pub base_url: Option<S<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub defaults: RawDefaults,
    #[serde(default)]
    pub data: BTreeMap<String, S<RawData>>,
    #[serde(default)]
    pub scenarios: BTreeMap<String, S<RawScenario>>,
    #[serde(default)]
    pub thresholds: BTreeMap<String, S<Vec<S<Json>>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDefaults {
    #[serde(default)]
    pub headers: BTreeMap<String, S<String>>,
    pub timeout: Option<S<String>>,
    pub http2: Option<S<Json>>,
    #[serde(default)]
    pub insecure_skip_tls_verify: bool,
    pub ca_file: Option<S<String>>,
    pub keepalive: Option<bool>,
    pub max_redirects: Option<u32>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawData {
    pub file: Option<S<String>>,
    pub generate: Option<S<String>>,
    pub count: Option<S<u64>>,
    pub pick: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStage {
    pub duration: S<String>,
    pub target: S<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub executor: S<String>,
    #[serde(rename = "startTime")]
    pub start_time: Option<S<String>>,
    #[serde(rename = "gracefulStop")]
    pub graceful_stop: Option<S<String>>,
    pub vus: Option<S<u64>>,
    pub iterations: Option<S<u64>>,
    pub duration: Option<S<String>>,
    #[serde(rename = "maxDuration")]
    pub max_duration: Option<S<String>>,
    pub stages: Option<S<Vec<RawStage>>>,
    #[serde(rename = "startVUs")]
    pub start_vus: Option<S<u64>>,
    #[serde(rename = "gracefulRampDown")]
    pub graceful_ramp_down: Option<S<String>>,
    pub rate: Option<S<f64>>,
    #[serde(rename = "startRate")]
    pub start_rate: Option<S<f64>>,
    #[serde(rename = "timeUnit")]
    pub time_unit: Option<S<String>>,
    #[serde(rename = "preAllocatedVUs")]
    pub pre_allocated_vus: Option<S<u64>>,
    #[serde(rename = "maxVUs")]
    pub max_vus: Option<S<u64>>,
    pub when_busy: Option<S<String>>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub flow: Option<S<Vec<S<RawStep>>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub get: Option<S<String>>,
    pub post: Option<S<String>>,
    pub put: Option<S<String>>,
    pub patch: Option<S<String>>,
    pub delete: Option<S<String>>,
    pub head: Option<S<String>>,
    pub options: Option<S<String>>,
    pub method: Option<S<String>>,
    pub url: Option<S<String>>,
    pub name: Option<S<String>>,
    #[serde(default)]
    pub query: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub headers: BTreeMap<String, S<String>>,
    pub body: Option<S<String>>,
    pub json: Option<S<Json>>,
    pub form: Option<S<BTreeMap<String, S<String>>>>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub timeout: Option<S<String>>,
    pub check: Option<S<RawCheck>>,
    #[serde(default)]
    pub extract: BTreeMap<String, S<RawExtract>>,
    pub sleep: Option<S<String>>,
    pub group: Option<S<String>>,
    pub flow: Option<S<Vec<S<RawStep>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCheck {
    pub status: Option<S<Json>>,
    pub duration: Option<S<String>>,
    pub body_contains: Option<S<String>>,
    pub body_matches: Option<S<String>>,
    #[serde(default)]
    pub json: BTreeMap<String, S<Json>>,
    #[serde(default)]
    pub header: BTreeMap<String, S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExtract {
    pub header: Option<S<String>>,
    pub json: Option<S<String>>,
    pub regex: Option<S<String>>,
    pub cookie: Option<S<String>>,
}
