//! Why a session failed, with k6-style numeric codes.
use throng_http::ErrorKind;

/// A failed WebSocket session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum WsError {
    /// Could not connect (DNS, refused, reset, TLS, timeout): HTTP's kinds.
    #[error("{}", .0.name())]
    Connect(ErrorKind),
    /// The URL is not a `ws://` or `wss://` URL.
    #[error("invalid url")]
    InvalidUrl,
    /// The server answered the handshake without switching protocols (status 101): the
    /// endpoint is not a WebSocket endpoint.
    #[error("not a websocket endpoint")]
    NotWebSocket,
    /// A `receive:` saw no matching message in time.
    #[error("receive timeout")]
    ReceiveTimeout,
    /// The session took longer than its timeout.
    #[error("timeout")]
    Timeout,
    /// The server closed the connection before a `receive:` was satisfied.
    #[error("closed by server")]
    Closed,
    /// The server broke the WebSocket protocol.
    #[error("websocket protocol")]
    Protocol,
}

impl WsError {
    /// k6-style code: HTTP's for connection failures, 1700s for WebSocket's own.
    pub fn code(self) -> u16 {
        match self {
            WsError::Connect(k) => k.code(),
            WsError::InvalidUrl => 1020,
            WsError::Timeout => 1050,
            WsError::NotWebSocket => 1701,
            WsError::ReceiveTimeout => 1702,
            WsError::Closed => 1703,
            WsError::Protocol => 1704,
        }
    }

    /// A short name for tags and reports.
    pub fn name(self) -> &'static str {
        match self {
            WsError::Connect(k) => k.name(),
            WsError::InvalidUrl => "invalid url",
            WsError::Timeout => "timeout",
            WsError::NotWebSocket => "not a websocket endpoint",
            WsError::ReceiveTimeout => "ws receive timeout",
            WsError::Closed => "ws closed by server",
            WsError::Protocol => "ws protocol",
        }
    }

    /// Classifies a tungstenite error; `status` is set when the server answered the
    /// handshake with something else than 101.
    pub(crate) fn from_tungstenite(e: &tokio_tungstenite::tungstenite::Error) -> (WsError, u16) {
        use tokio_tungstenite::tungstenite::Error as E;
        match e {
            E::Http(resp) => (WsError::NotWebSocket, resp.status().as_u16()),
            E::Io(io) => {
                let tls = io
                    .get_ref()
                    .is_some_and(|inner| inner.is::<rustls::Error>());
                let k = if tls {
                    ErrorKind::from_tls(io)
                } else {
                    ErrorKind::from_io(io)
                };
                (WsError::Connect(k), 0)
            }
            E::Tls(_) => (WsError::Connect(ErrorKind::Tls), 0),
            E::Url(_) => (WsError::InvalidUrl, 0),
            E::ConnectionClosed | E::AlreadyClosed => (WsError::Closed, 0),
            _ => (WsError::Protocol, 0),
        }
    }
}
