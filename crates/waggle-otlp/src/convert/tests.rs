//! Shared helpers for the conversion tests, and tests of the shared pieces (values, keys, round trips).

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{ArrayValue, InstrumentationScope, KeyValueList};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use proptest::prelude::*;
use prost::Message;
use waggle_model::{Event, EventKind};

use super::*;
use crate::decode::{Encoding, decode_logs, decode_traces};

pub(super) const TRACE: &str = "5b8efff798038103d269b633813fc60c";
pub(super) const ROOT: &str = "eee19b7ec3c1b174";
pub(super) const CHILD: &str = "0102030405060708";
pub(super) const START: u64 = 1_700_000_000_000_000_000;
pub(super) const MS: u64 = 1_000_000;

pub(super) fn bytes(hex_id: &str) -> Vec<u8> {
    hex::decode(hex_id).unwrap()
}

pub(super) fn any_value_of(value: any_value::Value) -> AnyValue {
    AnyValue { value: Some(value) }
}

pub(super) fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue { key: key.into(), value: Some(any_value_of(value)), key_strindex: 0 }
}

pub(super) fn string(text: &str) -> any_value::Value {
    any_value::Value::StringValue(text.into())
}

pub(super) fn integer(number: i64) -> any_value::Value {
    any_value::Value::IntValue(number)
}

pub(super) fn field(key: &str, value: impl Into<Value>, origin: Origin) -> Field {
    Field::new(key, value, origin)
}

pub(super) fn resource(attributes: Vec<KeyValue>) -> Option<Resource> {
    Some(Resource { attributes, ..Default::default() })
}

pub(super) fn scope(name: &str, version: &str, attributes: Vec<KeyValue>) -> Option<InstrumentationScope> {
    Some(InstrumentationScope { name: name.into(), version: version.into(), attributes, ..Default::default() })
}

pub(super) fn trace_request(resource_attributes: Vec<KeyValue>, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(resource_attributes),
            scope_spans: vec![ScopeSpans { scope: scope("x", "", vec![]), spans, ..Default::default() }],
            ..Default::default()
        }],
    }
}

pub(super) fn valid_span(name: &str) -> Span {
    Span { trace_id: bytes(TRACE), span_id: bytes(ROOT), name: name.into(), ..Default::default() }
}

pub(super) fn context(team: Option<&str>, dataset: Option<&str>) -> RequestContext {
    RequestContext { team: team.map(Into::into), dataset_header: dataset.map(Into::into) }
}

/// Every attribute type, nested values, values without a value, and a key other sources also use.
pub(super) fn all_types_attributes() -> Vec<KeyValue> {
    vec![
        kv("http.route", string("/api")),
        kv("ok", any_value::Value::BoolValue(true)),
        kv("n", integer(5)),
        kv("ratio", any_value::Value::DoubleValue(0.5)),
        kv(
            "list",
            any_value::Value::ArrayValue(ArrayValue {
                values: vec![
                    any_value_of(string("a")),
                    any_value_of(integer(1)),
                    AnyValue { value: None },
                    any_value_of(any_value::Value::ArrayValue(ArrayValue {
                        values: vec![any_value_of(any_value::Value::BoolValue(false))],
                    })),
                ],
            }),
        ),
        kv(
            "map",
            any_value::Value::KvlistValue(KeyValueList {
                values: vec![
                    kv("k", string("v")),
                    kv("inner", any_value::Value::KvlistValue(KeyValueList { values: vec![kv("x", integer(2))] })),
                    KeyValue { key: "nothing".into(), value: None, key_strindex: 0 },
                ],
            }),
        ),
        kv("raw", any_value::Value::BytesValue(vec![0, 1, 2])),
        KeyValue { key: "unset".into(), value: Some(AnyValue { value: None }), key_strindex: 0 },
        KeyValue { key: "unset2".into(), value: None, key_strindex: 0 },
        kv("", string("empty keys are invalid in otlp")),
        kv("dup", string("span")),
    ]
}

pub(super) fn all_types_fields() -> Vec<Field> {
    let attribute = Origin::Attribute;
    vec![
        field("http.route", "/api", attribute),
        field("ok", true, attribute),
        field("n", 5, attribute),
        field("ratio", 0.5, attribute),
        field(
            "list",
            Value::Array(vec![Value::Str("a".into()), Value::Int(1), Value::Array(vec![Value::Bool(false)])]),
            attribute,
        ),
        field(
            "map",
            Value::Map(vec![
                ("k".into(), Value::Str("v".into())),
                ("inner".into(), Value::Map(vec![("x".into(), Value::Int(2))])),
            ]),
            attribute,
        ),
        field("raw", Value::Bytes(vec![0, 1, 2]), attribute),
        field("dup", "span", attribute),
    ]
}

pub(super) fn log_request(resource_attributes: Vec<KeyValue>, records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(resource_attributes),
            scope_logs: vec![ScopeLogs { scope: scope("x", "", vec![]), log_records: records, ..Default::default() }],
            ..Default::default()
        }],
    }
}

#[test]
fn test_is_classic_key() {
    assert!(is_classic_key("0123456789abcdef0123456789abcdef"));
    assert!(is_classic_key(&format!("hcbic_{}", "z9".repeat(29))));
    assert!(!is_classic_key("0123456789ABCDEF0123456789ABCDEF"));
    assert!(!is_classic_key("0123456789abcdef0123456789abcdeg"));
    assert!(!is_classic_key(&format!("hcbik_{}", "z9".repeat(29))));
    assert!(!is_classic_key(&format!("hcbic_{}", "Z9".repeat(29))));
    assert!(!is_classic_key("hcaik_01abcdefghijklmnopqrstuvwxyz"));
    assert!(!is_classic_key(""));
}

#[test]
fn test_any_value_to_value_every_type() {
    let converted: Vec<_> = all_types_attributes()
        .into_iter()
        .filter_map(|attribute| Some((attribute.key, any_value_to_value(attribute.value?)?)))
        .collect();
    let expected: Vec<_> = all_types_fields().into_iter().map(|field| (field.key, field.value)).collect();
    // The empty-key attribute converts; `attributes_to_fields` is what drops it.
    assert_eq!(converted.len(), expected.len() + 1);
    assert!(converted.iter().any(|(key, _)| key.is_empty()));
    let with_keys: Vec<_> = converted.into_iter().filter(|(key, _)| !key.is_empty()).collect();
    assert_eq!(with_keys, expected);
    assert_eq!(any_value_to_value(any_value_of(any_value::Value::StringValueStrindex(3))), None);
}

/// A span with random ids, name and times.
fn arbitrary_span() -> impl Strategy<Value = Span> {
    (
        prop::array::uniform16(any::<u8>()).prop_filter("non-zero", |id| *id != [0; 16]),
        prop::array::uniform8(any::<u8>()).prop_filter("non-zero", |id| *id != [0; 8]),
        prop::option::of(prop::array::uniform8(1u8..)),
        ".{0,20}",
        any::<u64>(),
        any::<u64>(),
        0i32..6,
    )
        .prop_map(|(trace_id, span_id, parent, name, start, end, kind)| Span {
            trace_id: trace_id.to_vec(),
            span_id: span_id.to_vec(),
            parent_span_id: parent.map(|id| id.to_vec()).unwrap_or_default(),
            name,
            kind,
            start_time_unix_nano: start,
            end_time_unix_nano: end,
            ..Default::default()
        })
}

fn assert_span_kept(span: &Span, event: &Event) -> Result<(), TestCaseError> {
    prop_assert_eq!(event.kind, EventKind::Span);
    prop_assert_eq!(event.trace_id.map(|id| id.0.to_vec()), Some(span.trace_id.clone()));
    prop_assert_eq!(event.span_id.map(|id| id.0.to_vec()), Some(span.span_id.clone()));
    prop_assert_eq!(event.parent_id.map(|id| id.0.to_vec()).unwrap_or_default(), span.parent_span_id.clone());
    prop_assert_eq!(event.name(), span.name.as_str());
    let start = i64::try_from(span.start_time_unix_nano).unwrap_or(i64::MAX);
    let end = i64::try_from(span.end_time_unix_nano).unwrap_or(i64::MAX);
    prop_assert_eq!(event.time_unix_nano, start);
    prop_assert_eq!(event.duration_nano, (end - start).max(0));
    Ok(())
}

proptest! {
    #[test]
    fn test_traces_round_trip_keeps_ids_names_times(spans in prop::collection::vec(arbitrary_span(), 0..8)) {
        let request = trace_request(vec![kv("service.name", string("svc"))], spans.clone());
        for (encoding, body) in [
            (Encoding::Protobuf, request.encode_to_vec()),
            (Encoding::Json, serde_json::to_vec(&request).unwrap()),
        ] {
            let decoded = decode_traces(encoding, &body).unwrap();
            let converted = traces_to_batch(decoded, &RequestContext::default());
            prop_assert_eq!(converted.rejected, 0);
            prop_assert_eq!(converted.batch.len(), spans.len());
            for (span, event) in spans.iter().zip(&converted.batch.events) {
                assert_span_kept(span, event)?;
                prop_assert_eq!(event.dataset.as_str(), "svc");
            }
        }
    }

    #[test]
    fn test_logs_round_trip_keeps_body_and_times(
        bodies in prop::collection::vec(".{0,30}", 0..8),
        time in any::<u64>(),
    ) {
        let records = bodies
            .iter()
            .map(|body| LogRecord { time_unix_nano: time, body: Some(any_value_of(string(body))), ..Default::default() })
            .collect();
        let request = log_request(vec![], records);
        let decoded = decode_logs(Encoding::Protobuf, &request.encode_to_vec()).unwrap();
        let converted = logs_to_batch(decoded, &RequestContext::default());
        prop_assert_eq!(converted.batch.len(), bodies.len());
        for (body, event) in bodies.iter().zip(&converted.batch.events) {
            prop_assert_eq!(event.field("body"), Some(&Value::Str(body.clone())));
            prop_assert_eq!(event.time_unix_nano, i64::try_from(time).unwrap_or(i64::MAX));
        }
    }
}
