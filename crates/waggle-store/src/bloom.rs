//! A small bloom filter over trace ids, one per head chunk and per block of a segment's rows (one
//! per segment in format 3), so a trace lookup opens only the segments, and decompresses only the
//! blocks, that may hold it. Four probes; ten bits per id (about 1% false positives) unless the
//! writer asks for more (see `segment::builder`).

use waggle_model::TraceId;

const BITS_PER_ID: usize = 10;
const PROBES: u64 = 4;

/// Bloom filter bits; the length is a power of two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bloom {
    bits: Vec<u64>,
}

fn hashes(id: &TraceId) -> (u64, u64) {
    // Ids are random, but X-Ray-derived ones start with a timestamp: mix both halves.
    let low = u64::from_le_bytes(id.0[..8].try_into().expect("8 bytes"));
    let high = u64::from_le_bytes(id.0[8..].try_into().expect("8 bytes"));
    (mix(low ^ high.rotate_left(29)), mix(high ^ 0x9e37_79b9_7f4a_7c15) | 1)
}

fn mix(mut value: u64) -> u64 {
    value ^= value >> 33;
    value = value.wrapping_mul(0xff51_afd7_ed55_8ccd);
    value ^= value >> 33;
    value = value.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    value ^ (value >> 33)
}

impl Bloom {
    /// A filter sized for `expected` distinct ids.
    pub(crate) fn with_capacity(expected: usize) -> Self {
        Self::with_bits(expected.max(1) * BITS_PER_ID)
    }

    /// A filter of at least `bits` bits.
    pub(crate) fn with_bits(bits: usize) -> Self {
        Self { bits: vec![0; bits.max(1).div_ceil(64).next_power_of_two()] }
    }

    /// The filter of the ids of all `blooms`, which must be of one size (`None` otherwise, or
    /// without any): the union of their bits, with the false positives of their combined count.
    pub(crate) fn union(blooms: &[Bloom]) -> Option<Self> {
        let (first, rest) = blooms.split_first()?;
        let mut union = first.clone();
        for bloom in rest {
            if bloom.bits.len() != union.bits.len() {
                return None;
            }
            union.bits.iter_mut().zip(&bloom.bits).for_each(|(word, other)| *word |= other);
        }
        Some(union)
    }

    /// Restores a filter from [`Bloom::to_bytes`]; `None` if the length is not a power of two.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(8) || !(bytes.len() / 8).is_power_of_two() {
            return None;
        }
        let bits = bytes.chunks_exact(8).map(|chunk| u64::from_le_bytes(chunk.try_into().expect("8"))).collect();
        Some(Self { bits })
    }

    /// Little-endian words.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        self.bits.iter().flat_map(|word| word.to_le_bytes()).collect()
    }

    fn positions(&self, id: &TraceId) -> impl Iterator<Item = usize> + use<> {
        let (first, step) = hashes(id);
        let mask = self.bits.len() as u64 * 64 - 1;
        (0..PROBES).map(move |probe| (first.wrapping_add(probe.wrapping_mul(step)) & mask) as usize)
    }

    pub(crate) fn insert(&mut self, id: &TraceId) {
        for bit in self.positions(id) {
            self.bits[bit / 64] |= 1 << (bit % 64);
        }
    }

    pub(crate) fn may_contain(&self, id: &TraceId) -> bool {
        self.positions(id).all(|bit| self.bits[bit / 64] & (1 << (bit % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_bloom_no_false_negatives_and_few_false_positives() {
        let ids: Vec<TraceId> = (0u64..5000)
            .map(|index| {
                TraceId([mix(index).to_le_bytes(), mix(index + 77).to_le_bytes()].concat().try_into().unwrap())
            })
            .collect();
        let mut bloom = Bloom::with_capacity(2500);
        for id in &ids[..2500] {
            bloom.insert(id);
        }
        let restored = Bloom::from_bytes(&bloom.to_bytes()).unwrap();
        assert!(ids[..2500].iter().all(|id| restored.may_contain(id)));
        let false_positives = ids[2500..].iter().filter(|id| restored.may_contain(id)).count();
        assert!(false_positives < 125, "{false_positives} false positives of 2500");
    }

    #[test]
    fn test_bloom_union_holds_both_sets() {
        let id =
            |index: u64| TraceId([mix(index).to_le_bytes(), mix(!index).to_le_bytes()].concat().try_into().unwrap());
        let (mut first, mut second) = (Bloom::with_bits(4096), Bloom::with_bits(4096));
        (0..100).for_each(|index| first.insert(&id(index)));
        (100..200).for_each(|index| second.insert(&id(index)));
        assert!(!first.may_contain(&id(150)));
        let union = Bloom::union(&[first.clone(), second]).unwrap();
        assert!((0..200).all(|index| union.may_contain(&id(index))));
        assert!(Bloom::union(&[first, Bloom::with_bits(8192)]).is_none(), "sizes differ");
        assert!(Bloom::union(&[]).is_none());
        assert_eq!(Bloom::with_bits(4097).to_bytes().len(), 1024, "rounded up to a power of two");
    }
}
