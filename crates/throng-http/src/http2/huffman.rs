//! HPACK's Huffman code (RFC 7541 §5.2, Appendix B): decoding what a server sends (and
//! encoding, for the tests: throng sends its strings as they are).
//!
//! The code is canonical: codes of one length are consecutive, in symbol order, and each
//! length's first code follows the last code of the length before. So the table is the
//! length of each symbol's code, and the codes are made from the lengths (checked against
//! the RFC's codes in the tests).

/// The length in bits of each symbol's code: bytes 0–255, then EOS (256).
const LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, // 32 ' '
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, // 48 '0'
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // 64 '@'
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, // 80 'P'
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, // 96 '`'
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, // 112 'p'
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240
    30, // EOS
];

/// The longest code, in bits.
const MAX_LEN: usize = 30;
/// The end-of-string symbol: never valid inside a string.
const EOS: u16 = 256;

/// The code, made once: each symbol's code, and for decoding, per length, the first code,
/// how many codes there are and where their symbols start in `by_code`.
struct Code {
    codes: [u32; 257],
    first: [u32; MAX_LEN + 1],
    count: [u16; MAX_LEN + 1],
    start: [u16; MAX_LEN + 1],
    /// The symbols in code order.
    by_code: [u16; 257],
    /// The symbol and length of every code of 8 bits or fewer, by the 8 bits it starts
    /// (length 0: a longer code).
    short: [(u8, u8); 256],
}

fn code() -> &'static Code {
    static CODE: std::sync::OnceLock<Code> = std::sync::OnceLock::new();
    CODE.get_or_init(make)
}

fn make() -> Code {
    let mut c = Code {
        codes: [0; 257],
        first: [0; MAX_LEN + 1],
        count: [0; MAX_LEN + 1],
        start: [0; MAX_LEN + 1],
        by_code: [0; 257],
        short: [(0, 0); 256],
    };
    for &l in &LENGTHS {
        c.count[l as usize] += 1;
    }
    let (mut next, mut at) = (0u32, 0u16);
    for len in 1..=MAX_LEN {
        next <<= 1;
        c.first[len] = next;
        c.start[len] = at;
        next += u32::from(c.count[len]);
        at += c.count[len];
    }
    let mut fill = c.start;
    let mut code_of_len = c.first;
    for len in 1..=MAX_LEN {
        for (sym, &l) in LENGTHS.iter().enumerate() {
            if l as usize == len {
                c.codes[sym] = code_of_len[len];
                code_of_len[len] += 1;
                c.by_code[fill[len] as usize] = sym as u16;
                fill[len] += 1;
            }
        }
    }
    for (sym, &l) in LENGTHS.iter().enumerate().take(256) {
        let l = l as usize;
        if l <= 8 {
            let base = (c.codes[sym] << (8 - l)) as usize;
            for e in &mut c.short[base..base + (1 << (8 - l))] {
                *e = (sym as u8, l as u8);
            }
        }
    }
    c
}

/// A Huffman-coded string that is not valid: a code for EOS, padding longer than seven bits
/// or not all ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadHuffman;

/// Decodes `src` onto the end of `out`.
pub(crate) fn decode(src: &[u8], out: &mut Vec<u8>) -> Result<(), BadHuffman> {
    let c = code();
    // bits not yet decoded, at the top of `acc`; `n` of them
    let (mut acc, mut n) = (0u64, 0usize);
    let mut input = src.iter();
    loop {
        while n <= 56 {
            match input.next() {
                Some(&b) => {
                    acc |= u64::from(b) << (56 - n);
                    n += 8;
                }
                None => break,
            }
        }
        if n == 0 {
            return Ok(());
        }
        let top8 = (acc >> 56) as usize;
        let (sym, len) = match c.short[top8] {
            (s, l) if l != 0 && l as usize <= n => (u16::from(s), l as usize),
            _ => match long(c, acc, n) {
                Some(x) => x,
                // what is left is shorter than any code: padding, which must be at most
                // seven bits, all ones (the start of EOS)
                None if n <= 7 && acc >> (64 - n) == (1 << n) - 1 => return Ok(()),
                None => return Err(BadHuffman),
            },
        };
        if sym == EOS {
            return Err(BadHuffman);
        }
        out.push(sym as u8);
        acc <<= len;
        n -= len;
    }
}

/// The symbol and length of the code at the top of `acc` (of `n` valid bits), if a whole
/// code is there.
fn long(c: &Code, acc: u64, n: usize) -> Option<(u16, usize)> {
    for len in 5..=MAX_LEN.min(n) {
        let v = (acc >> (64 - len)) as u32;
        let off = v.wrapping_sub(c.first[len]);
        if v >= c.first[len] && off < u32::from(c.count[len]) {
            return Some((c.by_code[(c.start[len] as u32 + off) as usize], len));
        }
    }
    None
}

/// How many bytes `src` takes Huffman-coded.
#[cfg(test)]
fn encoded_len(src: &[u8]) -> usize {
    let bits: usize = src.iter().map(|&b| LENGTHS[b as usize] as usize).sum();
    bits.div_ceil(8)
}

/// Encodes `src` onto the end of `out`, padded with ones.
#[cfg(test)]
pub(super) fn encode(src: &[u8], out: &mut Vec<u8>) {
    let c = code();
    let (mut acc, mut n) = (0u64, 0usize);
    for &b in src {
        let len = LENGTHS[b as usize] as usize;
        acc = (acc << len) | u64::from(c.codes[b as usize]);
        n += len;
        while n >= 8 {
            n -= 8;
            out.push((acc >> n) as u8);
        }
    }
    if n > 0 {
        out.push(((acc << (8 - n)) as u8) | ((1u16 << (8 - n)) - 1) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http2::hex;

    #[test]
    fn the_lengths_make_a_complete_code() {
        // Kraft: a complete prefix code's lengths sum to exactly one
        let sum: u64 = LENGTHS
            .iter()
            .map(|&l| 1u64 << (MAX_LEN - l as usize))
            .sum();
        assert_eq!(sum, 1 << MAX_LEN);
    }

    #[test]
    fn the_codes_are_the_rfcs() {
        let c = code();
        // (symbol, code) pairs from RFC 7541 Appendix B, across the lengths
        for (sym, want) in [
            (0usize, 0x1ff8u32),
            (1, 0x7fffd8),
            (10, 0x3ffffffc),
            (b' ' as usize, 0x14),
            (b'0' as usize, 0x0),
            (b'a' as usize, 0x3),
            (b't' as usize, 0x9),
            (b':' as usize, 0x5c),
            (b'X' as usize, 0xfc),
            (b'\\' as usize, 0x7fff0),
            (b'~' as usize, 0x1ffd),
            (128, 0xfffe6),
            (195, 0x7fff1),
            (199, 0x1ffffec),
            (203, 0x7ffffde),
            (255, 0x3ffffee),
            (256, 0x3fffffff),
        ] {
            assert_eq!(c.codes[sym], want, "symbol {sym}");
        }
    }

    #[test]
    fn the_rfcs_examples_decode_and_encode() {
        // RFC 7541 C.4 and C.6
        for (text, coded) in [
            ("www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"),
            ("no-cache", "a8eb 1064 9cbf"),
            ("custom-key", "25a8 49e9 5ba9 7d7f"),
            ("custom-value", "25a8 49e9 5bb8 e8b4 bf"),
            ("302", "6402"),
            ("private", "aec3 771a 4b"),
        ] {
            let mut out = Vec::new();
            decode(&hex(coded), &mut out).expect(text);
            assert_eq!(out, text.as_bytes());
            let mut enc = Vec::new();
            encode(text.as_bytes(), &mut enc);
            assert_eq!(enc, hex(coded), "{text}");
            assert_eq!(encoded_len(text.as_bytes()), enc.len());
        }
    }

    #[test]
    fn every_byte_round_trips() {
        let all: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        let mut enc = Vec::new();
        encode(&all, &mut enc);
        let mut out = Vec::new();
        decode(&enc, &mut out).expect("round trip");
        assert_eq!(out, all);
        for b in 0..=255u8 {
            let (mut enc, mut out) = (Vec::new(), Vec::new());
            encode(&[b, b, b], &mut enc);
            decode(&enc, &mut out).expect("one byte");
            assert_eq!(out, [b, b, b]);
        }
    }

    #[test]
    fn bad_padding_and_eos_are_refused() {
        // eight bits of ones: padding longer than seven bits
        assert_eq!(decode(&[0xff], &mut Vec::new()), Err(BadHuffman));
        // '0' (00000) then three zero bits of padding: not ones
        assert_eq!(decode(&[0x00], &mut Vec::new()), Err(BadHuffman));
        // EOS itself (30 ones) and two bits of padding
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff], &mut Vec::new()),
            Err(BadHuffman)
        );
        // the empty string is fine
        assert_eq!(decode(&[], &mut Vec::new()), Ok(()));
    }
}
