//! throng's own HTTP/2 client (RFC 9113): frames, HPACK with its Huffman code, flow
//! control, and a connection whose streams the VUs share (see [`connection`]).
pub(crate) mod connection;
pub(crate) mod frame;
pub(crate) mod hpack;
mod huffman;
mod request;

pub use connection::fuzz_h2_frames;
pub(crate) use connection::{start, Exchange, H2Sender, Keep};
pub(crate) use request::{Head, OwnHeaders};

#[cfg(test)]
mod tests;
