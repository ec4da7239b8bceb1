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

/// Bytes written as hex pairs, spaces ignored (the RFCs' examples), for the tests.
#[cfg(test)]
fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}
