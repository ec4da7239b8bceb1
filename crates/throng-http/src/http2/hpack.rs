//! HPACK (RFC 7541): decoding a server's header blocks (the static and dynamic tables,
//! Huffman strings), and encoding a request's headers.
//!
//! The encoder adds a connection's repeated fields (`:authority`, `User-Agent`, a plan's
//! headers) to the server's dynamic table once and names them by index after (see
//! [`EncTable`]); it never fills the table past its size, so nothing is ever evicted and the
//! two sides stay in step without modelling eviction.
use super::huffman;
use std::collections::VecDeque;

/// RFC 7541 Appendix A.
const STATIC: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// Static-table indexes the request encoder uses by name.
pub(crate) mod index {
    pub const AUTHORITY: usize = 1;
    pub const METHOD_GET: usize = 2;
    pub const METHOD_POST: usize = 3;
    pub const METHOD: usize = 2;
    pub const PATH_ROOT: usize = 4;
    pub const PATH: usize = 4;
    pub const SCHEME_HTTP: usize = 6;
    pub const SCHEME_HTTPS: usize = 7;
    pub const CONTENT_LENGTH: usize = 28;
    pub const USER_AGENT: usize = 58;
}

/// A header block that is not valid HPACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HpackError {
    #[error("header block ends inside a field")]
    Truncated,
    #[error("integer too large")]
    Overflow,
    #[error("index {0} is in neither table")]
    BadIndex(usize),
    #[error("bad Huffman string")]
    Huffman,
    #[error("table size update above the limit")]
    TableSize,
    #[error("table size update after a field")]
    TableSizeLate,
}

/// A field in the dynamic table: its name and value.
type Field = (Box<[u8]>, Box<[u8]>);

/// The dynamic table of one direction of a connection (RFC 7541 §2.3.2, §4).
#[derive(Debug, Default)]
struct Table {
    /// Newest first: the entry at index 62 is `entries[0]`.
    entries: VecDeque<Field>,
    size: usize,
    max: usize,
}

impl Table {
    fn evict_to(&mut self, max: usize) {
        while self.size > max {
            match self.entries.pop_back() {
                Some((n, v)) => self.size -= n.len() + v.len() + 32,
                None => self.size = 0,
            }
        }
    }

    fn insert(&mut self, name: &[u8], value: &[u8]) {
        let size = name.len() + value.len() + 32;
        if size > self.max {
            // larger than the table: empties it, and is not added (§4.4)
            self.entries.clear();
            self.size = 0;
            return;
        }
        self.evict_to(self.max - size);
        self.entries.push_front((name.into(), value.into()));
        self.size += size;
    }
}

/// Decodes a server's header blocks, keeping its dynamic table.
#[derive(Debug)]
pub(crate) struct Decoder {
    table: Table,
    /// The most the server may set the table to: our `SETTINGS_HEADER_TABLE_SIZE`.
    limit: usize,
    /// Huffman-decoded name and value of the field being read.
    name_buf: Vec<u8>,
    value_buf: Vec<u8>,
}

impl Decoder {
    /// A decoder for a peer whose table may grow to `limit` bytes.
    pub(crate) fn new(limit: usize) -> Decoder {
        Decoder {
            table: Table {
                max: limit,
                ..Table::default()
            },
            limit,
            name_buf: Vec::new(),
            value_buf: Vec::new(),
        }
    }

    /// Decodes `block`, giving each field's name and value to `emit` in order. The table
    /// is updated even when `emit` is not interested, so it stays in step with the server's.
    pub(crate) fn decode(
        &mut self,
        mut block: &[u8],
        mut emit: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), HpackError> {
        let mut fields = false;
        while let Some(&first) = block.first() {
            fields |= first & 0xe0 != 0x20;
            if first & 0x80 != 0 {
                // indexed field
                let i = int(&mut block, 7)?;
                let (n, v) = self.entry(i)?;
                emit(n, v);
            } else if first & 0xc0 == 0x40 {
                // literal with incremental indexing
                let i = int(&mut block, 6)?;
                let (n, v, used) = self.literal(block, i)?;
                emit(n, v);
                let (n, v) = (n.to_vec(), v.to_vec());
                self.table.insert(&n, &v);
                block = &block[used..];
            } else if first & 0xe0 == 0x20 {
                // dynamic table size update: only before the block's first field (§4.2)
                let size = int(&mut block, 5)?;
                if fields {
                    return Err(HpackError::TableSizeLate);
                }
                if size > self.limit {
                    return Err(HpackError::TableSize);
                }
                self.table.max = size;
                self.table.evict_to(size);
            } else {
                // literal without indexing (0000) or never indexed (0001)
                let i = int(&mut block, 4)?;
                let (n, v, used) = self.literal(block, i)?;
                emit(n, v);
                block = &block[used..];
            }
        }
        Ok(())
    }

    /// The field at index `i` of the static then the dynamic table.
    fn entry(&self, i: usize) -> Result<(&[u8], &[u8]), HpackError> {
        match i {
            0 => Err(HpackError::BadIndex(0)),
            1..=61 => {
                let (n, v) = STATIC[i - 1];
                Ok((n.as_bytes(), v.as_bytes()))
            }
            _ => self
                .table
                .entries
                .get(i - 62)
                .map(|(n, v)| (&n[..], &v[..]))
                .ok_or(HpackError::BadIndex(i)),
        }
    }

    /// A literal field's name (the table's entry `i`, or a string when 0) and value, and
    /// how many bytes of `block` they took.
    fn literal<'a>(
        &'a mut self,
        block: &'a [u8],
        i: usize,
    ) -> Result<(&'a [u8], &'a [u8], usize), HpackError> {
        let mut rest = block;
        let name_raw = if i == 0 {
            self.name_buf.clear();
            string(&mut rest, &mut self.name_buf)?
        } else {
            None
        };
        self.value_buf.clear();
        let value_raw = string(&mut rest, &mut self.value_buf)?;
        let used = block.len() - rest.len();
        let name = match (i, name_raw) {
            (0, Some(raw)) => raw,
            (0, None) => &self.name_buf[..],
            _ => self.entry(i)?.0,
        };
        Ok((name, value_raw.unwrap_or(&self.value_buf), used))
    }
}

/// What the server's dynamic table holds of ours: the fields this connection's header blocks
/// added, oldest first. Fields are only added while they fit (the table is never filled
/// past its size, so the server evicts nothing) and while there are fewer than
/// [`MAX_FIELDS`] (a header whose value changes with every request would otherwise fill the
/// table, and every field is looked for among them under the connection's lock); index 62
/// is the newest. A request's first fields (`:authority`, `User-Agent`, a plan's headers)
/// are the first added, so they keep their places.
#[derive(Debug)]
pub(crate) struct EncTable {
    fields: Vec<Field>,
    size: usize,
    max: usize,
}

impl Default for EncTable {
    fn default() -> EncTable {
        EncTable::new(4096)
    }
}

impl EncTable {
    /// An empty table the server lets grow to `max` bytes.
    pub(crate) fn new(max: usize) -> EncTable {
        EncTable {
            fields: Vec::new(),
            size: 0,
            max,
        }
    }

    /// Writes a field: by its index if this connection added it before, else as a literal
    /// added to the table if it fits, else as a literal without indexing. `name_idx` is the
    /// name's static index, if it has one.
    pub(crate) fn field(
        &mut self,
        out: &mut Vec<u8>,
        name_idx: Option<usize>,
        name: &[u8],
        value: &[u8],
    ) {
        let n = self.fields.len();
        if let Some(k) = self
            .fields
            .iter()
            .rposition(|(fname, fvalue)| **fvalue == *value && **fname == *name)
        {
            put_indexed(out, 62 + (n - 1 - k));
            return;
        }
        let size = name.len() + value.len() + 32;
        let (flags, prefix) = if self.size + size <= self.max && n < MAX_FIELDS {
            self.fields.push((name.into(), value.into()));
            self.size += size;
            (0x40, 6)
        } else {
            (0x00, 4)
        };
        match name_idx {
            Some(i) => put_int(out, flags, prefix, i),
            None => {
                out.push(flags);
                put_str(out, name);
            }
        }
        put_str(out, value);
    }

    /// The most the table may hold.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// The server set its table's size to `max`: the table starts again, empty (the
    /// caller writes the size updates that empty the server's: [`EncTable::resize_updates`]).
    pub(crate) fn reset(&mut self, max: usize) {
        self.fields.clear();
        self.size = 0;
        self.max = max;
    }

    /// Writes the size updates after a [`EncTable::reset`]: to 0 (the server's table
    /// empties), then to the new size.
    pub(crate) fn resize_updates(&self, out: &mut Vec<u8>) {
        put_int(out, 0x20, 5, 0);
        if self.max > 0 {
            put_int(out, 0x20, 5, self.max);
        }
    }
}

/// The most fields a connection puts in the server's table.
pub(crate) const MAX_FIELDS: usize = 32;

/// Reads an integer with an `n`-bit prefix (RFC 7541 §5.1).
fn int(block: &mut &[u8], n: u32) -> Result<usize, HpackError> {
    let (&first, rest) = block.split_first().ok_or(HpackError::Truncated)?;
    *block = rest;
    let max = (1usize << n) - 1;
    let mut v = first as usize & max;
    if v < max {
        return Ok(v);
    }
    let mut shift = 0;
    loop {
        let (&b, rest) = block.split_first().ok_or(HpackError::Truncated)?;
        *block = rest;
        if shift > 21 {
            return Err(HpackError::Overflow);
        }
        v += ((b & 0x7f) as usize) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
}

/// Reads a string (RFC 7541 §5.2): its raw bytes if not Huffman-coded, else `None` with the
/// decoded bytes in `buf`.
fn string<'a>(block: &mut &'a [u8], buf: &mut Vec<u8>) -> Result<Option<&'a [u8]>, HpackError> {
    let huff = block.first().ok_or(HpackError::Truncated)? & 0x80 != 0;
    let len = int(block, 7)?;
    if len > block.len() {
        return Err(HpackError::Truncated);
    }
    let (s, rest) = block.split_at(len);
    *block = rest;
    if huff {
        huffman::decode(s, buf).map_err(|_| HpackError::Huffman)?;
        Ok(None)
    } else {
        Ok(Some(s))
    }
}

/// Writes an integer with an `n`-bit prefix, the prefix's other bits `flags`.
pub(crate) fn put_int(out: &mut Vec<u8>, flags: u8, n: u32, mut v: usize) {
    let max = (1usize << n) - 1;
    if v < max {
        out.push(flags | v as u8);
        return;
    }
    out.push(flags | max as u8);
    v -= max;
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Writes a string as it is (no Huffman: a request's headers are copied far more often
/// than they are made, and the server reads them faster raw).
pub(crate) fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_int(out, 0, 7, s.len());
    out.extend_from_slice(s);
}

/// Writes the static table's field `i` (name and value).
pub(crate) fn put_indexed(out: &mut Vec<u8>, i: usize) {
    put_int(out, 0x80, 7, i);
}

/// Writes a field as a literal without indexing (`never`: never indexed, for secrets),
/// its name by the static table's index if it has one. `name` must be lowercase.
pub(crate) fn put_literal(out: &mut Vec<u8>, name: &[u8], value: &[u8], never: bool) {
    let flags = if never { 0x10 } else { 0 };
    match static_name(name) {
        Some(i) => put_int(out, flags, 4, i),
        None => {
            out.push(flags);
            put_str(out, name);
        }
    }
    put_str(out, value);
}

/// Writes a field whose name is the static table's entry `i`.
pub(crate) fn put_literal_at(out: &mut Vec<u8>, i: usize, value: &[u8]) {
    put_int(out, 0, 4, i);
    put_str(out, value);
}

/// The static table's index of `name`, if it is there.
pub(crate) fn static_name(name: &[u8]) -> Option<usize> {
    STATIC
        .iter()
        .position(|(n, _)| n.as_bytes() == name)
        .map(|p| p + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http2::hex;

    fn fields(d: &mut Decoder, block: &[u8]) -> Result<Vec<(String, String)>, HpackError> {
        let mut out = Vec::new();
        d.decode(block, |n, v| {
            out.push((
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ))
        })?;
        Ok(out)
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn integers_as_in_the_rfc() {
        // C.1: 10 in a 5-bit prefix, 1337 in a 5-bit prefix, 42 at an octet boundary
        for (v, n, bytes) in [
            (10usize, 5u32, vec![0x0a]),
            (1337, 5, vec![0x1f, 0x9a, 0x0a]),
            (42, 8, vec![0x2a]),
        ] {
            let mut out = Vec::new();
            put_int(&mut out, 0, n, v);
            assert_eq!(out, bytes);
            assert_eq!(int(&mut &bytes[..], n), Ok(v));
        }
        assert_eq!(
            int(&mut &[0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01][..], 5),
            Err(HpackError::Overflow)
        );
        assert_eq!(int(&mut &[0x1f, 0x9a][..], 5), Err(HpackError::Truncated));
    }

    #[test]
    fn the_rfcs_requests_with_huffman_share_a_table() {
        // C.4: three requests on one connection
        let mut d = Decoder::new(4096);
        let a = fields(&mut d, &hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff")).expect("C.4.1");
        assert_eq!(
            a,
            pairs(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com")
            ])
        );
        let b = fields(&mut d, &hex("8286 84be 5886 a8eb 1064 9cbf")).expect("C.4.2");
        assert_eq!(b[3], (":authority".into(), "www.example.com".into()));
        assert_eq!(b[4], ("cache-control".into(), "no-cache".into()));
        let c = fields(
            &mut d,
            &hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
        )
        .expect("C.4.3");
        assert_eq!(
            c,
            pairs(&[
                (":method", "GET"),
                (":scheme", "https"),
                (":path", "/index.html"),
                (":authority", "www.example.com"),
                ("custom-key", "custom-value")
            ])
        );
        // the table holds the three fields added, newest first (C.4.3's table)
        assert_eq!(d.table.size, 164);
        assert_eq!(d.table.entries.len(), 3);
    }

    #[test]
    fn entries_are_evicted_when_the_table_is_full() {
        let mut d = Decoder::new(4096);
        // the server shrinks the table to 100 bytes, then adds fields of 32 + 6 bytes
        let mut block = Vec::new();
        put_int(&mut block, 0x20, 5, 100);
        for i in 0..5u8 {
            block.push(0x40);
            put_str(&mut block, b"k");
            put_str(&mut block, &[b'v', b'0' + i, b'x', b'y', b'z']);
        }
        // indexed: the newest (62) and the oldest still there (63)
        put_indexed(&mut block, 62);
        put_indexed(&mut block, 63);
        let f = fields(&mut d, &block).expect("decodes");
        assert_eq!(f[5], ("k".into(), "v4xyz".into()));
        assert_eq!(f[6], ("k".into(), "v3xyz".into()));
        assert_eq!(d.table.entries.len(), 2);
        // index 64 was evicted
        assert_eq!(fields(&mut d, &[0x80 | 64]), Err(HpackError::BadIndex(64)));
        // after a field
        let mut late = Vec::new();
        put_indexed(&mut late, 2);
        put_int(&mut late, 0x20, 5, 0);
        assert_eq!(fields(&mut d, &late), Err(HpackError::TableSizeLate));
        // above our limit
        let mut up = Vec::new();
        put_int(&mut up, 0x20, 5, 4097);
        assert_eq!(fields(&mut d, &up), Err(HpackError::TableSize));
    }

    #[test]
    fn a_field_larger_than_the_table_empties_it() {
        let mut d = Decoder::new(64);
        let mut block = vec![0x40];
        put_str(&mut block, b"a");
        put_str(&mut block, b"b");
        block.push(0x40);
        put_str(&mut block, b"name");
        put_str(&mut block, &[b'x'; 40]);
        fields(&mut d, &block).expect("decodes");
        assert!(d.table.entries.is_empty());
        assert_eq!(d.table.size, 0);
    }

    #[test]
    fn what_the_encoder_writes_the_decoder_reads() {
        let mut block = Vec::new();
        put_indexed(&mut block, index::METHOD_GET);
        put_indexed(&mut block, index::SCHEME_HTTPS);
        put_literal_at(&mut block, index::PATH, b"/a?b=c");
        put_literal_at(&mut block, index::AUTHORITY, b"example.com:8443");
        put_literal(&mut block, b"user-agent", b"throng", false);
        put_literal(&mut block, b"x-custom", &[b'v'; 300], false);
        put_literal(&mut block, b"authorization", b"secret", true);
        let f = fields(&mut Decoder::new(4096), &block).expect("decodes");
        assert_eq!(f.len(), 7);
        assert_eq!(f[2], (":path".into(), "/a?b=c".into()));
        assert_eq!(f[5].1.len(), 300);
        assert_eq!(f[6], ("authorization".into(), "secret".into()));
        // never indexed: 0001 and the static name index 23 (15 in the prefix, 8 after)
        assert_eq!(block[block.len() - 9..block.len() - 7], [0x1f, 0x08]);
    }

    #[test]
    fn broken_blocks_are_errors() {
        let mut d = Decoder::new(4096);
        for bad in [
            &[0x80][..],                   // index 0
            &[0xbf][..],                   // index 63, nothing in the dynamic table
            &[0x40, 0x05, b'a'][..],       // name shorter than it says
            &[0x04][..],                   // value missing
            &[0x00, 0x81, 0xff, 0x00][..], // Huffman name of padding only (8 bits)
        ] {
            assert!(fields(&mut d, bad).is_err(), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod encoder {
    use super::*;

    fn fields(d: &mut Decoder, block: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        d.decode(block, |n, v| {
            out.push((
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ))
        })
        .expect("decodes");
        out
    }

    /// Blocks made by one table read right by one decoder, in order: fields added once and
    /// named by index after (the block shrinks to a byte each), none added past the
    /// table's size, and after a reset the server's table empties with ours.
    #[test]
    fn the_servers_table_follows_ours() {
        let (mut t, mut d) = (EncTable::new(200), Decoder::new(4096));
        let fs: [(&[u8], &[u8]); 4] = [
            (b":authority", b"example.com:8443"),
            (b"user-agent", b"throng/1"),
            (b"x-a", b"1"),
            (b"x-big", &[b'v'; 150]),
        ];
        let block = |t: &mut EncTable| {
            let mut b = Vec::new();
            for (n, v) in fs {
                t.field(&mut b, static_name(n), n, v);
            }
            b
        };
        let want: Vec<(String, String)> = fs
            .iter()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect();
        let first = block(&mut t);
        assert_eq!(fields(&mut d, &first), want);
        // the first three fit in 200 bytes (58 + 50 + 36), the fourth (187) does not
        assert_eq!(t.fields.len(), 3);
        let second = block(&mut t);
        assert_eq!(fields(&mut d, &second), want);
        assert_eq!(second[..3], [0x80 | 64, 0x80 | 63, 0x80 | 62]);
        // three bytes, and the literal that did not fit (flags, name, length, value)
        assert_eq!(second.len(), 3 + 1 + 6 + 2 + 150);
        // the server shrinks its table: both start again
        t.reset(100);
        let mut third = Vec::new();
        t.resize_updates(&mut third);
        third.extend_from_slice(&block(&mut t));
        assert_eq!(fields(&mut d, &third), want);
        assert_eq!(t.fields.len(), 2);
        assert_eq!(fields(&mut d, &block(&mut t)), want);
        // at most MAX_FIELDS fields, however small
        let mut cap = EncTable::new(4096);
        let mut b = Vec::new();
        for i in 0..MAX_FIELDS + 8 {
            cap.field(&mut b, None, b"x-id", i.to_string().as_bytes());
        }
        assert_eq!(cap.fields.len(), MAX_FIELDS);
        let got = fields(&mut Decoder::new(4096), &b);
        assert_eq!(got.len(), MAX_FIELDS + 8);
        assert_eq!(
            got[MAX_FIELDS + 7],
            ("x-id".into(), (MAX_FIELDS + 7).to_string())
        );
        // a table of size 0 takes nothing
        t.reset(0);
        let mut fourth = Vec::new();
        t.resize_updates(&mut fourth);
        fourth.extend_from_slice(&block(&mut t));
        assert_eq!(fields(&mut d, &fourth), want);
        assert!(t.fields.is_empty());
    }
}
