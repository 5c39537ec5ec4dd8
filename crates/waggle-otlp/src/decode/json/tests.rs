//! OTLP/JSON as real senders write it, including what only the normalising fallback accepts.

use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};

use crate::decode::tests::{first_attribute, first_span};
use crate::decode::{Encoding, decode_logs, decode_traces};
use crate::error::OtlpError;

#[test]
fn test_decode_json_garbage_is_decode_error() {
    for body in [&b"{"[..], b"[]", b"[[]]", b"not json", b"3", b"{\"resourceSpans\": 3}"] {
        let error = decode_traces(Encoding::Json, body).unwrap_err();
        assert!(matches!(error, OtlpError::Decode(_)), "{error:?}");
        assert!(error.to_string().contains("invalid otlp/json"), "{error}");
    }
}

#[test]
fn test_decode_json_empty_body_and_object_are_empty_requests() {
    for body in [&b""[..], b"  \n", b"{}"] {
        assert!(decode_traces(Encoding::Json, body).unwrap().resource_spans.is_empty());
        assert!(decode_logs(Encoding::Json, body).unwrap().resource_logs.is_empty());
    }
}

/// What opentelemetry-js's JSON exporter sends: hex ids, `intValue` as a JSON number, times as
/// strings, enums as numbers, plus fields waggle does not know.
const BROWSER_TRACES: &str = r#"{
  "resourceSpans": [{
    "resource": {
      "attributes": [
        {"key": "service.name", "value": {"stringValue": "cruddur-frontend"}},
        {"key": "telemetry.sdk.language", "value": {"stringValue": "webjs"}}
      ],
      "droppedAttributesCount": 0
    },
    "scopeSpans": [{
      "scope": {"name": "@opentelemetry/instrumentation-fetch", "version": "0.52.0"},
      "spans": [{
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "parentSpanId": "",
        "name": "HTTP GET",
        "kind": 3,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": 1700000000120000000,
        "attributes": [
          {"key": "http.status_code", "value": {"intValue": 200}},
          {"key": "http.response_content_length", "value": {"intValue": "5120"}},
          {"key": "http.url", "value": {"stringValue": "http://localhost:4567/api"}},
          {"key": "ratio", "value": {"doubleValue": 1}},
          {"key": "ok", "value": {"boolValue": true}}
        ],
        "droppedAttributesCount": 0,
        "events": [{"timeUnixNano": "1700000000100000000", "name": "fetchStart", "attributes": [],
                    "droppedAttributesCount": 0}],
        "droppedEventsCount": 0,
        "status": {"code": 0},
        "links": [],
        "droppedLinksCount": 0,
        "somethingNew": {"nested": [1, 2, 3]}
      }]
    }]
  }],
  "futureTopLevelField": true
}"#;

#[test]
fn test_decode_traces_json_browser_exporter() {
    let request = decode_traces(Encoding::Json, BROWSER_TRACES.as_bytes()).unwrap();
    let span = first_span(&request);
    assert_eq!(hex::encode(&span.trace_id), "5b8efff798038103d269b633813fc60c");
    assert_eq!(hex::encode(&span.span_id), "eee19b7ec3c1b174");
    assert!(span.parent_span_id.is_empty());
    assert_eq!(span.kind, 3);
    assert_eq!(span.start_time_unix_nano, 1_700_000_000_000_000_000);
    assert_eq!(span.end_time_unix_nano, 1_700_000_000_120_000_000);
    let values: Vec<_> = span
        .attributes
        .iter()
        .map(|attribute| attribute.value.as_ref().and_then(|value| value.value.clone()))
        .collect();
    assert_eq!(
        values,
        vec![
            Some(any_value::Value::IntValue(200)),
            Some(any_value::Value::IntValue(5120)),
            Some(any_value::Value::StringValue("http://localhost:4567/api".into())),
            Some(any_value::Value::DoubleValue(1.0)),
            Some(any_value::Value::BoolValue(true)),
        ]
    );
    assert_eq!(span.events[0].time_unix_nano, 1_700_000_000_100_000_000);
}

fn span_json(span_fields: &str) -> String {
    format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{span_fields}}}]}}]}}]}}"#)
}

#[test]
fn test_decode_traces_json_int_value_number_or_string() {
    for (text, expected) in [
        (r#"{"intValue": 5}"#, 5),
        (r#"{"intValue": "5"}"#, 5),
        (r#"{"intValue": -7}"#, -7),
        (r#"{"intValue": "-9223372036854775808"}"#, i64::MIN),
        (r#"{"intValue": 9223372036854775807}"#, i64::MAX),
    ] {
        let json = span_json(&format!(r#""attributes":[{{"key":"n","value":{text}}}]"#));
        let request = decode_traces(Encoding::Json, json.as_bytes()).unwrap();
        assert_eq!(first_attribute(first_span(&request)), Some(&any_value::Value::IntValue(expected)), "{text}");
    }
}

#[test]
fn test_decode_traces_json_times_number_or_string() {
    for text in [
        r#""startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "18446744073709551615""#,
        r#""startTimeUnixNano": 1700000000000000000, "endTimeUnixNano": 18446744073709551615"#,
    ] {
        let request = decode_traces(Encoding::Json, span_json(text).as_bytes()).unwrap();
        let span = first_span(&request);
        assert_eq!(span.start_time_unix_nano, 1_700_000_000_000_000_000, "{text}");
        assert_eq!(span.end_time_unix_nano, u64::MAX, "{text}");
    }
}

#[test]
fn test_decode_traces_json_hex_ids_any_case() {
    let json = span_json(
        r#""traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EeE19b7eC3c1B174",
           "parentSpanId": "0102030405060708",
           "links": [{"traceId": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "spanId": "BBBBBBBBBBBBBBBB"}]"#,
    );
    let request = decode_traces(Encoding::Json, json.as_bytes()).unwrap();
    let span = first_span(&request);
    assert_eq!(hex::encode(&span.trace_id), "5b8efff798038103d269b633813fc60c");
    assert_eq!(hex::encode(&span.span_id), "eee19b7ec3c1b174");
    assert_eq!(span.parent_span_id, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(span.links[0].trace_id, [0xaa; 16]);
    assert_eq!(span.links[0].span_id, [0xbb; 8]);
}

#[test]
fn test_decode_traces_json_not_hex_is_decode_error() {
    let json = span_json(r#""traceId": "not-hex""#);
    assert!(matches!(decode_traces(Encoding::Json, json.as_bytes()), Err(OtlpError::Decode(_))));
}

#[test]
fn test_decode_traces_json_nested_values() {
    let json = span_json(
        r#""attributes": [
            {"key": "list", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": 1}]}}},
            {"key": "map", "value": {"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": false}}]}}},
            {"key": "raw", "value": {"bytesValue": "aGkhPw=="}},
            {"key": "empty_list", "value": {"arrayValue": {}}},
            {"key": "empty_map", "value": {"kvlistValue": {}}},
            {"key": "unset", "value": {}},
            {"key": "future", "value": {"someNewValue": 3}},
            {"key": "no_value"}
        ]"#,
    );
    let request = decode_traces(Encoding::Json, json.as_bytes()).unwrap();
    let values: Vec<_> = first_span(&request)
        .attributes
        .iter()
        .map(|attribute| attribute.value.as_ref().and_then(|value| value.value.clone()))
        .collect();
    use any_value::Value as V;
    let any = |value| AnyValue { value: Some(value) };
    assert_eq!(
        values[0],
        Some(V::ArrayValue(opentelemetry_proto::tonic::common::v1::ArrayValue {
            values: vec![any(V::StringValue("a".into())), any(V::IntValue(1))],
        }))
    );
    assert_eq!(
        values[1],
        Some(V::KvlistValue(opentelemetry_proto::tonic::common::v1::KeyValueList {
            values: vec![opentelemetry_proto::tonic::common::v1::KeyValue {
                key: "k".into(),
                value: Some(any(V::BoolValue(false))),
                key_strindex: 0,
            }],
        }))
    );
    assert_eq!(values[2], Some(V::BytesValue(b"hi!?".to_vec())));
    assert_eq!(values[3], Some(V::ArrayValue(Default::default())));
    assert_eq!(values[4], Some(V::KvlistValue(Default::default())));
    assert_eq!(&values[5..], &[None, None, None]);
}

#[test]
fn test_decode_traces_json_nulls_mean_default() {
    let json = span_json(
        r#""traceId": "5b8efff798038103d269b633813fc60c", "parentSpanId": null, "name": null,
           "attributes": null, "status": null, "startTimeUnixNano": null"#,
    );
    let request = decode_traces(Encoding::Json, json.as_bytes()).unwrap();
    let span = first_span(&request);
    assert!(span.parent_span_id.is_empty());
    assert_eq!(span.name, "");
    assert_eq!(span.start_time_unix_nano, 0);
}

fn first_attribute_of(span_fields: &str) -> Option<any_value::Value> {
    let request = decode_traces(Encoding::Json, span_json(span_fields).as_bytes()).unwrap();
    first_attribute(first_span(&request)).cloned()
}

#[test]
fn test_decode_traces_json_missing_key_is_empty_key() {
    let value = first_attribute_of(r#""attributes":[{"value":{"intValue":1}}]"#);
    assert_eq!(value, Some(any_value::Value::IntValue(1)));
}

#[test]
fn test_decode_traces_json_integers_as_strings_or_floats() {
    let json = span_json(
        r#""flags": "257", "droppedAttributesCount": "2", "kind": "2", "status": {"code": "2"},
           "startTimeUnixNano": 1.7e18, "endTimeUnixNano": 1700000000000000001.0"#,
    );
    let request = decode_traces(Encoding::Json, json.as_bytes()).unwrap();
    let span = first_span(&request);
    assert_eq!((span.flags, span.dropped_attributes_count, span.kind), (257, 2, 2));
    assert_eq!(span.status.as_ref().unwrap().code, 2);
    assert_eq!(span.start_time_unix_nano, 1_700_000_000_000_000_000);
    // An f64 cannot hold ...001 exactly; the nearest double is kept.
    assert_eq!(span.end_time_unix_nano, 1_700_000_000_000_000_000);
    let value = first_attribute_of(r#""attributes":[{"key":"n","value":{"intValue":3.0}}]"#);
    assert_eq!(value, Some(any_value::Value::IntValue(3)));
    let fractional = span_json(r#""attributes":[{"key":"n","value":{"intValue":3.5}}]"#);
    assert!(decode_traces(Encoding::Json, fractional.as_bytes()).is_err());
}

#[test]
fn test_decode_traces_json_long_bits_times() {
    // 1700000000000000000 = 0x1797_9cfe_362a_0000: high 0x17979cfe, low 0x362a0000.
    let json = span_json(
        r#""startTimeUnixNano": {"low": 908722176, "high": 395812094},
                            "endTimeUnixNano": {"low": -1, "high": 0}"#,
    );
    let request = decode_traces(Encoding::Json, json.as_bytes()).unwrap();
    let span = first_span(&request);
    assert_eq!(span.start_time_unix_nano, 1_700_000_000_000_000_000);
    assert_eq!(span.end_time_unix_nano, 0xffff_ffff);
}

#[test]
fn test_decode_traces_json_doubles_as_strings_and_special_values() {
    let double = |text: &str| match first_attribute_of(&format!(
        r#""attributes":[{{"key":"d","value":{{"doubleValue":{text}}}}}]"#
    )) {
        Some(any_value::Value::DoubleValue(double)) => double,
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(double("2"), 2.0);
    assert_eq!(double(r#""1.5""#), 1.5);
    assert!(double(r#""NaN""#).is_nan());
    assert_eq!(double(r#""Infinity""#), f64::INFINITY);
    assert_eq!(double(r#""-Infinity""#), f64::NEG_INFINITY);
    // Nested in a kvlist and an array, and in a log body.
    let value = first_attribute_of(
        r#""attributes":[{"key":"m","value":{"kvlistValue":{"values":[
            {"key":"x","value":{"arrayValue":{"values":[{"doubleValue":"NaN"}, {"stringValue":"s"}]}}}]}}}]"#,
    );
    let Some(any_value::Value::KvlistValue(list)) = value else { panic!("{value:?}") };
    let Some(any_value::Value::ArrayValue(array)) = list.values[0].value.clone().unwrap().value else {
        panic!("{list:?}")
    };
    assert!(matches!(array.values[0].value, Some(any_value::Value::DoubleValue(double)) if double.is_nan()));
    assert_eq!(array.values[1].value, Some(any_value::Value::StringValue("s".into())));
    let logs = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"doubleValue":"Infinity"}}]}]}]}"#;
    let request = decode_logs(Encoding::Json, logs.as_bytes()).unwrap();
    let body = request.resource_logs[0].scope_logs[0].log_records[0].body.clone().unwrap();
    assert_eq!(body.value, Some(any_value::Value::DoubleValue(f64::INFINITY)));
}

#[test]
fn test_decode_traces_json_url_safe_unpadded_bytes() {
    let value = first_attribute_of(r#""attributes":[{"key":"b","value":{"bytesValue":"-_8"}}]"#);
    assert_eq!(value, Some(any_value::Value::BytesValue(vec![0xfb, 0xff])));
    let value = first_attribute_of(r#""attributes":[{"key":"b","value":{"bytesValue":"aGk"}}]"#);
    assert_eq!(value, Some(any_value::Value::BytesValue(b"hi".to_vec())));
}

#[test]
fn test_decode_traces_json_duplicate_keys_last_wins() {
    let request = decode_traces(Encoding::Json, span_json(r#""name":"a","name":"b""#).as_bytes()).unwrap();
    assert_eq!(first_span(&request).name, "b");
}

#[test]
fn test_decode_traces_json_enum_names_are_refused() {
    // OTLP/JSON: "enums are integers only".
    let json = span_json(r#""kind":"SPAN_KIND_SERVER""#);
    assert!(matches!(decode_traces(Encoding::Json, json.as_bytes()), Err(OtlpError::Decode(_))));
}

#[test]
fn test_decode_logs_json() {
    let json = r#"{"resourceLogs":[{"resource":{"attributes":[]},"scopeLogs":[{"scope":{},
        "logRecords":[{"timeUnixNano":1700000000000000000,"observedTimeUnixNano":"1700000000000000001",
        "severityNumber":9,"severityText":"INFO","body":{"stringValue":"hello"},
        "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","flags":1,
        "eventName":"app.start","unknown":1}]}]}]}"#;
    let request = decode_logs(Encoding::Json, json.as_bytes()).unwrap();
    let record = &request.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(record.time_unix_nano, 1_700_000_000_000_000_000);
    assert_eq!(record.observed_time_unix_nano, 1_700_000_000_000_000_001);
    assert_eq!(record.severity_number, 9);
    assert_eq!(record.body.as_ref().unwrap().value, Some(any_value::Value::StringValue("hello".into())));
    assert_eq!(hex::encode(&record.trace_id), "5b8efff798038103d269b633813fc60c");
    assert_eq!(record.flags, 1);
    assert_eq!(record.event_name, "app.start");
}
