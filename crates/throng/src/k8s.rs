//! `throng k8s render plan.yaml --instances N --image IMAGE`: prints the Kubernetes manifests
//! of a scaled-out run (`throng_campaign::k8s`).
use crate::scale::fnv1a;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use throng_campaign::k8s::{object_name, render, K8sOptions};
use throng_run::ExitCode;

/// `throng k8s ...`.
#[derive(Args, Debug)]
pub struct K8sArgs {
    #[command(subcommand)]
    pub command: K8sCommand,
}

/// What `throng k8s` does.
#[derive(Subcommand, Debug)]
pub enum K8sCommand {
    /// Print the manifests (ConfigMap, results volume, Indexed Job, merge Job) for
    /// `kubectl apply -f -`.
    Render(RenderArgs),
}

/// `throng k8s render`'s flags.
#[derive(Args, Debug)]
pub struct RenderArgs {
    /// The plan file (it and the data files it names go into a ConfigMap).
    pub plan: PathBuf,
    /// Pods, each running one execution segment.
    #[arg(long, value_name = "N")]
    pub instances: u64,
    /// The throng image.
    #[arg(long, value_name = "IMAGE")]
    pub image: String,
    /// Namespace of every object.
    #[arg(long, value_name = "NAME")]
    pub namespace: Option<String>,
    /// CPU request and limit per pod (`2`, `500m`).
    #[arg(long, value_name = "CPU")]
    pub cpu: Option<String>,
    /// Memory request and limit per pod (`1Gi`).
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// Start the load this long after rendering (all pods at the same time); without it,
    /// each pod starts when it is ready.
    #[arg(long, value_name = "DURATION")]
    pub start_in: Option<String>,
    /// Base name of the objects (default: throng-PLAN).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Size of the shared results volume.
    #[arg(long, value_name = "SIZE", default_value = "1Gi")]
    pub results_size: String,
    /// Extra `throng run` arguments for every pod, after `--` (`-- --vus 100 -e K=V`).
    #[arg(last = true)]
    pub run_args: Vec<String>,
}

/// The data files a plan names (`data: NAME: { file: PATH }`), relative to its folder.
fn data_files(plan_text: &str) -> Vec<String> {
    let Ok(v) = serde_saphyr::from_str::<serde_json::Value>(plan_text) else {
        return Vec::new();
    };
    let mut out: Vec<String> = v["data"]
        .as_object()
        .map(|m| {
            m.values()
                .filter_map(|d| d["file"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.dedup();
    out
}

/// `throng k8s`.
pub fn run(args: K8sArgs) -> i32 {
    let K8sCommand::Render(a) = args.command;
    match manifests(&a) {
        Ok(y) => {
            print!("{y}");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::InvalidPlan.code()
        }
    }
}

fn manifests(a: &RenderArgs) -> Result<String, String> {
    let plan = std::fs::read_to_string(&a.plan)
        .map_err(|e| format!("cannot read {}: {e}", a.plan.display()))?;
    // the plan must load here as it will in the pods
    throng_plan::load_file(&a.plan, &throng_plan::LoadOptions::default())
        .map_err(|e| e.to_string())?;
    let dir = a.plan.parent().unwrap_or(Path::new("."));
    let mut files = Vec::new();
    for f in data_files(&plan) {
        let text = std::fs::read_to_string(dir.join(&f))
            .map_err(|e| format!("data file {f} (beside {}): {e}", a.plan.display()))?;
        files.push((f, text));
    }
    let start_at = match &a.start_in {
        Some(d) => {
            let d = throng_plan::parse_duration(d).map_err(|e| format!("--start-in `{d}`: {e}"))?;
            let span = jiff::SignedDuration::try_from(d).map_err(|e| format!("--start-in: {e}"))?;
            let t = jiff::Timestamp::now()
                .checked_add(span)
                .map_err(|e| format!("--start-in: {e}"))?;
            Some(
                t.round(jiff::Unit::Second)
                    .map_err(|e| e.to_string())?
                    .to_string(),
            )
        }
        None => None,
    };
    let stem = a
        .plan
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let name = a.name.clone().unwrap_or_else(|| object_name(&stem));
    // starts with a letter: a label value YAML never reads as a number
    let run_id = format!(
        "run-{:016x}",
        fnv1a(format!("{plan}|{}|{:?}", jiff::Timestamp::now(), start_at).as_bytes())
    );
    render(&K8sOptions {
        name,
        namespace: a.namespace.clone(),
        instances: a.instances,
        image: a.image.clone(),
        cpu: a.cpu.clone(),
        memory: a.memory.clone(),
        start_at,
        run_id,
        plan,
        files,
        results_size: a.results_size.clone(),
        run_args: a.run_args.clone(),
    })
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_data_files_a_plan_names() {
        let p = "data:\n  users: { file: data/users.csv, pick: unique }\n  ids:\n    file: ids.json\nscenarios: {}\n";
        assert_eq!(data_files(p), vec!["data/users.csv", "ids.json"]);
    }
}
