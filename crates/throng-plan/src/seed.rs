//! Seeds: one `--seed` for a whole run (or fixture file), and a separate random stream
//! derived from it for every VU (or fixture), so values repeat with the seed but differ
//! across VUs.

/// SplitMix64's finaliser: spreads nearby inputs (VU 1, VU 2) far apart.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The generator of one stream: `seed` with the stream's coordinates (scenario, VU, ...)
/// mixed in; without a seed, an unpredictable generator.
pub fn stream_rng(seed: Option<u64>, coords: &[u64]) -> fastrand::Rng {
    match seed {
        Some(s) => {
            fastrand::Rng::with_seed(coords.iter().fold(mix(s), |acc, c| mix(acc ^ mix(*c))))
        }
        None => fastrand::Rng::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_repeat_and_differ() {
        let a = stream_rng(Some(42), &[0, 1]).u64(..);
        assert_eq!(a, stream_rng(Some(42), &[0, 1]).u64(..));
        assert_ne!(a, stream_rng(Some(42), &[0, 2]).u64(..));
        assert_ne!(a, stream_rng(Some(43), &[0, 1]).u64(..));
        assert_ne!(a, stream_rng(Some(42), &[1, 0]).u64(..));
    }
}
