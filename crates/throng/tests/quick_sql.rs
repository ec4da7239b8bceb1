//! `throng quick --sql` against a private PostgreSQL: the server's statement count equals
//! the operations `--db-json` reports.
use std::process::Command;
use throng_testkit::services;

#[test]
fn quick_sql_runs_a_statement_and_writes_the_database_summary() {
    let pg = match services::postgres() {
        Ok(pg) => pg,
        Err(skip) => return skip.report("quick --sql"),
    };
    pg.psql("CREATE TABLE hits (id serial)");
    let dir = std::env::temp_dir().join(format!("throng-quick-sql-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let json = dir.join("db.json");
    let out = Command::new(env!("CARGO_BIN_EXE_throng"))
        .args([
            "quick",
            "--sql",
            "INSERT INTO hits DEFAULT VALUES",
            &pg.url(),
        ])
        .args(["-c", "10", "-n", "200", "--no-color"])
        .arg("--db-json")
        .arg(&json)
        .output()
        .expect("throng runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(pg.psql("SELECT count(*) FROM hits"), "200");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("db.json")).expect("JSON");
    assert_eq!(v["operations"], 200);
    assert_eq!(v["errors"], 0);
    assert_eq!(v["success_rate"], 1.0);
    assert!(v["p95_time"].as_f64().is_some_and(|t| t > 0.0), "{v}");
    assert!(v["throughput"].as_f64().is_some_and(|t| t > 0.0), "{v}");
    // the password never reaches the summary
    assert!(!stdout.contains("throng:throng@"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn quick_sql_print_plan_hides_the_password() {
    let out = Command::new(env!("CARGO_BIN_EXE_throng"))
        .args([
            "quick",
            "--sql",
            "SELECT 1",
            "postgres://app:s3cretpw@127.0.0.1:1/db",
        ])
        .args(["-c", "7", "--print-plan"])
        .output()
        .expect("throng runs");
    let y = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{y}");
    assert!(
        y.contains("query: SELECT 1") && y.contains("pool: 7"),
        "{y}"
    );
    assert!(
        !y.contains("s3cretpw") && y.contains("postgres://app:"),
        "{y}"
    );
}

#[test]
fn quick_sql_refuses_an_http_url() {
    let out = Command::new(env!("CARGO_BIN_EXE_throng"))
        .args(["quick", "--sql", "SELECT 1", "http://127.0.0.1:1/"])
        .output()
        .expect("throng runs");
    assert_eq!(out.status.code(), Some(104));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be a postgres:// URL"));
}
