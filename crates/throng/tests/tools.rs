//! `init` writes plans that validate, `completions` and `man` print what shells and `man`
//! read, `version` says what the build supports.
mod common;
use common::{text, throng};

#[test]
fn init_writes_each_template_as_a_valid_plan_and_never_overwrites() {
    let dir = std::env::temp_dir().join(format!("throng-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    for (template, name) in [
        ("http", "shop"),
        ("arrival", "ingest"),
        ("experiment", "chaos"),
    ] {
        let o = throng()
            .args(["init", name, "--template", template, "--dir"])
            .arg(&dir)
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let path = dir.join(format!("{name}.yaml"));
        let plan = std::fs::read_to_string(&path).expect("written");
        assert!(plan.contains(&format!("name: {name}")), "{plan}");
        let v = throng().arg("validate").arg(&path).output().expect("runs");
        assert_eq!(v.status.code(), Some(0), "{template}: {}", text(&v));
        // a second init refuses to replace it
        let again = throng()
            .args(["init", name, "--dir"])
            .arg(&dir)
            .output()
            .expect("runs");
        assert_eq!(again.status.code(), Some(104));
        assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
    }
    let bad = throng().args(["init", "a/b"]).output().expect("runs");
    assert_eq!(bad.status.code(), Some(104));
}

#[test]
fn completions_man_and_version_print_what_their_readers_expect() {
    for (shell, marker) in [
        ("bash", "_throng()"),
        ("zsh", "#compdef throng"),
        ("fish", "complete -c throng"),
    ] {
        let o = throng()
            .args(["completions", shell])
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(marker), "{shell}: {out}");
        assert!(out.contains("quick"), "{shell} completes subcommands");
    }
    let m = throng().arg("man").output().expect("runs");
    let page = String::from_utf8_lossy(&m.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH throng"),
        "{page}"
    );
    let v = throng().arg("version").output().expect("runs");
    let out = String::from_utf8_lossy(&v.stdout);
    assert!(
        out.starts_with(&format!("throng {}", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    assert!(out.contains("HTTP/2"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throng_and_k6_environment_switches_set_flags() {
    let server = throng_demo::DemoServer::start(([127, 0, 0, 1], 0).into(), Default::default())
        .await
        .expect("demo");
    let dir = std::env::temp_dir().join(format!("throng-envs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let html = dir.join("k6-export.html");
    let junit = dir.join("junit.xml");
    let url = format!("{}/health", server.url());
    let mut c = throng();
    c.args(["quick", &url, "-n", "5", "-c", "1"])
        .env("THRONG_NO_SUMMARY", "true")
        .env("THRONG_QUIET", "1")
        .env("THRONG_JUNIT", &junit)
        .env("K6_WEB_DASHBOARD_EXPORT", &html);
    let o = tokio::task::spawn_blocking(move || c.output().expect("runs"))
        .await
        .expect("join");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("http_reqs"),
        "{}",
        text(&o)
    );
    assert!(html.is_file(), "K6_WEB_DASHBOARD_EXPORT wrote no HTML");
    assert!(junit.is_file(), "THRONG_JUNIT wrote no JUnit");
    assert_eq!(server.requests(), 5);
}
