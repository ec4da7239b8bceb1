//! The `data:` section: each source's `pick` and rows, read through [`super::PlanFiles`]
//! or generated at load from a fixture spec (`generate:`, `count:`).
use super::{lc, Cx};
use crate::data::{DataSet, Pick};
use crate::error::PlanError;
use crate::fixtures::{generate_rows, load_spec, FixtureError, FixtureOptions};
use crate::raw::{RawData, S};
use std::collections::BTreeMap;
use std::path::Path;
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
        let loaded = match (&d.value.file, &d.value.generate) {
            (Some(file), None) => {
                let path = cx.base_dir.join(&file.value);
                cx.files
                    .read(&path)
                    .map_err(|e| format!("cannot read data file {}: {e}", path.display()))
                    .and_then(|text| DataSet::parse(name, &path, &text, pick))
                    .map_err(|e| one(cx, file, e))
            }
            (None, Some(spec)) => generate(cx, name, d, spec, pick),
            (Some(_), Some(_)) => Err(one(cx, d, "use either `file:` or `generate:`, not both")),
            (None, None) => Err(one(
                cx,
                d,
                "a data source needs `file: rows.csv` (or .json) or `generate: spec.yaml` with `count:`",
            )),
        };
        match loaded {
            Ok(ds) => {
                cx.data_scope.push((name.clone(), ds.fields.clone()));
                data.push(Arc::new(ds));
            }
            Err(errs) => {
                cx.errors.extend(errs);
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

/// One error at `at`.
fn one<T>(cx: &Cx<'_>, at: &S<T>, msg: impl Into<String>) -> Vec<PlanError> {
    let (l, c) = lc(at);
    vec![cx.src.error_at(l, c, msg)]
}

/// Most rows a data source may generate at load (they are held in memory).
const MAX_GENERATED: u64 = 10_000_000;

/// Generates the rows of a `generate:` source from its fixture spec (seeded by `--seed`,
/// so the rows equal `throng fixtures SPEC --seed N`). Errors are reported here.
fn generate(
    cx: &mut Cx<'_>,
    name: &str,
    d: &S<RawData>,
    spec: &S<String>,
    pick: Pick,
) -> Result<DataSet, Vec<PlanError>> {
    let Some(count) = &d.value.count else {
        return Err(one(
            cx,
            d,
            "`generate:` needs `count:`, the number of rows to generate",
        ));
    };
    if count.value == 0 || count.value > MAX_GENERATED {
        return Err(one(cx, count, format!("count must be 1..{MAX_GENERATED}")));
    }
    let path = cx.base_dir.join(&spec.value);
    let text = cx.files.read(&path).map_err(|e| {
        one(
            cx,
            spec,
            format!("cannot read the fixture spec {}: {e}", path.display()),
        )
    })?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let files = cx.files;
    let read = |n: &str| files.read(&dir.join(n)).map_err(|e| e.to_string());
    let compiled = load_spec(&text, &path, &cx.env, &read).map_err(|e| e.0)?;
    let o = FixtureOptions {
        count: count.value,
        seed: cx.seed,
        now: None,
    };
    match generate_rows(&compiled, &o) {
        Ok((fields, rows)) => Ok(DataSet::new(name.to_string(), fields, rows, pick)),
        Err(FixtureError::Render(e)) => Err(vec![e]),
        Err(e) => Err(one(cx, spec, e.to_string())),
    }
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

    #[test]
    fn generated_sources_repeat_with_the_seed() {
        let files = Mem(BTreeMap::from([(
            PathBuf::from("dir/users.yaml"),
            "fields:\n  id: \"{{seq}}\"\n  name: \"{{fake.name}}\"\n  address: { city: \"{{fake.city}}\" }\n".to_string(),
        )]));
        let yaml = "data:\n  users: { generate: users.yaml, count: 100, pick: unique }\nscenarios:\n  s:\n    executor: shared-iterations\n    flow:\n      - get: http://h/u/{{users.id}}/{{users.address.city}}\n";
        let load = |seed| {
            let opts = LoadOptions {
                seed: Some(seed),
                ..LoadOptions::default()
            };
            load_str_with(yaml, Path::new("dir/p.yaml"), &opts, &files).expect("loads")
        };
        let (a, b, c) = (load(1), load(1), load(2));
        assert_eq!(a.data[0].fields, vec!["id", "name", "address.city"]);
        assert_eq!(a.data[0].rows.len(), 100);
        assert_eq!(a.data[0].rows[99][0], "100");
        assert_eq!(a.data[0].rows, b.data[0].rows);
        assert_ne!(a.data[0].rows, c.data[0].rows);

        let bad = "data:\n  users: { generate: users.yaml }\n  other: { pick: random }\nscenarios:\n  s:\n    executor: shared-iterations\n    flow:\n      - get: http://h/\n";
        let errs = load_str_with(
            bad,
            Path::new("dir/p.yaml"),
            &LoadOptions::default(),
            &files,
        )
        .expect_err("no count, no file")
        .to_string();
        assert!(errs.contains("needs `count:`"), "{errs}");
        assert!(errs.contains("needs `file: rows.csv`"), "{errs}");
    }
}
