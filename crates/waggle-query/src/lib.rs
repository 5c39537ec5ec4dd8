//! Reading the store the way people ask: a whole trace, the recent traces of a dataset, and
//! Honeycomb's queries (calculations, filters, breakdowns, time series), BubbleUp and exemplars.
//! Results are plain serializable views, shaped as the HTTP API documents them (`docs/API.md`,
//! `docs/QUERY.md`), so the server only serializes and the CLI only deserializes.
//!
//! ```text
//!  QuerySpec ──validate──> Plan ──(root. columns?)──> RootTable: trace id -> root span values
//!                            │
//!                            v
//!  Store::parts ──> one worker per core: part ──select (filters on dictionary codes, time)──>
//!                   group (code tuples -> group ids) ──> cells (group x time bucket) of states
//!                            │ merge workers
//!                            v
//!  totals ──havings, orders, limit──> results; kept groups' cells ──> series
//! ```
//!
//! Accuracy: COUNT, SUM, MIN, MAX and AVG are exact (integers summed in `i128`, floats with
//! compensated summation). Percentiles use the nearest rank `max(1, ceil(q * n))` of the sorted
//! values: exact while a cell holds at most 2048 values, then read from a log-linear histogram
//! within a relative error of 1/128 (0.78%); the first and last ranks stay exact. HEATMAP counts
//! are exact over that histogram's buckets (64 per power of two). COUNT_DISTINCT is exact up to
//! 10 000 distinct values (64-bit hashes), then a HyperLogLog with a standard error of 0.81%.
//!
//! Layout: `spec` (the wire format and its validation), `plan`, `part` (lazy, derived and `root.`
//! columns of a part), `roots`, `filter`, `select`, `groups`, `exec` (the aggregation pass),
//! `calc`, `histogram`, `hll` (mergeable states), `result` (results and series), `selection`,
//! `bubbleup`, `exemplars`; `trace`, `recent`, `views` for traces.

#![warn(missing_docs)]

mod bubbleup;
mod calc;
mod exec;
mod exemplars;
mod filter;
mod groups;
mod histogram;
mod hll;
mod part;
mod plan;
mod recent;
mod result;
mod roots;
mod scan;
mod select;
mod selection;
pub mod spec;
mod trace;
mod value;
mod views;

use waggle_model::SignalTable;
use waggle_store::Store;

pub use bubbleup::{BubbleUpRequest, BubbleUpResult, ColumnComparison, ValueComparison, bubble_up};
pub use calc::{EXACT_DISTINCT, EXACT_VALUES as EXACT_PERCENTILE_VALUES};
pub use exemplars::{Exemplar, ExemplarRequest, exemplars};
pub use histogram::RELATIVE_ERROR as PERCENTILE_RELATIVE_ERROR;
pub use hll::STANDARD_ERROR as DISTINCT_STANDARD_ERROR;
pub use plan::ALL_DATASETS;
pub use recent::{RecentPage, RecentTraces, recent_traces};
pub use result::{DataValue, Heatmap, HeatmapBucket, QueryResult, ResultMeta, ResultRow, SeriesPoint};
pub use selection::Selection;
pub use trace::get_trace;
pub use views::{LogView, RecentTrace, ScopeView, SpanEventView, SpanLinkView, SpanView, TraceView};

/// Query errors.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The request is invalid; the message says which parameter and why.
    #[error("{0}")]
    BadRequest(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] waggle_store::StoreError),
}

/// Result alias for queries.
pub type Result<T, E = QueryError> = std::result::Result<T, E>;

/// How a query runs, beyond its spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Table to read.
    pub table: SignalTable,
    /// Compute the time series; `false` (Honeycomb's `disable_series`) computes totals only, which
    /// skips time bucketing (and, for parts inside the range, decoding row times).
    pub series: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { table: SignalTable::Traces, series: true }
    }
}

/// Runs a query over the traces table: `dataset` is a dataset name or [`ALL_DATASETS`]. Relative
/// time ranges end at `now_unix_nano`. `limit` may go up to [`spec::MAX_RUN_LIMIT`].
pub fn run_query(store: &dyn Store, dataset: &str, spec: &spec::QuerySpec, now_unix_nano: i64) -> Result<QueryResult> {
    run_query_with(store, dataset, spec, now_unix_nano, RunOptions::default())
}

/// [`run_query`] with options: another table (the logs table's datasets are queried the same
/// way), or totals without series.
pub fn run_query_with(
    store: &dyn Store,
    dataset: &str,
    spec: &spec::QuerySpec,
    now_unix_nano: i64,
    options: RunOptions,
) -> Result<QueryResult> {
    let mut plan = plan::Plan::new(spec, options.table, dataset, now_unix_nano, spec::MAX_RUN_LIMIT)?;
    if !options.series {
        plan = plan.without_series();
    }
    let roots = roots::roots_for(store, &plan)?;
    let parts = store.parts(&plan.parts_request())?;
    let first = exec::aggregate(&plan, &parts, roots.as_ref(), None)?;
    result::build(spec, &plan, first, |allowed| exec::aggregate(&plan, &parts, roots.as_ref(), Some(allowed)))
}
