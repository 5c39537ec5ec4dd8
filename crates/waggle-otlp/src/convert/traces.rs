//! Spans to events: each span becomes one `Span` event, each of its span events a `SpanEvent` and
//! each of its links a `Link`, all in the span's dataset. A span with an invalid id (its own, its
//! parent's or a link's) is rejected whole.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::span::{Event as OtlpEvent, Link as OtlpLink};
use opentelemetry_proto::tonic::trace::v1::{Span, Status};
use waggle_model::{Batch, Event, EventKind, Field, Origin, SpanId, TraceId, Value, names};

use super::{
    Converted, Rejections, RequestContext, UNKNOWN_SERVICE, attributes_to_fields, int, is_classic_key, nanos,
    push_dropped, push_scope_and_team, service_name, unique_fields,
};

/// Converts a trace export into events. Never fails: spans with invalid ids are counted in
/// [`Converted::rejected`] and the rest is kept.
pub fn traces_to_batch(request: ExportTraceServiceRequest, context: &RequestContext) -> Converted {
    let team = context.team();
    let mut events = Vec::new();
    let mut rejections = Rejections::new("span", "spans");
    for resource_spans in request.resource_spans {
        let resource_attributes = resource_spans.resource.map(|resource| resource.attributes);
        let resource_attributes = resource_attributes.unwrap_or_default();
        let dataset = trace_dataset(context, &resource_attributes);
        let resource_fields = attributes_to_fields(resource_attributes, Origin::Resource);
        for scope_spans in resource_spans.scope_spans {
            let scope = scope_spans.scope.unwrap_or_default();
            let mut shared = Vec::new();
            push_scope_and_team(&mut shared, &scope.name, &scope.version, team);
            let scope_fields = attributes_to_fields(scope.attributes, Origin::Scope);
            let scope_context = ScopeContext {
                dataset: &dataset,
                resource_fields: &resource_fields,
                scope_and_team: &shared,
                scope_fields: &scope_fields,
            };
            for (index, span) in scope_spans.spans.into_iter().enumerate() {
                match span_to_events(span, &scope_context) {
                    Ok(span_events) => events.extend(span_events),
                    Err(reason) => rejections.reject(format!("span {index} of scope '{}': {reason}", scope.name)),
                }
            }
        }
    }
    rejections.into_converted(Batch { events })
}

/// Honeycomb's rule: a classic key with a dataset header names the dataset; otherwise the resource's
/// `service.name`, with `unknown_service` for a missing, blank or SDK-default (`unknown_service:...`)
/// name. (Honeycomb refuses a classic key without the header; waggle falls back to the service.)
fn trace_dataset(context: &RequestContext, resource_attributes: &[KeyValue]) -> String {
    let classic_team = context.team().filter(|team| is_classic_key(team));
    if let Some(dataset) = classic_team.and(context.dataset_header()) {
        return dataset.to_owned();
    }
    match service_name(resource_attributes) {
        Some(name) if !name.starts_with(UNKNOWN_SERVICE) => name.to_owned(),
        _ => UNKNOWN_SERVICE.to_owned(),
    }
}

/// What the spans of one scope share.
struct ScopeContext<'a> {
    dataset: &'a str,
    resource_fields: &'a [Field],
    /// `library.name`, `library.version`, `meta.team`.
    scope_and_team: &'a [Field],
    scope_fields: &'a [Field],
}

/// The checked ids of a span and its links.
struct SpanIds {
    trace_id: TraceId,
    span_id: SpanId,
    parent_id: Option<SpanId>,
    links: Vec<(TraceId, SpanId)>,
}

fn check_ids(span: &Span) -> Result<SpanIds, String> {
    let trace_id = TraceId::from_bytes(&span.trace_id).map_err(|error| error.to_string())?;
    let span_id = SpanId::from_bytes(&span.span_id).map_err(|error| error.to_string())?;
    let parent_id = match span.parent_span_id.as_slice() {
        [] => None,
        // Some SDKs write zeros for "no parent".
        bytes if bytes == [0; SpanId::LEN] => None,
        bytes => Some(SpanId::from_bytes(bytes).map_err(|error| format!("parent {error}"))?),
    };
    let mut links = Vec::with_capacity(span.links.len());
    for (index, link) in span.links.iter().enumerate() {
        let link_ids = TraceId::from_bytes(&link.trace_id)
            .and_then(|trace_id| Ok((trace_id, SpanId::from_bytes(&link.span_id)?)))
            .map_err(|error| format!("link {index}: {error}"))?;
        links.push(link_ids);
    }
    Ok(SpanIds { trace_id, span_id, parent_id, links })
}

fn span_to_events(span: Span, scope_context: &ScopeContext<'_>) -> Result<Vec<Event>, String> {
    let ids = check_ids(&span)?;
    let start = nanos(span.start_time_unix_nano);
    let duration = nanos(span.end_time_unix_nano).saturating_sub(start).max(0);

    let status = span.status.unwrap_or_default();
    let mut fields = span_derived_fields(&span.name, span.kind, &status, &span.trace_state, span.flags);
    fields.extend_from_slice(scope_context.scope_and_team);
    push_dropped(&mut fields, names::DROPPED_ATTRIBUTES, span.dropped_attributes_count);
    push_dropped(&mut fields, names::DROPPED_EVENTS, span.dropped_events_count);
    push_dropped(&mut fields, names::DROPPED_LINKS, span.dropped_links_count);
    fields.extend_from_slice(scope_context.resource_fields);
    fields.extend_from_slice(scope_context.scope_fields);
    fields.extend(attributes_to_fields(span.attributes, Origin::Attribute));

    // The span first, then its annotations, in the order they were sent.
    let mut events = Vec::with_capacity(1 + span.events.len() + span.links.len());
    events.push(Event {
        kind: EventKind::Span,
        dataset: scope_context.dataset.to_owned(),
        time_unix_nano: start,
        duration_nano: duration,
        trace_id: Some(ids.trace_id),
        span_id: Some(ids.span_id),
        parent_id: ids.parent_id,
        fields: unique_fields(fields),
    });
    for span_event in span.events {
        events.push(span_event_to_event(span_event, &ids, scope_context));
    }
    for (link, link_ids) in span.links.into_iter().zip(&ids.links) {
        events.push(link_to_event(link, *link_ids, start, &ids, scope_context));
    }
    Ok(events)
}

/// `name`, `span.kind`, `status_code`, `status_message`, `error`, `trace.trace_state`, `trace.flags`.
fn span_derived_fields(name: &str, kind: i32, status: &Status, trace_state: &str, flags: u32) -> Vec<Field> {
    let mut fields = vec![
        Field::new(names::NAME, name, Origin::Derived),
        Field::new(names::SPAN_KIND, span_kind_name(kind), Origin::Derived),
        Field::new(names::STATUS_CODE, i64::from(status.code), Origin::Derived),
    ];
    if !status.message.is_empty() {
        fields.push(Field::new(names::STATUS_MESSAGE, status.message.as_str(), Origin::Derived));
    }
    if status.code == 2 {
        fields.push(Field::new(names::ERROR, true, Origin::Derived));
    }
    push_trace_state_and_flags(&mut fields, trace_state, flags);
    fields
}

fn push_trace_state_and_flags(fields: &mut Vec<Field>, trace_state: &str, flags: u32) {
    if !trace_state.is_empty() {
        fields.push(Field::new(names::TRACE_STATE, trace_state, Origin::Derived));
    }
    if flags != 0 {
        fields.push(Field::new(names::TRACE_FLAGS, int(flags), Origin::Derived));
    }
}

/// Honeycomb's lowercase span kind; unknown numbers read as `unspecified`.
fn span_kind_name(kind: i32) -> &'static str {
    match kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "unspecified",
    }
}

fn span_event_to_event(span_event: OtlpEvent, ids: &SpanIds, scope_context: &ScopeContext<'_>) -> Event {
    let mut fields = vec![Field::new(names::NAME, Value::Str(span_event.name), Origin::Derived)];
    push_dropped(&mut fields, names::DROPPED_ATTRIBUTES, span_event.dropped_attributes_count);
    fields.extend_from_slice(scope_context.resource_fields);
    fields.extend(attributes_to_fields(span_event.attributes, Origin::Attribute));
    annotation(EventKind::SpanEvent, nanos(span_event.time_unix_nano), ids, scope_context, fields)
}

/// A row attached to its span (span event or link), as Honeycomb stores them.
fn annotation(
    kind: EventKind,
    time_unix_nano: i64,
    ids: &SpanIds,
    scope_context: &ScopeContext<'_>,
    fields: Vec<Field>,
) -> Event {
    Event {
        kind,
        dataset: scope_context.dataset.to_owned(),
        time_unix_nano,
        duration_nano: 0,
        trace_id: Some(ids.trace_id),
        span_id: None,
        parent_id: Some(ids.span_id),
        fields: unique_fields(fields),
    }
}

fn link_to_event(
    link: OtlpLink,
    (link_trace_id, link_span_id): (TraceId, SpanId),
    span_start: i64,
    ids: &SpanIds,
    scope_context: &ScopeContext<'_>,
) -> Event {
    let mut fields = vec![
        Field::new(names::LINK_TRACE_ID, link_trace_id.to_hex(), Origin::Derived),
        Field::new(names::LINK_SPAN_ID, link_span_id.to_hex(), Origin::Derived),
    ];
    push_trace_state_and_flags(&mut fields, &link.trace_state, link.flags);
    push_dropped(&mut fields, names::DROPPED_ATTRIBUTES, link.dropped_attributes_count);
    fields.extend_from_slice(scope_context.resource_fields);
    fields.extend(attributes_to_fields(link.attributes, Origin::Attribute));
    annotation(EventKind::Link, span_start, ids, scope_context, fields)
}

#[cfg(test)]
mod tests;
