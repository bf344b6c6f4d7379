//! Seeded random streams: one ChaCha stream per unit of work.
//!
//! A run is identified by a `u64` seed. Each unit of work (a chain, a sample, a scale) gets its own
//! stream `Streams::new(seed).rng(unit)`, a [`ChaCha8Rng`] seeded with `seed` and set to stream
//! `unit`. Streams of one seed never overlap, and because streams belong to units rather than
//! threads, results do not depend on how work is scheduled. Nested units (sample `i` of scale `j`)
//! derive child seeds with [`Streams::child`], a SplitMix64 mix of the parent seed and a tag.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random number generator used everywhere in wcrg.
pub type Rng = ChaCha8Rng;

/// A family of independent random streams derived from one seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Streams {
    seed: u64,
}

impl Streams {
    /// The streams of the run seeded `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { seed }
    }

    /// The seed.
    pub const fn seed(&self) -> u64 {
        self.seed
    }

    /// The generator of unit `unit`: ChaCha8 seeded with the seed, on stream `unit`.
    pub fn rng(&self, unit: u64) -> Rng {
        let mut r = ChaCha8Rng::seed_from_u64(self.seed);
        r.set_stream(unit);
        r
    }

    /// An independent family for a nested unit of work identified by `tag`.
    pub const fn child(&self, tag: u64) -> Self {
        Self {
            seed: splitmix64(self.seed ^ splitmix64(tag.wrapping_add(0x5851_f42d_4c95_7f2d))),
        }
    }
}

/// The SplitMix64 finaliser, a bijective 64-bit mixer.
pub const fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn same_unit_same_numbers_other_unit_other_numbers() {
        let s = Streams::new(7);
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(s.rng(1), |r, _| Some(r.random()))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(s.rng(1), |r, _| Some(r.random()))
            .collect();
        let c: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(s.rng(2), |r, _| Some(r.random()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn children_differ_from_parent_and_each_other() {
        let s = Streams::new(7);
        assert_ne!(s.child(0).seed(), s.seed());
        assert_ne!(s.child(0).seed(), s.child(1).seed());
        assert_eq!(s.child(5), Streams::new(7).child(5));
    }

    #[test]
    fn splitmix_is_injective_on_a_range() {
        let mut v: Vec<u64> = (0..10_000).map(splitmix64).collect();
        v.sort_unstable();
        v.dedup();
        assert_eq!(v.len(), 10_000);
    }
}
