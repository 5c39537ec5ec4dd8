//! A validated spec turned into what the executor needs: the time range and buckets in
//! nanoseconds, compiled filters, column references, and each calculation's state source (several
//! calculations on one column share a state: `P50` and `P99` of `duration_ms` share one
//! distribution).

use waggle_model::SignalTable;
use waggle_store::PartsRequest;

use crate::Result;
use crate::filter::Predicate;
use crate::part::ColumnRef;
use crate::spec::{CalcOp, Calculation, FilterCombination, QuerySpec};

/// The dataset name meaning every dataset of the table (Honeycomb's environment-wide queries).
pub const ALL_DATASETS: &str = "__all__";

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Where a calculation's value comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Source {
    Count,
    Concurrency,
    /// Index into [`Plan::moments`].
    Moments(usize),
    /// Index into [`Plan::dists`].
    Dist(usize),
    /// Index into [`Plan::distincts`].
    Distinct(usize),
}

/// One calculation of the query.
#[derive(Debug, Clone)]
pub(crate) struct PlannedCalc {
    pub calculation: Calculation,
    /// Its key in results: `P99(duration_ms)`.
    pub key: String,
    pub source: Source,
}

/// Which rows count.
#[derive(Debug, Clone, Default)]
pub(crate) struct FilterPlan {
    /// The query's filters.
    pub predicates: Vec<Predicate>,
    /// True when any of `predicates` suffices (OR).
    pub any: bool,
    /// Further filters every row must pass (a selection's), whatever the combination.
    pub required: Vec<Predicate>,
}

impl FilterPlan {
    /// Every predicate.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Predicate> {
        self.predicates.iter().chain(&self.required)
    }
}

/// A query ready to run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub table: SignalTable,
    /// `None` for every dataset.
    pub datasets: Option<Vec<String>>,
    /// Range start, unix ns, inclusive.
    pub start: i64,
    /// Range end, unix ns, exclusive.
    pub end: i64,
    /// Bucket width, ns.
    pub granularity: i64,
    /// `1 / granularity`, for [`Plan::bucket_of`].
    pub inverse_granularity: f64,
    pub num_buckets: usize,
    /// False when the caller wants totals only (`disable_series`): one bucket, no time decoding.
    pub series: bool,
    pub filter: FilterPlan,
    pub breakdowns: Vec<ColumnRef>,
    /// Breakdowns as written (keys in results).
    pub breakdown_names: Vec<String>,
    pub calcs: Vec<PlannedCalc>,
    pub moments: Vec<ColumnRef>,
    pub dists: Vec<ColumnRef>,
    pub distincts: Vec<ColumnRef>,
    pub concurrency: bool,
    /// Most groups in results.
    pub limit: usize,
}

fn slot(inputs: &mut Vec<ColumnRef>, column: ColumnRef) -> usize {
    inputs.iter().position(|known| *known == column).unwrap_or_else(|| {
        inputs.push(column);
        inputs.len() - 1
    })
}

impl Plan {
    /// Validates and plans a spec (`max_limit` bounds `limit`).
    pub(crate) fn new(
        spec: &QuerySpec,
        table: SignalTable,
        dataset: &str,
        now_unix_nano: i64,
        max_limit: usize,
    ) -> Result<Self> {
        spec.validate_with_limit(max_limit)?;
        let (start, end) = spec.time_bounds(now_unix_nano);
        let range_secs = (end - start) / NANOS_PER_SECOND;
        let granularity = spec.effective_granularity(range_secs).saturating_mul(NANOS_PER_SECOND);
        // Buckets start on multiples of the granularity since the epoch (a minute's on the whole
        // minute), as Honeycomb truncates a query's start: charts read 02:50, not 02:49:58. The
        // range reaches back to that boundary, so the first bucket is whole; the last still ends
        // at `end`, with the newest data.
        let start = start - start.rem_euclid(granularity);
        let num_buckets = ((end - start) as u64).div_ceil(granularity as u64).max(1) as usize;
        let mut plan = Plan {
            table,
            datasets: (dataset != ALL_DATASETS).then(|| vec![dataset.to_owned()]),
            start,
            end,
            granularity,
            inverse_granularity: 1.0 / granularity as f64,
            num_buckets,
            series: true,
            filter: FilterPlan {
                predicates: spec.filters.iter().map(Predicate::compile).collect(),
                any: spec.filter_combination == Some(FilterCombination::Or),
                required: Vec::new(),
            },
            breakdowns: spec.breakdowns.iter().map(|name| ColumnRef::parse(name)).collect(),
            breakdown_names: spec.breakdowns.clone(),
            calcs: Vec::new(),
            moments: Vec::new(),
            dists: Vec::new(),
            distincts: Vec::new(),
            concurrency: false,
            limit: spec.limit.unwrap_or(crate::spec::DEFAULT_LIMIT),
        };
        for calculation in spec.effective_calculations() {
            let column = calculation.column.as_deref().map(ColumnRef::parse);
            let source = match (&calculation.op, column) {
                (CalcOp::Count, _) => Source::Count,
                (CalcOp::Concurrency, _) => {
                    plan.concurrency = true;
                    Source::Concurrency
                }
                (CalcOp::CountDistinct, Some(column)) => Source::Distinct(slot(&mut plan.distincts, column)),
                (op, Some(column)) if op.quantile().is_some() || *op == CalcOp::Heatmap => {
                    Source::Dist(slot(&mut plan.dists, column))
                }
                (_, Some(column)) => Source::Moments(slot(&mut plan.moments, column)),
                (_, None) => Source::Count,
            };
            plan.calcs.push(PlannedCalc { key: calculation.key(), calculation, source });
        }
        Ok(plan)
    }

    /// Totals only: one time bucket spanning the range, unless a RATE_* calculation needs buckets
    /// to compute its total.
    pub(crate) fn without_series(mut self) -> Self {
        self.series = false;
        if !self.calcs.iter().any(|calc| crate::result::rate_base(&calc.calculation.op).is_some()) {
            self.granularity = (self.end - self.start).max(1);
            self.inverse_granularity = 1.0 / self.granularity as f64;
            self.num_buckets = 1;
        }
        self
    }

    /// Columns to read from trace roots (named without `root.`), each once.
    pub(crate) fn root_columns(&self) -> Vec<ColumnRef> {
        let mut found: Vec<ColumnRef> = Vec::new();
        let named = self.filter.all().map(|predicate| &predicate.column);
        let inputs = self.breakdowns.iter().chain(&self.moments).chain(&self.dists).chain(&self.distincts);
        for column in named.chain(inputs).filter(|column| column.root) {
            if !found.contains(&column.on_row()) {
                found.push(column.on_row());
            }
        }
        found
    }

    /// The parts holding the range.
    pub(crate) fn parts_request(&self) -> PartsRequest {
        PartsRequest {
            table: self.table,
            datasets: self.datasets.clone(),
            start_unix_nano: self.start,
            end_unix_nano: self.end,
            trace_id: None,
        }
    }

    /// Start of a time bucket, unix ns.
    pub(crate) fn bucket_start(&self, bucket: usize) -> i64 {
        self.start + bucket as i64 * self.granularity
    }

    /// Width of a time bucket in ns (the last may be cut by the range end).
    pub(crate) fn bucket_width(&self, bucket: usize) -> i64 {
        (self.end - self.bucket_start(bucket)).min(self.granularity)
    }

    /// The bucket of a time inside the range. A float multiplication, corrected by one where it
    /// rounds across a boundary, costs less than an integer division per row.
    #[inline]
    pub(crate) fn bucket_of(&self, time: i64) -> usize {
        let offset = time - self.start;
        let estimate = (offset as f64 * self.inverse_granularity) as i64;
        let bucket = if estimate * self.granularity > offset {
            estimate - 1
        } else if (estimate + 1) * self.granularity <= offset {
            estimate + 1
        } else {
            estimate
        };
        bucket as usize
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn test_plan_shares_states_and_lists_root_columns() {
        let spec: QuerySpec = serde_json::from_value(json!({
            "calculations": [
                {"op": "P50", "column": "duration_ms"}, {"op": "P99", "column": "duration_ms"},
                {"op": "HEATMAP", "column": "duration_ms"}, {"op": "AVG", "column": "root.duration_ms"},
                {"op": "MAX", "column": "root.duration_ms"}, {"op": "COUNT_DISTINCT", "column": "app.user_id"},
                {"op": "CONCURRENCY"}
            ],
            "filters": [{"column": "root.http.route", "op": "exists"}],
            "breakdowns": ["root.service.name", "name"],
            "start_time": 100, "end_time": 250, "granularity": 60
        }))
        .unwrap();
        let plan = Plan::new(&spec, SignalTable::Traces, ALL_DATASETS, 0, 1000).unwrap();
        let sources: Vec<Source> = plan.calcs.iter().map(|calc| calc.source).collect();
        assert_eq!(
            sources,
            vec![
                Source::Dist(0),
                Source::Dist(0),
                Source::Dist(0),
                Source::Moments(0),
                Source::Moments(0),
                Source::Distinct(0),
                Source::Concurrency
            ]
        );
        assert_eq!(plan.datasets, None);
        // 100..250 s in minutes: the range reaches back to the whole minute, the last bucket is cut.
        assert_eq!((plan.start, plan.end), (60 * NANOS_PER_SECOND, 250 * NANOS_PER_SECOND));
        assert_eq!((plan.num_buckets, plan.bucket_start(1)), (4, 120 * NANOS_PER_SECOND));
        assert_eq!((plan.bucket_width(0), plan.bucket_width(3)), (60 * NANOS_PER_SECOND, 10 * NANOS_PER_SECOND));
        assert_eq!(plan.bucket_of(119 * NANOS_PER_SECOND), 0);
        assert_eq!(plan.bucket_of(120 * NANOS_PER_SECOND), 1);
        for offset in [-40, 0, 1, 59, 60, 61, 119, 120, 149] {
            for nanos in [-1, 0, 1] {
                let time = (100 + offset) * NANOS_PER_SECOND + nanos;
                if (plan.start..plan.end).contains(&time) {
                    assert_eq!(plan.bucket_of(time) as i64, (time - plan.start) / plan.granularity, "{time}");
                }
            }
        }
        let roots: Vec<String> = plan.root_columns().into_iter().map(|column| column.name).collect();
        assert_eq!(roots, vec!["http.route", "service.name", "duration_ms"]);
    }
}
