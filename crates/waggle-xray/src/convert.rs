//! Segment documents to events: a segment and each of its subsegments become a span row of the
//! traces table, in the dataset of the segment's name (X-Ray's service), with the X-Ray trace id
//! mapped to its 128-bit form. Annotations become `annotation.<key>` columns, metadata is kept as
//! JSON, the `http`, `aws` and `sql` blocks become OpenTelemetry semantic-convention attributes,
//! `fault`/`error` set the span status, and every exception of a `cause` is an `exception` span
//! event. The document as sent is kept on its top row for BatchGetTraces.
//!
//! ```text
//! document ──validate ids, name, times──> segment row + subsegment rows (parent = enclosing id)
//!                                          + exception rows (parent = their (sub)segment)
//! ```

use serde_json::{Map, Value as Json};
use waggle_model::{Event, EventKind, Field, Origin, SpanId, TraceId, Value, names as model_names};

use crate::ids::{parse_segment_id, parse_trace_id};
use crate::names;

/// Longest name X-Ray accepts.
const MAX_NAME_CHARS: usize = 200;
/// Subsegments nest at most this deep (the daemon's documents are 64 KB, so this is generous).
const MAX_DEPTH: usize = 64;
/// Dataset of a subsegment sent on its own whose segment was not seen.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// What a conversion needs besides the document.
pub struct ConvertContext<'a> {
    /// The AWS access key the request was signed with, recorded on top rows.
    pub access_key_id: Option<&'a str>,
    /// The service (segment name) of a segment id seen earlier, for subsegments sent on their own.
    pub service_of: &'a dyn Fn(SpanId) -> Option<String>,
}

/// A converted document.
#[derive(Debug)]
pub struct ConvertedDocument {
    /// The rows to store.
    pub events: Vec<Event>,
    /// The document's own id and its service, for [`ConvertContext::service_of`] later.
    pub segment: (SpanId, String),
}

/// Why a document was refused: its id (when readable) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentError {
    /// The `id` of the document, or "" when it had none.
    pub id: String,
    /// What is wrong.
    pub message: String,
}

/// Converts one segment document (a segment, or a subsegment sent on its own).
pub fn document_to_events(text: &str, context: &ConvertContext<'_>) -> Result<ConvertedDocument, DocumentError> {
    let parsed: Json = serde_json::from_str(text)
        .map_err(|err| DocumentError { id: String::new(), message: format!("segment document is not JSON: {err}") })?;
    let Json::Object(document) = parsed else {
        return Err(DocumentError { id: String::new(), message: "segment document is not a JSON object".into() });
    };
    let id = document.get("id").and_then(Json::as_str).unwrap_or_default().to_owned();
    let fail = |message: String| DocumentError { id: id.clone(), message };
    let trace_id = parse_trace_id(str_of(&document, "trace_id").ok_or_else(|| fail("trace_id is missing".into()))?)
        .map_err(fail)?;
    let is_subsegment = str_of(&document, "type") == Some("subsegment");
    let (service, parent_id) = if is_subsegment {
        let parent = str_of(&document, "parent_id")
            .ok_or_else(|| fail("a subsegment sent on its own needs parent_id".into()))?;
        let parent = parse_segment_id(parent).map_err(fail)?;
        ((context.service_of)(parent).unwrap_or_else(|| UNKNOWN_SERVICE.to_owned()), Some(parent))
    } else {
        let parent = str_of(&document, "parent_id").map(parse_segment_id).transpose().map_err(fail)?;
        (str_of(&document, "name").unwrap_or_default().to_owned(), parent)
    };
    let mut converter = Converter { trace_id, service: &service, events: Vec::new() };
    let own_id = converter.entity(&document, parent_id, !is_subsegment, 0).map_err(fail)?;
    let top = &mut converter.events[0];
    top.fields.push(Field::new(names::DOCUMENT, text.trim(), Origin::Derived));
    if let Some(key) = context.access_key_id {
        top.fields.push(Field::new(names::ACCESS_KEY_ID, key, Origin::Derived));
    }
    Ok(ConvertedDocument { events: converter.events, segment: (own_id, service) })
}

fn str_of<'a>(object: &'a Map<String, Json>, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Json::as_str)
}

fn object_of<'a>(object: &'a Map<String, Json>, key: &str) -> Option<&'a Map<String, Json>> {
    object.get(key).and_then(Json::as_object)
}

fn flag(object: &Map<String, Json>, key: &str) -> bool {
    object.get(key).and_then(Json::as_bool).unwrap_or(false)
}

/// Seconds since the epoch (float) to nanoseconds, rounded to the microsecond: an f64 of epoch
/// seconds holds microseconds exactly, nanoseconds not (SDKs send microseconds at most).
pub(crate) fn seconds_to_nanos(seconds: f64) -> i64 {
    ((seconds * 1e6).round() as i64).saturating_mul(1000)
}

/// A scalar JSON value as a typed field value; objects and arrays are kept as JSON text.
fn json_to_value(json: &Json) -> Option<Value> {
    Some(match json {
        Json::Null => return None,
        Json::Bool(flag) => Value::Bool(*flag),
        Json::Number(number) => match number.as_i64() {
            Some(int) => Value::Int(int),
            None => Value::Float(number.as_f64()?),
        },
        Json::String(text) => Value::Str(text.clone()),
        Json::Array(items) => Value::Array(items.iter().filter_map(json_to_value).collect()),
        Json::Object(_) => Value::Str(json.to_string()),
    })
}

struct Converter<'a> {
    trace_id: TraceId,
    service: &'a str,
    events: Vec<Event>,
}

impl Converter<'_> {
    /// Converts a (sub)segment and, recursively, its subsegments; returns its id.
    fn entity(
        &mut self,
        entity: &Map<String, Json>,
        parent_id: Option<SpanId>,
        is_segment: bool,
        depth: usize,
    ) -> Result<SpanId, String> {
        if depth > MAX_DEPTH {
            return Err(format!("subsegments nest deeper than {MAX_DEPTH} levels"));
        }
        let what = if is_segment { "segment" } else { "subsegment" };
        let id = parse_segment_id(str_of(entity, "id").ok_or_else(|| format!("{what} id is missing"))?)?;
        let name = str_of(entity, "name").filter(|name| !name.trim().is_empty());
        let name = name.ok_or_else(|| format!("{what} {id}: name is missing"))?;
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(format!("{what} {id}: name is longer than {MAX_NAME_CHARS} characters"));
        }
        let start = entity.get("start_time").and_then(Json::as_f64);
        let start = start.ok_or_else(|| format!("{what} {id}: start_time (epoch seconds) is missing"))?;
        let in_progress = flag(entity, "in_progress");
        let end = match entity.get("end_time").and_then(Json::as_f64) {
            Some(end) => end,
            None if in_progress => start,
            None => return Err(format!("{what} {id}: needs end_time or \"in_progress\": true")),
        };
        let start_nanos = seconds_to_nanos(start);
        let end_nanos = seconds_to_nanos(end).max(start_nanos);

        let mut fields = Vec::new();
        let kind = span_kind(entity, is_segment);
        fields.push(Field::new(model_names::NAME, name, Origin::Derived));
        fields.push(Field::new(model_names::SPAN_KIND, kind, Origin::Derived));
        fields.push(Field::new(names::TYPE, what, Origin::Derived));
        fields.push(Field::new(model_names::SERVICE_NAME, self.service, Origin::Resource));
        let (fault, error) = (flag(entity, "fault"), flag(entity, "error"));
        let exceptions = exceptions(entity);
        let status_message = exceptions.first().map(|exception| exception.message.clone());
        fields.push(Field::new(model_names::STATUS_CODE, if fault || error { 2 } else { 0 }, Origin::Derived));
        if fault || error {
            fields.push(Field::new(model_names::ERROR, true, Origin::Derived));
            let message = status_message.filter(|message| !message.is_empty());
            let message = message.unwrap_or_else(|| if fault { "fault" } else { "error" }.to_owned());
            fields.push(Field::new(model_names::STATUS_MESSAGE, message, Origin::Derived));
        }
        for (key, field) in [("fault", names::FAULT), ("error", names::ERROR), ("throttle", names::THROTTLE)] {
            if flag(entity, key) {
                fields.push(Field::new(field, true, Origin::Derived));
            }
        }
        if in_progress {
            fields.push(Field::new(names::IN_PROGRESS, true, Origin::Derived));
        }
        if flag(entity, "inferred") {
            fields.push(Field::new(names::INFERRED, true, Origin::Derived));
        }
        if let Some(namespace) = str_of(entity, "namespace") {
            fields.push(Field::new(names::NAMESPACE, namespace, Origin::Derived));
        }
        if let Some(origin) = str_of(entity, "origin") {
            fields.push(Field::new(names::ORIGIN, origin, Origin::Resource));
            fields.push(Field::new("cloud.provider", "aws", Origin::Resource));
        }
        if let Some(version) = object_of(entity, "service").and_then(|service| str_of(service, "version")) {
            fields.push(Field::new("service.version", version, Origin::Resource));
        }
        if let Some(user) = str_of(entity, "user") {
            fields.push(Field::new(names::USER, user, Origin::Attribute));
        }
        if let Some(arn) = str_of(entity, "resource_arn") {
            fields.push(Field::new("cloud.resource_id", arn, Origin::Resource));
        }
        if let Some(Json::Array(ids)) = entity.get("precursor_ids") {
            let ids = ids.iter().filter_map(Json::as_str).map(Value::from).collect();
            fields.push(Field::new(names::PRECURSOR_IDS, Value::Array(ids), Origin::Attribute));
        }
        if let Some(http) = object_of(entity, "http") {
            http_fields(http, &mut fields);
        }
        if let Some(aws) = object_of(entity, "aws") {
            aws_fields(aws, &mut fields);
        }
        if let Some(sql) = object_of(entity, "sql") {
            sql_fields(sql, &mut fields);
        }
        if let Some(annotations) = object_of(entity, "annotations") {
            for (key, value) in annotations {
                if let Some(value) = json_to_value(value).filter(|value| !matches!(value, Value::Array(_))) {
                    fields.push(Field::new(format!("{}{key}", names::ANNOTATION_PREFIX), value, Origin::Attribute));
                }
            }
        }
        if let Some(metadata) = object_of(entity, "metadata").filter(|metadata| !metadata.is_empty()) {
            fields.push(Field::new(names::METADATA, Json::Object(metadata.clone()).to_string(), Origin::Attribute));
        }
        match entity.get("cause") {
            Some(Json::String(cause_id)) => {
                fields.push(Field::new(names::CAUSE_ID, cause_id.as_str(), Origin::Attribute))
            }
            Some(Json::Object(cause)) => {
                if let Some(directory) = str_of(cause, "working_directory") {
                    fields.push(Field::new(names::CAUSE_WORKING_DIRECTORY, directory, Origin::Attribute));
                }
            }
            _ => {}
        }
        if let Some(sdk) = object_of(entity, "aws").and_then(|aws| object_of(aws, "xray")) {
            if let Some(name) = str_of(sdk, "sdk") {
                fields.push(Field::new(model_names::LIBRARY_NAME, name, Origin::Derived));
            }
            if let Some(version) = str_of(sdk, "sdk_version") {
                fields.push(Field::new(model_names::LIBRARY_VERSION, version, Origin::Derived));
            }
        }
        dedup_fields(&mut fields);
        self.events.push(Event {
            kind: EventKind::Span,
            dataset: self.service.to_owned(),
            time_unix_nano: start_nanos,
            duration_nano: end_nanos - start_nanos,
            trace_id: Some(self.trace_id),
            span_id: Some(id),
            parent_id,
            fields,
        });
        for exception in exceptions {
            self.events.push(exception.into_event(self.service, self.trace_id, id, end_nanos));
        }
        if let Some(Json::Array(subsegments)) = entity.get("subsegments") {
            for subsegment in subsegments {
                let subsegment =
                    subsegment.as_object().ok_or_else(|| format!("a subsegment of {id} is not an object"))?;
                self.entity(subsegment, Some(id), false, depth + 1)?;
            }
        }
        Ok(id)
    }
}

/// Later fields win over earlier ones with the same key (keys are unique in an event).
fn dedup_fields(fields: &mut Vec<Field>) {
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<Field> = fields.drain(..).rev().filter(|field| seen.insert(field.key.clone())).collect();
    kept.reverse();
    *fields = kept;
}

/// A segment serves a request; a subsegment in the `aws` or `remote` namespace calls out.
fn span_kind(entity: &Map<String, Json>, is_segment: bool) -> &'static str {
    if is_segment {
        return "server";
    }
    match str_of(entity, "namespace") {
        Some("aws" | "remote") => "client",
        _ => "internal",
    }
}

fn http_fields(http: &Map<String, Json>, fields: &mut Vec<Field>) {
    if let Some(request) = object_of(http, "request") {
        for (key, field) in [
            ("method", "http.request.method"),
            ("url", "url.full"),
            ("user_agent", "user_agent.original"),
            ("client_ip", "client.address"),
        ] {
            if let Some(value) = str_of(request, key) {
                fields.push(Field::new(field, value, Origin::Attribute));
            }
        }
        if let Some(forwarded) = request.get("x_forwarded_for").and_then(Json::as_bool) {
            fields.push(Field::new(names::HTTP_X_FORWARDED_FOR, forwarded, Origin::Attribute));
        }
        if let Some(traced) = request.get("traced").and_then(Json::as_bool) {
            fields.push(Field::new(names::HTTP_TRACED, traced, Origin::Attribute));
        }
    }
    if let Some(response) = object_of(http, "response") {
        if let Some(status) = response.get("status").and_then(Json::as_i64) {
            fields.push(Field::new("http.response.status_code", status, Origin::Attribute));
        }
        if let Some(length) = response.get("content_length").and_then(Json::as_i64) {
            fields.push(Field::new("http.response.body.size", length, Origin::Attribute));
        }
    }
}

fn aws_fields(aws: &Map<String, Json>, fields: &mut Vec<Field>) {
    let mut put = |key: &str, value: Option<&Json>, origin: Origin| {
        if let Some(value) = value.and_then(json_to_value) {
            fields.push(Field::new(key, value, origin));
        }
    };
    put("cloud.account.id", aws.get("account_id"), Origin::Resource);
    if let Some(operation) = aws.get("operation") {
        put("rpc.system", Some(&Json::from("aws-api")), Origin::Attribute);
        put("rpc.method", Some(operation), Origin::Attribute);
    }
    put("cloud.region", aws.get("region"), Origin::Attribute);
    put("aws.request_id", aws.get("request_id"), Origin::Attribute);
    put("aws.sqs.queue.url", aws.get("queue_url"), Origin::Attribute);
    if let Some(table) = aws.get("table_name") {
        put("aws.dynamodb.table_names", Some(&Json::Array(vec![table.clone()])), Origin::Attribute);
    }
    let nested: [(&str, &[(&str, &str)]); 4] = [
        (
            "ec2",
            &[
                ("instance_id", "host.id"),
                ("availability_zone", "cloud.availability_zone"),
                ("instance_size", "host.type"),
                ("ami_id", "host.image.id"),
            ],
        ),
        (
            "ecs",
            &[
                ("container", "container.name"),
                ("container_id", "container.id"),
                ("container_arn", "aws.ecs.container.arn"),
            ],
        ),
        ("eks", &[("pod", "k8s.pod.name"), ("cluster_name", "k8s.cluster.name"), ("container_id", "container.id")]),
        (
            "elastic_beanstalk",
            &[
                ("environment_name", "deployment.environment.name"),
                ("version_label", "aws.elastic_beanstalk.version_label"),
                ("deployment_id", "aws.elastic_beanstalk.deployment_id"),
            ],
        ),
    ];
    for (block, keys) in nested {
        if let Some(block) = object_of(aws, block) {
            for (key, field) in keys {
                put(field, block.get(*key), Origin::Resource);
            }
        }
    }
    if let Some(sdk) = object_of(aws, "xray") {
        put("telemetry.sdk.name", sdk.get("sdk"), Origin::Resource);
        put("telemetry.sdk.version", sdk.get("sdk_version"), Origin::Resource);
    }
    if let Some(Json::Array(groups)) = aws.get("cloudwatch_logs") {
        let names: Vec<Json> = groups.iter().filter_map(|group| group.get("log_group").cloned()).collect();
        if !names.is_empty() {
            put("aws.log.group.names", Some(&Json::Array(names)), Origin::Resource);
        }
    }
}

fn sql_fields(sql: &Map<String, Json>, fields: &mut Vec<Field>) {
    for (key, field) in [
        ("sanitized_query", "db.query.text"),
        ("database_type", "db.system"),
        ("user", "db.user"),
        ("connection_string", "db.connection_string"),
        ("url", "xray.sql.url"),
        ("database_version", "xray.sql.database_version"),
        ("driver_version", "xray.sql.driver_version"),
        ("preparation", "xray.sql.preparation"),
    ] {
        if let Some(value) = str_of(sql, key) {
            fields.push(Field::new(field, value, Origin::Attribute));
        }
    }
}

/// One exception of a `cause`.
struct Exception {
    id: Option<String>,
    kind: String,
    message: String,
    stacktrace: String,
    remote: bool,
}

impl Exception {
    fn into_event(self, service: &str, trace_id: TraceId, span_id: SpanId, time: i64) -> Event {
        let mut fields = vec![Field::new(model_names::NAME, "exception", Origin::Derived)];
        fields.push(Field::new("exception.type", self.kind, Origin::Attribute));
        fields.push(Field::new("exception.message", self.message, Origin::Attribute));
        if !self.stacktrace.is_empty() {
            fields.push(Field::new("exception.stacktrace", self.stacktrace, Origin::Attribute));
        }
        if let Some(id) = self.id {
            fields.push(Field::new("xray.exception.id", id, Origin::Attribute));
        }
        if self.remote {
            fields.push(Field::new("xray.exception.remote", true, Origin::Attribute));
        }
        Event {
            kind: EventKind::SpanEvent,
            dataset: service.to_owned(),
            time_unix_nano: time,
            duration_nano: 0,
            trace_id: Some(trace_id),
            span_id: None,
            parent_id: Some(span_id),
            fields,
        }
    }
}

fn exceptions(entity: &Map<String, Json>) -> Vec<Exception> {
    let Some(Json::Array(exceptions)) = object_of(entity, "cause").and_then(|cause| cause.get("exceptions")) else {
        return Vec::new();
    };
    exceptions
        .iter()
        .filter_map(Json::as_object)
        .map(|exception| {
            let mut stacktrace = String::new();
            if let Some(Json::Array(frames)) = exception.get("stack") {
                for frame in frames.iter().filter_map(Json::as_object) {
                    let line = frame.get("line").map(|line| line.to_string()).unwrap_or_default();
                    stacktrace += &format!(
                        "  at {} ({}:{line})\n",
                        str_of(frame, "label").unwrap_or("?"),
                        str_of(frame, "path").unwrap_or("?")
                    );
                }
            }
            Exception {
                id: str_of(exception, "id").map(str::to_owned),
                kind: str_of(exception, "type").unwrap_or_default().to_owned(),
                message: str_of(exception, "message").unwrap_or_default().to_owned(),
                stacktrace,
                remote: flag(exception, "remote"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
