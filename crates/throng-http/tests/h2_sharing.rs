//! VUs sharing HTTP/2 connections (`ClientOptions::http2_sharing`), against an in-process
//! h2c server that counts requests and connections and measures the streams in flight on
//! each connection: the pool opens at most N connections, never has more streams in flight
//! on one than M or the server's SETTINGS_MAX_CONCURRENT_STREAMS, and accounts for every
//! request when the server sends GOAWAY.
use bytes::Bytes;
use http::Method;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use throng_http::{
    ClientOptions, Http2Sharing, HttpClient, HttpRequest, HttpVersion, SharedConfig,
};
use throng_testkit::{H2Options, H2Server};

/// What the VUs saw.
#[derive(Debug, Default)]
struct Tally {
    /// Requests started by the VUs (iterations).
    attempted: AtomicU64,
    /// Responses 200.
    ok: AtomicU64,
    /// Failed requests (final outcomes).
    errors: AtomicU64,
    /// Failed attempts reported before the request was sent again (requests of their own
    /// in http_reqs).
    extra_errors: AtomicU64,
    /// Requests that opened a connection (`connecting` > 0).
    connecting: AtomicU64,
    /// Bytes received, summed over the requests.
    received: AtomicU64,
    /// Responses over HTTP/1.1.
    http1: AtomicU64,
    /// VUs whose first request, which opened or waited for a connection, reported no
    /// `blocked` time.
    first_unblocked: AtomicU64,
}

/// `vus` VUs sharing one configuration send `total` GETs between them (h2c).
async fn run(url: String, sharing: Http2Sharing, vus: usize, total: u64) -> Arc<Tally> {
    let opts = ClientOptions {
        version: HttpVersion::Http2PriorKnowledge,
        ..ClientOptions::default()
    };
    run_with(opts, url, sharing, vus, total).await
}

/// [`run`] with other client options.
async fn run_with(
    opts: ClientOptions,
    url: String,
    sharing: Http2Sharing,
    vus: usize,
    total: u64,
) -> Arc<Tally> {
    let cfg = SharedConfig::new(ClientOptions {
        http2_sharing: Some(sharing),
        timeout: Duration::from_secs(10),
        ..opts
    })
    .expect("config");
    let tally = Arc::new(Tally::default());
    let next = Arc::new(AtomicU64::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..vus {
        let (cfg, tally, next, url) = (cfg.clone(), tally.clone(), next.clone(), url.clone());
        set.spawn(async move {
            let mut c = HttpClient::new(cfg);
            let req = HttpRequest {
                method: Method::GET,
                url,
                body: Bytes::new(),
                ..HttpRequest::default()
            };
            let mut first = true;
            while next.fetch_add(1, Ordering::SeqCst) < total {
                tally.attempted.fetch_add(1, Ordering::SeqCst);
                let r = c
                    .execute(&req, |extra| {
                        assert!(extra.error.is_some(), "an extra is a failed attempt");
                        tally.extra_errors.fetch_add(1, Ordering::SeqCst);
                    })
                    .await;
                if r.proto == "HTTP/1.1" {
                    tally.http1.fetch_add(1, Ordering::SeqCst);
                }
                if r.status == 200 {
                    tally.ok.fetch_add(1, Ordering::SeqCst);
                } else {
                    tally.errors.fetch_add(1, Ordering::SeqCst);
                }
                if r.timings.connecting > 0.0 {
                    tally.connecting.fetch_add(1, Ordering::SeqCst);
                }
                if first && r.timings.blocked == 0.0 {
                    tally.first_unblocked.fetch_add(1, Ordering::SeqCst);
                }
                first = false;
                tally.received.fetch_add(r.bytes_received, Ordering::SeqCst);
            }
        });
    }
    while let Some(done) = set.join_next().await {
        done.expect("VU task");
    }
    tally
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_vus_share_five_connections_of_ten_streams() {
    let s = H2Server::start(H2Options {
        delay: Duration::from_millis(2),
        ..H2Options::default()
    })
    .await;
    let sharing = Http2Sharing {
        connections: 5,
        streams: 10,
    };
    let t = run(s.url(), sharing, 50, 1000).await;
    assert_eq!(s.connections(), 5, "{t:?}");
    assert_eq!(s.requests(), 1000);
    assert_eq!(t.attempted.load(Ordering::SeqCst), 1000);
    assert_eq!(t.ok.load(Ordering::SeqCst), 1000, "{t:?}");
    assert_eq!(t.errors.load(Ordering::SeqCst), 0);
    assert_eq!(t.http1.load(Ordering::SeqCst), 0);
    // connect time belongs to the request that opened the connection, and only to it
    assert_eq!(t.connecting.load(Ordering::SeqCst), 5);
    assert!(s.max_in_flight() <= 10, "{}", s.max_in_flight());
    assert!(
        s.max_in_flight() > 1,
        "streams overlap: {}",
        s.max_in_flight()
    );
    assert!(t.received.load(Ordering::SeqCst) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_max_concurrent_streams_caps_the_streams_per_connection() {
    let s = H2Server::start(H2Options {
        max_concurrent_streams: Some(2),
        delay: Duration::from_millis(5),
        ..H2Options::default()
    })
    .await;
    let sharing = Http2Sharing {
        connections: 3,
        streams: 10,
    };
    let t = run(s.url(), sharing, 30, 300).await;
    assert_eq!(s.requests(), 300);
    assert_eq!(t.ok.load(Ordering::SeqCst), 300, "{t:?}");
    assert_eq!(t.errors.load(Ordering::SeqCst), 0);
    assert_eq!(s.connections(), 3);
    assert_eq!(
        s.max_in_flight(),
        2,
        "the server measured the streams in flight"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goaway_after_k_requests_loses_and_doubles_nothing() {
    let s = H2Server::start(H2Options {
        goaway_after: Some(50),
        delay: Duration::from_millis(1),
        ..H2Options::default()
    })
    .await;
    let sharing = Http2Sharing {
        connections: 2,
        streams: 10,
    };
    let t = run(s.url(), sharing, 20, 600).await;
    let (ok, errors) = (t.ok.load(Ordering::SeqCst), t.errors.load(Ordering::SeqCst));
    let attempted = t.attempted.load(Ordering::SeqCst);
    assert_eq!(attempted, 600);
    assert_eq!(ok + errors, attempted, "{t:?}");
    assert_eq!(errors, 0, "{t:?}");
    // a GOAWAY is graceful: the streams the server took are answered, the ones above its
    // last stream id were never processed and are sent again on another connection
    assert_eq!(t.extra_errors.load(Ordering::SeqCst), 0, "{t:?}");
    // the server answered every ok request; it may have taken one more per GOAWAY: h2 0.4's
    // server, closing an idle connection, sends GOAWAY(last id) without lowering the id it
    // accepts (`go_away_now` in h2/src/proto/connection.rs does not call `send_go_away`),
    // so a stream above the id it announced can still reach the service, while the client,
    // told by RFC 9113 §6.8 that it was not processed, sends it again
    let server = s.requests();
    assert!(server >= ok, "{t:?} server {server}");
    assert!(server - ok <= s.goaways(), "{t:?} server {server}");
    // every connection but the (at most 2) still open at the end went away and was replaced
    assert!(
        s.connections() > 2,
        "connections {} goaways {} server {} {t:?}",
        s.connections(),
        s.goaways(),
        s.requests()
    );
    assert!(
        s.goaways() + 2 >= s.connections(),
        "goaways {}",
        s.goaways()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_drops_mid_stream_is_replaced_and_its_streams_are_errors() {
    let s = H2Server::start(H2Options {
        goaway_after: Some(40),
        reset_instead: true,
        delay: Duration::from_millis(2),
        ..H2Options::default()
    })
    .await;
    let sharing = Http2Sharing {
        connections: 2,
        streams: 10,
    };
    let t = run(s.url(), sharing, 20, 400).await;
    let (ok, errors) = (t.ok.load(Ordering::SeqCst), t.errors.load(Ordering::SeqCst));
    let extra = t.extra_errors.load(Ordering::SeqCst);
    assert_eq!(ok + errors, 400, "{t:?}");
    // the streams in flight when a connection dropped are failures (a GET is then sent
    // again once), never lost: the server took every ok request and at most one request
    // per failure besides
    assert!(extra + errors > 0, "{t:?}");
    assert!(s.requests() >= ok, "{t:?} server {}", s.requests());
    assert!(
        s.requests() <= ok + errors + extra,
        "{t:?} server {}",
        s.requests()
    );
    assert!(s.connections() > 2, "replaced: {}", s.connections());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_alpn_h2_the_vus_share_the_connections_too() {
    let s = throng_testkit::CountingServer::start_tls().await;
    let opts = ClientOptions {
        insecure_skip_tls_verify: true,
        ..ClientOptions::default()
    };
    let sharing = Http2Sharing {
        connections: 2,
        streams: 10,
    };
    let url = format!("https://127.0.0.1:{}/", s.addr.port());
    let t = run_with(opts, url, sharing, 20, 200).await;
    assert_eq!(t.ok.load(Ordering::SeqCst), 200, "{t:?}");
    assert_eq!(s.count(), 200);
    assert_eq!(s.connections(), 2);
    assert_eq!(t.http1.load(Ordering::SeqCst), 0, "ALPN chose h2");
    // the TLS handshake, like the connect, is the opener's
    assert_eq!(t.connecting.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_that_answers_alpn_with_http1_gets_each_vus_own_connection() {
    let s = throng_testkit::CountingServer::start_tls_http1().await;
    let opts = ClientOptions {
        insecure_skip_tls_verify: true,
        ..ClientOptions::default()
    };
    let sharing = Http2Sharing {
        connections: 2,
        streams: 10,
    };
    let url = format!("https://127.0.0.1:{}/", s.addr.port());
    let t = run_with(opts, url, sharing, 10, 100).await;
    assert_eq!(t.ok.load(Ordering::SeqCst), 100, "{t:?}");
    assert_eq!(t.http1.load(Ordering::SeqCst), 100, "{t:?}");
    assert_eq!(s.count(), 100);
    // the first VU's connection showed HTTP/1.1; after it, every VU opens its own
    assert_eq!(s.connections(), 10);
    // the VU whose pool connection spoke HTTP/1.1 sent its first request on it as its
    // own: the wait for the handshake is that request's `blocked` time, as for every
    // other VU's first request (it was 0, and the handshake went into `sending`)
    assert_eq!(t.first_unblocked.load(Ordering::SeqCst), 0, "{t:?}");
    // and each of the ten connections' setup is reported by the request it was opened for
    assert_eq!(t.connecting.load(Ordering::SeqCst), 10, "{t:?}");
}

/// A VU keeps to the connection of its previous request while that one has room: five VUs
/// that start together open five connections (each finds the others still opening), and
/// then each VU's forty requests all go on the one it opened, though any other has room.
/// (A VU that came late to the start would share another's connection instead of opening
/// one: what holds whatever the timing is that each VU keeps to one, and each connection
/// is the one a VU opened.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vu_keeps_to_its_connection_while_it_has_room() {
    let s = H2Server::start(H2Options {
        delay: Duration::from_millis(1),
        ..H2Options::default()
    })
    .await;
    let cfg = SharedConfig::new(ClientOptions {
        version: HttpVersion::Http2PriorKnowledge,
        http2_sharing: Some(Http2Sharing {
            connections: 5,
            streams: 10,
        }),
        timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    })
    .expect("config");
    let start = Arc::new(tokio::sync::Barrier::new(5));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let (cfg, url, start) = (cfg.clone(), s.url(), start.clone());
        set.spawn(async move {
            let mut c = HttpClient::new(cfg);
            let req = HttpRequest {
                method: Method::GET,
                url,
                keep_headers: true,
                ..HttpRequest::default()
            };
            start.wait().await;
            let mut seen = Vec::new();
            for _ in 0..40 {
                let r = c.execute(&req, |_| {}).await;
                assert_eq!(r.status, 200, "{:?}", r.error);
                seen.push(r.header("x-connection").unwrap_or("none").to_string());
            }
            seen
        });
    }
    let mut used = std::collections::BTreeSet::new();
    while let Some(done) = set.join_next().await {
        let seen = done.expect("VU task");
        assert!(
            seen.iter().all(|c| *c == seen[0]),
            "one VU's connections: {seen:?}"
        );
        used.insert(seen[0].clone());
    }
    assert_eq!(s.requests(), 200);
    assert_eq!(used.len() as u64, s.connections(), "{used:?}");
}
