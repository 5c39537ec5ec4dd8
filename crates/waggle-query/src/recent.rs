//! The recent-traces list: one row per trace whose root span starts in a time range, newest first,
//! with the trace's span count and error flag, filtered and paginated.
//!
//! A trace may have several roots: an app reporting both to OpenTelemetry and to X-Ray (as the
//! bootcamp's does) sends a server span and a segment under one trace id. Its row shows the root
//! that [`root_rank`] puts first.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};
use waggle_model::{EventKind, SignalTable, SpanId, TraceId, names};
use waggle_store::{ScanRequest, Store};

use crate::views::RecentTrace;
use crate::{QueryError, Result};

/// Spans of a trace may end well after its root starts: count spans this long past the range.
const CHILD_SLACK_NANOS: i64 = 10 * 60 * 1_000_000_000;

/// Parameters of the recent-traces list (see `docs/API.md`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RecentTraces {
    /// Only roots in this dataset.
    pub dataset: Option<String>,
    /// Range start, unix ns.
    pub start_unix_nano: i64,
    /// Range end, unix ns (exclusive).
    pub end_unix_nano: i64,
    /// Root duration at least this.
    pub min_duration_ms: Option<f64>,
    /// Root duration at most this.
    pub max_duration_ms: Option<f64>,
    /// Only traces with (true) or without (false) an error span.
    pub error: Option<bool>,
    /// Page size.
    pub limit: usize,
    /// Continue after this cursor.
    pub cursor: Option<String>,
}

/// A page of recent traces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentPage {
    /// Newest first.
    pub traces: Vec<RecentTrace>,
    /// Pass as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Position after which a page starts: (start time, trace id) of the last row shown.
fn parse_cursor(cursor: &str) -> Result<(i64, String)> {
    let bad = || QueryError::BadRequest(format!("cursor {cursor:?} is not one this server gave out"));
    let (time, trace) = cursor.split_once(':').ok_or_else(bad)?;
    Ok((time.parse().map_err(|_| bad())?, trace.to_owned()))
}

#[derive(Default)]
struct TraceTally {
    /// One per span row: a span stored twice (sent in progress and complete, or over OTLP and to
    /// X-Ray) is here twice until counted.
    span_ids: Vec<SpanId>,
    error: bool,
}

impl TraceTally {
    /// Distinct spans, as the trace view shows them.
    fn span_count(&mut self) -> u64 {
        self.span_ids.sort_unstable();
        self.span_ids.dedup();
        self.span_ids.len() as u64
    }
}

/// Lists recent traces.
pub fn recent_traces(store: &dyn Store, params: &RecentTraces) -> Result<RecentPage> {
    if !(1..=1000).contains(&params.limit) {
        return Err(QueryError::BadRequest("limit must be between 1 and 1000".into()));
    }
    if params.end_unix_nano <= params.start_unix_nano {
        return Err(QueryError::BadRequest("end must be after start".into()));
    }
    let after = params.cursor.as_deref().map(parse_cursor).transpose()?;
    let request = ScanRequest {
        start_unix_nano: params.start_unix_nano,
        end_unix_nano: params.end_unix_nano.saturating_add(CHILD_SLACK_NANOS),
        columns: Some(vec![names::NAME.into(), names::SERVICE_NAME.into(), names::ERROR.into()]),
        ..ScanRequest::all(SignalTable::Traces)
    };
    let mut tallies: HashMap<TraceId, TraceTally> = HashMap::new();
    let mut roots: HashMap<TraceId, RecentTrace> = HashMap::new();
    store.scan(&request, &mut |event| {
        let Some(trace_id) = event.trace_id.filter(|_| event.kind == EventKind::Span) else {
            return ControlFlow::Continue(());
        };
        let tally = tallies.entry(trace_id).or_default();
        tally.span_ids.extend(event.span_id);
        tally.error |= event.is_error();
        let in_range = event.time_unix_nano < params.end_unix_nano;
        let wanted_dataset = params.dataset.as_ref().is_none_or(|dataset| *dataset == event.dataset);
        let duration_ms = event.duration_nano as f64 / 1e6;
        let wanted_duration = params.min_duration_ms.is_none_or(|min| duration_ms >= min)
            && params.max_duration_ms.is_none_or(|max| duration_ms <= max);
        if event.parent_id.is_none() && in_range && wanted_dataset && wanted_duration {
            let root = RecentTrace {
                trace_id: trace_id.to_hex(),
                root_name: event.name().to_owned(),
                service_name: event.str_field(names::SERVICE_NAME).to_owned(),
                dataset: event.dataset.clone(),
                start_time_unix_nano: event.time_unix_nano,
                duration_ms,
                span_count: 0,
                error: false,
            };
            match roots.get_mut(&trace_id) {
                Some(shown) if root_rank(shown) <= root_rank(&root) => {}
                Some(shown) => *shown = root,
                None => {
                    roots.insert(trace_id, root);
                }
            }
        }
        ControlFlow::Continue(())
    })?;
    let mut roots: Vec<(TraceId, RecentTrace)> = roots
        .into_iter()
        .map(|(trace_id, mut root)| {
            root.error = tallies[&trace_id].error;
            (trace_id, root)
        })
        .filter(|(_, root)| params.error.is_none_or(|error| root.error == error))
        .collect();
    roots.sort_by(|(_, a), (_, b)| (b.start_time_unix_nano, &b.trace_id).cmp(&(a.start_time_unix_nano, &a.trace_id)));
    if let Some((time, trace)) = &after {
        roots.retain(|(_, root)| (root.start_time_unix_nano, &root.trace_id) < (*time, trace));
    }
    let has_more = roots.len() > params.limit;
    roots.truncate(params.limit);
    let roots: Vec<RecentTrace> = roots
        .into_iter()
        .map(|(trace_id, mut root)| {
            root.span_count = tallies.get_mut(&trace_id).map_or(0, TraceTally::span_count);
            root
        })
        .collect();
    let next_cursor =
        has_more.then(|| roots.last().map(|last| format!("{}:{}", last.start_time_unix_nano, last.trace_id))).flatten();
    Ok(RecentPage { traces: roots, next_cursor })
}

/// Which of a trace's roots its row shows: the lowest rank. The earliest, to the microsecond (X-Ray
/// times have no finer grain, so a segment and a span started together tie); among roots started
/// together, one named for what it did rather than for its service (as X-Ray segments are), then
/// the longest (a segment sent in progress and again complete is two rows of one span); then by
/// dataset and name, so the choice does not depend on scan order.
fn root_rank(root: &RecentTrace) -> (i64, bool, Reverse<i64>, &str, &str) {
    let start_micros = root.start_time_unix_nano.div_euclid(1_000);
    let duration_micros = (root.duration_ms * 1_000.0) as i64;
    (start_micros, root.root_name == root.service_name, Reverse(duration_micros), &root.dataset, &root.root_name)
}
