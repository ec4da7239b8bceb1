//! The HTTP/2 frame handler over bytes a server might send on a connection with three
//! streams open, read in pieces whose size the first byte picks
//! (`throng_http::fuzz_h2_frames`): frames, HPACK blocks, Huffman strings, windows and
//! settings; never a panic, a hang or unbounded allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    throng_http::fuzz_h2_frames(data);
});
