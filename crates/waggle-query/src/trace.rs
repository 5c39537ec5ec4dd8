//! Assembling one trace: its spans, their events and links, and the logs carrying its id.

use std::collections::HashMap;
use std::ops::ControlFlow;

use serde_json::{Map, Value as Json};
use waggle_model::{Event, EventKind, Origin, SignalTable, SpanId, TraceId, Value, names};
use waggle_store::{ScanRequest, Store};

use crate::Result;
use crate::views::{LogView, ScopeView, SpanEventView, SpanLinkView, SpanView, TraceView};

/// The trace with this id, or `None` when no span or log has it.
pub fn get_trace(store: &dyn Store, trace_id: TraceId) -> Result<Option<TraceView>> {
    let mut rows = Vec::new();
    let mut logs = Vec::new();
    for (table, out) in [(SignalTable::Traces, &mut rows), (SignalTable::Logs, &mut logs)] {
        let request = ScanRequest { trace_id: Some(trace_id), ..ScanRequest::all(table) };
        store.scan(&request, &mut |event| {
            out.push(event);
            ControlFlow::Continue(())
        })?;
    }
    if rows.is_empty() && logs.is_empty() {
        return Ok(None);
    }
    let mut annotations: HashMap<SpanId, Vec<Event>> = HashMap::new();
    let mut spans = Vec::new();
    for row in rows {
        match (row.kind, row.parent_id) {
            (EventKind::Span, _) => spans.push(row),
            (_, Some(span_id)) => annotations.entry(span_id).or_default().push(row),
            _ => {}
        }
    }
    let mut span_views: Vec<SpanView> =
        latest_versions(spans).into_iter().map(|span| span_view(span, &mut annotations)).collect();
    span_views.sort_by(|a, b| (a.start_time_unix_nano, &a.span_id).cmp(&(b.start_time_unix_nano, &b.span_id)));
    let mut log_views: Vec<LogView> = logs.into_iter().map(log_view).collect();
    log_views.sort_by_key(|log| log.time_unix_nano);
    Ok(Some(TraceView { trace_id: trace_id.to_hex(), spans: span_views, logs: log_views }))
}

/// Set (`true`) on an X-Ray segment sent before it ended (waggle-xray's `xray.in_progress`).
const IN_PROGRESS: &str = "xray.in_progress";

/// One row per span id. The store is append-only, so a span can be there twice: an X-Ray segment
/// sent in progress and again complete, or a span a service exported both over OTLP and to X-Ray.
/// The complete version wins, then the OTLP row (its attributes are the sender's own), then the
/// one ending last.
fn latest_versions(spans: Vec<Event>) -> Vec<Event> {
    let rank = |span: &Event| {
        let complete = !matches!(span.field(IN_PROGRESS), Some(Value::Bool(true)));
        let otlp = span.field("xray.type").is_none();
        (complete, otlp, span.end_unix_nano())
    };
    let mut latest: HashMap<Option<SpanId>, Event> = HashMap::new();
    for span in spans {
        if span.span_id.is_none() {
            continue;
        }
        match latest.get(&span.span_id) {
            Some(kept) if rank(kept) >= rank(&span) => {}
            _ => {
                latest.insert(span.span_id, span);
            }
        }
    }
    latest.into_values().collect()
}

/// Attributes of one origin, as JSON. Derived fields (name, status, `meta.*`) are the views' own
/// members or stay queryable columns; they are never mixed into what the sender set.
fn attributes(event: &Event, origin: Origin) -> Map<String, Json> {
    event
        .fields
        .iter()
        .filter(|field| field.origin == origin)
        .map(|field| (field.key.clone(), field.value.to_json()))
        .collect()
}

fn int_field(event: &Event, key: &str) -> i64 {
    match event.field(key) {
        Some(Value::Int(number)) => *number,
        _ => 0,
    }
}

fn scope_view(event: &Event) -> ScopeView {
    ScopeView {
        name: event.str_field(names::LIBRARY_NAME).to_owned(),
        version: event.str_field(names::LIBRARY_VERSION).to_owned(),
        attributes: attributes(event, Origin::Scope),
    }
}

fn span_view(span: Event, annotations: &mut HashMap<SpanId, Vec<Event>>) -> SpanView {
    let mut events = Vec::new();
    let mut links = Vec::new();
    // Events and links come with their span: those of another version (an X-Ray segment's
    // exception beside the OTLP span's) are the same ones again.
    let rows = span.span_id.and_then(|id| annotations.remove(&id)).unwrap_or_default();
    for row in rows.into_iter().filter(|row| row.dataset == span.dataset) {
        match row.kind {
            EventKind::SpanEvent => events.push(SpanEventView {
                name: row.name().to_owned(),
                time_unix_nano: row.time_unix_nano,
                attributes: attributes(&row, Origin::Attribute),
            }),
            EventKind::Link => links.push(SpanLinkView {
                trace_id: row.str_field(names::LINK_TRACE_ID).to_owned(),
                span_id: row.str_field(names::LINK_SPAN_ID).to_owned(),
                trace_state: row.str_field(names::TRACE_STATE).to_owned(),
                attributes: attributes(&row, Origin::Attribute),
            }),
            _ => {}
        }
    }
    events.sort_by_key(|event| event.time_unix_nano);
    SpanView {
        trace_id: span.trace_id.map(|id| id.to_hex()).unwrap_or_default(),
        span_id: span.span_id.map(|id| id.to_hex()).unwrap_or_default(),
        parent_span_id: span.parent_id.map(|id| id.to_hex()),
        name: span.name().to_owned(),
        kind: match span.str_field(names::SPAN_KIND) {
            "" => "unspecified".to_owned(),
            kind => kind.to_owned(),
        },
        start_time_unix_nano: span.time_unix_nano,
        end_time_unix_nano: span.end_unix_nano(),
        duration_ms: span.duration_nano as f64 / 1e6,
        status_code: int_field(&span, names::STATUS_CODE),
        status_message: span.str_field(names::STATUS_MESSAGE).to_owned(),
        trace_state: span.str_field(names::TRACE_STATE).to_owned(),
        flags: int_field(&span, names::TRACE_FLAGS),
        dataset: span.dataset.clone(),
        service_name: span.str_field(names::SERVICE_NAME).to_owned(),
        attributes: attributes(&span, Origin::Attribute),
        resource: attributes(&span, Origin::Resource),
        scope: scope_view(&span),
        events,
        links,
    }
}

fn log_view(log: Event) -> LogView {
    LogView {
        time_unix_nano: log.time_unix_nano,
        observed_time_unix_nano: int_field(&log, names::OBSERVED_TIME),
        severity_number: int_field(&log, names::SEVERITY_CODE),
        severity_text: log.str_field(names::SEVERITY).to_owned(),
        body: log.field(names::BODY).map_or(Json::Null, Value::to_json),
        trace_id: log.trace_id.map(|id| id.to_hex()),
        span_id: log.span_id.map(|id| id.to_hex()),
        flags: int_field(&log, names::TRACE_FLAGS),
        dataset: log.dataset.clone(),
        attributes: attributes(&log, Origin::Attribute),
        resource: attributes(&log, Origin::Resource),
        scope: scope_view(&log),
    }
}
