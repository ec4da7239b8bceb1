//! HTTP/2 frames (RFC 9113 §4, §6): their types, flags, and writing the ones a client sends.

/// The client's connection preface (RFC 9113 §3.4).
pub(crate) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame types.
pub(crate) mod kind {
    pub const DATA: u8 = 0x0;
    pub const HEADERS: u8 = 0x1;
    pub const RST_STREAM: u8 = 0x3;
    pub const SETTINGS: u8 = 0x4;
    pub const PUSH_PROMISE: u8 = 0x5;
    pub const PING: u8 = 0x6;
    pub const GOAWAY: u8 = 0x7;
    pub const WINDOW_UPDATE: u8 = 0x8;
    pub const CONTINUATION: u8 = 0x9;
}

/// Frame flags.
pub(crate) mod flag {
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;
    pub const PADDED: u8 = 0x8;
    pub const PRIORITY: u8 = 0x20;
}

/// Settings identifiers.
pub(crate) mod setting {
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    pub const ENABLE_PUSH: u16 = 0x2;
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    pub const MAX_FRAME_SIZE: u16 = 0x5;
}

/// Error codes (RFC 9113 §7).
pub(crate) mod code {
    pub const PROTOCOL_ERROR: u32 = 0x1;
    pub const FLOW_CONTROL_ERROR: u32 = 0x3;
    pub const FRAME_SIZE_ERROR: u32 = 0x6;
    pub const REFUSED_STREAM: u32 = 0x7;
    pub const CANCEL: u32 = 0x8;
    pub const COMPRESSION_ERROR: u32 = 0x9;
}

/// The smallest (and default) largest frame payload (RFC 9113 §4.2).
pub(crate) const DEFAULT_MAX_FRAME: usize = 16_384;
/// The flow-control window every stream and the connection start with.
pub(crate) const DEFAULT_WINDOW: i64 = 65_535;
/// The largest flow-control window.
pub(crate) const MAX_WINDOW: i64 = (1 << 31) - 1;

/// A frame's 9-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub len: usize,
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
}

impl Head {
    /// Reads the header at the start of `b` (at least 9 bytes).
    pub(crate) fn parse(b: &[u8; 9]) -> Head {
        Head {
            len: (b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize,
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }
}

/// Writes a frame header.
pub(crate) fn put_head(out: &mut Vec<u8>, len: usize, kind: u8, flags: u8, stream: u32) {
    out.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
}

/// Writes a header block as a HEADERS frame and as many CONTINUATION frames as it needs.
pub(crate) fn put_headers(
    out: &mut Vec<u8>,
    stream: u32,
    block: &[u8],
    end_stream: bool,
    max: usize,
) {
    let mut chunks = block.chunks(max.max(1));
    let first = chunks.next().unwrap_or(&[]);
    let last = block.len() <= max;
    let mut flags = if end_stream { flag::END_STREAM } else { 0 };
    if last {
        flags |= flag::END_HEADERS;
    }
    put_head(out, first.len(), kind::HEADERS, flags, stream);
    out.extend_from_slice(first);
    let n = chunks.len();
    for (i, c) in chunks.enumerate() {
        let f = if i + 1 == n { flag::END_HEADERS } else { 0 };
        put_head(out, c.len(), kind::CONTINUATION, f, stream);
        out.extend_from_slice(c);
    }
}

/// Writes `data` as DATA frames of at most `max` bytes, the last with END_STREAM if `end`.
pub(crate) fn put_data(out: &mut Vec<u8>, stream: u32, data: &[u8], end: bool, max: usize) {
    if data.is_empty() {
        put_head(
            out,
            0,
            kind::DATA,
            if end { flag::END_STREAM } else { 0 },
            stream,
        );
        return;
    }
    let n = data.len().div_ceil(max.max(1));
    for (i, c) in data.chunks(max.max(1)).enumerate() {
        let f = if end && i + 1 == n {
            flag::END_STREAM
        } else {
            0
        };
        put_head(out, c.len(), kind::DATA, f, stream);
        out.extend_from_slice(c);
    }
}

/// Writes a SETTINGS frame with `pairs`.
pub(crate) fn put_settings(out: &mut Vec<u8>, pairs: &[(u16, u32)]) {
    put_head(out, pairs.len() * 6, kind::SETTINGS, 0, 0);
    for (id, v) in pairs {
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Writes a frame whose payload is one 32-bit number: WINDOW_UPDATE, RST_STREAM.
pub(crate) fn put_u32(out: &mut Vec<u8>, kind: u8, stream: u32, v: u32) {
    put_head(out, 4, kind, 0, stream);
    out.extend_from_slice(&v.to_be_bytes());
}

/// Writes a GOAWAY.
pub(crate) fn put_goaway(out: &mut Vec<u8>, last: u32, code: u32) {
    put_head(out, 8, kind::GOAWAY, 0, 0);
    out.extend_from_slice(&last.to_be_bytes());
    out.extend_from_slice(&code.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_reads_back() {
        let mut out = Vec::new();
        put_head(&mut out, 0x01_02_03, kind::HEADERS, 0x25, 0x7fff_ffff);
        let h = Head::parse(out[..9].try_into().expect("9 bytes"));
        assert_eq!(
            h,
            Head {
                len: 0x01_02_03,
                kind: kind::HEADERS,
                flags: 0x25,
                stream: 0x7fff_ffff
            }
        );
        // the reserved bit is ignored
        let mut b = [0u8; 9];
        b[5] = 0x80;
        b[8] = 3;
        assert_eq!(Head::parse(&b).stream, 3);
    }

    #[test]
    fn a_large_block_continues() {
        let block = vec![7u8; 25];
        let mut out = Vec::new();
        put_headers(&mut out, 5, &block, true, 10);
        // HEADERS(10, END_STREAM) CONTINUATION(10) CONTINUATION(5, END_HEADERS)
        let heads: Vec<Head> = [0, 19, 38]
            .iter()
            .map(|&at| Head::parse(out[at..at + 9].try_into().expect("9")))
            .collect();
        assert_eq!(heads[0].kind, kind::HEADERS);
        assert_eq!(heads[0].flags, flag::END_STREAM);
        assert_eq!(
            (heads[1].kind, heads[1].flags, heads[1].len),
            (kind::CONTINUATION, 0, 10)
        );
        assert_eq!((heads[2].flags, heads[2].len), (flag::END_HEADERS, 5));
        assert_eq!(out.len(), 27 + 25);
        let mut small = Vec::new();
        put_headers(&mut small, 1, &block[..3], false, 10);
        assert_eq!(
            Head::parse(small[..9].try_into().expect("9")).flags,
            flag::END_HEADERS
        );
    }

    #[test]
    fn data_is_cut_at_the_frame_size() {
        let mut out = Vec::new();
        put_data(&mut out, 3, &[1u8; 25], true, 10);
        assert_eq!(out.len(), 27 + 25);
        assert_eq!(
            Head::parse(out[38..47].try_into().expect("9")).flags,
            flag::END_STREAM
        );
        assert_eq!(Head::parse(out[0..9].try_into().expect("9")).flags, 0);
    }
}
