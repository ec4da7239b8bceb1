//! Opening connections: DNS, TCP, TLS (with ALPN) and the HTTP/1.1 or HTTP/2 handshake.
use crate::error::ErrorKind;
use crate::h1::H1;
use crate::io::{IoStats, Stats, Stream, Timed};
use crate::tls::{HttpVersion, SharedConfig};
use rustls::pki_types::ServerName;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Where a connection goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

/// An HTTP/1.1 connection (throng's own codec) or the request half of an HTTP/2 one.
pub(crate) enum Sender {
    H1(Box<H1>),
    H2(H2Sender),
}

pub(crate) use crate::http2::H2Sender;

/// An open connection owned by one VU.
pub(crate) struct Conn {
    pub sender: Sender,
    /// The `Host` header for this origin.
    pub host_header: String,
}

impl Conn {
    /// The connection's byte counts and times.
    pub fn stats(&self) -> &IoStats {
        match &self.sender {
            Sender::H1(h1) => h1.stats(),
            Sender::H2(s) => &s.stats,
        }
    }

    pub fn is_h2(&self) -> bool {
        matches!(self.sender, Sender::H2(_))
    }

    /// Whether the connection can take a request now (it never waits): `false` if it is
    /// closed, or (HTTP/1) has bytes left over or waiting that belong to no request.
    pub fn ready(&mut self) -> bool {
        match &mut self.sender {
            Sender::H1(c) => c.idle_ok(),
            Sender::H2(s) => !s.is_closed(),
        }
    }
}

/// How long the connection took to set up.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ConnectTimes {
    pub connecting: Duration,
    pub tls: Duration,
}

/// A connection being opened (see [`connect`]).
pub(crate) type Connecting<'a> =
    Pin<Box<dyn Future<Output = Result<(Conn, ConnectTimes), ErrorKind>> + Send + 'a>>;

/// Opens a connection: TCP (to the first of `addrs` that answers), TLS, and the HTTP/2
/// handshake if one is spoken.
///
/// Boxed: opening a connection takes a larger future than a request on an open one
/// (happy eyeballs; 400 B), which would otherwise be part of every request's future and so
/// of what every VU holds while it waits for a response. The TLS and HTTP/2 handshakes are
/// boxed again inside it (1.1 KB and more), so a plain connection does not hold their room.
/// A new connection allocates anyway; a request on a kept-alive one does not come here.
pub(crate) fn connect<'a>(
    cfg: &'a SharedConfig,
    origin: &'a Origin,
    addrs: Vec<std::net::SocketAddr>,
) -> Connecting<'a> {
    Box::pin(open(cfg, origin, addrs))
}

async fn open(
    cfg: &SharedConfig,
    origin: &Origin,
    addrs: Vec<std::net::SocketAddr>,
) -> Result<(Conn, ConnectTimes), ErrorKind> {
    let t_tcp = Instant::now();
    let tcp = connect_any(&interleave(addrs))
        .await
        .map_err(|e| ErrorKind::from_io(&e))?;
    let _ = tcp.set_nodelay(true);
    let connecting = t_tcp.elapsed();
    let mut times = ConnectTimes {
        connecting,
        tls: Duration::ZERO,
    };
    let (stream, h2) = if origin.https {
        let t_tls = Instant::now();
        let name = ServerName::try_from(origin.host.clone()).map_err(|_| ErrorKind::InvalidUrl)?;
        // the handshake's state (1.1 KB) and HTTP/2's below are boxed: held inline, every
        // VU opening a plain HTTP/1.1 connection would carry their room too
        let tls = Box::pin(tokio_rustls::TlsConnector::from(cfg.tls.clone()).connect(name, tcp))
            .await
            .map_err(|e| ErrorKind::from_tls(&e))?;
        times.tls = t_tls.elapsed();
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        (Stream::Tls(Box::new(tls)), h2)
    } else {
        (
            Stream::Plain(tcp),
            cfg.opts.version == HttpVersion::Http2PriorKnowledge,
        )
    };
    let sender = if h2 {
        let stats = Arc::new(IoStats::new());
        let timed = Timed {
            inner: stream,
            stats: Stats::Shared(stats.clone()),
        };
        // throng's own HTTP/2 (see `crate::http2`): the preface and settings are written by
        // the connection's task, and the first request need not wait for the server's
        Sender::H2(crate::http2::start(timed, stats))
    } else {
        Sender::H1(Box::new(H1::new(Timed {
            inner: stream,
            stats: Stats::Own(IoStats::new()),
        })))
    };
    let host_header = match (origin.https, origin.port) {
        (false, 80) | (true, 443) => origin.host.clone(),
        (_, p) if origin.host.contains(':') => format!("[{}]:{p}", origin.host),
        (_, p) => format!("{}:{p}", origin.host),
    };
    Ok((
        Conn {
            sender,
            host_header,
        },
        times,
    ))
}

/// How long an attempt gets before the next address is tried beside it (RFC 8305's
/// connection attempt delay).
const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// The addresses with the families alternating, the first answer's family first (RFC 8305):
/// `localhost` as `::1, 127.0.0.1`, a dual-stack name as v6, v4, v6, v4, ...
fn interleave(addrs: Vec<std::net::SocketAddr>) -> Vec<std::net::SocketAddr> {
    let first_v6 = addrs.first().is_some_and(|a| a.is_ipv6());
    let (mut a, mut b): (Vec<_>, Vec<_>) = addrs.into_iter().partition(|x| x.is_ipv6() == first_v6);
    let mut out = Vec::with_capacity(a.len() + b.len());
    a.reverse();
    b.reverse();
    while let Some(x) = a.pop() {
        out.push(x);
        if let Some(y) = b.pop() {
            out.push(y);
        }
    }
    out.extend(b.into_iter().rev());
    out
}

/// Connects to the first address that answers ("happy eyeballs"): each address in turn,
/// the next one started when the previous fails or has not answered within
/// [`ATTEMPT_DELAY`]; the first connection made wins and the others are dropped.
async fn connect_any(addrs: &[std::net::SocketAddr]) -> std::io::Result<TcpStream> {
    if let [one] = addrs {
        return TcpStream::connect(*one).await;
    }
    let mut attempts = tokio::task::JoinSet::new();
    let mut next = 0;
    let mut last_err = None;
    loop {
        if let Some(a) = addrs.get(next).copied() {
            next += 1;
            attempts.spawn(async move { TcpStream::connect(a).await });
        }
        if attempts.is_empty() {
            return Err(
                last_err.unwrap_or_else(|| std::io::Error::other("no address to connect to"))
            );
        }
        let more = next < addrs.len();
        tokio::select! {
            done = attempts.join_next() => match done {
                Some(Ok(Ok(s))) => {
                    attempts.abort_all();
                    return Ok(s);
                }
                Some(Ok(Err(e))) => last_err = Some(e),
                Some(Err(_)) | None => {}
            },
            _ = tokio::time::sleep(ATTEMPT_DELAY), if more => {}
        }
    }
}

#[cfg(test)]
mod eyeballs {
    use super::*;

    #[test]
    fn families_alternate_from_the_first_answer() {
        let a: Vec<std::net::SocketAddr> = [
            "[::1]:1",
            "[::2]:1",
            "127.0.0.1:1",
            "10.0.0.1:1",
            "10.0.0.2:1",
        ]
        .iter()
        .map(|s| s.parse().expect("addr"))
        .collect();
        let got: Vec<String> = interleave(a).iter().map(|a| a.to_string()).collect();
        assert_eq!(
            got,
            [
                "[::1]:1",
                "127.0.0.1:1",
                "[::2]:1",
                "10.0.0.1:1",
                "10.0.0.2:1"
            ]
        );
    }

    #[tokio::test]
    async fn a_refused_address_falls_through_to_one_that_answers() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let good = l.local_addr().expect("addr");
        // a port on ::1 (or 127.0.0.2) where nothing listens: refused at once
        let dead: std::net::SocketAddr = format!("127.0.0.1:{}", {
            let t = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            t.local_addr().expect("addr").port()
        })
        .parse()
        .expect("addr");
        let s = connect_any(&[dead, good]).await.expect("falls through");
        assert_eq!(s.peer_addr().expect("peer"), good);
        assert!(connect_any(&[dead]).await.is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientOptions;

    /// Opening a plain connection does not carry the room of a TLS or HTTP/2 handshake
    /// (boxed where they happen): held inline, they made this future about 900 bytes
    /// larger, and every VU of a constant-vus scenario holds it at the same moment, as they
    /// all connect at once.
    #[test]
    fn opening_a_plain_connection_leaves_out_the_handshakes() {
        let cfg = SharedConfig::new(ClientOptions::default()).expect("client config");
        let origin = Origin {
            https: false,
            host: "127.0.0.1".into(),
            port: 1,
        };
        let opening = std::mem::size_of_val(&open(&cfg, &origin, Vec::new()));
        eprintln!("opening a connection: {opening} B");
        assert!(opening <= OPENING_BOUND, "{opening} B");
    }

    /// The bound on the connection-opening future: 400–408 B today (release, debug), 1,288 B
    /// with the handshakes inline.
    const OPENING_BOUND: usize = 600;
}
