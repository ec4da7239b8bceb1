//! Data sources (feeders): CSV or JSON rows picked per iteration. A [`DataSet`] is plan
//! data; where a run is in it lives in a [`DataCursor`], run state made once per run.
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// How rows are picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// In file order, wrapping around, shared by all VUs.
    Sequential,
    /// Uniformly at random.
    Random,
    /// In file order, each row at most once; when used up, iterations fail.
    Unique,
}

/// A loaded data source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSet {
    /// Its name in templates.
    pub name: String,
    /// Column names.
    pub fields: Vec<String>,
    /// Rows, each with one value per field.
    pub rows: Vec<Vec<String>>,
    /// How rows are picked.
    pub pick: Pick,
}

impl DataSet {
    /// Builds a data set from rows.
    pub fn new(name: String, fields: Vec<String>, rows: Vec<Vec<String>>, pick: Pick) -> Self {
        DataSet {
            name,
            fields,
            rows,
            pick,
        }
    }

    /// Parses the text of a data file: CSV (first row = field names) or, when `path` ends in
    /// `.json`, JSON (an array of objects; nested objects' fields are named `a.b`). `path` names the file in error messages.
    pub fn parse(name: &str, path: &Path, text: &str, pick: Pick) -> Result<DataSet, String> {
        let is_json = path
            .extension()
            .map(|e| e.eq_ignore_ascii_case("json"))
            .unwrap_or(false);
        let (fields, rows) = if is_json {
            parse_json(text).map_err(|e| format!("{}: {e}", path.display()))?
        } else {
            parse_csv(text).map_err(|e| format!("{}: {e}", path.display()))?
        };
        if rows.is_empty() {
            return Err(format!("data file {} has no rows", path.display()));
        }
        Ok(DataSet::new(name.to_string(), fields, rows, pick))
    }
}

impl DataSet {
    /// The rows one execution segment may use: for `sequential` and `unique` sources the
    /// rows whose index the segment owns (k6's striping), so no row is used by two instances;
    /// a `random` source keeps every row.
    pub fn segmented(&self, segment: &throng_engine::Segment) -> DataSet {
        let rows = match self.pick {
            Pick::Random => self.rows.clone(),
            Pick::Sequential | Pick::Unique => self
                .rows
                .iter()
                .enumerate()
                .filter(|(i, _)| segment.owns(*i as u64))
                .map(|(_, r)| r.clone())
                .collect(),
        };
        DataSet::new(self.name.clone(), self.fields.clone(), rows, self.pick)
    }
}

/// The plan one execution segment runs: every scenario's executor is its share
/// ([`throng_engine::Segment::share`]) and every data source keeps only the rows the segment
/// owns ([`DataSet::segmented`]).
pub fn segment_plan(plan: &crate::Plan, segment: &throng_engine::Segment) -> crate::Plan {
    let mut out = plan.clone();
    if segment.is_whole() {
        return out;
    }
    for sc in &mut out.scenarios {
        sc.executor = segment.share(&sc.executor);
    }
    out.data = plan
        .data
        .iter()
        .map(|d| Arc::new(d.segmented(segment)))
        .collect();
    out
}

/// Where one run is in one [`DataSet`]: the rows handed out so far, shared by every VU of
/// every scenario of the run. The plan stays immutable; a new run starts a new cursor.
#[derive(Debug, Default)]
pub struct DataCursor {
    next: AtomicUsize,
}

impl DataCursor {
    /// One fresh cursor per data set of a plan, by the same index as `Plan::data`.
    pub fn for_sets(sets: &[Arc<DataSet>]) -> Arc<[DataCursor]> {
        sets.iter().map(|_| DataCursor::default()).collect()
    }

    /// Picks the next row index of `ds`; `None` when a `unique` source is used up.
    pub fn next_row(&self, ds: &DataSet, rng: &mut fastrand::Rng) -> Option<usize> {
        if ds.rows.is_empty() {
            return None;
        }
        match ds.pick {
            Pick::Sequential => Some(self.next.fetch_add(1, Ordering::Relaxed) % ds.rows.len()),
            Pick::Random => Some(rng.usize(..ds.rows.len())),
            Pick::Unique => {
                let i = self.next.fetch_add(1, Ordering::Relaxed);
                (i < ds.rows.len()).then_some(i)
            }
        }
    }
}

fn parse_csv(text: &str) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let fields: Vec<String> = r
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        rows.push(rec.iter().map(str::to_string).collect());
    }
    Ok((fields, rows))
}

/// Appends `v`'s fields to `out` as (dotted name, text): a nested object gives its own JSON
/// text under its name and each of its fields under `name.field`.
fn flatten(
    prefix: &str,
    obj: &serde_json::Map<String, serde_json::Value>,
    out: &mut Vec<(String, String)>,
) {
    for (k, v) in obj {
        let name = format!("{prefix}{k}");
        match v {
            serde_json::Value::String(s) => out.push((name, s.clone())),
            serde_json::Value::Null => out.push((name, String::new())),
            serde_json::Value::Object(inner) => {
                out.push((name.clone(), v.to_string()));
                flatten(&format!("{name}."), inner, out);
            }
            other => out.push((name, other.to_string())),
        }
    }
}

fn parse_json(text: &str) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let arr = v.as_array().ok_or("expected a JSON array of objects")?;
    let mut fields: Vec<String> = Vec::new();
    let mut flat = Vec::with_capacity(arr.len());
    for item in arr {
        let obj = item.as_object().ok_or("expected a JSON array of objects")?;
        let mut kv = Vec::new();
        flatten("", obj, &mut kv);
        for (k, _) in &kv {
            if !fields.contains(k) {
                fields.push(k.clone());
            }
        }
        flat.push(kv);
    }
    let rows = flat
        .into_iter()
        .map(|kv| {
            let mut row = vec![String::new(); fields.len()];
            for (k, v) in kv {
                if let Some(i) = fields.iter().position(|f| *f == k) {
                    row[i] = v;
                }
            }
            row
        })
        .collect();
    Ok((fields, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_wraps_and_unique_runs_out() {
        let rows = vec![vec!["a".into()], vec!["b".into()]];
        let mut rng = fastrand::Rng::with_seed(1);
        let s = DataSet::new("d".into(), vec!["x".into()], rows.clone(), Pick::Sequential);
        let c = DataCursor::default();
        let got: Vec<_> = (0..5).map(|_| c.next_row(&s, &mut rng)).collect();
        assert_eq!(got, vec![Some(0), Some(1), Some(0), Some(1), Some(0)]);
        let u = DataSet::new("d".into(), vec!["x".into()], rows, Pick::Unique);
        let c = DataCursor::default();
        let got: Vec<_> = (0..3).map(|_| c.next_row(&u, &mut rng)).collect();
        assert_eq!(got, vec![Some(0), Some(1), None]);
        // a new run starts over: the plan's data set holds no position
        let c = DataCursor::default();
        assert_eq!(c.next_row(&u, &mut rng), Some(0));
    }

    #[test]
    fn segments_partition_unique_and_sequential_rows() {
        let rows: Vec<Vec<String>> = (0..10).map(|i| vec![i.to_string()]).collect();
        for pick in [Pick::Unique, Pick::Sequential] {
            let ds = DataSet::new("d".into(), vec!["x".into()], rows.clone(), pick);
            let mut seen: Vec<Vec<String>> = (1..=4)
                .flat_map(|i| {
                    let seg = throng_engine::Segment::nth(i, 4).expect("segment");
                    ds.segmented(&seg).rows
                })
                .collect();
            seen.sort_by_key(|r| r[0].parse::<u32>().unwrap_or(0));
            assert_eq!(seen, rows, "{pick:?}: every row exactly once");
        }
        let random = DataSet::new("d".into(), vec!["x".into()], rows.clone(), Pick::Random);
        let seg = throng_engine::Segment::nth(2, 4).expect("segment");
        assert_eq!(random.segmented(&seg).rows.len(), 10);
    }

    #[test]
    fn parses_csv_and_json() {
        let (f, r) = parse_csv("id,name\n1, ann\n2,bob\n").expect("csv");
        assert_eq!(f, vec!["id", "name"]);
        assert_eq!(r[0], vec!["1", "ann"]);
        let (f, r) = parse_json(r#"[{"id":1,"name":"a"},{"id":2}]"#).expect("json");
        assert_eq!(f, vec!["id", "name"]);
        assert_eq!(r[1], vec!["2", ""]);
        let (f, r) =
            parse_json(r#"[{"id":1,"address":{"city":"Oslo","geo":{"lat":59.9}}}]"#).expect("json");
        assert_eq!(
            f,
            vec![
                "address",
                "address.city",
                "address.geo",
                "address.geo.lat",
                "id"
            ]
        );
        assert_eq!(r[0][1], "Oslo");
        assert_eq!(r[0][3], "59.9");
    }
}
