//! The client against misbehaving servers (throng-testkit's raw-TCP server): every response
//! is attributed to the request it answers, every request the server may have seen is
//! counted, and a response that did not complete is a failure. Each test compares what the
//! client reported with what the server read.
use bytes::Bytes;
use http::Method;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use throng_http::{ClientOptions, ErrorKind, HttpClient, HttpRequest, HttpResponse, SharedConfig};
use throng_testkit::{hostile, CountingServer, RawConn, RawServer};

fn req(method: Method, url: String) -> HttpRequest {
    HttpRequest {
        method,
        url,
        headers: vec![],
        body: Bytes::new(),
        timeout: Some(Duration::from_secs(5)),
        keep_body: true,
        keep_headers: true,
        max_redirects: None,
    }
}

fn client(opts: ClientOptions) -> HttpClient {
    HttpClient::new(SharedConfig::new(opts).expect("config"))
}

/// Every response the client reported for one `execute`, extras first.
async fn send_all(c: &mut HttpClient, r: &HttpRequest) -> Vec<HttpResponse> {
    let mut out = Vec::new();
    let last = c.execute(r, |x| out.push(x.clone())).await;
    out.push(last);
    out
}

#[tokio::test]
async fn bytes_after_a_response_are_never_the_next_response() {
    // the first answer on each connection smuggles a second response after its body
    let s = hostile::smuggler().await;
    let mut c = client(ClientOptions::default());
    let mut statuses = Vec::new();
    for _ in 0..10 {
        for r in send_all(&mut c, &req(Method::GET, s.url())).await {
            statuses.push(r.status);
        }
    }
    assert!(!statuses.contains(&500), "{statuses:?}");
    assert_eq!(statuses.len() as u64, s.requests());
    assert_eq!(s.requests(), 10);
    // the connection with leftover bytes was closed, so every later request answered 202
    // on a connection where it was the second request or later
    assert_eq!(
        statuses.iter().filter(|&&x| x == 200).count() as u64,
        s.connections()
    );
}

#[tokio::test]
async fn a_body_on_head_204_and_304_closes_the_connection() {
    let s = RawServer::start(|mut c: RawConn| async move {
        while let Some(r) = c.read_request().await {
            match r.path.as_str() {
                "/head" => {
                    c.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/")
                        .await
                }
                "/204" => {
                    c.write(b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 500 X\r\n\r\n")
                        .await
                }
                "/304" => {
                    c.write(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\nabc")
                        .await
                }
                _ => c.respond(200, "fine").await,
            }
        }
    })
    .await;
    let mut c = client(ClientOptions::default());
    for (m, path, want) in [
        (Method::HEAD, "/head", 200),
        (Method::GET, "/", 200),
        (Method::GET, "/204", 204),
        (Method::GET, "/", 200),
        (Method::GET, "/304", 304),
        (Method::GET, "/", 200),
    ] {
        let r = c
            .execute(&req(m, format!("{}{path}", s.url())), |_| {})
            .await;
        assert_eq!((r.status, r.error), (want, None), "{path}");
        if path == "/" {
            assert_eq!(&r.body[..], b"fine");
        }
    }
    assert_eq!(s.requests(), 6);
    assert_eq!(s.connections(), 4, "each stray body closed its connection");
}

#[tokio::test]
async fn an_unsolicited_408_on_an_idle_connection_is_not_a_response() {
    // like Node.js: after 150 ms idle the server says 408 and closes
    let s = hostile::idle_408(Duration::from_millis(150)).await;
    let mut c = client(ClientOptions::default());
    let mut statuses = Vec::new();
    for _ in 0..5 {
        for r in send_all(&mut c, &req(Method::GET, s.url())).await {
            statuses.push(r.status);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(statuses, vec![200; 5]);
    assert_eq!(s.requests(), 5);
}

#[tokio::test]
async fn a_post_the_server_read_is_never_sent_twice() {
    let s = hostile::one_per_connection().await;
    let mut c = client(ClientOptions::default());
    let mut all = Vec::new();
    for _ in 0..10 {
        let mut r = req(Method::POST, s.url());
        r.body = Bytes::from_static(b"{\"n\":1}");
        all.extend(send_all(&mut c, &r).await);
    }
    assert_eq!(s.requests(), 10, "the server got each POST once");
    assert_eq!(all.len(), 10);
    let ok = all.iter().filter(|r| r.status == 200).count();
    let reset = all
        .iter()
        .filter(|r| r.status == 0 && r.error == Some(ErrorKind::ConnectionReset))
        .count();
    assert_eq!((ok, reset), (5, 5));
}

#[tokio::test]
async fn a_get_is_retried_and_both_attempts_are_counted() {
    let s = hostile::one_per_connection().await;
    let mut c = client(ClientOptions::default());
    let mut all = Vec::new();
    for _ in 0..10 {
        let got = send_all(&mut c, &req(Method::GET, s.url())).await;
        assert_eq!(got.last().map(|r| r.status), Some(200));
        all.extend(got);
    }
    // every attempt that reached the server is one request, so the counts agree
    assert_eq!(all.len() as u64, s.requests());
    assert_eq!(s.requests(), 19);
    assert_eq!(all.iter().filter(|r| r.status == 0).count(), 9);
}

#[tokio::test]
async fn broken_bodies_are_failures_with_status_0() {
    let s = RawServer::start(|mut c: RawConn| async move {
        let Some(r) = c.read_request().await else {
            return;
        };
        match r.path.as_str() {
            "/reset" => {
                c.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b").await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                c.reset();
            }
            "/chunk" => {
                c.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
                    .await
            }
            "/lengths" => {
                c.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
                    .await
            }
            "/plus" => c.write(b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello").await,
            _ => c.respond(200, "ok").await,
        }
    })
    .await;
    let mut c = client(ClientOptions::default());
    for (path, kind) in [
        ("/reset", ErrorKind::ConnectionReset),
        ("/chunk", ErrorKind::Protocol),
        ("/lengths", ErrorKind::Protocol),
        ("/plus", ErrorKind::Protocol),
    ] {
        let r = c
            .execute(&req(Method::GET, format!("{}{path}", s.url())), |_| {})
            .await;
        assert_eq!((r.status, r.error), (0, Some(kind)), "{path}");
    }
    assert_eq!(s.requests(), 4);
}

#[tokio::test]
async fn transfer_codings_and_long_heads_follow_rfc_9112() {
    let s = RawServer::start(|mut c: RawConn| async move {
        let Some(r) = c.read_request().await else {
            return;
        };
        match r.path.as_str() {
            // chunked is not the last coding: the body runs until close
            "/te" => {
                c.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                    .await;
                c.close().await;
            }
            "/headers" => {
                let mut h = String::from("HTTP/1.1 200 OK\r\n");
                for i in 0..300 {
                    h.push_str(&format!("X-Header-{i}: {}\r\n", "v".repeat(50)));
                }
                h.push_str("Content-Length: 2\r\n\r\nok");
                c.write(h.as_bytes()).await;
            }
            _ => c.respond(200, "ok").await,
        }
    })
    .await;
    let mut c = client(ClientOptions::default());
    let r = c
        .execute(&req(Method::GET, format!("{}/te", s.url())), |_| {})
        .await;
    assert_eq!((r.status, r.error), (200, None));
    assert_eq!(&r.body[..], b"5\r\nhello\r\n0\r\n\r\n");
    let r = c
        .execute(&req(Method::GET, format!("{}/headers", s.url())), |_| {})
        .await;
    assert_eq!((r.status, r.error, r.headers.len()), (200, None, 301));
}

#[tokio::test]
async fn an_early_413_during_a_large_upload_is_that_status() {
    let s = RawServer::start(|mut c: RawConn| async move {
        if c.read_head_only().await.is_some() {
            c.write(b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 8\r\n\r\ntoo big!")
                .await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            c.reset();
        }
    })
    .await;
    let mut c = client(ClientOptions::default());
    let mut r = req(Method::POST, s.url());
    r.body = Bytes::from(vec![b'x'; 32 << 20]);
    let got = c.execute(&r, |_| {}).await;
    assert_eq!((got.status, got.error), (413, None));
    assert_eq!(&got.body[..], b"too big!");
    assert_eq!(s.heads(), 1);
}

#[tokio::test]
async fn tls_close_delimited_bodies_without_close_notify() {
    let s = RawServer::start_tls(|mut c: RawConn| async move {
        let Some(r) = c.read_request().await else {
            return;
        };
        if r.path == "/short" {
            c.write(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nhalf")
                .await;
        } else {
            c.write(b"HTTP/1.1 200 OK\r\n\r\nthe whole body").await;
        }
        // dropped without close_notify, as many servers do
    })
    .await;
    let mut c = client(ClientOptions {
        insecure_skip_tls_verify: true,
        ..Default::default()
    });
    let base = format!("https://127.0.0.1:{}", s.addr.port());
    let r = c
        .execute(&req(Method::GET, format!("{base}/")), |_| {})
        .await;
    assert_eq!((r.status, r.error), (200, None), "curl and Go accept this");
    assert_eq!(&r.body[..], b"the whole body");
    let r = c
        .execute(&req(Method::GET, format!("{base}/short")), |_| {})
        .await;
    assert_eq!((r.status, r.error), (0, Some(ErrorKind::ConnectionReset)));
    assert_eq!(s.requests(), 2);
}

#[tokio::test]
async fn tls_failures_name_their_cause() {
    let s = RawServer::start_tls_for(&["example.test"], |mut c: RawConn| async move {
        if c.read_request().await.is_some() {
            c.respond(200, "ok").await;
        }
    })
    .await;
    let dir = std::env::temp_dir().join(format!("throng-hostname-{}", s.addr.port()));
    std::fs::create_dir_all(&dir).expect("dir");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, s.cert_pem.clone().expect("pem")).expect("write");
    let url = format!("https://127.0.0.1:{}/", s.addr.port());
    let mut trusted = client(ClientOptions {
        ca_file: Some(ca),
        ..Default::default()
    });
    let r = trusted
        .execute(&req(Method::GET, url.clone()), |_| {})
        .await;
    assert_eq!(r.error, Some(ErrorKind::TlsHostname));
    assert_eq!(r.error.map(|e| e.code()), Some(1311));
    let mut plain = client(ClientOptions::default());
    let r = plain.execute(&req(Method::GET, url), |_| {}).await;
    assert_eq!(r.error, Some(ErrorKind::TlsUnknownIssuer));
    assert!(ErrorKind::TlsUnknownIssuer.name().contains("--insecure"));
}

#[tokio::test]
async fn a_redirect_to_another_origin_drops_credentials() {
    let target = CountingServer::start().await;
    let to = format!("{}/echo", target.url());
    let s = RawServer::start(move |mut c: RawConn| {
        let to = to.clone();
        async move {
            while c.read_request().await.is_some() {
                let r =
                    format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n");
                c.write(r.as_bytes()).await;
            }
        }
    })
    .await;
    let mut c = client(ClientOptions::default());
    let mut r = req(Method::GET, s.url());
    r.headers = vec![
        ("Authorization".into(), "Bearer s3cret".into()),
        ("Cookie".into(), "sid=s3cret".into()),
        ("Host".into(), "front.example".into()),
        ("X-Trace".into(), "kept".into()),
    ];
    let got = send_all(&mut c, &r).await;
    assert_eq!(
        got.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![302, 200]
    );
    let seen = target.seen();
    assert_eq!(seen.len(), 1);
    let h = &seen[0].headers;
    let get = |n: &str| {
        h.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("authorization"), None);
    assert_eq!(get("cookie"), None);
    assert_eq!(get("host"), Some(target.addr.to_string()));
    assert_eq!(get("x-trace").as_deref(), Some("kept"));
}

#[tokio::test]
async fn a_request_dropped_part_way_closes_its_connection() {
    // the first request on each connection is answered late, naming itself; later ones
    // at once. A request whose caller gives up (a VU stopped mid-request drops its future)
    // closes its connection then, as the server sees, and the next request does not read
    // the late answer
    let closed = Arc::new(AtomicU64::new(0));
    let seen = closed.clone();
    let s = RawServer::start(move |mut c: RawConn| {
        let closed = seen.clone();
        async move {
            while let Some(r) = c.read_request().await {
                if c.served == 1 {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
                c.respond(200, &r.path).await;
            }
            closed.fetch_add(1, Ordering::SeqCst);
        }
    })
    .await;
    let mut c = client(ClientOptions::default());
    let slow = req(Method::GET, format!("{}/first", s.url()));
    let dropped = tokio::time::timeout(Duration::from_millis(30), c.execute(&slow, |_| {})).await;
    assert!(
        dropped.is_err(),
        "the first request should still be waiting"
    );
    // the late answer goes out at 150 ms into a closed connection: the server's read after
    // it sees the end, with no other request from the client in between
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(closed.load(Ordering::SeqCst), 1);
    let next = req(Method::GET, format!("{}/second", s.url()));
    let r = c.execute(&next, |_| {}).await;
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..], b"/second");
    // and the connection the second request opened serves the third
    let r = c.execute(&next, |_| {}).await;
    assert_eq!(&r.body[..], b"/second");
    assert_eq!(s.connections(), 2);
    assert_eq!(s.heads(), 3);
}
