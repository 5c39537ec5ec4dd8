//! Converts decoded OTLP requests into waggle's wide events, following Honeycomb's OTLP endpoint:
//! which dataset a record lands in, which fields a span, span event, link or log record gets, and
//! which records are rejected (invalid ids) while the rest of the request is kept.
//!
//! ```text
//! ExportTraceServiceRequest --traces_to_batch--> Converted { Batch (spans, span events, links), rejected }
//! ExportLogsServiceRequest  --logs_to_batch----> Converted { Batch (log records), rejected }
//! ```
//!
//! The batch goes to the store; `rejected` and `error_message` go into the OTLP partial-success
//! response (see `response.rs`).
//!
//! Fields of one event have unique keys. When a key occurs more than once, the later source wins,
//! with the precedence record attribute > scope attribute > resource attribute > derived field, as
//! when Honeycomb flattens a span into an event.

use std::collections::HashSet;

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use waggle_model::{Batch, Field, Origin, Value, names};

mod logs;
mod traces;

pub use logs::logs_to_batch;
pub use traces::traces_to_batch;

/// The header (or gRPC metadata key) carrying the Honeycomb API key.
pub const TEAM_HEADER: &str = "x-honeycomb-team";
/// The header (or gRPC metadata key) naming the dataset, used with classic keys.
pub const DATASET_HEADER: &str = "x-honeycomb-dataset";
/// Dataset of spans whose resource has no usable `service.name`.
pub const UNKNOWN_SERVICE: &str = "unknown_service";
/// Dataset of log records with neither a `service.name` nor a dataset header.
pub const UNKNOWN_LOG_SOURCE: &str = "unknown_log_source";

/// What the transport knew about the request besides its body: Honeycomb's headers, from HTTP
/// headers or gRPC metadata.
///
/// Waggle runs locally and trusts its senders, so unlike Honeycomb a missing `x-honeycomb-team` is
/// accepted (Honeycomb answers 401); the key only picks the dataset rule and is kept as `meta.team`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// `x-honeycomb-team`, if sent.
    pub team: Option<String>,
    /// `x-honeycomb-dataset`, if sent.
    pub dataset_header: Option<String>,
}

impl RequestContext {
    /// The team key, trimmed; `None` when absent or blank.
    fn team(&self) -> Option<&str> {
        non_blank(self.team.as_deref())
    }

    /// The dataset header, trimmed; `None` when absent or blank.
    fn dataset_header(&self) -> Option<&str> {
        non_blank(self.dataset_header.as_deref())
    }
}

fn non_blank(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|text| !text.is_empty())
}

/// The outcome of converting one request: what to store, and what to report as rejected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Converted {
    /// The events to store (all or nothing).
    pub batch: Batch,
    /// Spans or log records refused (invalid ids); the rest of the request is in `batch`.
    pub rejected: u64,
    /// What was wrong, for the partial-success response; `None` when nothing was rejected.
    pub error_message: Option<String>,
}

/// True for Honeycomb "classic" keys: 32 lowercase hex characters, or a 64-character classic ingest
/// key matching `hc[a-z]ic_[0-9a-z]*`. Classic environments name the dataset with a header.
pub fn is_classic_key(key: &str) -> bool {
    match key.len() {
        32 => key.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f')),
        64 => match key.as_bytes() {
            [b'h', b'c', environment_letter, b'i', b'c', b'_', rest @ ..] => {
                environment_letter.is_ascii_lowercase()
                    && rest.iter().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
            }
            _ => false,
        },
        _ => false,
    }
}

/// The trimmed, non-blank string `service.name` among resource attributes (the last one wins, as
/// it does for fields).
fn service_name(resource_attributes: &[KeyValue]) -> Option<&str> {
    let value = resource_attributes.iter().rev().find(|attribute| attribute.key == names::SERVICE_NAME)?;
    match value.value.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(name) => non_blank(Some(name)),
        _ => None,
    }
}

/// Counts rejected records and keeps the first reason for the response.
struct Rejections {
    count: u64,
    first_reason: Option<String>,
    singular: &'static str,
    plural: &'static str,
}

impl Rejections {
    fn new(singular: &'static str, plural: &'static str) -> Self {
        Self { count: 0, first_reason: None, singular, plural }
    }

    fn reject(&mut self, reason: String) {
        self.count += 1;
        self.first_reason.get_or_insert(reason);
    }

    /// `"2 spans rejected: span 0 of scope 'x': trace id must be 16 bytes, got 3"`.
    fn into_converted(self, batch: Batch) -> Converted {
        let error_message = self.first_reason.map(|reason| {
            let noun = if self.count == 1 { self.singular } else { self.plural };
            format!("{} {noun} rejected: {reason}", self.count)
        });
        if self.count > 0 {
            tracing::debug!(num_rejected = self.count, num_accepted = batch.len(), "otlp records rejected");
        }
        Converted { batch, rejected: self.count, error_message }
    }
}

/// An OTLP `fixed64` nanosecond time as waggle's `i64`, saturating past year 2262.
fn nanos(time: u64) -> i64 {
    i64::try_from(time).unwrap_or(i64::MAX)
}

/// An unsigned OTLP count or flag word as an `Int` value.
fn int(number: u32) -> Value {
    Value::Int(i64::from(number))
}

/// Derived fields every kind may carry: the scope's name and version, and the team key.
fn push_scope_and_team(fields: &mut Vec<Field>, scope_name: &str, scope_version: &str, team: Option<&str>) {
    if !scope_name.is_empty() {
        fields.push(Field::new(names::LIBRARY_NAME, scope_name, Origin::Derived));
    }
    if !scope_version.is_empty() {
        fields.push(Field::new(names::LIBRARY_VERSION, scope_version, Origin::Derived));
    }
    if let Some(team) = team {
        fields.push(Field::new(names::TEAM, team, Origin::Derived));
    }
}

/// `meta.dropped_*_count` when the sender dropped something.
fn push_dropped(fields: &mut Vec<Field>, key: &str, count: u32) {
    if count > 0 {
        fields.push(Field::new(key, int(count), Origin::Derived));
    }
}

/// Attributes as fields of one origin. Attributes with an empty key or no value are skipped (OTLP
/// requires a non-empty key, and waggle has no null value).
fn attributes_to_fields(attributes: Vec<KeyValue>, origin: Origin) -> Vec<Field> {
    attributes
        .into_iter()
        .filter(|attribute| !attribute.key.is_empty())
        .filter_map(|attribute| {
            let value = any_value_to_value(attribute.value?)?;
            Some(Field { key: attribute.key, value, origin })
        })
        .collect()
}

/// An OTLP `AnyValue` as a waggle [`Value`], keeping the type exactly; `None` when no value is set.
/// Array elements and kvlist entries without a value are left out.
fn any_value_to_value(value: AnyValue) -> Option<Value> {
    Some(match value.value? {
        any_value::Value::StringValue(text) => Value::Str(text),
        any_value::Value::BoolValue(flag) => Value::Bool(flag),
        any_value::Value::IntValue(number) => Value::Int(number),
        any_value::Value::DoubleValue(number) => Value::Float(number),
        any_value::Value::BytesValue(bytes) => Value::Bytes(bytes),
        any_value::Value::ArrayValue(array) => {
            Value::Array(array.values.into_iter().filter_map(any_value_to_value).collect())
        }
        any_value::Value::KvlistValue(list) => Value::Map(
            list.values.into_iter().filter_map(|entry| Some((entry.key, any_value_to_value(entry.value?)?))).collect(),
        ),
        // Profiling-only string table reference: meaningless outside profiles, treated as absent.
        any_value::Value::StringValueStrindex(_) => return None,
    })
}

/// Keeps the last field of each key, in the original order of the survivors. Callers push fields
/// from the lowest to the highest precedence, so the later source wins.
fn unique_fields(fields: Vec<Field>) -> Vec<Field> {
    // Duplicates are rare and records small: check pairwise before paying for a hash set.
    let duplicated = |index: usize| fields[..index].iter().any(|earlier| earlier.key == fields[index].key);
    if fields.len() <= 64 && !(1..fields.len()).any(duplicated) {
        return fields;
    }
    let mut keep = vec![false; fields.len()];
    let mut seen = HashSet::with_capacity(fields.len());
    for (index, field) in fields.iter().enumerate().rev() {
        keep[index] = seen.insert(field.key.as_str());
    }
    fields.into_iter().zip(keep).filter_map(|(field, keep)| keep.then_some(field)).collect()
}

#[cfg(test)]
mod tests;
