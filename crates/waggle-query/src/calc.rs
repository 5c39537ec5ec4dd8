//! Mergeable states of the calculations, one per (group, time bucket) cell:
//! - [`Moments`] for SUM, AVG, MIN, MAX and the RATE_* operators: exact (integers summed in
//!   `i128`, floats with Neumaier's compensated summation);
//! - [`Dist`] for percentiles and HEATMAP: exact values up to [`EXACT_VALUES`], then a
//!   [`Histogram`] (relative error at most 1/128);
//! - [`Distinct`] for COUNT_DISTINCT: an exact set of 64-bit hashes up to [`EXACT_DISTINCT`]
//!   values, then a HyperLogLog (standard error 0.81%).

use rustc_hash::FxHashSet;
use serde_json::Value as Json;

use crate::histogram::{Bucket, Histogram, nearest_rank};
use crate::hll::Hll;
use crate::result::{Heatmap, HeatmapBucket};
use crate::value::float_json;

/// A cell keeps up to this many values exactly before switching to a histogram.
pub const EXACT_VALUES: usize = 2048;
/// COUNT_DISTINCT is exact up to this many distinct values (per cell, and once merged).
pub const EXACT_DISTINCT: usize = 10_000;

/// A number as stored: ints stay exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn as_f64(self) -> f64 {
        match self {
            Self::Int(number) => number as f64,
            Self::Float(number) => number,
        }
    }

    fn to_json(self) -> Json {
        match self {
            Self::Int(number) => Json::from(number),
            Self::Float(number) => float_json(number),
        }
    }
}

const NANOS_PER_MS: f64 = 1e6;

/// Count, exact sum, min and max of the numeric values of a cell. Ints and floats keep their own
/// extremes so that adding a value is two comparisons.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Moments {
    /// The ints are durations in ns (`duration_ms`, added by [`Moments::add_nanos`]): sums stay
    /// exact integers, and results are shown in milliseconds.
    nanos: bool,
    ints: u64,
    floats: u64,
    int_sum: i128,
    float_sum: f64,
    compensation: f64,
    int_min: i64,
    int_max: i64,
    float_min: f64,
    float_max: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Self {
            nanos: false,
            ints: 0,
            floats: 0,
            int_sum: 0,
            float_sum: 0.0,
            compensation: 0.0,
            int_min: i64::MAX,
            int_max: i64::MIN,
            float_min: f64::INFINITY,
            float_max: f64::NEG_INFINITY,
        }
    }
}

impl Moments {
    #[inline]
    pub(crate) fn add_int(&mut self, number: i64) {
        self.ints += 1;
        self.int_sum += number as i128;
        self.int_min = self.int_min.min(number);
        self.int_max = self.int_max.max(number);
    }

    /// Adds a duration in ns, for a column shown in ms. A cell gets only these or only other numbers.
    #[inline]
    pub(crate) fn add_nanos(&mut self, nanos: i64) {
        self.nanos = true;
        self.add_int(nanos);
    }

    #[inline]
    pub(crate) fn add_float(&mut self, number: f64) {
        if number.is_nan() {
            return;
        }
        self.floats += 1;
        self.add_to_sum(number);
        self.float_min = self.float_min.min(number);
        self.float_max = self.float_max.max(number);
    }

    /// Neumaier's compensated summation.
    #[inline]
    fn add_to_sum(&mut self, number: f64) {
        let total = self.float_sum + number;
        self.compensation += if self.float_sum.abs() >= number.abs() {
            (self.float_sum - total) + number
        } else {
            (number - total) + self.float_sum
        };
        self.float_sum = total;
    }

    pub(crate) fn merge(&mut self, other: &Moments) {
        self.nanos |= other.nanos;
        self.ints += other.ints;
        self.floats += other.floats;
        self.int_sum += other.int_sum;
        self.add_to_sum(other.float_sum);
        self.compensation += other.compensation;
        self.int_min = self.int_min.min(other.int_min);
        self.int_max = self.int_max.max(other.int_max);
        self.float_min = self.float_min.min(other.float_min);
        self.float_max = self.float_max.max(other.float_max);
    }

    fn count(&self) -> u64 {
        self.ints + self.floats
    }

    /// The sum: an int when every value was an int and it fits, else a float.
    pub(crate) fn sum(&self) -> Option<Number> {
        if self.count() == 0 {
            return None;
        }
        if self.nanos {
            return Some(Number::Float(self.int_sum as f64 / NANOS_PER_MS));
        }
        match i64::try_from(self.int_sum) {
            Ok(int) if self.floats == 0 => Some(Number::Int(int)),
            _ => Some(Number::Float(self.int_sum as f64 + (self.float_sum + self.compensation))),
        }
    }

    pub(crate) fn avg(&self) -> Option<f64> {
        self.sum().map(|sum| sum.as_f64() / self.count() as f64)
    }

    /// The smallest value (an int on a tie).
    pub(crate) fn min(&self) -> Option<Number> {
        if self.nanos {
            return (self.ints > 0).then(|| Number::Float(self.int_min as f64 / NANOS_PER_MS));
        }
        match (self.ints > 0, self.floats > 0) {
            (true, true) if self.float_min < self.int_min as f64 => Some(Number::Float(self.float_min)),
            (true, _) => Some(Number::Int(self.int_min)),
            (false, true) => Some(Number::Float(self.float_min)),
            (false, false) => None,
        }
    }

    /// The largest value (an int on a tie).
    pub(crate) fn max(&self) -> Option<Number> {
        if self.nanos {
            return (self.ints > 0).then(|| Number::Float(self.int_max as f64 / NANOS_PER_MS));
        }
        match (self.ints > 0, self.floats > 0) {
            (true, true) if self.float_max > self.int_max as f64 => Some(Number::Float(self.float_max)),
            (true, _) => Some(Number::Int(self.int_max)),
            (false, true) => Some(Number::Float(self.float_max)),
            (false, false) => None,
        }
    }
}

/// Output of a [`Number`] or null.
pub(crate) fn number_json(number: Option<Number>) -> Json {
    number.map_or(Json::Null, Number::to_json)
}

/// As a float, for rates, havings and orders.
pub(crate) fn number_f64(number: Option<Number>) -> Option<f64> {
    number.map(Number::as_f64)
}

/// The values of a cell for percentiles and heatmaps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Dist {
    Exact(Vec<f64>),
    Sketch(Box<Histogram>),
}

impl Default for Dist {
    fn default() -> Self {
        Self::Exact(Vec::new())
    }
}

impl Dist {
    #[inline]
    pub(crate) fn add(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        match self {
            Self::Exact(values) => {
                values.push(value);
                if values.len() > EXACT_VALUES {
                    self.switch_to_sketch();
                }
            }
            Self::Sketch(histogram) => histogram.add(value),
        }
    }

    fn switch_to_sketch(&mut self) {
        if let Self::Exact(values) = self {
            let mut histogram = Histogram::default();
            values.iter().for_each(|value| histogram.add(*value));
            *self = Self::Sketch(Box::new(histogram));
        }
    }

    pub(crate) fn merge(&mut self, other: &Dist) {
        match other {
            Self::Exact(values) => values.iter().for_each(|value| self.add(*value)),
            Self::Sketch(histogram) => {
                self.switch_to_sketch();
                if let Self::Sketch(mine) = self {
                    mine.merge(histogram);
                }
            }
        }
    }

    /// Sorts exact values once, before several percentiles are read.
    pub(crate) fn prepare(&mut self) {
        if let Self::Exact(values) = self {
            values.sort_unstable_by(f64::total_cmp);
        }
    }

    /// Nearest-rank percentile (after [`Dist::prepare`]): exact, or within 1/128 once sketched.
    pub(crate) fn quantile(&self, quantile: f64) -> Option<f64> {
        match self {
            Self::Exact(values) if values.is_empty() => None,
            Self::Exact(values) => Some(values[nearest_rank(quantile, values.len()) - 1]),
            Self::Sketch(histogram) => histogram.quantile(quantile),
        }
    }

    /// The HEATMAP value: `{"buckets": [{"lower", "upper", "count"}, ...]}`, the non-empty buckets
    /// of the log-linear grid from the smallest values up (values `v` with `lower <= v < upper`;
    /// zero is `{"lower": 0, "upper": 0}`).
    pub(crate) fn heatmap(&self) -> Heatmap {
        let buckets: Vec<Bucket> = match self {
            Self::Exact(values) => {
                let mut histogram = Histogram::default();
                values.iter().for_each(|value| histogram.add(*value));
                histogram.buckets()
            }
            Self::Sketch(histogram) => histogram.buckets(),
        };
        let bound = |value: f64| Some(value).filter(|value| value.is_finite());
        let buckets = buckets
            .iter()
            .map(|bucket| HeatmapBucket { count: bucket.count, lower: bound(bucket.lower), upper: bound(bucket.upper) })
            .collect();
        Heatmap { buckets }
    }
}

/// The distinct values of a cell, by 64-bit hash.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Distinct {
    Exact(FxHashSet<u64>),
    Sketch(Box<Hll>),
}

impl Default for Distinct {
    fn default() -> Self {
        Self::Exact(FxHashSet::default())
    }
}

impl Distinct {
    #[inline]
    pub(crate) fn add(&mut self, hash: u64) {
        match self {
            Self::Exact(hashes) => {
                if hashes.insert(hash) && hashes.len() > EXACT_DISTINCT {
                    self.switch_to_sketch();
                }
            }
            Self::Sketch(sketch) => sketch.add(hash),
        }
    }

    fn switch_to_sketch(&mut self) {
        if let Self::Exact(hashes) = self {
            let mut sketch = Hll::default();
            hashes.iter().for_each(|hash| sketch.add(*hash));
            *self = Self::Sketch(Box::new(sketch));
        }
    }

    pub(crate) fn merge(&mut self, other: &Distinct) {
        match other {
            Self::Exact(hashes) => hashes.iter().for_each(|hash| self.add(*hash)),
            Self::Sketch(sketch) => {
                self.switch_to_sketch();
                if let Self::Sketch(mine) = self {
                    mine.merge(sketch);
                }
            }
        }
    }

    pub(crate) fn count(&self) -> u64 {
        match self {
            Self::Exact(hashes) => hashes.len() as u64,
            Self::Sketch(sketch) => sketch.estimate().round() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hll::{STANDARD_ERROR, mix64};

    #[test]
    fn test_moments_exact_sums_and_types() {
        let mut ints = Moments::default();
        for number in [i64::MAX, i64::MAX, -5] {
            ints.add_int(number);
        }
        assert_eq!(ints.sum(), Some(Number::Float(2.0 * i64::MAX as f64 - 5.0)), "overflowing i64 shows as a float");
        let mut small = Moments::default();
        [3, -1, 7].iter().for_each(|number| small.add_int(*number));
        assert_eq!(
            (small.sum(), small.min(), small.max()),
            (Some(Number::Int(9)), Some(Number::Int(-1)), Some(Number::Int(7)))
        );
        assert_eq!(small.avg(), Some(3.0));
        let mut floats = Moments::default();
        floats.add_float(1e16);
        for _ in 0..10_000 {
            floats.add_float(1.0);
        }
        floats.add_float(-1e16);
        floats.add_float(f64::NAN);
        assert_eq!(floats.sum(), Some(Number::Float(10_000.0)), "compensated: naive summation gives 0");
        let mut merged = small.clone();
        merged.merge(&floats);
        assert_eq!(merged.count(), 3 + 10_002);
        assert_eq!(merged.sum(), Some(Number::Float(10_009.0)));
        assert_eq!(merged.max(), Some(Number::Float(1e16)));
        assert_eq!(Moments::default().sum(), None);
    }

    #[test]
    fn test_dist_is_exact_below_threshold_and_bounded_above() {
        let mut dist = Dist::default();
        for value in (1..=100).rev() {
            dist.add(value as f64);
        }
        dist.prepare();
        assert_eq!(dist.quantile(0.5), Some(50.0));
        assert_eq!(dist.quantile(0.99), Some(99.0));
        assert_eq!(dist.quantile(0.999), Some(100.0));
        assert_eq!(dist.quantile(0.001), Some(1.0));
        let mut big = Dist::default();
        let mut other = Dist::default();
        for value in 1..=EXACT_VALUES * 4 {
            if value % 2 == 0 { big.add(value as f64) } else { other.add(value as f64) }
        }
        big.merge(&other);
        assert!(matches!(big, Dist::Sketch(_)));
        let exact = (0.99 * (EXACT_VALUES * 4) as f64).ceil();
        let estimate = big.quantile(0.99).unwrap();
        assert!((estimate - exact).abs() / exact <= crate::histogram::RELATIVE_ERROR, "{estimate} vs {exact}");
        let heatmap = big.heatmap();
        let total: u64 = heatmap.buckets.iter().map(|bucket| bucket.count).sum();
        assert_eq!(total, (EXACT_VALUES * 4) as u64);
        assert_eq!(Dist::default().quantile(0.5), None);
    }

    #[test]
    fn test_distinct_exact_then_sketch() {
        let mut left = Distinct::default();
        let mut right = Distinct::default();
        for value in 0..EXACT_DISTINCT as u64 {
            left.add(mix64(value));
            right.add(mix64(value));
        }
        left.merge(&right);
        assert_eq!(left.count(), EXACT_DISTINCT as u64, "exact up to the threshold");
        for value in 0..50_000u64 {
            right.add(mix64(value));
        }
        left.merge(&right);
        let error = (left.count() as f64 - 50_000.0).abs() / 50_000.0;
        assert!(matches!(left, Distinct::Sketch(_)) && error < 3.0 * STANDARD_ERROR, "{error}");
    }
}
