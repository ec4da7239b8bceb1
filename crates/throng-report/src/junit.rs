//! JUnit XML for CI systems: one test case per threshold (`metric - expression`), failures
//! carrying the observed value.
use crate::format::escape_xml;
use crate::results::Results;
use std::fmt::Write as _;

/// [`escape_xml`], and `'` as `&apos;` as JUnit files have always had it.
fn esc(s: &str) -> String {
    escape_xml(s).replace('\'', "&apos;")
}

/// The JUnit document.
pub fn junit_xml(r: &Results) -> String {
    let failed = r.thresholds.iter().filter(|t| !t.ok).count();
    let secs = r.run.duration_ms / 1000.0;
    let mut o = String::new();
    let _ = writeln!(o, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        o,
        r#"<testsuites name="throng" tests="{}" failures="{failed}" errors="0" time="{secs:.3}">"#,
        r.thresholds.len()
    );
    let _ = writeln!(
        o,
        r#"  <testsuite name="{}" tests="{}" failures="{failed}" errors="0" time="{secs:.3}" timestamp="{}">"#,
        esc(&r.run.plan),
        r.thresholds.len(),
        esc(&r.run.started_at)
    );
    for t in &r.thresholds {
        let name = format!("{} - {}", t.metric, t.expression);
        let _ = write!(
            o,
            r#"    <testcase name="{}" classname="{}" time="0">"#,
            esc(&name),
            esc(&r.run.plan)
        );
        if t.ok {
            let _ = writeln!(o, "</testcase>");
        } else {
            let msg = format!("{} = {} ({} failed)", t.stat, t.observed, t.expression);
            let _ = writeln!(
                o,
                "\n      <failure message=\"{}\" type=\"threshold\">{}</failure>\n    </testcase>",
                esc(&msg),
                esc(&msg)
            );
        }
    }
    let _ = writeln!(o, "  </testsuite>");
    let _ = writeln!(o, "</testsuites>");
    o
}
