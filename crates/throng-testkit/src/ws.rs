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
}

impl Drop for WsEchoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WsEchoServer {
    pub async fn start() -> WsEchoServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let c = c.clone();
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
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
                });
            }
        });
        WsEchoServer { addr, counts, task }
    }

    /// `ws://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
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
