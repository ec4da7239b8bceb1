//! `throng k8s render`: the Kubernetes manifests of a scaled-out run. One ConfigMap holds the
//! plan and its data files; an Indexed Job runs N pods, pod `i` running execution segment
//! `i+1/N` (from `JOB_COMPLETION_INDEX`) and starting its load at one agreed time; every pod
//! writes its results to a shared volume; a merge Job waits for all N files and merges them
//! exactly. Nothing talks to anything else: the segments are computed from the plan alone.
use serde_json::{json, Value};

/// Largest ConfigMap Kubernetes stores (1 MiB), less room for its metadata.
pub const MAX_CONFIGMAP_BYTES: usize = 1_000_000;

/// Where the plan is mounted in the pods.
pub const PLAN_DIR: &str = "/plan";

/// Where the results volume is mounted in the pods.
pub const RESULTS_DIR: &str = "/results";

/// What to render.
#[derive(Debug, Clone)]
pub struct K8sOptions {
    /// Base name of every object (`throng-checkout`).
    pub name: String,
    /// Namespace, if any.
    pub namespace: Option<String>,
    /// Pods (execution segments).
    pub instances: u64,
    /// The throng image (`throng:0.1.0`).
    pub image: String,
    /// CPU request and limit per pod (`2`, `500m`).
    pub cpu: Option<String>,
    /// Memory request and limit per pod (`1Gi`).
    pub memory: Option<String>,
    /// When the load starts, RFC 3339 (all pods agree on it).
    pub start_at: Option<String>,
    /// The run id every pod writes to its results.
    pub run_id: String,
    /// The plan file's text.
    pub plan: String,
    /// Data files the plan reads: (path relative to the plan, text).
    pub files: Vec<(String, String)>,
    /// Size of the shared results volume (`1Gi`).
    pub results_size: String,
    /// Extra `throng run` arguments for every segment (`--vus 100`, `-e K=V`).
    pub run_args: Vec<String>,
}

/// Manifests that cannot be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum K8sError {
    /// Zero instances, or too many for an Indexed Job.
    #[error("--instances {0}: give 1 to 100000")]
    Instances(u64),
    /// The plan and its files do not fit a ConfigMap.
    #[error("the plan and its data files are {0} bytes, more than a ConfigMap holds ({MAX_CONFIGMAP_BYTES}): put the data in an image or a volume")]
    TooLarge(usize),
    /// A name Kubernetes would refuse.
    #[error("`{0}` is not a usable Kubernetes name (lowercase letters, digits and '-', at most 52 characters)")]
    Name(String),
    /// A data file path that leaves the plan's folder.
    #[error("data file `{0}` is outside the plan's folder: the ConfigMap holds files beside the plan only")]
    Path(String),
    /// The YAML writer failed.
    #[error("cannot write the manifests: {0}")]
    Yaml(String),
}

/// A Kubernetes object name from a plan name: lowercase, `[a-z0-9-]`, at most 52 characters
/// (room for the Job's pod suffixes).
pub fn object_name(plan: &str) -> String {
    let mut s: String = plan
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let s = s.trim_matches('-');
    let s = if s.is_empty() { "plan" } else { s };
    let mut out = format!("throng-{s}");
    out.truncate(52);
    out.trim_end_matches('-').to_string()
}

/// A ConfigMap key for a file path (`data/users.csv` → `data--users.csv`).
fn key_of(path: &str) -> String {
    path.replace('/', "--")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn metadata(o: &K8sOptions, name: &str) -> Value {
    let mut m = json!({
        "name": name,
        "labels": {
            "app.kubernetes.io/name": "throng",
            "app.kubernetes.io/instance": o.name,
            "throng.dev/run-id": o.run_id,
        }
    });
    if let Some(ns) = &o.namespace {
        m["namespace"] = json!(ns);
    }
    m
}

fn resources(o: &K8sOptions) -> Value {
    let mut r = serde_json::Map::new();
    if let Some(c) = &o.cpu {
        r.insert("cpu".into(), json!(c));
    }
    if let Some(m) = &o.memory {
        r.insert("memory".into(), json!(m));
    }
    json!({ "requests": r, "limits": r })
}

/// A container that runs throng as an unprivileged user on a read-only root.
fn container(o: &K8sOptions, name: &str, args: Vec<String>, env: Value) -> Value {
    json!({
        "name": name,
        "image": o.image,
        "args": args,
        "env": env,
        "resources": resources(o),
        "securityContext": {
            "runAsNonRoot": true,
            "runAsUser": 65532,
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "capabilities": { "drop": ["ALL"] }
        },
        "volumeMounts": [
            { "name": "plan", "mountPath": PLAN_DIR, "readOnly": true },
            { "name": "results", "mountPath": RESULTS_DIR },
            { "name": "tmp", "mountPath": "/tmp" }
        ]
    })
}

fn volumes(o: &K8sOptions) -> Value {
    let mut items = vec![json!({ "key": "plan.yaml", "path": "plan.yaml" })];
    items.extend(
        o.files
            .iter()
            .map(|(p, _)| json!({ "key": key_of(p), "path": p })),
    );
    json!([
        { "name": "plan", "configMap": { "name": format!("{}-plan", o.name), "items": items } },
        { "name": "results", "persistentVolumeClaim": { "claimName": format!("{}-results", o.name) } },
        { "name": "tmp", "emptyDir": {} }
    ])
}

/// The manifests, as YAML documents separated by `---`.
pub fn render(o: &K8sOptions) -> Result<String, K8sError> {
    if o.instances == 0 || o.instances > 100_000 {
        return Err(K8sError::Instances(o.instances));
    }
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.len() <= 52
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !n.starts_with('-')
            && !n.ends_with('-')
    };
    if !name_ok(&o.name) {
        return Err(K8sError::Name(o.name.clone()));
    }
    if let Some(ns) = o.namespace.as_deref().filter(|n| !name_ok(n)) {
        return Err(K8sError::Name(ns.to_string()));
    }
    for (p, _) in &o.files {
        if p.starts_with('/') || p.split('/').any(|c| c == ".." || c.is_empty()) {
            return Err(K8sError::Path(p.clone()));
        }
    }
    let size = o.plan.len() + o.files.iter().map(|(_, t)| t.len()).sum::<usize>();
    if size > MAX_CONFIGMAP_BYTES {
        return Err(K8sError::TooLarge(size));
    }
    let n = o.instances;
    let mut data = serde_json::Map::new();
    data.insert("plan.yaml".into(), json!(o.plan));
    for (p, t) in &o.files {
        data.insert(key_of(p), json!(t));
    }
    let config_map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(o, &format!("{}-plan", o.name)),
        "data": data,
    });
    let claim = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(o, &format!("{}-results", o.name)),
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "resources": { "requests": { "storage": o.results_size } }
        }
    });
    let mut run_args: Vec<String> = vec![
        "run".into(),
        format!("{PLAN_DIR}/plan.yaml"),
        "--segment".into(),
        format!("auto/{n}"),
        "--results".into(),
        format!("{RESULTS_DIR}/segment-$(JOB_COMPLETION_INDEX).json"),
        "--run-id".into(),
        o.run_id.clone(),
        "--quiet".into(),
        "--thresholds-advisory".into(),
        // the pods wait for each other on the shared volume: one scheduled late, or slow to
        // pull its image, holds the start back instead of missing it
        format!("--barrier-dir={RESULTS_DIR}/.barrier"),
    ];
    if let Some(t) = &o.start_at {
        // one word: a bare time would be read as a YAML timestamp, not a string
        run_args.push(format!("--start-at={t}"));
    }
    run_args.extend(o.run_args.iter().cloned());
    let index_env = json!([
        {
            "name": "JOB_COMPLETION_INDEX",
            "valueFrom": { "fieldRef": {
                "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"
            } }
        },
        { "name": "THRONG_INSTANCE_ID", "value": "$(JOB_COMPLETION_INDEX)" }
    ]);
    let segments = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(o, &o.name),
        "spec": {
            "completionMode": "Indexed",
            "completions": n,
            "parallelism": n,
            // a crashed segment is retried once; a plan error fails the whole run at once
            "backoffLimitPerIndex": 1,
            "maxFailedIndexes": 0,
            "podFailurePolicy": { "rules": [
                { "action": "FailJob", "onExitCodes": {
                    "containerName": "throng", "operator": "In", "values": [104]
                } },
                { "action": "Ignore", "onPodConditions": [ { "type": "DisruptionTarget" } ] }
            ] },
            "template": {
                "metadata": { "labels": {
                    "app.kubernetes.io/name": "throng",
                    "app.kubernetes.io/instance": o.name,
                    "throng.dev/role": "segment"
                } },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [ container(o, "throng", run_args, index_env) ],
                    "volumes": volumes(o)
                }
            }
        }
    });
    let merge_args: Vec<String> = vec![
        "merge".into(),
        RESULTS_DIR.into(),
        "--wait-for".into(),
        n.to_string(),
        "--results".into(),
        format!("{RESULTS_DIR}/merged.json"),
        "--html".into(),
        format!("{RESULTS_DIR}/report.html"),
        "--md".into(),
        format!("{RESULTS_DIR}/report.md"),
        "--junit".into(),
        format!("{RESULTS_DIR}/junit.xml"),
        "--summary-export".into(),
        format!("{RESULTS_DIR}/summary.json"),
    ];
    let merge = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(o, &format!("{}-merge", o.name)),
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": { "labels": {
                    "app.kubernetes.io/name": "throng",
                    "app.kubernetes.io/instance": o.name,
                    "throng.dev/role": "merge"
                } },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [ container(o, "merge", merge_args, json!([])) ],
                    "volumes": volumes(o)
                }
            }
        }
    });
    let mut out = String::new();
    for doc in [config_map, claim, segments, merge] {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&doc).map_err(|e| K8sError::Yaml(e.to_string()))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> K8sOptions {
        K8sOptions {
            name: "throng-shop".into(),
            namespace: Some("load".into()),
            instances: 8,
            image: "throng:0.1.0".into(),
            cpu: Some("2".into()),
            memory: Some("1Gi".into()),
            start_at: Some("2026-12-01T10:00:00Z".into()),
            run_id: "r1".into(),
            plan: "scenarios: {}\n".into(),
            files: vec![("data/users.csv".into(), "id\n1\n".into())],
            results_size: "1Gi".into(),
            run_args: vec![],
        }
    }

    #[test]
    fn names_follow_kubernetes_rules() {
        assert_eq!(object_name("Shop Checkout!"), "throng-shop-checkout");
        assert_eq!(object_name("---"), "throng-plan");
        assert_eq!(key_of("data/users.csv"), "data--users.csv");
    }

    #[test]
    fn renders_four_documents_and_refuses_bad_input() {
        let y = render(&opts()).expect("renders");
        assert_eq!(y.matches("---\n").count(), 4);
        assert!(y.contains("completionMode: Indexed"), "{y}");
        assert!(y.contains("auto/8"), "{y}");
        let mut o = opts();
        o.instances = 0;
        assert_eq!(render(&o), Err(K8sError::Instances(0)));
        let mut o = opts();
        o.files = vec![("../etc/passwd".into(), String::new())];
        assert!(matches!(render(&o), Err(K8sError::Path(_))));
        let mut o = opts();
        o.namespace = Some("Load_Test".into());
        assert!(matches!(render(&o), Err(K8sError::Name(_))));
    }
}
