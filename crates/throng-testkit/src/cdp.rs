//! Driving a page in headless Chromium over the DevTools protocol, to click buttons and read
//! what the page shows: a WebSocket client just big enough for CDP (text frames, masked
//! from the client), over a blocking loopback socket.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

/// A headless Chromium showing one page.
pub struct Page {
    child: Child,
    ws: TcpStream,
    next_id: u64,
}

impl Page {
    /// Opens `url` in headless Chromium with its profile in `profile`; `None` (having said
    /// why) when Chromium is not installed, as [`crate::chromium`].
    pub fn open(profile: &Path, url: &str) -> Option<Page> {
        let mut c = crate::chromium(profile)?;
        let mut child = c
            .args(["--remote-debugging-port=0", url])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        let mut err = BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        let browser = loop {
            line.clear();
            if err.read_line(&mut line).expect("chromium's stderr") == 0 {
                panic!("chromium exited without a DevTools address");
            }
            if let Some(ws) = line.trim().strip_prefix("DevTools listening on ws://") {
                break ws.split('/').next().expect("host:port").to_string();
            }
        };
        // keep draining stderr so Chromium never blocks on it
        std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
        let target = (0..100)
            .find_map(|_| {
                let list = http(&browser, "/json/list");
                let v: serde_json::Value = serde_json::from_str(&list).unwrap_or_default();
                let found = v.as_array().and_then(|a| {
                    a.iter()
                        .find(|t| t["type"] == "page")
                        .and_then(|t| t["webSocketDebuggerUrl"].as_str())
                        .map(str::to_string)
                });
                if found.is_none() {
                    std::thread::sleep(Duration::from_millis(100));
                }
                found
            })
            .expect("a page target");
        let path = target
            .strip_prefix(&format!("ws://{browser}"))
            .expect("target on the browser's address")
            .to_string();
        let mut ws = TcpStream::connect(&browser).expect("connect to DevTools");
        ws.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        write!(
            ws,
            "GET {path} HTTP/1.1\r\nHost: {browser}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .expect("handshake");
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            ws.read_exact(&mut b).expect("handshake answer");
            head.push(b[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 101"),
            "{}",
            String::from_utf8_lossy(&head)
        );
        Some(Page {
            child,
            ws,
            next_id: 1,
        })
    }

    /// Evaluates `expr` in the page (awaiting a promise) and returns its value.
    pub fn eval(&mut self, expr: &str) -> serde_json::Value {
        let id = self.next_id;
        self.next_id += 1;
        let msg = serde_json::json!({
            "id": id,
            "method": "Runtime.evaluate",
            "params": { "expression": expr, "returnByValue": true, "awaitPromise": true }
        });
        self.send(msg.to_string().as_bytes());
        loop {
            let v: serde_json::Value =
                serde_json::from_slice(&self.recv()).expect("CDP sends JSON");
            if v["id"] == id {
                if let Some(e) = v["result"].get("exceptionDetails") {
                    panic!("{expr} threw: {e}");
                }
                return v["result"]["result"]["value"].clone();
            }
        }
    }

    /// Evaluates `expr` until it is `true` (every 100 ms, for at most `within`); an
    /// exception (the page not loaded yet) counts as `false`.
    pub fn wait_for(&mut self, expr: &str, within: Duration) -> bool {
        let t0 = std::time::Instant::now();
        let guarded = format!("(()=>{{try{{return ({expr})===true}}catch(e){{return false}}}})()");
        while t0.elapsed() < within {
            if self.eval(&guarded) == serde_json::Value::Bool(true) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    fn send(&mut self, payload: &[u8]) {
        let mask = [0x5a, 0x17, 0xc3, 0x81];
        let mut frame = vec![0x81];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n < 65536 => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.ws.write_all(&frame).expect("send to DevTools");
    }

    /// One whole message (continuation frames joined; control frames skipped).
    fn recv(&mut self) -> Vec<u8> {
        let mut msg = Vec::new();
        loop {
            let mut h = [0u8; 2];
            self.ws.read_exact(&mut h).expect("frame from DevTools");
            let len = match h[1] & 0x7f {
                126 => {
                    let mut l = [0u8; 2];
                    self.ws.read_exact(&mut l).expect("length");
                    u16::from_be_bytes(l) as usize
                }
                127 => {
                    let mut l = [0u8; 8];
                    self.ws.read_exact(&mut l).expect("length");
                    u64::from_be_bytes(l) as usize
                }
                n => n as usize,
            };
            let mut data = vec![0u8; len];
            self.ws.read_exact(&mut data).expect("payload");
            match h[0] & 0x0f {
                0..=2 => {
                    msg.extend_from_slice(&data);
                    if h[0] & 0x80 != 0 {
                        return msg;
                    }
                }
                8 => panic!("DevTools closed the connection"),
                _ => {}
            }
        }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        // TERM reaches `timeout`, which passes it on to Chromium
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// A GET on loopback, returning the body (read to its `Content-Length`: Chromium keeps
/// the connection open whatever the request says).
fn http(addr: &str, path: &str) -> String {
    let Ok(s) = TcpStream::connect(addr) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut r = BufReader::new(s);
    let _ = write!(r.get_mut(), "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let mut len = 0;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; len];
    let _ = r.read_exact(&mut body);
    String::from_utf8_lossy(&body).into_owned()
}
