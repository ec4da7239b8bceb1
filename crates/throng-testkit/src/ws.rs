//! A WebSocket echo server on 127.0.0.1 that counts sessions and the messages it echoed.
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

#[derive(Default)]
struct Counts {
    sessions: AtomicU64,
    echoed: AtomicU64,
}

/// Echoes every text and binary message back; stops when dropped.
pub struct WsEchoServer {
    pub addr: SocketAddr,
    counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
    /// PEM of the self-signed certificate (TLS servers only).
    pub cert_pem: Option<String>,
}

impl Drop for WsEchoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WsEchoServer {
    /// Plain `ws://`.
    pub async fn start() -> WsEchoServer {
        Self::start_inner(None).await
    }

    /// `wss://` with a self-signed certificate for localhost/127.0.0.1 (its PEM in
    /// `cert_pem`).
    pub async fn start_tls() -> WsEchoServer {
        let (acc, pem) = crate::tls_acceptor(&[b"http/1.1"]);
        let mut s = Self::start_inner(Some(acc)).await;
        s.cert_pem = Some(pem);
        s
    }

    async fn start_inner(tls: Option<tokio_rustls::TlsAcceptor>) -> WsEchoServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (c, tls) = (c.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        Some(acc) => {
                            if let Ok(s) = acc.accept(tcp).await {
                                echo(s, &c).await;
                            }
                        }
                        None => echo(tcp, &c).await,
                    }
                });
            }
        });
        WsEchoServer {
            addr,
            counts,
            task,
            cert_pem: None,
        }
    }

    /// `ws://127.0.0.1:PORT`, or `wss://localhost:PORT` for a TLS server.
    pub fn url(&self) -> String {
        match self.cert_pem {
            Some(_) => format!("wss://localhost:{}", self.addr.port()),
            None => format!("ws://{}", self.addr),
        }
    }

    /// WebSocket sessions opened.
    pub fn sessions(&self) -> u64 {
        self.counts.sessions.load(Ordering::SeqCst)
    }

    /// Messages echoed back.
    pub fn echoed(&self) -> u64 {
        self.counts.echoed.load(Ordering::SeqCst)
    }
}

/// Echoes one connection's messages until it closes.
async fn echo<S>(stream: S, c: &Counts)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    c.sessions.fetch_add(1, Ordering::SeqCst);
    while let Some(Ok(m)) = ws.next().await {
        match m {
            Message::Text(_) | Message::Binary(_) => {
                if ws.send(m).await.is_err() {
                    return;
                }
                c.echoed.fetch_add(1, Ordering::SeqCst);
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    let _ = ws.close(None).await;
}
