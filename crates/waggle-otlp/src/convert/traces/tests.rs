//! Span conversion: exact events for a nested request, rejections, dataset rules, precedence.

use std::collections::HashSet;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::span::{Event as OtlpEvent, Link};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use waggle_model::{Event, EventKind, Origin, SpanId, TraceId, Value};

use super::*;
use crate::convert::tests::*;
use crate::convert::{Converted, RequestContext};

/// A server span with an event and a client child with a link, under one resource and scope.
fn nested_request() -> ExportTraceServiceRequest {
    let root = Span {
        trace_id: bytes(TRACE),
        span_id: bytes(ROOT),
        trace_state: "k=v".into(),
        flags: 257,
        name: "GET /api".into(),
        kind: 2,
        start_time_unix_nano: START,
        end_time_unix_nano: START + 120 * MS,
        attributes: all_types_attributes(),
        dropped_attributes_count: 1,
        events: vec![OtlpEvent {
            time_unix_nano: START + 10 * MS,
            name: "exception".into(),
            attributes: vec![kv("exception.message", string("bad")), kv("dup", string("event"))],
            dropped_attributes_count: 0,
        }],
        dropped_links_count: 2,
        status: Some(Status { message: "boom".into(), code: 2 }),
        ..Default::default()
    };
    let child = Span {
        trace_id: bytes(TRACE),
        span_id: bytes(CHILD),
        parent_span_id: bytes(ROOT),
        name: "SELECT".into(),
        kind: 3,
        start_time_unix_nano: START + 5 * MS,
        end_time_unix_nano: START + 50 * MS,
        links: vec![Link {
            trace_id: vec![0xaa; 16],
            span_id: vec![0xbb; 8],
            trace_state: "a=b".into(),
            attributes: vec![kv("link.kind", string("follows"))],
            dropped_attributes_count: 0,
            flags: 1,
        }],
        status: Some(Status { message: String::new(), code: 1 }),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(vec![
                kv("service.name", string(" cart ")),
                kv("host.name", string("h1")),
                kv("dup", string("resource")),
                kv("res.num", integer(7)),
            ]),
            scope_spans: vec![ScopeSpans {
                scope: scope("app.tracer", "1.0", vec![kv("scope.attr", integer(1)), kv("dup", string("scope"))]),
                spans: vec![root, child],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[test]
fn test_traces_to_batch_nested_request_exact_events() {
    let converted = traces_to_batch(nested_request(), &context(Some("key123"), None));
    assert_eq!(converted.rejected, 0);
    assert_eq!(converted.error_message, None);

    let trace_id = Some(TraceId::from_hex(TRACE).unwrap());
    let root_id = SpanId::from_hex(ROOT).unwrap();
    let child_id = SpanId::from_hex(CHILD).unwrap();
    let start = START as i64;
    let ms = MS as i64;
    let (derived, resource, scope) = (Origin::Derived, Origin::Resource, Origin::Scope);
    let resource_fields = || vec![field("service.name", " cart ", resource), field("host.name", "h1", resource)];

    let mut root_fields = vec![
        field("name", "GET /api", derived),
        field("span.kind", "server", derived),
        field("status_code", 2, derived),
        field("status_message", "boom", derived),
        field("error", true, derived),
        field("trace.trace_state", "k=v", derived),
        field("trace.flags", 257, derived),
        field("library.name", "app.tracer", derived),
        field("library.version", "1.0", derived),
        field("meta.team", "key123", derived),
        field("meta.dropped_attributes_count", 1, derived),
        field("meta.dropped_links_count", 2, derived),
    ];
    root_fields.extend(resource_fields());
    root_fields.extend([field("res.num", 7, resource), field("scope.attr", 1, scope)]);
    root_fields.extend(all_types_fields());

    let mut event_fields = vec![field("name", "exception", derived)];
    event_fields.extend(resource_fields());
    event_fields.extend([
        field("res.num", 7, resource),
        field("exception.message", "bad", Origin::Attribute),
        field("dup", "event", Origin::Attribute),
    ]);

    let mut child_fields = vec![
        field("name", "SELECT", derived),
        field("span.kind", "client", derived),
        field("status_code", 1, derived),
        field("library.name", "app.tracer", derived),
        field("library.version", "1.0", derived),
        field("meta.team", "key123", derived),
    ];
    child_fields.extend(resource_fields());
    child_fields.extend([field("res.num", 7, resource), field("scope.attr", 1, scope), field("dup", "scope", scope)]);

    let mut link_fields = vec![
        field("trace.link.trace_id", "aa".repeat(16), derived),
        field("trace.link.span_id", "bb".repeat(8), derived),
        field("trace.trace_state", "a=b", derived),
        field("trace.flags", 1, derived),
    ];
    link_fields.extend(resource_fields());
    link_fields.extend([
        field("dup", "resource", resource),
        field("res.num", 7, resource),
        field("link.kind", "follows", Origin::Attribute),
    ]);

    let event = |kind, time, duration, span_id, parent_id, fields| Event {
        kind,
        dataset: "cart".into(),
        time_unix_nano: time,
        duration_nano: duration,
        trace_id,
        span_id,
        parent_id,
        fields,
    };
    let expected = vec![
        event(EventKind::Span, start, 120 * ms, Some(root_id), None, root_fields),
        event(EventKind::SpanEvent, start + 10 * ms, 0, None, Some(root_id), event_fields),
        event(EventKind::Span, start + 5 * ms, 45 * ms, Some(child_id), Some(root_id), child_fields),
        event(EventKind::Link, start + 5 * ms, 0, None, Some(child_id), link_fields),
    ];
    assert_eq!(converted.batch.events.len(), expected.len());
    for (actual, expected) in converted.batch.events.iter().zip(&expected) {
        assert_eq!(actual, expected);
    }
    assert!(converted.batch.events[0].is_error());
    assert_eq!(converted.batch.events[0].name(), "GET /api");
}

#[test]
fn test_traces_to_batch_partial_rejection() {
    let span = |trace_id: Vec<u8>, span_id: Vec<u8>, parent: Vec<u8>| Span {
        trace_id,
        span_id,
        parent_span_id: parent,
        name: "s".into(),
        events: vec![OtlpEvent { name: "e".into(), ..Default::default() }],
        ..Default::default()
    };
    let bad_link = Span {
        links: vec![Link { trace_id: bytes(TRACE), span_id: vec![1; 7], ..Default::default() }],
        ..valid_span("bad link")
    };
    let spans = vec![
        span(vec![1, 2, 3], bytes(ROOT), vec![]),
        span(bytes(TRACE), bytes(ROOT), vec![]),
        span(vec![0; 16], bytes(ROOT), vec![]),
        span(bytes(TRACE), vec![0; 8], vec![]),
        span(bytes(TRACE), bytes(ROOT), vec![9; 4]),
        bad_link,
        span(bytes(TRACE), vec![], vec![]),
    ];
    let converted = traces_to_batch(trace_request(vec![], spans), &RequestContext::default());
    assert_eq!(converted.rejected, 6);
    assert_eq!(
        converted.error_message.as_deref(),
        Some("6 spans rejected: span 0 of scope 'x': trace id must be 16 bytes, got 3")
    );
    // The one valid span and its event are kept.
    let kinds: Vec<_> = converted.batch.events.iter().map(|event| event.kind).collect();
    assert_eq!(kinds, [EventKind::Span, EventKind::SpanEvent]);
}

#[test]
fn test_traces_to_batch_rejection_reasons() {
    let reason = |span: Span| {
        let converted = traces_to_batch(trace_request(vec![], vec![span]), &RequestContext::default());
        assert_eq!(converted.rejected, 1);
        assert!(converted.batch.is_empty());
        converted.error_message.unwrap()
    };
    assert_eq!(
        reason(Span { trace_id: vec![0; 16], ..valid_span("s") }),
        "1 span rejected: span 0 of scope 'x': trace id is all zeros"
    );
    assert_eq!(
        reason(Span { span_id: vec![1; 9], ..valid_span("s") }),
        "1 span rejected: span 0 of scope 'x': span id must be 8 bytes, got 9"
    );
    assert_eq!(
        reason(Span { parent_span_id: vec![1; 3], ..valid_span("s") }),
        "1 span rejected: span 0 of scope 'x': parent span id must be 8 bytes, got 3"
    );
    let link = Link { trace_id: vec![0; 16], span_id: bytes(ROOT), ..Default::default() };
    assert_eq!(
        reason(Span { links: vec![Link::default(), link], ..valid_span("s") }),
        "1 span rejected: span 0 of scope 'x': link 0: trace id must be 16 bytes, got 0"
    );
}

#[test]
fn test_traces_to_batch_zero_parent_is_root() {
    let span = Span { parent_span_id: vec![0; 8], ..valid_span("root") };
    let converted = traces_to_batch(trace_request(vec![], vec![span]), &RequestContext::default());
    assert_eq!(converted.rejected, 0);
    assert_eq!(converted.batch.events[0].parent_id, None);
}

#[test]
fn test_traces_to_batch_times_saturate_and_clamp() {
    let backwards = Span { start_time_unix_nano: 10, end_time_unix_nano: 5, ..valid_span("s") };
    let far = Span { start_time_unix_nano: u64::MAX, end_time_unix_nano: u64::MAX, ..valid_span("s") };
    let huge = Span { start_time_unix_nano: 0, end_time_unix_nano: u64::MAX, ..valid_span("s") };
    let converted = traces_to_batch(trace_request(vec![], vec![backwards, far, huge]), &RequestContext::default());
    let times: Vec<_> =
        converted.batch.events.iter().map(|event| (event.time_unix_nano, event.duration_nano)).collect();
    assert_eq!(times, [(10, 0), (i64::MAX, 0), (0, i64::MAX)]);
}

#[test]
fn test_traces_to_batch_span_kinds_and_status() {
    let spans = (0..7).map(|kind| Span { kind, ..valid_span("s") }).collect();
    let converted = traces_to_batch(trace_request(vec![], spans), &RequestContext::default());
    let kinds: Vec<_> = converted.batch.events.iter().map(|event| event.str_field("span.kind").to_owned()).collect();
    assert_eq!(kinds, ["unspecified", "internal", "server", "client", "producer", "consumer", "unspecified"]);
    let event = &converted.batch.events[0];
    assert_eq!(event.field("status_code"), Some(&Value::Int(0)));
    assert_eq!(event.field("error"), None);
    assert_eq!(event.field("status_message"), None);
    assert_eq!(event.field("library.name"), Some(&Value::Str("x".into())));
    assert_eq!(event.field("library.version"), None);
    assert_eq!(event.field("meta.team"), None);
    assert_eq!(event.field("trace.flags"), None);
    assert_eq!(event.field("trace.trace_state"), None);
}

#[test]
fn test_traces_to_batch_attribute_precedence() {
    let spans = vec![Span {
        attributes: vec![kv("name", string("from attribute")), kv("twice", integer(1)), kv("twice", integer(2))],
        ..valid_span("derived")
    }];
    let resource_attributes = vec![kv("name", string("from resource")), kv("library.name", string("resource"))];
    let mut request = trace_request(resource_attributes, spans);
    let scope_spans = &mut request.resource_spans[0].scope_spans[0];
    scope_spans.scope = scope("lib", "", vec![kv("library.name", string("scope"))]);
    let converted = traces_to_batch(request, &RequestContext::default());
    let event = &converted.batch.events[0];
    assert_eq!(event.name(), "from attribute");
    assert_eq!(event.field("twice"), Some(&Value::Int(2)));
    assert_eq!(event.field("library.name"), Some(&Value::Str("scope".into())));
    let keys: Vec<_> = event.fields.iter().map(|field| field.key.as_str()).collect();
    let unique: HashSet<_> = keys.iter().collect();
    assert_eq!(keys.len(), unique.len(), "{keys:?}");
}

#[test]
fn test_traces_to_batch_empty_request() {
    let converted = traces_to_batch(ExportTraceServiceRequest::default(), &RequestContext::default());
    assert_eq!(converted, Converted::default());
}

fn trace_dataset_of(team: Option<&str>, dataset: Option<&str>, service: Option<any_value::Value>) -> String {
    let attributes = service.into_iter().map(|value| kv("service.name", value)).collect();
    let converted = traces_to_batch(trace_request(attributes, vec![valid_span("s")]), &context(team, dataset));
    converted.batch.events[0].dataset.clone()
}

/// Team header, dataset header, `service.name`, expected dataset.
type DatasetCase<'a> = (Option<&'a str>, Option<&'a str>, Option<any_value::Value>, &'a str);

#[test]
fn test_traces_to_batch_dataset_rules() {
    let classic = "0123456789abcdef0123456789abcdef";
    let classic_ingest = format!("hcaic_{}", "0a".repeat(29));
    assert_eq!(classic_ingest.len(), 64);
    let classic_upper = classic.to_uppercase();
    let service = Some(string(" checkout "));
    let cases: Vec<DatasetCase<'_>> = vec![
        // Classic keys with a dataset header: the header, trimmed.
        (Some(classic), Some(" legacy "), service.clone(), "legacy"),
        (Some(classic_ingest.as_str()), Some("legacy"), service.clone(), "legacy"),
        // Classic key without (or with a blank) header: the service.
        (Some(classic), None, service.clone(), "checkout"),
        (Some(classic), Some("  "), service.clone(), "checkout"),
        // Not classic: the header is ignored.
        (Some("hcxik_01abcdef"), Some("legacy"), service.clone(), "checkout"),
        (Some(classic_upper.as_str()), Some("legacy"), service.clone(), "checkout"),
        // No team header at all is accepted (waggle is local).
        (None, Some("legacy"), service.clone(), "checkout"),
        (None, None, service.clone(), "checkout"),
        // Missing, blank, SDK default or non-string service names.
        (None, None, None, "unknown_service"),
        (None, None, Some(string("   ")), "unknown_service"),
        (None, None, Some(string("unknown_service:python")), "unknown_service"),
        (None, None, Some(string(" unknown_service")), "unknown_service"),
        (None, None, Some(integer(3)), "unknown_service"),
    ];
    for (team, dataset, service, expected) in cases {
        let debug = format!("{team:?} {dataset:?} {service:?}");
        assert_eq!(trace_dataset_of(team, dataset, service), expected, "{debug}");
    }
}
