//! The results file `throng report` reads (`Results::from_json`): any bytes either are
//! refused with an error, or load and render every report (summary, distribution, HTML,
//! Markdown, JUnit, summary export), never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use throng_report::Results;

fuzz_target!(|data: &[u8]| {
    let r = match Results::from_json(data) {
        Ok(r) => r,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let _ = throng_report::render_summary(&r, false);
    let _ = throng_report::render_summary(&r, true);
    let _ = throng_report::render_distribution(&r);
    let _ = throng_report::html(&r);
    let _ = throng_report::markdown(&r);
    let _ = throng_report::junit_xml(&r);
    let _ = throng_report::summary_export(&r);
});
