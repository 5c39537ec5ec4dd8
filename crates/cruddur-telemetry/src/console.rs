//! Readable spans on stdout, like the bootcamp's `SimpleSpanProcessor(ConsoleSpanExporter())`.
//!
//! Each finished span is printed as one indented JSON object with the same keys as Python's
//! `ConsoleSpanExporter` (ids as plain hex), so `docker logs` shows what would be sent to Honeycomb.

use std::io::Write;
use std::time::SystemTime;

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use serde_json::{Map, Value as Json, json};

/// Prints spans to stdout; register it with a simple (synchronous) span processor.
#[derive(Debug, Default)]
pub struct ConsoleExporter {
    resource: Json,
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut out = std::io::stdout().lock();
        for span in &batch {
            let text = serde_json::to_string_pretty(&span_json(span, &self.resource))
                .map_err(|error| OTelSdkError::InternalFailure(error.to_string()))?;
            writeln!(out, "{text}").map_err(|error| OTelSdkError::InternalFailure(error.to_string()))?;
        }
        out.flush().map_err(|error| OTelSdkError::InternalFailure(error.to_string()))
    }

    fn set_resource(&mut self, resource: &Resource) {
        let attributes: Map<String, Json> =
            resource.iter().map(|(key, value)| (key.to_string(), value_json(value))).collect();
        self.resource = json!({ "attributes": attributes, "schema_url": resource.schema_url().unwrap_or("") });
    }
}

/// One span in the shape of Python's `ReadableSpan.to_json()`.
pub(crate) fn span_json(span: &SpanData, resource: &Json) -> Json {
    let context = &span.span_context;
    let parent_id =
        (span.parent_span_id != opentelemetry::trace::SpanId::INVALID).then(|| span.parent_span_id.to_string());
    let (status_code, description) = match &span.status {
        Status::Unset => ("UNSET", ""),
        Status::Ok => ("OK", ""),
        Status::Error { description } => ("ERROR", description.as_ref()),
    };
    let events: Vec<Json> = span
        .events
        .iter()
        .map(|event| {
            json!({
                "name": event.name,
                "timestamp": timestamp(event.timestamp),
                "attributes": attributes_json(&event.attributes),
            })
        })
        .collect();
    let links: Vec<Json> = span
        .links
        .iter()
        .map(|link| {
            json!({
                "context": {
                    "trace_id": link.span_context.trace_id().to_string(),
                    "span_id": link.span_context.span_id().to_string(),
                },
                "attributes": attributes_json(&link.attributes),
            })
        })
        .collect();
    json!({
        "name": span.name,
        "context": {
            "trace_id": context.trace_id().to_string(),
            "span_id": context.span_id().to_string(),
            "trace_state": context.trace_state().header(),
        },
        "kind": kind_name(&span.span_kind),
        "parent_id": parent_id,
        "start_time": timestamp(span.start_time),
        "end_time": timestamp(span.end_time),
        "status": { "status_code": status_code, "description": description },
        "attributes": attributes_json(&span.attributes),
        "events": events,
        "links": links,
        "resource": resource,
        "scope": { "name": span.instrumentation_scope.name() },
    })
}

fn kind_name(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "SpanKind.CLIENT",
        SpanKind::Server => "SpanKind.SERVER",
        SpanKind::Producer => "SpanKind.PRODUCER",
        SpanKind::Consumer => "SpanKind.CONSUMER",
        SpanKind::Internal => "SpanKind.INTERNAL",
    }
}

fn timestamp(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn attributes_json(attributes: &[KeyValue]) -> Json {
    let map: Map<String, Json> =
        attributes.iter().map(|pair| (pair.key.to_string(), value_json(&pair.value))).collect();
    Json::Object(map)
}

fn value_json(value: &Value) -> Json {
    match value {
        Value::Bool(flag) => json!(flag),
        Value::I64(number) => json!(number),
        Value::F64(number) => json!(number),
        Value::String(text) => json!(text.as_str()),
        Value::Array(Array::Bool(items)) => json!(items),
        Value::Array(Array::I64(items)) => json!(items),
        Value::Array(Array::F64(items)) => json!(items),
        Value::Array(Array::String(items)) => json!(items.iter().map(|item| item.as_str()).collect::<Vec<_>>()),
        // `Value` is non-exhaustive: anything newer is shown as text rather than dropped.
        other => json!(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    #[test]
    fn test_span_json_has_python_console_keys() {
        let mut events = SpanEvents::default();
        events.events.push(opentelemetry::trace::Event::new(
            "exception",
            SystemTime::UNIX_EPOCH,
            vec![KeyValue::new("exception.message", "boom")],
            0,
        ));
        let span = SpanData {
            span_context: SpanContext::new(
                TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap(),
                SpanId::from_hex("eee19b7ec3c1b174").unwrap(),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            parent_span_is_remote: false,
            span_kind: SpanKind::Server,
            name: "GET /api/activities/home".into(),
            start_time: SystemTime::UNIX_EPOCH,
            end_time: SystemTime::UNIX_EPOCH,
            attributes: vec![KeyValue::new("app.result_length", 3_i64), KeyValue::new("http.route", "/x")],
            dropped_attributes_count: 0,
            events,
            links: SpanLinks::default(),
            status: Status::error("boom"),
            instrumentation_scope: InstrumentationScope::builder("cruddur").build(),
        };
        let out = span_json(&span, &json!({}));
        assert_eq!(out["context"]["trace_id"], "5b8efff798038103d269b633813fc60c");
        assert_eq!(out["parent_id"], "00f067aa0ba902b7");
        assert_eq!(out["kind"], "SpanKind.SERVER");
        assert_eq!(out["attributes"]["app.result_length"], 3);
        assert_eq!(out["status"]["status_code"], "ERROR");
        assert_eq!(out["events"][0]["attributes"]["exception.message"], "boom");
        assert_eq!(out["start_time"], "1970-01-01T00:00:00.000000Z");
    }
}
