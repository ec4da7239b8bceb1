use bytes::Bytes;
use http::Method;
use std::time::Duration;
use throng_http::{ClientOptions, ErrorKind, HttpClient, HttpRequest, HttpVersion, SharedConfig};
use throng_testkit::CountingServer;

fn get(url: String) -> HttpRequest {
    HttpRequest {
        method: Method::GET,
        url,
        headers: vec![],
        body: Bytes::new(),
        timeout: None,
        keep_body: true,
        keep_headers: true,
        max_redirects: None,
    }
}

fn client(opts: ClientOptions) -> HttpClient {
    HttpClient::new(SharedConfig::new(opts).expect("config"))
}

#[tokio::test]
async fn keepalive_reuses_one_connection_and_times_phases() {
    let s = CountingServer::start().await;
    let mut c = client(ClientOptions::default());
    for _ in 0..5 {
        let r = c
            .execute(&get(format!("{}/delay/20", s.url())), |_| {})
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.proto, "HTTP/1.1");
        assert!(r.timings.duration() >= 19.0, "{:?}", r.timings);
        assert!(r.timings.waiting >= 19.0, "{:?}", r.timings);
        assert!(r.bytes_received > 0 && r.bytes_sent > 0);
    }
    assert_eq!(s.count(), 5);
    assert_eq!(s.connections(), 1);
}

#[tokio::test]
async fn no_keepalive_opens_a_connection_per_request() {
    let s = CountingServer::start().await;
    let mut c = client(ClientOptions {
        keepalive: false,
        ..Default::default()
    });
    for _ in 0..3 {
        let r = c.execute(&get(format!("{}/", s.url())), |_| {}).await;
        assert_eq!(r.status, 200);
        assert!(r.timings.connecting >= 0.0);
    }
    assert_eq!(s.count(), 3);
    assert_eq!(s.connections(), 3);
}

#[tokio::test]
async fn follows_redirects_up_to_the_limit() {
    let s = CountingServer::start().await;
    let mut c = client(ClientOptions::default());
    let mut hops = 0;
    let r = c
        .execute(&get(format!("{}/redirect/3", s.url())), |h| {
            assert_eq!(h.status, 302);
            hops += 1;
        })
        .await;
    assert_eq!((r.status, hops), (200, 3));
    assert!(r.url.ends_with("/redirect/0"));
    assert_eq!(s.count(), 4);

    let mut c = client(ClientOptions {
        max_redirects: 1,
        ..Default::default()
    });
    let r = c
        .execute(&get(format!("{}/redirect/3", s.url())), |_| {})
        .await;
    assert_eq!(r.status, 302);
}

#[tokio::test]
async fn cookie_jar_sends_cookies_back() {
    let s = CountingServer::start().await;
    let mut c = client(ClientOptions::default());
    c.execute(&get(format!("{}/set-cookie/sid/abc", s.url())), |_| {})
        .await;
    let r = c
        .execute(&get(format!("{}/cookies", s.url())), |_| {})
        .await;
    assert_eq!(&r.body[..], b"sid=abc");
    assert_eq!(c.cookie(&s.url(), "sid").as_deref(), Some("abc"));
}

#[tokio::test]
async fn h2c_prior_knowledge() {
    let s = CountingServer::start().await;
    let mut c = client(ClientOptions {
        version: HttpVersion::Http2PriorKnowledge,
        ..Default::default()
    });
    for _ in 0..3 {
        let r = c.execute(&get(format!("{}/echo", s.url())), |_| {}).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.proto, "HTTP/2.0");
    }
    assert!(s.seen().iter().all(|x| x.version == "HTTP/2.0"));
    assert_eq!(s.connections(), 1);
}

/// HTTP/2 request headers: the request's own replace the default user agent, the ones
/// HTTP/2 forbids are left out, a name given twice goes twice and a UTF-8 value as its
/// bytes (as over HTTP/1.1), and headers made for one request and reused by the next (the
/// same headers) or made again (others, none, or after an invalid one) are each request's
/// own: nothing of a request whose header could not be sent goes out with the next.
#[tokio::test]
async fn h2c_request_headers_are_each_requests_own() {
    let s = CountingServer::start().await;
    let mut c = client(ClientOptions {
        version: HttpVersion::Http2PriorKnowledge,
        ..Default::default()
    });
    let with = |headers: &[(&str, &str)]| HttpRequest {
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..get(format!("{}/echo", s.url()))
    };
    let first = with(&[
        ("X-A", "1"),
        ("User-Agent", "mine"),
        ("Connection", "keep-alive"),
        ("TE", "gzip"),
    ]);
    let second = with(&[("X-A", "2"), ("TE", "trailers")]);
    let bad = with(&[("Authorization", "Bearer t"), ("X-Bad", "a\nb")]);
    let plain = get(format!("{}/echo", s.url()));
    let twice = with(&[("X-A", "3"), ("X-A", "4"), ("X-Name", "café")]);
    for (req, ok) in [
        (&first, true),
        (&first, true),
        (&second, true),
        (&bad, false),
        (&plain, true),
        (&first, true),
        (&twice, true),
    ] {
        let r = c.execute(req, |_| {}).await;
        if ok {
            assert_eq!(r.status, 200, "{:?}", r.error);
            assert_eq!(r.proto, "HTTP/2.0");
        } else {
            assert_eq!(r.error, Some(ErrorKind::InvalidHeader));
        }
    }
    let seen = s.seen();
    assert_eq!(seen.len(), 6, "the invalid one is not sent");
    let all = |i: usize, k: &str| -> Vec<&str> {
        seen[i]
            .headers
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    for i in [0, 1, 4] {
        assert_eq!(all(i, "x-a"), ["1"], "request {i}");
        assert_eq!(all(i, "user-agent"), ["mine"]);
        assert!(all(i, "connection").is_empty());
        assert!(all(i, "te").is_empty());
    }
    assert_eq!(all(2, "x-a"), ["2"]);
    assert_eq!(all(2, "te"), ["trailers"]);
    assert_eq!(all(2, "user-agent").len(), 1);
    assert_ne!(all(2, "user-agent"), ["mine"]);
    // after the request that could not be sent: none of its headers, nor another's
    assert!(all(3, "authorization").is_empty(), "{:?}", seen[3].headers);
    assert!(all(3, "x-a").is_empty());
    assert_eq!(all(3, "user-agent").len(), 1);
    assert_eq!(all(5, "x-a"), ["3", "4"]);
    assert_eq!(all(5, "x-name"), ["café"]);
    assert!(seen.iter().all(|x| x.version == "HTTP/2.0"));
    assert_eq!(s.connections(), 1);
}

/// A request whose header cannot be sent is not written, so the kept-alive connection it
/// was to go on stays open for the next (HTTP/1.1 and HTTP/2 alike); without keep-alive
/// each request has a connection of its own, but a failed one opens none (as Go's
/// transport, which checks headers before it dials): the server sees two, and neither
/// failure has a byte or a connection's setup.
#[tokio::test]
async fn an_invalid_header_fails_its_request_and_keeps_the_connection() {
    for (version, keepalive, connections) in [
        (HttpVersion::Http1, true, 1),
        (HttpVersion::Http2PriorKnowledge, true, 1),
        (HttpVersion::Http1, false, 2),
        (HttpVersion::Http2PriorKnowledge, false, 2),
    ] {
        let s = CountingServer::start().await;
        let mut c = client(ClientOptions {
            version,
            keepalive,
            ..Default::default()
        });
        let good = get(format!("{}/echo", s.url()));
        let bad = HttpRequest {
            headers: vec![("X-Bad".into(), "a\r\nb".into())],
            ..good.clone()
        };
        // the first one before the VU has any connection, the second on an open one
        for (req, status) in [(&bad, 0), (&good, 200), (&bad, 0), (&good, 200)] {
            let r = c.execute(req, |_| {}).await;
            assert_eq!(r.status, status, "{version:?} {:?}", r.error);
            if status == 0 {
                assert_eq!(r.error, Some(ErrorKind::InvalidHeader));
                assert_eq!((r.bytes_sent, r.bytes_received), (0, 0), "{version:?}");
                assert_eq!(r.timings.connecting, 0.0, "{version:?}");
            }
        }
        assert_eq!(s.count(), 2, "{version:?}");
        assert_eq!(
            s.connections(),
            connections,
            "{version:?} keep-alive {keepalive}"
        );
    }
}

#[tokio::test]
async fn tls_with_ca_file_negotiates_h2_and_rejects_unknown_ca() {
    let s = CountingServer::start_tls().await;
    let dir = std::env::temp_dir().join(format!("throng-ca-{}", s.addr.port()));
    std::fs::create_dir_all(&dir).expect("dir");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, s.cert_pem.clone().expect("pem")).expect("write");
    let url = format!("https://localhost:{}/echo", s.addr.port());

    let mut c = client(ClientOptions {
        ca_file: Some(ca),
        ..Default::default()
    });
    let r = c.execute(&get(url.clone()), |_| {}).await;
    assert_eq!(r.status, 200, "{:?}", r.error);
    assert_eq!(r.proto, "HTTP/2.0");
    assert!(r.timings.tls_handshaking > 0.0);

    let mut plain = client(ClientOptions::default());
    let r = plain.execute(&get(url.clone()), |_| {}).await;
    assert_eq!(r.error, Some(ErrorKind::TlsUnknownIssuer));
    assert_eq!(r.error.map(|e| e.code()), Some(1310));

    let mut insecure = client(ClientOptions {
        insecure_skip_tls_verify: true,
        version: HttpVersion::Http1,
        ..Default::default()
    });
    let r = insecure.execute(&get(url), |_| {}).await;
    assert_eq!((r.status, r.proto), (200, "HTTP/1.1"));
}

#[tokio::test]
async fn failures_are_classified() {
    let s = CountingServer::start().await;
    let mut c = client(ClientOptions::default());
    let mut req = get(format!("{}/delay/2000", s.url()));
    req.timeout = Some(Duration::from_millis(100));
    let r = c.execute(&req, |_| {}).await;
    assert_eq!((r.status, r.error), (0, Some(ErrorKind::Timeout)));

    let r = c.execute(&get(format!("{}/reset", s.url())), |_| {}).await;
    assert_eq!(r.status, 0);
    assert!(r.error.is_some());

    // the client recovers on the next request
    let r = c.execute(&get(format!("{}/", s.url())), |_| {}).await;
    assert_eq!(r.status, 200);

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let r = c
        .execute(&get(format!("http://127.0.0.1:{port}/")), |_| {})
        .await;
    assert_eq!(r.error, Some(ErrorKind::ConnectionRefused));

    let r = c.execute(&get("not a url".into()), |_| {}).await;
    assert_eq!(r.error, Some(ErrorKind::InvalidUrl));
}

#[tokio::test]
async fn garbage_from_the_server_is_a_protocol_error() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"this is not http\r\n\r\n").await;
        }
    });
    let mut c = client(ClientOptions::default());
    let r = c.execute(&get(format!("http://{addr}/")), |_| {}).await;
    assert_eq!(r.error, Some(ErrorKind::Protocol));
}

/// A raw server that answers each request on a connection with the next canned response.
async fn raw_server(responses: Vec<&'static [u8]>) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let responses = responses.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                for r in responses {
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    if s.write_all(r).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn http1_codec_handles_chunked_interim_empty_and_close_delimited_bodies() {
    let addr = raw_server(vec![
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    ])
    .await;
    let mut c = client(ClientOptions::default());
    let url = format!("http://{addr}/");
    let r = c.execute(&get(url.clone()), |_| {}).await;
    assert_eq!((r.status, &r.body[..]), (200, &b"hello world"[..]));
    assert_eq!(r.header("x-a"), Some("1"));
    let r = c.execute(&get(url.clone()), |_| {}).await;
    assert_eq!((r.status, r.body.len()), (204, 0));
    let r = c.execute(&get(url.clone()), |_| {}).await;
    assert_eq!((r.status, r.body.len()), (304, 0));
    let mut head = get(url.clone());
    head.method = Method::HEAD;
    let r = c.execute(&head, |_| {}).await;
    assert_eq!(r.status, 200);
    // the HEAD answer had a Content-Length but no body: the next response parses cleanly
    let r = c.execute(&get(url.clone()), |_| {}).await;
    assert_eq!(
        (r.status, &r.body[..]),
        (200, &b"until the end"[..]),
        "{:?}",
        r.error
    );
    assert!(r.error.is_none());
}

#[tokio::test]
async fn http1_truncated_and_bad_lengths_are_errors() {
    let addr = raw_server(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"]).await;
    let mut c = client(ClientOptions::default());
    let r = c.execute(&get(format!("http://{addr}/")), |_| {}).await;
    // the peer closes mid-body: a failed request (status 0, as k6), not a 200
    assert_eq!(r.status, 0);
    assert_eq!(r.error, Some(ErrorKind::ConnectionReset));
    let addr = raw_server(vec![b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n"]).await;
    let r = c.execute(&get(format!("http://{addr}/")), |_| {}).await;
    assert_eq!(r.error, Some(ErrorKind::Protocol));
}

fn h2c() -> HttpClient {
    client(ClientOptions {
        version: HttpVersion::Http2PriorKnowledge,
        ..Default::default()
    })
}

/// Bodies larger than every flow-control window, both ways, over throng's own HTTP/2: a
/// 3 MB upload (the server's window is smaller: the rest waits for its WINDOW_UPDATEs) and
/// a 3 MB download (past the 2 MiB window throng gives a stream, so throng gives room back
/// as it reads). The server gets every byte in order, throng reads every byte in order, on
/// one connection.
#[tokio::test]
async fn h2c_bodies_larger_than_the_windows_go_through_whole() {
    let s = CountingServer::start().await;
    let mut c = h2c();
    let up: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let r = c
        .execute(
            &HttpRequest {
                method: Method::POST,
                body: Bytes::from(up.clone()),
                ..get(format!("{}/echo", s.url()))
            },
            |_| {},
        )
        .await;
    assert_eq!((r.status, r.error), (200, None));
    let seen = s.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].raw.len(), up.len());
    assert!(seen[0].raw == up, "the upload arrived changed");
    assert!(r.bytes_sent >= 3_000_000, "{}", r.bytes_sent);

    let r = c
        .execute(&get(format!("{}/bytes/3000000", s.url())), |_| {})
        .await;
    assert_eq!((r.status, r.error), (200, None));
    assert_eq!(r.body.len(), 3_000_000);
    assert!(r
        .body
        .iter()
        .enumerate()
        .all(|(i, &b)| b == (i % 256) as u8));
    assert!(r.bytes_received >= 3_000_000, "{}", r.bytes_received);
    assert_eq!(s.count(), 2);
    assert_eq!(s.connections(), 1);
}

/// A request that times out on an HTTP/2 connection is reset (RST_STREAM), counted once as
/// a timeout, and the connection goes on carrying the next requests.
#[tokio::test]
async fn an_h2c_request_that_times_out_leaves_the_connection_working() {
    let s = CountingServer::start().await;
    let mut c = h2c();
    let r = c
        .execute(
            &HttpRequest {
                timeout: Some(Duration::from_millis(100)),
                ..get(format!("{}/delay/2000", s.url()))
            },
            |_| {},
        )
        .await;
    assert_eq!(r.status, 0);
    assert_eq!(r.error, Some(ErrorKind::Timeout));
    for _ in 0..3 {
        let r = c.execute(&get(format!("{}/echo", s.url())), |_| {}).await;
        assert_eq!((r.status, r.error), (200, None));
    }
    // the timed-out request reached the server once, and nothing was sent again
    assert_eq!(s.count(), 4);
    assert_eq!(s.connections(), 1);
}

/// A stream the server resets is a failed request of its own, and the connection goes on.
#[tokio::test]
async fn an_h2c_stream_the_server_resets_fails_alone() {
    let s = CountingServer::start().await;
    let mut c = h2c();
    let r = c.execute(&get(format!("{}/reset", s.url())), |_| {}).await;
    assert_eq!(r.status, 0);
    assert!(r.error.is_some());
    let r = c
        .execute(&get(format!("{}/status/404", s.url())), |_| {})
        .await;
    assert_eq!((r.status, r.error), (404, None));
    assert_eq!(s.count(), 2);
    assert_eq!(s.connections(), 1);
}
