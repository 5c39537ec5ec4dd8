use serde_json::json;
use waggle_model::{EventKind, Value};

use super::*;

/// A segment as the Python SDK's Flask middleware sends it, with a captured subsegment holding a
/// nested subsegment with metadata and an annotation.
pub(crate) fn flask_segment() -> serde_json::Value {
    json!({
        "id": "53995c3f42cd8ad8", "name": "Cruddur", "trace_id": "1-58406520-a006649127e371903a2de979",
        "start_time": 1700000000.5, "end_time": 1700000000.75, "in_progress": false,
        "aws": {"xray": {"sdk": "X-Ray for Python", "sdk_version": "2.15.0"}},
        "service": {"runtime": "CPython", "version": "1.2.3"},
        "http": {"request": {"method": "GET", "url": "http://127.0.0.1:5000/api/activities/home",
                             "user_agent": "curl/8", "client_ip": "127.0.0.1"},
                 "response": {"status": 500, "content_length": 21}},
        "fault": true,
        "cause": {"working_directory": "/app", "exceptions": [
            {"id": "0123456789abcdef", "type": "KeyError", "message": "'x'",
             "stack": [{"path": "app.py", "line": 10, "label": "home"}]}]},
        "annotations": {"user_id": "andrew", "results": 3, "cached": false},
        "user": "andrewbrown",
        "subsegments": [{
            "id": "70de5b6f19ff9a0a", "name": "activities_home", "start_time": 1700000000.55,
            "end_time": 1700000000.7, "namespace": "local", "type": "subsegment",
            "trace_id": "1-58406520-a006649127e371903a2de979", "parent_id": "53995c3f42cd8ad8",
            "subsegments": [{
                "id": "70de5b6f19ff9a0b", "name": "mock-data", "start_time": 1700000000.6,
                "end_time": 1700000000.65, "namespace": "local",
                "metadata": {"default": {"now": "2023-11-14T22:13:20", "results-size": 3}},
                "annotations": {"dataset": "mock"}
            }, {
                "id": "70de5b6f19ff9a0c", "name": "cruddur@db", "start_time": 1700000000.66,
                "end_time": 1700000000.69, "namespace": "remote",
                "sql": {"sanitized_query": "SELECT 1", "database_type": "PostgreSQL", "user": "app"}
            }]
        }]
    })
}

fn convert(document: &serde_json::Value) -> Result<ConvertedDocument, DocumentError> {
    document_to_events(
        &document.to_string(),
        &ConvertContext { access_key_id: Some("AKIDEXAMPLE"), service_of: &|_| None },
    )
}

#[test]
fn test_segment_and_subsegments_become_spans_of_one_trace() {
    let converted = convert(&flask_segment()).unwrap();
    let spans: Vec<_> = converted.events.iter().filter(|event| event.kind == EventKind::Span).collect();
    assert_eq!(spans.len(), 4);
    let trace = TraceId::from_hex("58406520a006649127e371903a2de979").unwrap();
    assert!(converted.events.iter().all(|event| event.trace_id == Some(trace) && event.dataset == "Cruddur"));
    let segment = spans[0];
    assert_eq!(segment.name(), "Cruddur");
    assert_eq!(segment.time_unix_nano, 1_700_000_000_500_000_000);
    assert_eq!(segment.duration_nano, 250_000_000);
    assert_eq!(segment.parent_id, None);
    assert_eq!(segment.str_field("span.kind"), "server");
    assert_eq!(segment.field("http.response.status_code"), Some(&Value::Int(500)));
    assert_eq!(segment.str_field("url.full"), "http://127.0.0.1:5000/api/activities/home");
    assert_eq!(segment.field("annotation.results"), Some(&Value::Int(3)));
    assert_eq!(segment.field("annotation.cached"), Some(&Value::Bool(false)));
    assert_eq!(segment.field("status_code"), Some(&Value::Int(2)));
    assert_eq!(segment.str_field("status_message"), "'x'");
    assert_eq!(segment.field("xray.fault"), Some(&Value::Bool(true)));
    assert_eq!(segment.str_field("enduser.id"), "andrewbrown");
    assert_eq!(segment.str_field("service.version"), "1.2.3");
    assert_eq!(segment.str_field("library.name"), "X-Ray for Python");
    assert_eq!(segment.str_field(names::ACCESS_KEY_ID), "AKIDEXAMPLE");
    assert!(segment.str_field(names::DOCUMENT).contains("\"activities_home\""));
    assert_eq!(converted.segment, (SpanId::from_hex("53995c3f42cd8ad8").unwrap(), "Cruddur".to_owned()));

    let mock = spans.iter().find(|span| span.name() == "mock-data").unwrap();
    assert_eq!(mock.parent_id, SpanId::from_hex("70de5b6f19ff9a0a").ok());
    assert_eq!(mock.str_field("annotation.dataset"), "mock");
    let metadata: serde_json::Value = serde_json::from_str(mock.str_field(names::METADATA)).unwrap();
    assert_eq!(metadata["default"]["results-size"], 3);
    assert_eq!(mock.str_field("span.kind"), "internal");
    assert!(mock.field(names::DOCUMENT).is_none());
    let sql = spans.iter().find(|span| span.name() == "cruddur@db").unwrap();
    assert_eq!(sql.str_field("span.kind"), "client");
    assert_eq!(sql.str_field("db.query.text"), "SELECT 1");

    let exception = converted.events.iter().find(|event| event.kind == EventKind::SpanEvent).unwrap();
    assert_eq!(exception.parent_id, segment.span_id);
    assert_eq!(exception.str_field("exception.type"), "KeyError");
    assert_eq!(exception.str_field("exception.stacktrace"), "  at home (app.py:10)\n");
}

#[test]
fn test_in_progress_segment_has_no_end() {
    let document = json!({"id": "53995c3f42cd8ad8", "name": "a", "trace_id": "1-58406520-a006649127e371903a2de979",
                          "start_time": 1700000000.0, "in_progress": true});
    let converted = convert(&document).unwrap();
    assert_eq!(converted.events[0].duration_nano, 0);
    assert_eq!(converted.events[0].field(names::IN_PROGRESS), Some(&Value::Bool(true)));
}

#[test]
fn test_subsegment_sent_alone_takes_its_segments_service() {
    let document = json!({"type": "subsegment", "id": "70de5b6f19ff9a0a", "name": "s", "parent_id": "53995c3f42cd8ad8",
                          "trace_id": "1-58406520-a006649127e371903a2de979", "start_time": 1.0, "end_time": 2.0});
    let lookup = |id: SpanId| (id == SpanId::from_hex("53995c3f42cd8ad8").unwrap()).then(|| "Cruddur".to_owned());
    let context = ConvertContext { access_key_id: None, service_of: &lookup };
    let converted = document_to_events(&document.to_string(), &context).unwrap();
    assert_eq!(converted.events[0].dataset, "Cruddur");
    assert_eq!(converted.events[0].parent_id, SpanId::from_hex("53995c3f42cd8ad8").ok());
    let unknown =
        document_to_events(&document.to_string(), &ConvertContext { access_key_id: None, service_of: &|_| None });
    assert_eq!(unknown.unwrap().events[0].dataset, UNKNOWN_SERVICE);
}

#[test]
fn test_invalid_documents_say_why() {
    let base = flask_segment();
    let cases: [(&str, serde_json::Value); 6] = [
        ("trace_id", json!({"id": "53995c3f42cd8ad8", "name": "a", "start_time": 1.0, "end_time": 2.0})),
        (
            "name is missing",
            json!({"id": "53995c3f42cd8ad8", "trace_id": base["trace_id"], "start_time": 1.0, "end_time": 2.0}),
        ),
        ("end_time", json!({"id": "53995c3f42cd8ad8", "name": "a", "trace_id": base["trace_id"], "start_time": 1.0})),
        (
            "segment id",
            json!({"id": "xyz", "name": "a", "trace_id": base["trace_id"], "start_time": 1.0, "end_time": 2.0}),
        ),
        (
            "needs parent_id",
            json!({"type": "subsegment", "id": "53995c3f42cd8ad8", "name": "a", "trace_id": base["trace_id"], "start_time": 1.0, "end_time": 2.0}),
        ),
        (
            "subsegment",
            json!({"id": "53995c3f42cd8ad8", "name": "a", "trace_id": base["trace_id"], "start_time": 1.0, "end_time": 2.0,
                               "subsegments": [{"id": "70de5b6f19ff9a0a", "start_time": 1.0, "end_time": 2.0}]}),
        ),
    ];
    for (expected, document) in cases {
        let err = convert(&document).unwrap_err();
        assert!(err.message.contains(expected), "{expected}: {}", err.message);
    }
    assert!(convert(&json!([1])).unwrap_err().message.contains("object"));
}
