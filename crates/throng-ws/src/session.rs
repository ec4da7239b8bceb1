//! One WebSocket session: connect, the actions in order, close.
use crate::WsError;
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// What a session does once connected.
#[derive(Debug, Clone)]
pub enum WsAction {
    /// Send a text message.
    Text(String),
    /// Send a binary message.
    Binary(Vec<u8>),
    /// Wait up to `timeout` for a message containing `contains` and matching `matches`
    /// (any message when neither is given); others are counted and skipped.
    Receive {
        /// Text the message must contain.
        contains: Option<String>,
        /// A regex it must match.
        matches: Option<regex::Regex>,
        /// Longest wait.
        timeout: Duration,
    },
    /// Pause with the connection open.
    Sleep(Duration),
}

/// One session to run.
#[derive(Debug, Clone)]
pub struct WsRequest {
    /// `ws://` or `wss://` URL.
    pub url: String,
    /// Extra handshake headers.
    pub headers: Vec<(String, String)>,
    /// The actions, in order.
    pub actions: Vec<WsAction>,
    /// Longest the whole session may take.
    pub timeout: Duration,
}

/// What a session did.
#[derive(Debug, Clone, Default)]
pub struct WsResponse {
    /// 101 when the handshake switched protocols; the HTTP status a non-WebSocket endpoint
    /// answered with; 0 when no answer came.
    pub status: u16,
    /// Why it failed, if it did.
    pub error: Option<WsError>,
    /// Time to an open WebSocket (TCP, TLS and the handshake), ms.
    pub connecting_ms: f64,
    /// Time from the start to the end of the close, ms.
    pub session_ms: f64,
    /// Messages sent.
    pub sent: u64,
    /// Messages received (text and binary; not pings, pongs or the close).
    pub received: u64,
    /// The last message a `receive:` matched (the body checks and extracts read).
    pub last: Vec<u8>,
    /// The handshake response's headers.
    pub headers: Vec<(String, String)>,
}

impl WsResponse {
    /// The value of header `name` in the handshake response.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Runs sessions with shared TLS settings.
#[derive(Clone)]
pub struct WsClient {
    tls: Arc<rustls::ClientConfig>,
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long the close handshake may take before the connection is dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

impl WsClient {
    /// A client whose `wss://` sessions use `tls` (offering ALPN `http/1.1` only).
    pub fn new(tls: Arc<rustls::ClientConfig>) -> WsClient {
        WsClient { tls }
    }

    /// Runs one session.
    pub async fn execute(&self, req: &WsRequest) -> WsResponse {
        let t0 = Instant::now();
        let mut out = WsResponse::default();
        let within = tokio::time::timeout(req.timeout, self.run(req, t0, &mut out)).await;
        if within.is_err() {
            out.error = Some(WsError::Timeout);
        }
        out.session_ms = ms(t0.elapsed());
        out
    }

    async fn run(&self, req: &WsRequest, t0: Instant, out: &mut WsResponse) {
        let mut ws = match self.connect(req, out).await {
            Ok(ws) => ws,
            Err(e) => {
                out.connecting_ms = ms(t0.elapsed());
                out.error = Some(e);
                return;
            }
        };
        out.connecting_ms = ms(t0.elapsed());
        for a in &req.actions {
            let r = match a {
                WsAction::Text(t) => send(&mut ws, Message::text(t.as_str()), out).await,
                WsAction::Binary(b) => send(&mut ws, Message::binary(b.clone()), out).await,
                WsAction::Sleep(d) => {
                    tokio::time::sleep(*d).await;
                    Ok(())
                }
                WsAction::Receive {
                    contains,
                    matches,
                    timeout,
                } => {
                    receive(
                        &mut ws,
                        contains.as_deref(),
                        matches.as_ref(),
                        *timeout,
                        out,
                    )
                    .await
                }
            };
            if let Err(e) = r {
                out.error = Some(e);
                return;
            }
        }
        close(&mut ws, out).await;
    }

    async fn connect(&self, req: &WsRequest, out: &mut WsResponse) -> Result<Ws, WsError> {
        let mut r = req
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| WsError::from_tungstenite(&e).0)?;
        for (k, v) in &req.headers {
            let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) else {
                return Err(WsError::Protocol);
            };
            r.headers_mut().append(k, v);
        }
        let connector = Connector::Rustls(self.tls.clone());
        match tokio_tungstenite::connect_async_tls_with_config(r, None, true, Some(connector)).await
        {
            Ok((ws, resp)) => {
                out.status = resp.status().as_u16();
                out.headers = resp
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                    .collect();
                Ok(ws)
            }
            Err(e) => {
                let (kind, status) = WsError::from_tungstenite(&e);
                out.status = status;
                Err(kind)
            }
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn send(ws: &mut Ws, m: Message, out: &mut WsResponse) -> Result<(), WsError> {
    ws.send(m)
        .await
        .map_err(|e| WsError::from_tungstenite(&e).0)?;
    out.sent += 1;
    Ok(())
}

/// Whether a message's payload as text satisfies a `receive:`.
fn matches_all(payload: &[u8], contains: Option<&str>, re: Option<&regex::Regex>) -> bool {
    if contains.is_none() && re.is_none() {
        return true;
    }
    let text = String::from_utf8_lossy(payload);
    contains.is_none_or(|c| text.contains(c)) && re.is_none_or(|r| r.is_match(&text))
}

/// The payload of a data message (text or binary); `None` for control frames.
fn payload(m: &Message) -> Option<&[u8]> {
    match m {
        Message::Text(t) => Some(t.as_bytes()),
        Message::Binary(b) => Some(b),
        _ => None,
    }
}

async fn receive(
    ws: &mut Ws,
    contains: Option<&str>,
    re: Option<&regex::Regex>,
    timeout: Duration,
    out: &mut WsResponse,
) -> Result<(), WsError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| WsError::ReceiveTimeout)?;
        let m = match next {
            None => return Err(WsError::Closed),
            Some(Err(e)) => return Err(WsError::from_tungstenite(&e).0),
            Some(Ok(m)) => m,
        };
        if let Message::Close(_) = m {
            return Err(WsError::Closed);
        }
        let Some(p) = payload(&m) else { continue };
        out.received += 1;
        if matches_all(p, contains, re) {
            out.last = p.to_vec();
            return Ok(());
        }
    }
}

/// Sends a close and reads until the server's close (counting messages still in flight),
/// for at most [`CLOSE_WAIT`].
async fn close(ws: &mut Ws, out: &mut WsResponse) {
    if ws.close(None).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(Ok(m)) = ws.next().await {
            if payload(&m).is_some() {
                out.received += 1;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::matches_all;

    #[test]
    fn a_receive_matches_by_text_and_regex() {
        let re = regex::Regex::new("^hello [0-9]+$").ok();
        assert!(matches_all(b"anything", None, None));
        assert!(matches_all(b"hello 12", Some("12"), re.as_ref()));
        assert!(!matches_all(b"hello 12", Some("13"), re.as_ref()));
        assert!(!matches_all(b"hello x", None, re.as_ref()));
    }
}
