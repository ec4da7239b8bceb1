//! The `data:` section: each source's `pick` and rows, read through [`super::PlanFiles`].
use super::{lc, Cx};
use crate::data::{DataSet, Pick};
use crate::raw::{RawData, S};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Compiles every data source and makes its fields known to templates. A source that fails
/// to load is reported once and kept empty, so the plan's indices stay in place.
pub(super) fn compile_data(
    cx: &mut Cx<'_>,
    raw: &BTreeMap<String, S<RawData>>,
) -> Vec<Arc<DataSet>> {
    let mut data = Vec::new();
    for (name, d) in raw {
        let pick = match d.value.pick.as_ref().map(|p| p.value.as_str()) {
            None | Some("sequential") => Pick::Sequential,
            Some("random") => Pick::Random,
            Some("unique") => Pick::Unique,
            Some(other) => {
                let at = d.value.pick.as_ref().map(lc).unwrap_or(lc(d));
                cx.err_at(
                    at,
                    format!("unknown pick `{other}`: expected sequential, random or unique"),
                );
                Pick::Sequential
            }
        };
        let path = cx.base_dir.join(&d.value.file.value);
        let loaded = cx
            .files
            .read(&path)
            .map_err(|e| format!("cannot read data file {}: {e}", path.display()))
            .and_then(|text| DataSet::parse(name, &path, &text, pick));
        match loaded {
            Ok(ds) => {
                cx.data_scope.push((name.clone(), ds.fields.clone()));
                data.push(Arc::new(ds));
            }
            Err(e) => {
                cx.err(&d.value.file, e);
                cx.failed_data.push(name.clone());
                cx.data_scope.push((name.clone(), Vec::new()));
                data.push(Arc::new(DataSet::new(
                    name.clone(),
                    Vec::new(),
                    Vec::new(),
                    pick,
                )));
            }
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use crate::compile::{load_str_with, LoadOptions, PlanFiles};
    use std::collections::BTreeMap;
    use std::io;
    use std::path::{Path, PathBuf};

    /// Files held in memory: plan loading needs no disk.
    struct Mem(BTreeMap<PathBuf, String>);

    impl PlanFiles for Mem {
        fn read(&self, path: &Path) -> io::Result<String> {
            self.0
                .get(path)
                .cloned()
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }

        fn is_file(&self, path: &Path) -> bool {
            self.0.contains_key(path)
        }
    }

    #[test]
    fn data_files_come_through_plan_files() {
        let files = Mem(BTreeMap::from([(
            PathBuf::from("dir/users.csv"),
            "id,name\n1,ann\n2,bob\n".to_string(),
        )]));
        let yaml = "data:\n  users: { file: users.csv, pick: unique }\nscenarios:\n  s:\n    executor: shared-iterations\n    flow:\n      - get: http://h/u/{{users.id}}\n";
        let plan = load_str_with(
            yaml,
            Path::new("dir/p.yaml"),
            &LoadOptions::default(),
            &files,
        )
        .expect("loads");
        assert_eq!(plan.data[0].fields, vec!["id", "name"]);
        assert_eq!(plan.data[0].rows.len(), 2);
        assert_eq!(plan.scenarios[0].data_used, vec![0]);

        let errs = load_str_with(yaml, Path::new("p.yaml"), &LoadOptions::default(), &files)
            .expect_err("no users.csv beside p.yaml");
        assert!(errs.to_string().contains("cannot read data file users.csv"));
    }
}
