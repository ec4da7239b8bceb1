//! Private instances of the services throng talks to, for integration tests: PostgreSQL,
//! Redis and Prometheus, each started from its Debian package's binary on a free loopback
//! port in a temporary folder (never a system service), and stopped — its folder removed —
//! when the returned guard is dropped.
//!
//! A binary that is not installed gives [`Skip`] with the reason; a test calls
//! [`Skip::report`], which prints why it skips (and fails under `CI=1`, where `.ci/run`
//! installs the packages). A binary that is installed but does not start panics with the
//! end of its log: that is a broken test machine, not a skip.
//!
//! ```no_run
//! let pg = match throng_testkit::services::postgres() {
//!     Ok(pg) => pg,
//!     Err(skip) => return skip.report("pg_stat_activity"),
//! };
//! println!("{}", pg.url()); // postgres://throng:throng@127.0.0.1:PORT/postgres
//! ```
use std::fmt;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Why a service could not be started: its binary is missing. Print it with [`Skip::report`].
#[derive(Debug, Clone, PartialEq)]
pub struct Skip(pub String);

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Skip {
    /// Prints `skipping TEST: REASON` to stderr; under `CI` (set by `.ci/run`, which
    /// installs every service) it panics instead, so CI never skips silently.
    pub fn report(&self, test: &str) {
        if std::env::var_os("CI").is_some() {
            panic!("{test}: {} (.ci/run installs it)", self.0);
        }
        eprintln!("skipping {test}: {}", self.0);
    }
}

/// How long a service may take to become ready.
const READY: Duration = Duration::from_secs(30);

/// A free TCP port on 127.0.0.1 (bound, read and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// A fresh folder under the system's temp folder, named for `what`.
fn temp_dir(what: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let d = std::env::temp_dir().join(format!(
        "throng-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a temp folder");
    d
}

/// The last lines of a log file, for a panic message.
fn log_tail(path: &Path) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A child process and its temp folder: stopped (`signal`, then killed after 5 s) and
/// removed on drop.
struct Proc {
    child: Child,
    dir: PathBuf,
    /// The signal asking for a clean, fast stop (`INT` for PostgreSQL's fast shutdown).
    signal: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .args([&format!("-{}", self.signal), &pid])
            .stderr(Stdio::null())
            .status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn spawn(mut cmd: Command, log: &Path, what: &str) -> Child {
    let out = std::fs::File::create(log).expect("a log file");
    let err = out.try_clone().expect("a log file");
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("{what} does not start: {e}"))
}

/// Waits until `ready()` or the child exits (panics with the log's end either way it fails).
fn wait_ready(p: &mut Proc, log: &Path, what: &str, mut ready: impl FnMut() -> bool) {
    let t = Instant::now();
    while t.elapsed() < READY {
        if ready() {
            return;
        }
        if let Ok(Some(st)) = p.child.try_wait() {
            panic!(
                "{what} exited ({st}) before it was ready:\n{}",
                log_tail(log)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} was not ready within {READY:?}:\n{}", log_tail(log));
}

// ---------------------------------------------------------------------------------------
// PostgreSQL

/// A private PostgreSQL server: superuser `throng`, password `throng`, database `postgres`,
/// on 127.0.0.1 (password auth, SCRAM) and a Unix socket in its temp folder (trust), with
/// `pg_stat_statements` preloaded (a test still runs `CREATE EXTENSION pg_stat_statements`
/// to use it). Stopped and removed on drop.
pub struct Postgres {
    port: u16,
    bin: PathBuf,
    /// The server's self-signed certificate (PEM), when started with TLS.
    pub cert_pem: Option<String>,
    _proc: Proc,
}

/// The user PostgreSQL runs as: PostgreSQL refuses to run as root, so under root the
/// server runs as `postgres` (Debian's package creates it) or else `nobody`.
fn unprivileged_user() -> Option<(u32, u32)> {
    let me = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&me.stdout).trim() != "0" {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    for user in ["postgres", "nobody"] {
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() > 3 && f[0] == user {
                if let (Ok(uid), Ok(gid)) = (f[2].parse(), f[3].parse()) {
                    return Some((uid, gid));
                }
            }
        }
    }
    None
}

/// The folder holding `initdb` and `postgres`: `$THRONG_PG_BIN`, `pg_config --bindir`'s,
/// or the newest `/usr/lib/postgresql/*/bin`.
fn postgres_bin() -> Option<PathBuf> {
    let ok = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    if let Some(d) = std::env::var_os("THRONG_PG_BIN").map(PathBuf::from) {
        return ok(&d).then_some(d);
    }
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| ok(d))
        .collect();
    dirs.sort();
    if let Some((_, d)) = dirs.pop() {
        return Some(d);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    ok(&d).then_some(d)
}

fn chown_all(dir: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(dir, Some(uid), Some(gid)).expect("chown the temp folder");
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let _ = std::os::unix::fs::chown(e.path(), Some(uid), Some(gid));
    }
}

/// Starts a private PostgreSQL (`initdb` + `postgres -k TMP -h 127.0.0.1 -p PORT`).
pub fn postgres() -> Result<Postgres, Skip> {
    postgres_with(false)
}

/// [`postgres`] with `ssl=on`: a self-signed certificate for 127.0.0.1 and localhost,
/// made by the test ([`Postgres::cert_pem`] holds it). Clients may still connect without
/// TLS.
pub fn postgres_tls() -> Result<Postgres, Skip> {
    postgres_with(true)
}

fn postgres_with(tls: bool) -> Result<Postgres, Skip> {
    let bin = postgres_bin().ok_or_else(|| {
        Skip("PostgreSQL is not installed (apt-get install postgresql)".to_string())
    })?;
    let dir = temp_dir("pg");
    let data = dir.join("data");
    let pwfile = dir.join("pw");
    std::fs::write(&pwfile, "throng\n").expect("a password file");
    let cert_pem = tls.then(|| {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("self-signed cert");
        std::fs::write(dir.join("server.crt"), ck.cert.pem()).expect("write the certificate");
        let key = dir.join("server.key");
        std::fs::write(&key, ck.key_pair.serialize_pem()).expect("write the key");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        ck.cert.pem()
    });
    let user = unprivileged_user();
    if let Some((uid, gid)) = user {
        chown_all(&dir, uid, gid);
    }
    let as_user = |mut c: Command| {
        if let Some((uid, gid)) = user {
            use std::os::unix::process::CommandExt;
            c.uid(uid).gid(gid);
        }
        c.current_dir(&dir);
        c
    };
    let mut init = Command::new(bin.join("initdb"));
    init.args([
        "-U",
        "throng",
        "-A",
        "trust",
        "--auth-host=scram-sha-256",
        "-E",
        "UTF8",
    ])
    .arg(format!("--pwfile={}", pwfile.display()))
    .arg("--no-sync")
    .arg("-D")
    .arg(&data);
    let init_log = dir.join("initdb.log");
    let st = spawn(as_user(init), &init_log, "initdb")
        .wait()
        .expect("initdb runs");
    if !st.success() {
        panic!("initdb failed ({st}):\n{}", log_tail(&init_log));
    }
    let port = free_port();
    let mut pg = Command::new(bin.join("postgres"));
    pg.arg("-D")
        .arg(&data)
        .arg("-k")
        .arg(&dir)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-c", "shared_preload_libraries=pg_stat_statements"])
        .args(["-c", "fsync=off", "-c", "max_connections=100"]);
    if tls {
        pg.args(["-c", "ssl=on"])
            .arg("-c")
            .arg(format!(
                "ssl_cert_file={}",
                dir.join("server.crt").display()
            ))
            .arg("-c")
            .arg(format!("ssl_key_file={}", dir.join("server.key").display()));
    }
    let log = dir.join("postgres.log");
    let child = spawn(as_user(pg), &log, "postgres");
    let mut p = Proc {
        child,
        dir: dir.clone(),
        signal: "INT",
    };
    let isready = bin.join("pg_isready");
    wait_ready(&mut p, &log, "postgres", || {
        Command::new(&isready)
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    });
    Ok(Postgres {
        port,
        bin,
        cert_pem,
        _proc: p,
    })
}

impl Postgres {
    /// `postgres://throng:throng@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://throng:throng@127.0.0.1:{}/postgres", self.port)
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs SQL with `psql` over the server's Unix socket (as `throng`), returning its
    /// unaligned, tuples-only output; panics when psql fails.
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "throng", "-d", "postgres", "-c", sql])
            .env("PGPASSWORD", "throng")
            .output()
            .expect("psql runs");
        if !out.status.success() {
            panic!("psql {sql:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

// ---------------------------------------------------------------------------------------
// Redis

/// A private Redis server on 127.0.0.1 (no persistence). Stopped and removed on drop.
pub struct Redis {
    port: u16,
    password: Option<String>,
    _proc: Proc,
}

/// Starts a private Redis without a password.
pub fn redis() -> Result<Redis, Skip> {
    start_redis(None)
}

/// Starts a private Redis whose default user needs `password`.
pub fn redis_with_password(password: &str) -> Result<Redis, Skip> {
    start_redis(Some(password))
}

fn start_redis(password: Option<&str>) -> Result<Redis, Skip> {
    let bin = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Skip("redis-server is not installed (apt-get install redis-server)".to_string())
        })?;
    let dir = temp_dir("redis");
    let port = free_port();
    let mut c = Command::new(bin);
    c.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(&dir)
        .current_dir(&dir);
    if let Some(pw) = password {
        c.args(["--requirepass", pw]);
    }
    let log = dir.join("redis.log");
    let child = spawn(c, &log, "redis-server");
    let mut p = Proc {
        child,
        dir,
        signal: "TERM",
    };
    let pw = password.map(str::to_string);
    wait_ready(&mut p, &log, "redis-server", || {
        redis_command(port, pw.as_deref(), &["PING"]).is_ok_and(|s| s.contains("PONG"))
    });
    Ok(Redis {
        port,
        password: pw,
        _proc: p,
    })
}

impl Redis {
    /// `redis://127.0.0.1:PORT` (`redis://:PASSWORD@…` with a password).
    pub fn url(&self) -> String {
        match &self.password {
            Some(pw) => format!("redis://:{pw}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Sends one command (authenticating first when the server has a password) and returns
    /// the raw RESP reply of the command (`+OK\r\n`, `:42\r\n`).
    pub fn command(&self, args: &[&str]) -> std::io::Result<String> {
        redis_command(self.port, self.password.as_deref(), args)
    }
}

/// One command to the Redis on `port` (after `AUTH password`): the command's raw reply.
fn redis_command(port: u16, password: Option<&str>, args: &[&str]) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut req = Vec::new();
    if let Some(pw) = password {
        req.extend(resp(&["AUTH", pw]));
    }
    req.extend(resp(args));
    req.extend(resp(&["QUIT"]));
    s.write_all(&req)?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    if password.is_some() {
        out = out
            .split_once("\r\n")
            .map(|x| x.1.to_string())
            .unwrap_or_default();
    }
    // drop QUIT's +OK
    Ok(out.strip_suffix("+OK\r\n").unwrap_or(&out).to_string())
}

/// One command in RESP.
fn resp(args: &[&str]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend(format!("${}\r\n{a}\r\n", a.len()).into_bytes());
    }
    v
}

// ---------------------------------------------------------------------------------------
// Prometheus

/// A private Prometheus server on 127.0.0.1 with the remote-write receiver on, scraping the
/// given targets every second. Stopped and removed on drop.
pub struct Prometheus {
    addr: String,
    _proc: Proc,
}

/// Starts a private Prometheus scraping `scrape_targets` (`host:port`, path `/metrics`)
/// every second as job `throng-test`, and returns once each target has been scraped (`up`
/// is 1); with no targets it only receives remote writes.
pub fn prometheus(scrape_targets: &[String]) -> Result<Prometheus, Skip> {
    let bin = Path::new("/usr/bin/prometheus");
    if !bin.is_file() {
        return Err(Skip(
            "prometheus is not installed (apt-get install prometheus)".to_string(),
        ));
    }
    let dir = temp_dir("prom");
    let cfg = dir.join("prometheus.yml");
    let mut yaml = String::from("global:\n  scrape_interval: 1h\n");
    if !scrape_targets.is_empty() {
        let targets: Vec<String> = scrape_targets.iter().map(|t| format!("'{t}'")).collect();
        yaml.push_str(&format!(
            "scrape_configs:\n  - job_name: throng-test\n    scrape_interval: 1s\n    scrape_timeout: 1s\n    static_configs:\n      - targets: [{}]\n",
            targets.join(", ")
        ));
    }
    std::fs::write(&cfg, yaml).expect("a config file");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut c = Command::new(bin);
    c.arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--web.enable-remote-write-receiver")
        .current_dir(&dir);
    let log = dir.join("prometheus.log");
    let child = spawn(c, &log, "prometheus");
    let mut p = Proc {
        child,
        dir,
        signal: "TERM",
    };
    wait_ready(&mut p, &log, "prometheus", || {
        http_get(&addr, "/-/ready").is_some_and(|(s, _)| s == 200)
    });
    // Prometheus applies new targets up to 5 s after it starts: wait for the first scrape
    // of every target, so a test's queries have data from its start
    if !scrape_targets.is_empty() {
        let want = format!("\"{}\"]", scrape_targets.len());
        wait_ready(&mut p, &log, "prometheus's first scrapes", || {
            http_get(&addr, "/api/v1/query?query=count(up%3D%3D1)")
                .is_some_and(|(s, body)| s == 200 && body.contains(&want))
        });
    }
    Ok(Prometheus { addr, _proc: p })
}

impl Prometheus {
    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// GETs `path_and_query` from the server: status and body.
    pub fn get(&self, path_and_query: &str) -> Option<(u16, String)> {
        http_get(&self.addr, path_and_query)
    }
}

/// A bounded plain HTTP/1.1 GET: status and body (`None` when the server cannot be read).
pub fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.get(9..12)?.parse().ok()?;
    Some((status, out.split_once("\r\n\r\n")?.1.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_starts_answers_and_goes_away() {
        let pg = match postgres() {
            Ok(p) => p,
            Err(s) => return s.report("postgres_starts_answers_and_goes_away"),
        };
        assert_eq!(pg.psql("select 40 + 2"), "42");
        let url = pg.url();
        assert!(
            url.starts_with("postgres://throng:throng@127.0.0.1:"),
            "{url}"
        );
        let port = pg.port();
        drop(pg);
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    }

    #[test]
    fn redis_starts_answers_and_goes_away() {
        let r = match redis() {
            Ok(r) => r,
            Err(s) => return s.report("redis_starts_answers_and_goes_away"),
        };
        assert_eq!(r.command(&["SET", "k", "v"]).expect("set"), "+OK\r\n");
        assert_eq!(r.command(&["STRLEN", "k"]).expect("strlen"), ":1\r\n");
        let port = r.port();
        drop(r);
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());

        let r = redis_with_password("s3cret").expect("installed: the first one started");
        assert!(r.url().starts_with("redis://:s3cret@127.0.0.1:"));
        assert_eq!(
            r.command(&["RPUSH", "q", "a", "b"]).expect("rpush"),
            ":2\r\n"
        );
    }

    #[test]
    fn prometheus_starts_and_answers_promql() {
        let p = match prometheus(&[]) {
            Ok(p) => p,
            Err(s) => return s.report("prometheus_starts_and_answers_promql"),
        };
        let (status, body) = p.get("/api/v1/query?query=1%2B1").expect("query");
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"2\""), "{body}");
    }
}
