//! Opening connections: DNS, TCP, TLS (with ALPN) and the HTTP/1.1 or HTTP/2 handshake.
use crate::error::ErrorKind;
use crate::h1::H1;
use crate::io::{IoStats, Stream, Timed};
use crate::tls::{HttpVersion, SharedConfig};
use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
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
    H2(http2::SendRequest<Full<Bytes>>),
}

/// An open connection owned by one VU.
pub(crate) struct Conn {
    pub sender: Sender,
    pub stats: Arc<IoStats>,
    /// The `Host` header for this origin.
    pub host_header: String,
}

impl Conn {
    pub fn is_h2(&self) -> bool {
        matches!(self.sender, Sender::H2(_))
    }

    /// Waits until the connection can take a request; `false` if it is closed, or (HTTP/1)
    /// has bytes left over or waiting that belong to no request.
    pub async fn ready(&mut self) -> bool {
        match &mut self.sender {
            Sender::H1(c) => c.idle_ok(),
            Sender::H2(s) => !s.is_closed() && s.ready().await.is_ok(),
        }
    }
}

/// How long the connection took to set up.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ConnectTimes {
    pub connecting: Duration,
    pub tls: Duration,
}

pub(crate) async fn connect(
    cfg: &SharedConfig,
    origin: &Origin,
) -> Result<(Conn, ConnectTimes), ErrorKind> {
    let addrs: Vec<std::net::SocketAddr> =
        match tokio::net::lookup_host((origin.host.as_str(), origin.port)).await {
            Ok(a) => a.collect(),
            Err(_) => return Err(ErrorKind::Dns),
        };
    let Some(addr) = addrs.first().copied() else {
        return Err(ErrorKind::Dns);
    };
    let t_tcp = Instant::now();
    let tcp = TcpStream::connect(addr)
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
        let tls = tokio_rustls::TlsConnector::from(cfg.tls.clone())
            .connect(name, tcp)
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
    let stats = IoStats::new();
    let timed = Timed {
        inner: stream,
        stats: stats.clone(),
    };
    let sender = if h2 {
        let io = TokioIo::new(timed);
        let (s, conn) = http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|e| ErrorKind::from_hyper(&e))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Sender::H2(s)
    } else {
        Sender::H1(Box::new(H1::new(timed)))
    };
    let host_header = match (origin.https, origin.port) {
        (false, 80) | (true, 443) => origin.host.clone(),
        (_, p) if origin.host.contains(':') => format!("[{}]:{p}", origin.host),
        (_, p) => format!("{}:{p}", origin.host),
    };
    Ok((
        Conn {
            sender,
            stats,
            host_header,
        },
        times,
    ))
}
