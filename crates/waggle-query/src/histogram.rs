//! A log-linear histogram: 64 buckets per power of two, found from a float's bits (exponent and top
//! six mantissa bits), so inserting is a shift and an increment.
//!
//! Error bound: a bucket `[L, U)` of a value in `[2^e, 2^(e+1))` has width `2^e / 64 <= L / 64`.
//! Any value `v` of the bucket is within `(U - L) / 2 <= L / 128 <= v / 128` of the bucket's
//! midpoint, so a percentile read as the midpoint of the bucket holding the rank it asks for is
//! within 1/128 (0.78%) of the exact value; clamping to the exact min and max only brings it closer.
//! Zero has its own bucket, negative values mirror positive ones, and magnitudes below
//! `f64::MIN_POSITIVE` (subnormals) count as zero. Non-finite values are not inserted.

/// Bits of a float below the bucket index.
const SHIFT: u32 = 46;

/// Relative error bound of percentiles read from the histogram (and of a HEATMAP bucket's midpoint).
pub const RELATIVE_ERROR: f64 = 1.0 / 128.0;

/// Counts of one sign, by bucket index, stored densely from the lowest index seen.
#[derive(Debug, Clone, Default, PartialEq)]
struct Buckets {
    first: u32,
    counts: Vec<u64>,
}

impl Buckets {
    #[inline]
    fn add(&mut self, index: u32, count: u64) {
        if let Some(slot) = self.counts.get_mut(index.wrapping_sub(self.first) as usize) {
            *slot += count;
        } else {
            self.add_outside(index, count);
        }
    }

    /// Adds to a bucket outside the stored range, growing it.
    #[cold]
    fn add_outside(&mut self, index: u32, count: u64) {
        if self.counts.is_empty() {
            self.first = index;
        } else if index < self.first {
            let grow = (self.first - index) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.first = index;
        }
        let slot = (index - self.first) as usize;
        if slot >= self.counts.len() {
            self.counts.resize(slot + 1, 0);
        }
        self.counts[slot] += count;
    }

    fn merge(&mut self, other: &Buckets) {
        for (offset, count) in other.counts.iter().enumerate() {
            if *count > 0 {
                self.add(other.first + offset as u32, *count);
            }
        }
    }

    /// Non-empty buckets, lowest index first.
    fn iter(&self) -> impl DoubleEndedIterator<Item = (u32, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(offset, count)| (self.first + offset as u32, *count))
    }
}

/// The magnitude range of a bucket index.
fn bounds(index: u32) -> (f64, f64) {
    (f64::from_bits((index as u64) << SHIFT), f64::from_bits((index as u64 + 1) << SHIFT))
}

/// One bucket of a distribution: values in `[lower, upper)` (zero: `[0, 0]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bucket {
    pub lower: f64,
    pub upper: f64,
    pub count: u64,
}

/// Counts of values by log-linear bucket, with their exact count, min and max.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Histogram {
    positive: Buckets,
    negative: Buckets,
    zeros: u64,
    count: u64,
    min: f64,
    max: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            positive: Buckets::default(),
            negative: Buckets::default(),
            zeros: 0,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Histogram {
    /// Inserts a value; non-finite values are ignored.
    #[inline]
    pub(crate) fn add(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.count += 1;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        let magnitude = value.abs();
        if magnitude < f64::MIN_POSITIVE {
            self.zeros += 1;
        } else {
            let index = (magnitude.to_bits() >> SHIFT) as u32;
            if value > 0.0 { self.positive.add(index, 1) } else { self.negative.add(index, 1) }
        }
    }

    /// Adds another histogram's counts.
    pub(crate) fn merge(&mut self, other: &Histogram) {
        self.positive.merge(&other.positive);
        self.negative.merge(&other.negative);
        self.zeros += other.zeros;
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Buckets from the smallest values to the largest.
    pub(crate) fn buckets(&self) -> Vec<Bucket> {
        let negative = self.negative.iter().rev().map(|(index, count)| {
            let (lower, upper) = bounds(index);
            Bucket { lower: -upper, upper: -lower, count }
        });
        let zero = (self.zeros > 0).then_some(Bucket { lower: 0.0, upper: 0.0, count: self.zeros });
        let positive = self.positive.iter().map(|(index, count)| {
            let (lower, upper) = bounds(index);
            Bucket { lower, upper, count }
        });
        negative.chain(zero).chain(positive).collect()
    }

    /// The value of nearest rank `max(1, ceil(q * n))`, within [`RELATIVE_ERROR`] (the first and last
    /// ranks are the exact min and max).
    pub(crate) fn quantile(&self, quantile: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = nearest_rank(quantile, self.count as usize) as u64;
        if rank == 1 {
            return Some(self.min);
        }
        if rank == self.count {
            return Some(self.max);
        }
        let mut seen = 0;
        for bucket in self.buckets() {
            seen += bucket.count;
            if seen >= rank {
                let middle = (bucket.lower + bucket.upper) / 2.0;
                return Some(middle.clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }
}

/// The 1-based nearest rank of a quantile among `count` sorted values: `max(1, ceil(q * count))`,
/// computed in integers from `q` in thousandths (every percentile operator is one), so that
/// `0.9 * 100` is 90, not the 91 floating point would give.
pub(crate) fn nearest_rank(quantile: f64, count: usize) -> usize {
    let permille = (quantile * 1000.0).round().clamp(0.0, 1000.0) as u128;
    let rank = (permille * count as u128).div_ceil(1000) as usize;
    rank.clamp(1, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_histogram_quantiles_within_the_stated_relative_error() {
        // A heavy-tailed mix over nine orders of magnitude, negatives and zeros included.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut values = Vec::new();
        for index in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let uniform = (state >> 11) as f64 / (1u64 << 53) as f64;
            let value = match index % 10 {
                0 => 0.0,
                1 => -(uniform * 1e3),
                _ => 1e-3 * (uniform * 20.0).exp(),
            };
            values.push(value);
        }
        let mut histogram = Histogram::default();
        values.iter().for_each(|value| histogram.add(*value));
        values.sort_by(f64::total_cmp);
        let mut worst: f64 = 0.0;
        for step in 0..=1000 {
            let quantile = step as f64 / 1000.0;
            let exact = values[nearest_rank(quantile, values.len()) - 1];
            let estimate = histogram.quantile(quantile).unwrap();
            let error = if exact == 0.0 { estimate.abs() } else { ((estimate - exact) / exact).abs() };
            worst = worst.max(error);
        }
        assert!(worst <= RELATIVE_ERROR, "worst relative error {worst}");
        assert!(worst > RELATIVE_ERROR / 10.0, "the test exercises the bound ({worst})");
        assert_eq!(histogram.quantile(0.0), Some(values[0]));
        assert_eq!(histogram.quantile(1.0), Some(values[values.len() - 1]));
    }

    #[test]
    fn test_histogram_buckets_merge_and_order() {
        let mut left = Histogram::default();
        let mut right = Histogram::default();
        for value in [3.0, -2.0, 0.0, 1000.0] {
            left.add(value);
        }
        for value in [3.01, f64::NAN, f64::INFINITY, 1e-320] {
            right.add(value);
        }
        left.merge(&right);
        assert_eq!(left.count, 6);
        let buckets = left.buckets();
        let counts: Vec<u64> = buckets.iter().map(|bucket| bucket.count).collect();
        assert_eq!(counts, vec![1, 2, 2, 1], "{buckets:?}");
        assert!(buckets.windows(2).all(|pair| pair[0].upper <= pair[1].lower));
        assert!(buckets[2].lower <= 3.0 && 3.01 < buckets[2].upper);
        assert_eq!((buckets[1].lower, buckets[1].upper), (0.0, 0.0));
        assert!(
            buckets
                .iter()
                .all(|bucket| bucket.upper - bucket.lower <= bucket.lower.abs().max(bucket.upper.abs()) / 64.0)
        );
        assert_eq!(nearest_rank(0.5, 4), 2);
        assert_eq!(nearest_rank(0.0, 4), 1);
        assert_eq!(nearest_rank(0.99, 100), 99);
        assert_eq!(nearest_rank(0.9, 100), 90, "no floating point rounding up");
        assert_eq!(nearest_rank(0.999, 100), 100);
    }
}
