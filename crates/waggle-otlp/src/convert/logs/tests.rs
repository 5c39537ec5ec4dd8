//! Log record conversion: exact fields, optional ids, the logs dataset rule.

use opentelemetry_proto::tonic::common::v1::{KeyValueList, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use waggle_model::{Event, EventKind, Origin, SpanId, TraceId, Value};

use super::*;
use crate::convert::RequestContext;
use crate::convert::tests::*;

#[test]
fn test_logs_to_batch_exact_event() {
    let record = LogRecord {
        time_unix_nano: START,
        observed_time_unix_nano: START + 1,
        severity_number: 9,
        severity_text: "INFO".into(),
        body: Some(any_value_of(any_value::Value::KvlistValue(KeyValueList { values: vec![kv("msg", string("hi"))] }))),
        attributes: vec![kv("user.id", integer(42)), kv("dup", string("record"))],
        dropped_attributes_count: 3,
        flags: 1,
        trace_id: bytes(TRACE),
        span_id: bytes(ROOT),
        event_name: "app.login".into(),
    };
    let mut request = log_request(vec![kv("service.name", string("api")), kv("dup", string("resource"))], vec![record]);
    request.resource_logs[0].scope_logs[0].scope = scope("app.logger", "2.0", vec![kv("scope.attr", integer(1))]);
    let converted = logs_to_batch(request, &context(Some("key123"), Some("ignored")));
    assert_eq!(converted.rejected, 0);
    let derived = Origin::Derived;
    let expected = Event {
        kind: EventKind::Log,
        dataset: "api".into(),
        time_unix_nano: START as i64,
        duration_nano: 0,
        trace_id: Some(TraceId::from_hex(TRACE).unwrap()),
        span_id: Some(SpanId::from_hex(ROOT).unwrap()),
        parent_id: None,
        fields: vec![
            field("body", Value::Map(vec![("msg".into(), Value::Str("hi".into()))]), derived),
            field("severity", "INFO", derived),
            field("severity_code", 9, derived),
            field("observed_time_unix_nano", START as i64 + 1, derived),
            field("trace.flags", 1, derived),
            field("name", "app.login", derived),
            field("library.name", "app.logger", derived),
            field("library.version", "2.0", derived),
            field("meta.team", "key123", derived),
            field("meta.dropped_attributes_count", 3, derived),
            field("service.name", "api", Origin::Resource),
            field("scope.attr", 1, Origin::Scope),
            field("user.id", 42, Origin::Attribute),
            field("dup", "record", Origin::Attribute),
        ],
    };
    assert_eq!(converted.batch.events, [expected]);
}

#[test]
fn test_logs_to_batch_minimal_record_and_observed_time_fallback() {
    let record = LogRecord { observed_time_unix_nano: 77, ..Default::default() };
    let converted = logs_to_batch(log_request(vec![], vec![record]), &RequestContext::default());
    let event = &converted.batch.events[0];
    assert_eq!(event.time_unix_nano, 77);
    assert_eq!((event.trace_id, event.span_id), (None, None));
    let keys: Vec<_> = event.fields.iter().map(|field| field.key.as_str()).collect();
    assert_eq!(keys, ["observed_time_unix_nano", "library.name"]);
}

#[test]
fn test_logs_to_batch_ids_optional_but_checked() {
    let records = vec![
        LogRecord { trace_id: vec![0; 16], span_id: vec![0; 8], ..Default::default() },
        LogRecord { trace_id: bytes(TRACE), span_id: vec![1, 2, 3], ..Default::default() },
        LogRecord { trace_id: vec![1; 15], ..Default::default() },
        LogRecord { trace_id: bytes(TRACE), ..Default::default() },
    ];
    let converted = logs_to_batch(log_request(vec![], records), &RequestContext::default());
    assert_eq!(converted.rejected, 2);
    assert_eq!(
        converted.error_message.as_deref(),
        Some("2 log records rejected: log record 1 of scope 'x': span id must be 8 bytes, got 3")
    );
    let ids: Vec<_> = converted.batch.events.iter().map(|event| (event.trace_id, event.span_id)).collect();
    assert_eq!(ids, [(None, None), (Some(TraceId::from_hex(TRACE).unwrap()), None)]);
}

#[test]
fn test_logs_to_batch_dataset_rules() {
    let dataset_of = |service: Option<&str>, header: Option<&str>| {
        let attributes = service.into_iter().map(|name| kv("service.name", string(name))).collect();
        let converted = logs_to_batch(log_request(attributes, vec![LogRecord::default()]), &context(None, header));
        converted.batch.events[0].dataset.clone()
    };
    assert_eq!(dataset_of(Some(" api "), Some("header")), "api");
    assert_eq!(dataset_of(Some("unknown_service:python"), None), "unknown_service:python");
    assert_eq!(dataset_of(Some("  "), Some(" header ")), "header");
    assert_eq!(dataset_of(None, Some("header")), "header");
    assert_eq!(dataset_of(None, None), "unknown_log_source");
    assert_eq!(dataset_of(None, Some("")), "unknown_log_source");
}
