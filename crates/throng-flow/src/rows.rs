//! The data rows a VU picked for its iteration, as templates read them. Built for every
//! render, so it lives on the stack: a request allocates nothing for it unless the plan has
//! more than [`INLINE`] data sources.
use std::sync::Arc;
use throng_plan::DataSet;

/// Data sources held without allocating.
pub(crate) const INLINE: usize = 8;

/// One row (its fields) per data source, `None` where none was picked.
pub(crate) enum Rows<'a> {
    /// Up to [`INLINE`] sources: the first `len` entries.
    Inline([Option<&'a [String]>; INLINE], usize),
    /// More sources than that.
    Heap(Vec<Option<&'a [String]>>),
}

impl<'a> Rows<'a> {
    /// The rows of `picked` (a row index per source) in `data`.
    pub(crate) fn of(picked: &[Option<usize>], data: &'a [Arc<DataSet>]) -> Rows<'a> {
        let row = |(r, d): (&Option<usize>, &'a Arc<DataSet>)| {
            r.and_then(|i| d.rows.get(i).map(|v| v.as_slice()))
        };
        let n = picked.len().min(data.len());
        if n <= INLINE {
            let mut a = [None; INLINE];
            for (slot, v) in a.iter_mut().zip(picked.iter().zip(data).map(row)) {
                *slot = v;
            }
            Rows::Inline(a, n)
        } else {
            Rows::Heap(picked.iter().zip(data).map(row).collect())
        }
    }

    /// As the slice a `RenderCtx` takes.
    pub(crate) fn as_slice(&self) -> &[Option<&'a [String]>] {
        match self {
            Rows::Inline(a, n) => &a[..*n],
            Rows::Heap(v) => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use throng_plan::Pick;

    fn sets(n: usize) -> Vec<Arc<DataSet>> {
        (0..n)
            .map(|i| {
                Arc::new(DataSet::new(
                    format!("d{i}"),
                    vec!["f".into()],
                    vec![vec![format!("a{i}")], vec![format!("b{i}")]],
                    Pick::Sequential,
                ))
            })
            .collect()
    }

    #[test]
    fn picks_read_the_same_inline_or_on_the_heap() {
        for n in [0, 1, 3, INLINE, INLINE + 1, 20] {
            let data = sets(n);
            let picked: Vec<Option<usize>> = (0..n)
                .map(|i| if i % 3 == 2 { None } else { Some(i % 2) })
                .collect();
            let rows = Rows::of(&picked, &data);
            assert_eq!(matches!(rows, Rows::Inline(..)), n <= INLINE);
            let got: Vec<Option<String>> = rows
                .as_slice()
                .iter()
                .map(|r| r.map(|f| f[0].clone()))
                .collect();
            let want: Vec<Option<String>> = (0..n)
                .map(|i| match picked[i] {
                    None => None,
                    Some(0) => Some(format!("a{i}")),
                    Some(_) => Some(format!("b{i}")),
                })
                .collect();
            assert_eq!(got, want, "{n} sources");
        }
    }
}
