//! Every command in README.md's shell blocks runs here (or is named as covered elsewhere),
//! so the README cannot rot.
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use throng_demo::{DemoConfig, DemoServer};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn readme_commands() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in text.lines() {
        if line.starts_with("```sh") {
            in_sh = true;
        } else if line.starts_with("```") {
            in_sh = false;
        } else if in_sh && !line.trim().is_empty() {
            out.push(line.trim().to_string());
        }
    }
    out
}

/// Splits a command line as a POSIX shell would for plain words and '...' / "..." quoting.
fn shell_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read") {
        let e = e.expect("entry");
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_readme_command_works() {
    let cmds = readme_commands();
    assert_eq!(
        cmds[0], "cargo run --release -- demo",
        "README must start with the demo command"
    );
    assert_eq!(
        cmds[1], "cargo test --workspace",
        "README's second command runs the tests"
    );
    let work = std::env::temp_dir().join(format!("throng-readme-{}", std::process::id()));
    copy_dir(&repo().join("examples"), &work.join("examples"));
    let mut ran = 0;
    for cmd in &cmds[2..] {
        let args = shell_words(cmd);
        assert_eq!(args[0], "throng", "unexpected README command: {cmd}");
        let server = DemoServer::start(([127, 0, 0, 1], 0).into(), DemoConfig::default())
            .await
            .expect("demo");
        let args: Vec<String> = args[1..]
            .iter()
            .map(|a| match a.as_str() {
                "127.0.0.1:8080" => "127.0.0.1:0".to_string(),
                _ => a.replace("http://127.0.0.1:8080", &server.url()),
            })
            .collect();
        let mut c = Command::new(env!("CARGO_BIN_EXE_throng"));
        c.args(&args).current_dir(&work);
        if args[0] == "serve-demo" {
            let mut child = c
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn");
            let mut line = String::new();
            BufReader::new(child.stderr.take().expect("stderr"))
                .read_line(&mut line)
                .expect("line");
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                line.contains("listening on http://127.0.0.1:"),
                "{cmd}: {line}"
            );
        } else {
            let out = tokio::task::spawn_blocking(move || c.output().expect("runs"))
                .await
                .expect("join");
            let want = if cmd.contains("impossible") { 99 } else { 0 };
            assert_eq!(
                out.status.code(),
                Some(want),
                "{cmd}\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        server.stop().await;
        ran += 1;
    }
    assert!(ran >= 5, "only {ran} README commands found");
    assert!(work.join("summary.json").is_file() && work.join("results.json").is_file());
}
