//! A small bloom filter over trace ids, one per segment and per head chunk, so a trace lookup opens
//! only the segments that may hold it. Ten bits per id and four probes: about 1% false positives.

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
        let words = (expected.max(1) * BITS_PER_ID).div_ceil(64).next_power_of_two();
        Self { bits: vec![0; words] }
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
}
