//! The recent-traces list: one row per trace whose root span starts in a time range, newest first,
//! with the trace's span count and error flag, filtered and paginated.
//!
//! A trace may have several roots: an app reporting both to OpenTelemetry and to X-Ray (as the
//! bootcamp's does) sends a server span and a segment under one trace id. Its row shows the root
//! that [`root_rank`] puts first.

use std::cmp::Reverse;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use waggle_model::{EventKind, SignalTable, SpanId, TraceId, names};
use waggle_store::{Part, PartsRequest, Store};

use crate::part::{Cell, ColumnRef, ColumnView, PartData};
use crate::plan::FilterPlan;
use crate::scan::scan_parts;
use crate::select::select_rows;
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

/// What one scan worker found: every trace's spans, and the roots wanted.
#[derive(Default)]
struct Found {
    tallies: FxHashMap<TraceId, TraceTally>,
    roots: FxHashMap<TraceId, RecentTrace>,
}

impl Found {
    /// Keeps the root the row shows: the one [`root_rank`] puts first.
    fn offer_root(&mut self, trace_id: TraceId, root: RecentTrace) {
        match self.roots.get_mut(&trace_id) {
            Some(shown) if root_rank(shown) <= root_rank(&root) => {}
            Some(shown) => *shown = root,
            None => {
                self.roots.insert(trace_id, root);
            }
        }
    }

    fn merge(&mut self, other: Found) {
        for (trace_id, tally) in other.tallies {
            let mine = self.tallies.entry(trace_id).or_default();
            mine.span_ids.extend(tally.span_ids);
            mine.error |= tally.error;
        }
        for (trace_id, root) in other.roots {
            self.offer_root(trace_id, root);
        }
    }

    /// Tallies a part's spans in `[start, end)` and offers the roots the list wants.
    fn add_part(&mut self, part: &dyn Part, params: &RecentTraces, start: i64, end: i64) -> Result<()> {
        let info = part.info();
        let mut data = PartData::open(part, None)?;
        let Some(rows) = select_rows(&mut data, info, &FilterPlan::default(), start, end)? else { return Ok(()) };
        data.kinds()?;
        data.ids()?;
        data.times()?;
        data.durations()?;
        let columns = [names::ERROR, names::NAME, names::SERVICE_NAME].map(ColumnRef::parse);
        for column in &columns {
            data.load(column)?;
        }
        let [error, name, service] = columns.each_ref().map(|column| data.view(column));
        let text = |view: ColumnView<'_>, row: usize| match view.cell(row) {
            Cell::Str(code) => view.dict()[code as usize].to_string(),
            _ => String::new(),
        };
        let (kinds, ids, times, durations) =
            (data.loaded_kinds(), data.loaded_ids().expect("loaded"), data.loaded_times(), data.loaded_durations());
        let wanted_dataset = params.dataset.as_ref().is_none_or(|dataset| *dataset == info.dataset);
        for row in rows.into_iter().map(|row| row as usize) {
            let Some(trace_id) = ids.trace_ids[row].filter(|_| kinds[row] == EventKind::Span) else { continue };
            let tally = self.tallies.entry(trace_id).or_default();
            tally.span_ids.extend(ids.span_ids[row]);
            tally.error |= matches!(error.cell(row), Cell::Bool(true));
            let duration_ms = durations[row] as f64 / 1e6;
            let wanted_duration = params.min_duration_ms.is_none_or(|min| duration_ms >= min)
                && params.max_duration_ms.is_none_or(|max| duration_ms <= max);
            if ids.parent_ids[row].is_none() && times[row] < params.end_unix_nano && wanted_dataset && wanted_duration {
                let root = RecentTrace {
                    trace_id: trace_id.to_hex(),
                    root_name: text(name, row),
                    service_name: text(service, row),
                    dataset: info.dataset.clone(),
                    start_time_unix_nano: times[row],
                    duration_ms,
                    span_count: 0,
                    error: false,
                };
                self.offer_root(trace_id, root);
            }
        }
        Ok(())
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
    // Every dataset: a trace's spans count wherever they are stored, whichever root is shown.
    let (start, end) = (params.start_unix_nano, params.end_unix_nano.saturating_add(CHILD_SLACK_NANOS));
    let request = PartsRequest { start_unix_nano: start, end_unix_nano: end, ..PartsRequest::all(SignalTable::Traces) };
    let parts = store.parts(&request)?;
    let partials = scan_parts(&parts, Found::default, |found, part| found.add_part(part, params, start, end))?;
    let mut found = Found::default();
    for partial in partials {
        found.merge(partial);
    }
    let Found { mut tallies, roots } = found;
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
