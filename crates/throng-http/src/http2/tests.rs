//! The connection against a scripted server on 127.0.0.1 that writes exact frames: every
//! way a response may be framed, the server's settings and windows, refusals, resets,
//! malformed responses and connection errors, each checked frame by frame on both sides.
use super::frame::{self, code, flag, kind, setting, Head};
use super::hpack;
use super::{start, Exchange, H2Sender, Keep};
use crate::error::ErrorKind;
use crate::h1::SendError;
use crate::io::{IoStats, Stats, Stream, Timed};
use bytes::Bytes;
use http::HeaderMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The server's side of one connection.
struct Peer {
    sock: TcpStream,
    /// Frames read while looking for another kind, oldest first.
    skipped: std::collections::VecDeque<(Head, Vec<u8>)>,
}

impl Peer {
    /// Reads the client's preface.
    async fn accept(l: &TcpListener) -> Peer {
        let (mut sock, _) = l.accept().await.expect("accept");
        let mut preface = [0u8; 24];
        sock.read_exact(&mut preface).await.expect("preface");
        assert_eq!(&preface[..], frame::PREFACE);
        Peer {
            sock,
            skipped: Default::default(),
        }
    }

    /// The next frame from the client.
    async fn frame(&mut self) -> (Head, Vec<u8>) {
        let mut h = [0u8; 9];
        tokio::time::timeout(Duration::from_secs(5), self.sock.read_exact(&mut h))
            .await
            .expect("a frame in time")
            .expect("frame head");
        let head = Head::parse(&h);
        let mut payload = vec![0u8; head.len];
        self.sock.read_exact(&mut payload).await.expect("payload");
        (head, payload)
    }

    /// The next frame of `kind`; the others read on the way are kept for later.
    async fn next(&mut self, k: u8) -> (Head, Vec<u8>) {
        if let Some(at) = self.skipped.iter().position(|f| f.0.kind == k) {
            if let Some(f) = self.skipped.remove(at) {
                return f;
            }
        }
        loop {
            let f = self.frame().await;
            if f.0.kind == k {
                return f;
            }
            self.skipped.push_back(f);
        }
    }

    /// Whether the client closes the connection (EOF) within a while.
    async fn closed(&mut self) -> bool {
        let mut b = [0u8; 1024];
        loop {
            match tokio::time::timeout(Duration::from_secs(5), self.sock.read(&mut b)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.sock.write_all(bytes).await.expect("write");
    }

    /// Sends SETTINGS and waits for the client's ACK.
    async fn settle(&mut self, pairs: &[(u16, u32)]) {
        let mut out = Vec::new();
        frame::put_settings(&mut out, pairs);
        self.send(&out).await;
        loop {
            let (h, _) = self.next(kind::SETTINGS).await;
            if h.flags & flag::ACK != 0 {
                return;
            }
        }
    }
}

/// A frame with `payload`.
fn framed(k: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    frame::put_head(&mut out, payload.len(), k, flags, stream);
    out.extend_from_slice(payload);
    out
}

/// A response head `:status 200` and `fields`, as literals.
fn block(status: usize, fields: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    if status == 200 {
        hpack::put_indexed(&mut b, 8);
    } else {
        hpack::put_literal_at(&mut b, 8, status.to_string().as_bytes());
    }
    for (n, v) in fields {
        hpack::put_literal(&mut b, n.as_bytes(), v.as_bytes(), false);
    }
    b
}

async fn pair() -> (TcpListener, H2Sender) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let tcp = TcpStream::connect(l.local_addr().expect("addr"))
        .await
        .expect("connect");
    let stats = Arc::new(IoStats::new());
    let io = Timed {
        inner: Stream::Plain(tcp),
        stats: Stats::Shared(stats.clone()),
    };
    (l, start(io, stats))
}

const ALL: Keep = Keep {
    body: true,
    headers: true,
};

/// A GET of `/` with no headers.
fn get<'s>(s: &'s H2Sender, body: &Bytes) -> Result<Exchange<'s>, SendError> {
    s.send(
        |o, _| {
            hpack::put_indexed(o, hpack::index::METHOD_GET);
            hpack::put_indexed(o, hpack::index::SCHEME_HTTP);
            hpack::put_literal_at(o, hpack::index::AUTHORITY, b"h");
            hpack::put_indexed(o, hpack::index::PATH_ROOT);
        },
        body,
        ALL,
        HeaderMap::new(),
    )
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), f)
        .await
        .expect("in time")
}

#[tokio::test]
async fn every_way_of_framing_a_response_is_read() {
    let (l, s) = pair().await;
    let server = tokio::spawn(async move {
        let mut p = Peer::accept(&l).await;
        p.settle(&[
            (setting::MAX_CONCURRENT_STREAMS, 5),
            (setting::MAX_FRAME_SIZE, 20_000),
        ])
        .await;
        let (h, _) = p.next(kind::HEADERS).await;
        assert_eq!(
            (h.stream, h.flags),
            (1, flag::END_HEADERS | flag::END_STREAM)
        );
        // a PING, answered with the same bytes
        p.send(&framed(kind::PING, 0, 0, b"12345678")).await;
        // an interim response, whose header is not the response's
        let mut early = Vec::new();
        hpack::put_literal_at(&mut early, 8, b"103");
        hpack::put_literal(&mut early, b"link", b"</a>", false);
        p.send(&framed(kind::HEADERS, flag::END_HEADERS, 1, &early))
            .await;
        // the head: padded, with a priority, cut into a CONTINUATION; a Huffman value
        // added to the table
        let mut b = block(200, &[("x-a", "1")]);
        b.push(0x40);
        hpack::put_str(&mut b, b"set-cookie");
        let mut huff = Vec::new();
        super::huffman::encode(b"sid=abc", &mut huff);
        hpack::put_int(&mut b, 0x80, 7, huff.len());
        b.extend_from_slice(&huff);
        let (first, rest) = b.split_at(3);
        let mut p1 = vec![4u8]; // pad length
        p1.extend_from_slice(&[0, 0, 0, 0, 16]); // priority
        p1.extend_from_slice(first);
        p1.extend_from_slice(&[0; 4]);
        p.send(&framed(
            kind::HEADERS,
            flag::PADDED | flag::PRIORITY,
            1,
            &p1,
        ))
        .await;
        p.send(&framed(kind::CONTINUATION, flag::END_HEADERS, 1, rest))
            .await;
        // padded DATA, an unknown frame type, DATA, trailers ending the stream
        p.send(&framed(
            kind::DATA,
            flag::PADDED,
            1,
            &[2, b'h', b'e', b'l', 0, 0],
        ))
        .await;
        p.send(&framed(0xee, 0, 1, b"ignored")).await;
        p.send(&framed(kind::DATA, 0, 1, b"lo")).await;
        let mut t = Vec::new();
        hpack::put_literal(&mut t, b"grpc-status", b"0", false);
        p.send(&framed(
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            1,
            &t,
        ))
        .await;
        let (h, ping) = p.next(kind::PING).await;
        assert_eq!((h.flags, &ping[..]), (flag::ACK, &b"12345678"[..]));
        // the second response names the first's set-cookie by its dynamic index (62)
        let (h, _) = p.next(kind::HEADERS).await;
        assert_eq!(h.stream, 3);
        let mut b = block(200, &[]);
        hpack::put_indexed(&mut b, 62);
        p.send(&framed(
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            3,
            &b,
        ))
        .await;
        p
    });
    let r = within(get(&s, &Bytes::new()).expect("sent"))
        .await
        .expect("response");
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..], b"hello");
    assert_eq!(r.body_error, None);
    assert_eq!(r.headers.get("x-a").map(|v| v.as_bytes()), Some(&b"1"[..]));
    assert_eq!(
        r.headers.get("set-cookie").map(|v| v.as_bytes()),
        Some(&b"sid=abc"[..])
    );
    assert!(r.headers.get("link").is_none(), "the interim response's");
    assert!(r.headers.get("grpc-status").is_none(), "a trailer");
    assert_eq!(s.max_streams(), 5);
    let r = within(get(&s, &Bytes::new()).expect("sent"))
        .await
        .expect("response");
    assert_eq!(
        r.headers.get("set-cookie").map(|v| v.as_bytes()),
        Some(&b"sid=abc"[..])
    );
    let _p = within(server).await.expect("server");
    assert!(!s.is_closed());
}

#[tokio::test]
async fn refused_streams_and_streams_above_a_goaway_were_not_sent() {
    let (l, s) = pair().await;
    let server = tokio::spawn(async move {
        let mut p = Peer::accept(&l).await;
        p.settle(&[]).await;
        for id in [1, 3, 5] {
            assert_eq!(p.next(kind::HEADERS).await.0.stream, id);
        }
        p.send(&framed(
            kind::RST_STREAM,
            0,
            1,
            &code::REFUSED_STREAM.to_be_bytes(),
        ))
        .await;
        // GOAWAY: stream 3 was taken, 5 was not
        let mut g = Vec::new();
        frame::put_goaway(&mut g, 3, 0);
        p.send(&g).await;
        p.send(&framed(
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            3,
            &block(200, &[]),
        ))
        .await;
        p
    });
    let none = Bytes::new();
    let (a, b, c) = (
        get(&s, &none).expect("1"),
        get(&s, &none).expect("3"),
        get(&s, &none).expect("5"),
    );
    let (a, b, c) = within(async { tokio::join!(a, b, c) }).await;
    assert!(matches!(a, Err(SendError::NotSent(_))), "{a:?}");
    assert_eq!(b.expect("taken before the GOAWAY").status, 200);
    assert!(
        matches!(c, Err(SendError::NotSent(ErrorKind::ConnectionReset))),
        "{c:?}"
    );
    assert!(s.is_closed());
    assert!(matches!(get(&s, &none), Err(SendError::NotSent(_))));
    // with its last stream done, the connection closes
    let mut p = within(server).await.expect("server");
    assert!(p.closed().await);
}

#[tokio::test]
async fn a_malformed_response_resets_its_stream_alone() {
    let (l, s) = pair().await;
    let server = tokio::spawn(async move {
        let mut p = Peer::accept(&l).await;
        p.settle(&[]).await;
        let bad: [Vec<u8>; 6] = [
            // an upper-case name
            block(200, &[("X-Up", "1")]),
            // no :status
            {
                let mut b = Vec::new();
                hpack::put_literal(&mut b, b"x-a", b"1", false);
                b
            },
            // a request's pseudo-header
            {
                let mut b = block(200, &[]);
                hpack::put_indexed(&mut b, hpack::index::PATH_ROOT);
                b
            },
            // an interim response that ends the stream
            {
                let mut b = Vec::new();
                hpack::put_literal_at(&mut b, 8, b"100");
                b
            },
            // switching protocols
            {
                let mut b = Vec::new();
                hpack::put_literal_at(&mut b, 8, b"101");
                b
            },
            // more than a megabyte of fields decoded from a few kilobytes: one field of
            // 4 KB put in the table, then named again and again by its index
            {
                let mut b = block(200, &[]);
                b.push(0x40);
                hpack::put_str(&mut b, b"set-cookie");
                hpack::put_str(&mut b, &[b'a'; 4000]);
                b.extend(std::iter::repeat_n(0x80 | 62, 300));
                b
            },
        ];
        for (i, b) in bad.iter().enumerate() {
            let id = 1 + 2 * i as u32;
            assert_eq!(p.next(kind::HEADERS).await.0.stream, id);
            p.send(&framed(
                kind::HEADERS,
                flag::END_HEADERS | flag::END_STREAM,
                id,
                b,
            ))
            .await;
            let (h, c) = p.next(kind::RST_STREAM).await;
            assert_eq!(
                (h.stream, &c[..]),
                (id, &code::PROTOCOL_ERROR.to_be_bytes()[..])
            );
        }
        // DATA before the head
        assert_eq!(p.next(kind::HEADERS).await.0.stream, 13);
        p.send(&framed(kind::DATA, 0, 13, b"x")).await;
        assert_eq!(p.next(kind::RST_STREAM).await.0.stream, 13);
        // and the connection still works, its table in step
        assert_eq!(p.next(kind::HEADERS).await.0.stream, 15);
        let mut b = block(204, &[]);
        hpack::put_indexed(&mut b, 62);
        p.send(&framed(
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            15,
            &b,
        ))
        .await;
        p
    });
    let none = Bytes::new();
    for _ in 0..7 {
        let r = within(get(&s, &none).expect("sent")).await;
        assert!(
            matches!(r, Err(SendError::Failed(ErrorKind::Protocol))),
            "{r:?}"
        );
    }
    let r = within(get(&s, &none).expect("sent"))
        .await
        .expect("response");
    assert_eq!(r.status, 204);
    assert_eq!(r.headers.get("set-cookie").map(|v| v.len()), Some(4000));
    within(server).await.expect("server");
    assert!(!s.is_closed());
}

#[tokio::test]
async fn a_connection_error_is_answered_with_goaway_and_fails_every_stream() {
    for (what, bad) in [
        ("DATA on stream 0", framed(kind::DATA, 0, 0, b"x")),
        (
            "a bad HPACK index",
            framed(kind::HEADERS, flag::END_HEADERS, 1, &[0x80 | 70]),
        ),
        ("a frame over our size", {
            let mut b = Vec::new();
            frame::put_head(&mut b, 20_000, kind::DATA, 0, 1);
            b
        }),
        (
            "a PUSH_PROMISE",
            framed(kind::PUSH_PROMISE, flag::END_HEADERS, 1, &[0, 0, 0, 2]),
        ),
        (
            "a CONTINUATION out of place",
            framed(kind::CONTINUATION, flag::END_HEADERS, 1, &[]),
        ),
    ] {
        let (l, s) = pair().await;
        let server = tokio::spawn(async move {
            let mut p = Peer::accept(&l).await;
            p.settle(&[]).await;
            p.next(kind::HEADERS).await;
            p.send(&bad).await;
            let (_, g) = p.next(kind::GOAWAY).await;
            let c = u32::from_be_bytes([g[4], g[5], g[6], g[7]]);
            assert_ne!(c, 0);
            assert!(p.closed().await);
        });
        let r = within(get(&s, &Bytes::new()).expect("sent")).await;
        assert!(
            matches!(r, Err(SendError::NoResponse(ErrorKind::Protocol))),
            "{what}: {r:?}"
        );
        within(server).await.expect(what);
        assert!(s.is_closed(), "{what}");
        assert!(matches!(get(&s, &Bytes::new()), Err(SendError::NotSent(_))));
    }
}

#[tokio::test]
async fn a_request_body_waits_for_the_servers_window() {
    let (l, s) = pair().await;
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        let mut p = Peer::accept(&l).await;
        // ten bytes of window per stream, and frames of at most 16 KiB
        p.settle(&[(setting::INITIAL_WINDOW_SIZE, 10)]).await;
        let _ = ready_tx.send(());
        let (h, _) = p.next(kind::HEADERS).await;
        assert_eq!(h.flags, flag::END_HEADERS);
        let mut got = Vec::new();
        let (h, d) = p.next(kind::DATA).await;
        assert_eq!((h.len, h.flags), (10, 0));
        got.extend_from_slice(&d);
        let mut wu = Vec::new();
        frame::put_u32(&mut wu, kind::WINDOW_UPDATE, 1, 10);
        p.send(&wu).await;
        let (h, d) = p.next(kind::DATA).await;
        assert_eq!((h.len, h.flags), (10, 0));
        got.extend_from_slice(&d);
        // the server raises every stream's window: the rest goes
        let mut st = Vec::new();
        frame::put_settings(&mut st, &[(setting::INITIAL_WINDOW_SIZE, 1000)]);
        p.send(&st).await;
        let (h, d) = p.next(kind::DATA).await;
        assert_eq!((h.len, h.flags), (5, flag::END_STREAM));
        got.extend_from_slice(&d);
        p.send(&framed(
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            1,
            &block(200, &[]),
        ))
        .await;
        got
    });
    ready_rx.await.expect("settled");
    let body = Bytes::from_static(b"abcdefghijklmnopqrstuvwxy");
    let r = within(get(&s, &body).expect("sent"))
        .await
        .expect("response");
    assert_eq!(r.status, 200);
    assert_eq!(within(server).await.expect("server"), body.to_vec());
}

#[tokio::test]
async fn a_stream_given_up_on_is_cancelled_and_the_connection_goes_on() {
    let (l, s) = pair().await;
    let server = tokio::spawn(async move {
        let mut p = Peer::accept(&l).await;
        p.settle(&[]).await;
        p.next(kind::HEADERS).await;
        let (h, c) = p.next(kind::RST_STREAM).await;
        assert_eq!((h.stream, &c[..]), (1, &code::CANCEL.to_be_bytes()[..]));
        // its response comes anyway, and is dropped; then the next stream's
        p.send(&framed(
            kind::HEADERS,
            flag::END_HEADERS,
            1,
            &block(200, &[]),
        ))
        .await;
        p.send(&framed(kind::DATA, flag::END_STREAM, 1, b"late"))
            .await;
        assert_eq!(p.next(kind::HEADERS).await.0.stream, 3);
        p.send(&framed(
            kind::HEADERS,
            flag::END_HEADERS,
            3,
            &block(200, &[]),
        ))
        .await;
        p.send(&framed(kind::DATA, flag::END_STREAM, 3, b"ok"))
            .await;
        p
    });
    let none = Bytes::new();
    let first = get(&s, &none).expect("sent");
    assert!(tokio::time::timeout(Duration::from_millis(50), first)
        .await
        .is_err());
    let r = within(get(&s, &none).expect("sent"))
        .await
        .expect("response");
    assert_eq!(&r.body[..], b"ok");
    within(server).await.expect("server");
}

#[tokio::test]
async fn a_connection_that_ends_fails_its_streams_and_one_released_closes() {
    let (l, s) = pair().await;
    let server = tokio::spawn(async move {
        let mut p = Peer::accept(&l).await;
        p.settle(&[]).await;
        p.next(kind::HEADERS).await;
        // the server goes away without a word
    });
    let r = within(get(&s, &Bytes::new()).expect("sent")).await;
    assert!(
        matches!(r, Err(SendError::NoResponse(ErrorKind::ConnectionReset))),
        "{r:?}"
    );
    within(server).await.expect("server");
    assert!(s.is_closed());

    // every sender dropped, nothing in flight: the connection closes
    let (l, s) = pair().await;
    let mut p = Peer::accept(&l).await;
    p.settle(&[]).await;
    drop(s);
    assert!(p.closed().await);
}

/// The fuzz entry over its committed seeds, and over each seed changed at random a few
/// thousand times (bytes flipped, cut short, repeated): never a panic.
#[test]
fn the_frame_handler_survives_odd_inputs() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/h2_frames");
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("seeds")
        .map(|e| std::fs::read(e.expect("entry").path()).expect("seed"))
        .collect();
    assert!(seeds.len() >= 5);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for seed in &seeds {
        super::fuzz_h2_frames(seed);
        for _ in 0..3000 {
            let mut m = seed.clone();
            match next() % 3 {
                0 => {
                    for _ in 0..1 + next() % 4 {
                        let at = (next() as usize) % m.len();
                        m[at] = next() as u8;
                    }
                }
                1 => m.truncate((next() as usize) % m.len()),
                _ => {
                    let copy = m[1..].to_vec();
                    m.extend_from_slice(&copy);
                }
            }
            super::fuzz_h2_frames(&m);
        }
    }
}

/// A server that answers before the whole body went (RFC 9113 §8.1): the response is the
/// request's, the rest of the body is not sent (not even when the server gives room), and
/// the stream is closed with RST_STREAM.
#[tokio::test]
async fn a_response_before_the_whole_body_closes_the_stream() {
    let (l, s) = pair().await;
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let mut p = Peer::accept(&l).await;
        p.settle(&[(setting::INITIAL_WINDOW_SIZE, 10)]).await;
        let _ = ready_tx.send(());
        p.next(kind::HEADERS).await;
        let (h, _) = p.next(kind::DATA).await;
        assert_eq!((h.len, h.flags), (10, 0));
        p.send(&framed(
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            1,
            &block(413, &[]),
        ))
        .await;
        let _ = done_rx.await;
        // room for the rest comes late: nothing more of the body may use it
        let mut wu = Vec::new();
        frame::put_u32(&mut wu, kind::WINDOW_UPDATE, 1, 1000);
        p.send(&wu).await;
        let (h, c) = p.next(kind::RST_STREAM).await;
        assert_eq!((h.stream, &c[..]), (1, &code::CANCEL.to_be_bytes()[..]));
        // the next request's HEADERS, and no DATA of stream 1 before it
        let (h, _) = p.next(kind::HEADERS).await;
        assert_eq!(h.stream, 3);
        assert!(
            p.skipped.iter().all(|f| f.0.kind != kind::DATA),
            "more of the body went"
        );
        p.send(&framed(
            kind::HEADERS,
            flag::END_HEADERS | flag::END_STREAM,
            3,
            &block(200, &[]),
        ))
        .await;
    });
    ready_rx.await.expect("settled");
    let body = Bytes::from(vec![b'x'; 25]);
    let r = within(get(&s, &body).expect("sent"))
        .await
        .expect("response");
    assert_eq!(r.status, 413);
    let _ = done_tx.send(());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let r = within(get(&s, &Bytes::new()).expect("sent"))
        .await
        .expect("response");
    assert_eq!(r.status, 200);
    within(server).await.expect("server");
}

/// The client's header blocks decoded by a server-side decoder across requests: repeated
/// fields go by index after their first request, and when the server shrinks its table
/// (SETTINGS_HEADER_TABLE_SIZE) the next block empties it first, so every block still
/// decodes to the request's fields.
#[tokio::test]
async fn the_servers_table_stays_in_step_with_the_clients_blocks() {
    let (l, s) = pair().await;
    let (shrunk_tx, mut shrunk_rx) = tokio::sync::mpsc::channel::<()>(1);
    let server = tokio::spawn(async move {
        let mut p = Peer::accept(&l).await;
        p.settle(&[]).await;
        let mut d = hpack::Decoder::new(4096);
        let mut sizes = Vec::new();
        for id in [1u32, 3, 5, 7] {
            let (h, got_block) = p.next(kind::HEADERS).await;
            assert_eq!(h.stream, id);
            let mut got = Vec::new();
            d.decode(&got_block, |n, v| got.push((n.to_vec(), v.to_vec())))
                .expect("the block decodes");
            assert_eq!(
                got,
                [
                    (b":method".to_vec(), b"GET".to_vec()),
                    (b":scheme".to_vec(), b"http".to_vec()),
                    (b":authority".to_vec(), b"example.com:8080".to_vec()),
                    (b":path".to_vec(), b"/".to_vec()),
                    (b"user-agent".to_vec(), b"throng-test".to_vec()),
                ]
            );
            sizes.push(got_block.len());
            if id == 3 {
                // the server's table shrinks to 64 bytes: the authority (58 bytes) fits, the
                // user agent (53) no longer does beside it
                p.settle(&[(setting::HEADER_TABLE_SIZE, 64)]).await;
            }
            p.send(&framed(
                kind::HEADERS,
                flag::END_HEADERS | flag::END_STREAM,
                id,
                &block(200, &[]),
            ))
            .await;
            if id == 3 {
                let _ = shrunk_tx.send(()).await;
            }
        }
        sizes
    });
    let head = |o: &mut Vec<u8>, t: &mut hpack::EncTable| {
        hpack::put_indexed(o, hpack::index::METHOD_GET);
        hpack::put_indexed(o, hpack::index::SCHEME_HTTP);
        t.field(
            o,
            Some(hpack::index::AUTHORITY),
            b":authority",
            b"example.com:8080",
        );
        hpack::put_indexed(o, hpack::index::PATH_ROOT);
        t.field(
            o,
            Some(hpack::index::USER_AGENT),
            b"user-agent",
            b"throng-test",
        );
    };
    let none = Bytes::new();
    for i in 0..4 {
        if i == 2 {
            shrunk_rx.recv().await.expect("shrunk");
            // the SETTINGS went first: give the task a moment to read it
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let r = s.send(head, &none, ALL, HeaderMap::new()).expect("sent");
        assert_eq!(within(r).await.expect("response").status, 200);
    }
    let sizes = within(server).await.expect("server");
    // first: both added (GET, http, :authority 2 + 16, /, user-agent 2 + 11); second: five
    // bytes; after the shrink: two size updates (0, then 64: 1 + 2 bytes), the authority
    // added again, the user agent as a plain literal (2 + 1 + 11); then the authority by
    // index and the user agent a literal again
    assert_eq!(sizes, [34, 5, 38, 18]);
}
