//! throng-ws: a WebSocket client for load. [`WsClient::execute`] runs one session —
//! connect, send and receive in the order given, close — and returns its timings, counts
//! and outcome as a [`WsResponse`]. It records no metrics: the flow does (k6's
//! `ws_connecting`, `ws_session_duration`, `ws_msgs_sent`, `ws_msgs_received`).
#![warn(missing_docs)]

mod error;
mod session;

pub use error::WsError;
pub use session::{WsAction, WsClient, WsRequest, WsResponse};
