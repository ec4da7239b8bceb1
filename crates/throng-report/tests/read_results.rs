//! Reading a results file back refuses other versions, altered histograms, truncated and
//! random files with a one-line message, and never panics.
use throng_metrics::{Registry, TagSet, ThresholdSet};
use throng_report::{Results, ResultsFileError, RunInfo};

fn results() -> Results {
    let reg = Registry::new();
    let b = reg.builtin().clone();
    let t = reg.intern(TagSet::new([("name", "home"), ("status", "200")]));
    for ms in [10.0, 12.5, 30.0] {
        reg.add_many(t, &[(b.http_reqs, 1.0), (b.http_req_duration, ms)]);
    }
    let snap = reg.collect();
    let run = RunInfo {
        plan: "p".into(),
        plan_file: "p.yaml".into(),
        target: None,
        started_at: "2026-01-01T00:00:00Z".into(),
        duration_ms: 1000.0,
        interrupted: false,
        aborted_by: None,
        exit_code: 0,
        command: None,
    };
    Results::build(&snap, &ThresholdSet::default(), &[], run, vec![], vec![])
}

fn json() -> serde_json::Value {
    serde_json::to_value(results()).expect("serializes")
}

fn read(v: &serde_json::Value) -> Result<Results, ResultsFileError> {
    Results::from_json(v.to_string().as_bytes())
}

fn duration_index(v: &serde_json::Value) -> usize {
    v["series"]
        .as_array()
        .expect("series")
        .iter()
        .position(|s| s["metric"] == "http_req_duration")
        .expect("a trend series")
}

#[test]
fn a_file_throng_wrote_reads_back_equal() {
    let r = results();
    let text = serde_json::to_string_pretty(&r).expect("json");
    assert_eq!(Results::from_json(text.as_bytes()).expect("reads"), r);
    assert_eq!(serde_json::from_str::<Results>(&text).expect("reads"), r);
}

#[test]
fn another_version_is_named() {
    let mut v = json();
    v["version"] = 2.into();
    // even when the rest of the file no longer fits this version's shape
    v["metrics"] = "changed".into();
    let e = read(&v).expect_err("refused");
    assert_eq!(
        e.to_string(),
        "unsupported results version 2 in field `version` (this throng reads version 1)"
    );
    v["version"] = "1".into();
    assert!(matches!(
        read(&v),
        Err(ResultsFileError::UnknownVersion { .. })
    ));
    // the plain serde path refuses too
    let mut v = json();
    v["version"] = 99.into();
    let e = serde_json::from_str::<Results>(&v.to_string()).expect_err("refused");
    assert!(
        e.to_string()
            .starts_with("unsupported results version 99 in field `version`"),
        "{e}"
    );
}

#[test]
fn an_altered_histogram_is_named_with_its_series() {
    let v = json();
    let i = duration_index(&v);
    let hdr = v["series"][i]["hdr"].as_str().expect("hdr").to_string();
    let label = "(http_req_duration{name:home,status:200})";

    // one character of the DEFLATE stream changed
    let mut bad = v.clone();
    let mut chars: Vec<char> = hdr.chars().collect();
    let k = chars.len() / 2;
    chars[k] = if chars[k] == 'A' { 'B' } else { 'A' };
    bad["series"][i]["hdr"] = chars.into_iter().collect::<String>().into();
    let e = read(&bad).expect_err("refused").to_string();
    assert!(
        e.starts_with(&format!(
            "field `series[{i}].hdr` {label}: corrupt HDR histogram"
        )),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1);

    // not base64
    let mut bad = v.clone();
    bad["series"][i]["hdr"] = "!!!".into();
    let e = read(&bad).expect_err("refused").to_string();
    assert!(
        e.starts_with(&format!("field `series[{i}].hdr` {label}: not base64")),
        "{e}"
    );

    // the count next to the histogram altered
    let mut bad = v.clone();
    bad["series"][i]["value"] = 4.0.into();
    let e = read(&bad).expect_err("refused").to_string();
    assert!(
        e.starts_with(&format!(
            "field `series[{i}].hdr` {label}: the histogram holds 3 samples but `value` says 4"
        )),
        "{e}"
    );

    // the max next to the histogram altered
    let mut bad = v.clone();
    bad["series"][i]["max"] = 900.0.into();
    let e = read(&bad).expect_err("refused").to_string();
    assert!(e.contains("`max` 900 disagrees"), "{e}");

    // a histogram of another series swapped in (different values, same count)
    let mut other = throng_metrics::TrendAgg::new();
    for ms in [1.0, 2.0, 3.0] {
        other.record(ms);
    }
    let mut buf = Vec::new();
    hdrhistogram::serialization::Serializer::serialize(
        &mut hdrhistogram::serialization::V2DeflateSerializer::new(),
        &other.hist,
        &mut buf,
    )
    .expect("serializes");
    let mut bad = v.clone();
    bad["series"][i]["hdr"] =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &buf).into();
    let e = read(&bad).expect_err("refused").to_string();
    assert!(e.contains("`min` 10 disagrees"), "{e}");
}

#[test]
fn truncated_and_random_files_are_refused_without_panicking() {
    let text = serde_json::to_string_pretty(&json()).expect("json");
    let bytes = text.as_bytes();
    for cut in (0..bytes.len()).step_by(7) {
        match Results::from_json(&bytes[..cut]) {
            Err(ResultsFileError::Truncated { .. }) => {}
            // cutting inside a number or a keyword may leave a syntax error
            Err(ResultsFileError::NotJson(_)) if cut > 0 => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    assert_eq!(
        Results::from_json(&bytes[..text.len() / 2])
            .expect_err("refused")
            .to_string()
            .lines()
            .count(),
        1
    );
    // pseudo-random bytes, and random flips of single bytes of a good file
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for len in [1usize, 10, 1000, 100_000] {
        let junk: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let e = Results::from_json(&junk).expect_err("refused");
        assert_eq!(e.to_string().lines().count(), 1, "{e}");
    }
    for _ in 0..2000 {
        let mut b = bytes.to_vec();
        let at = (next() as usize) % b.len();
        b[at] = next() as u8;
        // either still a good file (a flipped digit of a count) or refused: never a panic
        let _ = Results::from_json(&b);
    }
}
