//! The HTTP/1.1 response codec over bytes a server might send, read in pieces whose size the
//! first byte picks (`throng_http::fuzz_h1_response`): never a panic, a hang or unbounded
//! allocation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    throng_http::fuzz_h1_response(data);
});
