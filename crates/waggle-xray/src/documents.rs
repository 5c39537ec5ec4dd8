//! The segment documents of a trace, for BatchGetTraces. X-Ray rows give back the documents they
//! came from (subsegments sent on their own are put back into their segment); OpenTelemetry spans
//! are written as documents: a segment per service entry, its other spans as nested subsegments.

use serde_json::{Map, Value as Json, json};
use waggle_model::{Origin, SpanId};

use crate::ids::format_trace_id;
use crate::names;
use crate::read::{Span, Trace};

/// `[{"Id", "Document"}]` of a trace, segments in start order.
pub(crate) fn trace_segments(trace: &Trace) -> Vec<Json> {
    let mut documents: Vec<Map<String, Json>> = Vec::new();
    let mut loose: Vec<Map<String, Json>> = Vec::new();
    for span in &trace.spans {
        let Some(text) = span.event.field(names::DOCUMENT).and_then(|value| value.as_str()) else {
            if !span.is_xray() && span.segment {
                documents.push(otlp_document(trace, span));
            }
            continue;
        };
        let Ok(Json::Object(document)) = serde_json::from_str::<Json>(text) else { continue };
        if document.get("type").and_then(Json::as_str) == Some("subsegment") {
            loose.push(document);
        } else {
            documents.push(document);
        }
    }
    // Put subsegments sent on their own under their parent, wherever it is.
    let mut unplaced = Vec::new();
    for subsegment in loose {
        let parent = subsegment.get("parent_id").and_then(Json::as_str).unwrap_or_default().to_owned();
        let mut subsegment = Some(subsegment);
        for document in documents.iter_mut() {
            if let Some(placed) = subsegment.take() {
                subsegment = insert_under(document, &parent, placed);
            }
        }
        unplaced.extend(subsegment);
    }
    documents.extend(unplaced);
    documents
        .into_iter()
        .map(|document| {
            let id = document.get("id").cloned().unwrap_or(Json::Null);
            json!({"Id": id, "Document": Json::Object(document).to_string()})
        })
        .collect()
}

/// Inserts `subsegment` under the entity `parent` of `document`; gives it back if not found.
fn insert_under(
    document: &mut Map<String, Json>,
    parent: &str,
    subsegment: Map<String, Json>,
) -> Option<Map<String, Json>> {
    if document.get("id").and_then(Json::as_str) == Some(parent) {
        let children = document.entry("subsegments").or_insert_with(|| Json::Array(Vec::new()));
        if let Json::Array(children) = children {
            let id = subsegment.get("id").cloned();
            children.retain(|child| child.get("id") != id.as_ref());
            children.push(Json::Object(subsegment));
            return None;
        }
        return Some(subsegment);
    }
    let mut subsegment = Some(subsegment);
    if let Some(Json::Array(children)) = document.get_mut("subsegments") {
        for child in children.iter_mut().filter_map(Json::as_object_mut) {
            if let Some(placed) = subsegment.take() {
                subsegment = insert_under(child, parent, placed);
            }
        }
    }
    subsegment
}

/// A document for an OpenTelemetry span and, nested, its spans of the same service.
fn otlp_document(trace: &Trace, span: &Span) -> Map<String, Json> {
    let mut document = entity(span, true);
    document.insert("trace_id".into(), Json::from(format_trace_id(trace.id)));
    if let Some(parent) = span.event.parent_id {
        document.insert("parent_id".into(), Json::from(parent.to_hex()));
    }
    if let Some(origin) = span.origin() {
        document.insert("origin".into(), Json::from(origin));
    }
    let subsegments = children(trace, span.id());
    if !subsegments.is_empty() {
        document.insert("subsegments".into(), Json::Array(subsegments));
    }
    document
}

fn children(trace: &Trace, parent: SpanId) -> Vec<Json> {
    trace
        .spans
        .iter()
        .filter(|child| !child.segment && child.event.parent_id == Some(parent))
        .map(|child| {
            let mut document = entity(child, false);
            let nested = children(trace, child.id());
            if !nested.is_empty() {
                document.insert("subsegments".into(), Json::Array(nested));
            }
            Json::Object(document)
        })
        .collect()
}

/// The fields every (sub)segment document has.
fn entity(span: &Span, segment: bool) -> Map<String, Json> {
    let mut document = Map::new();
    document.insert("id".into(), Json::from(span.id().to_hex()));
    let name = if segment { span.service.as_str() } else { span.event.name() };
    document.insert("name".into(), Json::from(name));
    document.insert("start_time".into(), Json::from(span.start_seconds()));
    if span.in_progress() {
        document.insert("in_progress".into(), Json::from(true));
    } else {
        document.insert("end_time".into(), Json::from(span.end_seconds()));
    }
    if !segment && span.calls_out() {
        document.insert("namespace".into(), Json::from("remote"));
    }
    let (fault, error, throttle) = span.flags();
    for (key, set) in [("fault", fault), ("error", error), ("throttle", throttle)] {
        if set {
            document.insert(key.into(), Json::from(true));
        }
    }
    let mut request = Map::new();
    for (key, value) in [
        ("method", span.http_method().map(str::to_owned)),
        ("url", span.http_url()),
        ("user_agent", span.user_agent().map(str::to_owned)),
        ("client_ip", span.client_ip().map(str::to_owned)),
    ] {
        if let Some(value) = value {
            request.insert(key.into(), Json::from(value));
        }
    }
    let mut http = Map::new();
    if !request.is_empty() {
        http.insert("request".into(), Json::Object(request));
    }
    if let Some(status) = span.http_status() {
        http.insert("response".into(), json!({"status": status}));
    }
    if !http.is_empty() {
        document.insert("http".into(), Json::Object(http));
    }
    let annotations: Map<String, Json> =
        span.annotations().map(|(key, value)| (key.to_owned(), value.to_json())).collect();
    if !annotations.is_empty() {
        document.insert("annotations".into(), Json::Object(annotations));
    }
    if let Some(user) = span.user() {
        document.insert("user".into(), Json::from(user));
    }
    let attributes: Map<String, Json> = span
        .event
        .fields
        .iter()
        .filter(|field| field.origin == Origin::Attribute && !field.key.starts_with(names::ANNOTATION_PREFIX))
        .map(|field| (field.key.clone(), field.value.to_json()))
        .collect();
    if !attributes.is_empty() {
        document.insert("metadata".into(), json!({"default": attributes}));
    }
    if !span.exceptions.is_empty() {
        let exceptions: Vec<Json> = span
            .exceptions
            .iter()
            .map(|exception| {
                json!({"type": exception.str_field("exception.type"), "message": exception.str_field("exception.message")})
            })
            .collect();
        document.insert("cause".into(), json!({"exceptions": exceptions}));
    }
    document
}
