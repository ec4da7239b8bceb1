//! throng-http: a per-VU HTTP/1.1 and HTTP/2 client (its own HTTP/1.1 codec, HTTP/2 by the h2 crate),
//! with k6's timing phases (blocked, connecting, TLS handshaking, sending, waiting,
//! receiving), keep-alive, redirects, a cookie jar and rustls.
//!
//! Each VU owns one [`HttpClient`]; by default connections are never shared between VUs,
//! as in k6. With [`ClientOptions::http2_sharing`] VUs share HTTP/2 connections instead, a
//! pool per origin of at most N connections carrying at most M streams each (h2load's `-c`
//! and `-m`).
#![warn(missing_docs)]

mod client;
mod conn;
mod cookies;
mod deadline;
mod dns;
mod error;
mod h1;
mod head;
mod head_fast;
mod http2;
mod io;
mod pool;
mod readbuf;
mod render;
mod target;
mod tls;

pub use client::{HttpClient, HttpRequest, HttpResponse, Timings};
pub use dns::{DnsOptions, Policy as DnsPolicy, Select as DnsSelect};
pub use error::ErrorKind;
#[doc(hidden)]
pub use h1::fuzz_h1_response;
pub use http2::fuzz_h2_frames;
pub use pool::Http2Sharing;
pub use tls::{add_pem_roots, AcceptAny, ClientOptions, HttpVersion, SharedConfig, TlsError};
