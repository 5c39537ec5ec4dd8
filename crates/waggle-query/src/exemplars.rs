//! Exemplars: a few traces from a heatmap cell or a results row, slowest first, to jump from an
//! aggregate to the traces behind it.

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use waggle_model::{SpanId, TraceId};
use waggle_store::Store;

use crate::Result;
use crate::part::PartData;
use crate::plan::{FilterPlan, Plan};
use crate::result::rfc3339;
use crate::scan::scan_parts;
use crate::select::select_rows;
use crate::selection::Selection;
use crate::spec::{MAX_RUN_LIMIT, QuerySpec};
use crate::{QueryError, roots};

/// Exemplars given when the request names no limit.
pub const DEFAULT_EXEMPLARS: usize = 10;
/// Most exemplars a request may ask for.
pub const MAX_EXEMPLARS: usize = 100;

/// Which exemplars: the query's events narrowed by a selection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExemplarRequest {
    /// The query (its filters and time range count; calculations do not).
    pub query: QuerySpec,
    /// The cell or row.
    #[serde(default)]
    pub selection: Selection,
    /// Most traces returned; 10 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// One trace of the selection, by its slowest selected row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exemplar {
    /// Hex trace id.
    pub trace_id: String,
    /// Hex span id of the row, if it has one.
    pub span_id: Option<String>,
    /// Dataset of the row.
    pub dataset: String,
    /// The row's duration, ms.
    pub duration_ms: f64,
    /// The row's start, RFC 3339.
    pub timestamp: String,
    /// The row's start, unix ns.
    pub time_unix_nano: i64,
}

/// A selected row with a trace id.
struct Candidate {
    duration: i64,
    time: i64,
    trace_id: TraceId,
    span_id: Option<SpanId>,
    dataset: Arc<str>,
}

/// The slowest candidate of each trace, slowest first, at most `limit`.
fn slowest_distinct(mut candidates: Vec<Candidate>, limit: usize) -> Vec<Candidate> {
    candidates.sort_by(|a, b| b.duration.cmp(&a.duration).then(a.time.cmp(&b.time)).then(a.trace_id.cmp(&b.trace_id)));
    let mut seen = HashSet::new();
    candidates.retain(|candidate| seen.len() < limit && seen.insert(candidate.trace_id));
    candidates
}

/// Traces of a query's selection, slowest first.
pub fn exemplars(
    store: &dyn Store,
    dataset: &str,
    request: &ExemplarRequest,
    now_unix_nano: i64,
) -> Result<Vec<Exemplar>> {
    let limit = request.limit.unwrap_or(DEFAULT_EXEMPLARS);
    if !(1..=MAX_EXEMPLARS).contains(&limit) {
        return Err(QueryError::BadRequest(format!("limit: must be between 1 and {MAX_EXEMPLARS}, got {limit}")));
    }
    request.selection.validate(&request.query)?;
    let mut plan = Plan::new(&request.query, waggle_model::SignalTable::Traces, dataset, now_unix_nano, MAX_RUN_LIMIT)?;
    (plan.start, plan.end) = request.selection.time_range(&plan);
    plan.filter = FilterPlan { required: request.selection.predicates(&request.query), ..plan.filter };
    let roots = roots::roots_for(store, &plan)?;
    let parts = store.parts(&plan.parts_request())?;
    let found = scan_parts(&parts, Vec::new, |found: &mut Vec<Candidate>, part| {
        let mut data = PartData::open(part, roots.as_ref())?;
        let Some(selected) = select_rows(&mut data, part.info(), &plan.filter, plan.start, plan.end)? else {
            return Ok(());
        };
        data.times()?;
        data.durations()?;
        data.ids()?;
        let (times, durations) = (data.loaded_times(), data.loaded_durations());
        let Some(ids) = data.loaded_ids().filter(|_| !times.is_empty()) else {
            return Ok(());
        };
        let dataset: Arc<str> = Arc::from(part.info().dataset.as_str());
        let candidates = selected
            .iter()
            .filter_map(|&row| {
                let row = row as usize;
                Some(Candidate {
                    duration: durations[row],
                    time: times[row],
                    trace_id: ids.trace_ids[row]?,
                    span_id: ids.span_ids[row],
                    dataset: dataset.clone(),
                })
            })
            .collect();
        found.extend(slowest_distinct(candidates, limit));
        Ok(())
    })?;
    let best = slowest_distinct(found.into_iter().flatten().collect(), limit);
    Ok(best
        .into_iter()
        .map(|candidate| Exemplar {
            trace_id: candidate.trace_id.to_hex(),
            span_id: candidate.span_id.map(|id| id.to_hex()),
            dataset: candidate.dataset.to_string(),
            duration_ms: candidate.duration as f64 / 1e6,
            timestamp: rfc3339(candidate.time),
            time_unix_nano: candidate.time,
        })
        .collect())
}
