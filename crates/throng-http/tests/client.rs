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
    assert_eq!(r.error, Some(ErrorKind::Tls));

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
