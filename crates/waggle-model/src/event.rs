//! The wide event: one row of the store.

use crate::{SpanId, TraceId, Value, names};

/// What a row is. Spans, span events and links share the traces table; log records have their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum EventKind {
    /// A span.
    Span = 1,
    /// An event inside a span; `parent_id` is the span's id.
    SpanEvent = 2,
    /// A link from a span; `parent_id` is the span's id.
    Link = 3,
    /// A log record.
    Log = 4,
}

impl EventKind {
    /// Every kind, in code order.
    pub const ALL: [EventKind; 4] = [Self::Span, Self::SpanEvent, Self::Link, Self::Log];

    /// From the stored code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| *kind as u8 == code)
    }

    /// Which table the kind lives in.
    pub fn table(self) -> SignalTable {
        match self {
            Self::Log => SignalTable::Logs,
            _ => SignalTable::Traces,
        }
    }

    /// Honeycomb's `meta.signal_type`.
    pub fn signal_type(self) -> &'static str {
        match self {
            Self::Log => "log",
            _ => "trace",
        }
    }

    /// Honeycomb's `meta.annotation_type`, for rows attached to a span.
    pub fn annotation_type(self) -> Option<&'static str> {
        match self {
            Self::SpanEvent => Some("span_event"),
            Self::Link => Some("link"),
            _ => None,
        }
    }
}

/// The tables of the store: datasets of traces and datasets of logs are kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalTable {
    /// Spans, span events and links.
    Traces,
    /// Log records.
    Logs,
}

impl SignalTable {
    /// Lowercase name, used in paths and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Traces => "traces",
            Self::Logs => "logs",
        }
    }

    /// Parses [`SignalTable::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "traces" => Some(Self::Traces),
            "logs" => Some(Self::Logs),
            _ => None,
        }
    }
}

/// Where a field came from, so readers can show resource, scope and own attributes apart even
/// though queries see them as one flat set of columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Origin {
    /// Computed by the receiver from the wire record (name, kind, status...).
    Derived = 0,
    /// A resource attribute.
    Resource = 1,
    /// An instrumentation-scope attribute.
    Scope = 2,
    /// The record's own attribute.
    Attribute = 3,
}

impl Origin {
    /// From the stored code.
    pub fn from_code(code: u8) -> Option<Self> {
        [Self::Derived, Self::Resource, Self::Scope, Self::Attribute].into_iter().find(|origin| *origin as u8 == code)
    }
}

/// One named, typed value of an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Column name, e.g. `http.route`.
    pub key: String,
    /// The value.
    pub value: Value,
    /// Where it came from.
    pub origin: Origin,
}

impl Field {
    /// A field.
    pub fn new(key: impl Into<String>, value: impl Into<Value>, origin: Origin) -> Self {
        Self { key: key.into(), value: value.into(), origin }
    }
}

/// One row: a span, span event, link or log record.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// What the row is.
    pub kind: EventKind,
    /// The dataset (usually `service.name`).
    pub dataset: String,
    /// Start time (spans) or time (events, logs), unix nanoseconds.
    pub time_unix_nano: i64,
    /// Span duration in nanoseconds; 0 for other kinds.
    pub duration_nano: i64,
    /// Trace id, if any (logs may have none).
    pub trace_id: Option<TraceId>,
    /// Span id of a span, or the span a log belongs to.
    pub span_id: Option<SpanId>,
    /// A span's parent, or for span events and links, their span.
    pub parent_id: Option<SpanId>,
    /// Everything else, one field per column. Keys are unique within an event.
    pub fields: Vec<Field>,
}

impl Event {
    /// The first field called `key`.
    pub fn field(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|field| field.key == key).map(|field| &field.value)
    }

    /// A field as text, or "".
    pub fn str_field(&self, key: &str) -> &str {
        self.field(key).and_then(Value::as_str).unwrap_or("")
    }

    /// End time, unix nanoseconds.
    pub fn end_unix_nano(&self) -> i64 {
        self.time_unix_nano.saturating_add(self.duration_nano)
    }

    /// The span's name (or the event's).
    pub fn name(&self) -> &str {
        self.str_field(names::NAME)
    }

    /// True when the span's status is error.
    pub fn is_error(&self) -> bool {
        matches!(self.field(names::ERROR), Some(Value::Bool(true)))
    }

    /// A field by name, including Honeycomb's derived names computed from the fixed columns.
    pub fn lookup(&self, key: &str) -> Option<Value> {
        match key {
            names::TRACE_ID => self.trace_id.map(|id| Value::Str(id.to_hex())),
            names::SPAN_ID => self.span_id.map(|id| Value::Str(id.to_hex())),
            names::PARENT_ID => self.parent_id.map(|id| Value::Str(id.to_hex())),
            names::DURATION_MS => Some(Value::Float(self.duration_nano as f64 / 1e6)),
            names::SIGNAL_TYPE => Some(Value::Str(self.kind.signal_type().into())),
            names::TIMESTAMP => Some(Value::Int(self.time_unix_nano)),
            names::ANNOTATION_TYPE => self.kind.annotation_type().map(|kind| Value::Str(kind.into())),
            _ => self.field(key).cloned(),
        }
    }
}

/// What a receiver hands to the store in one call: all or nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// The rows.
    pub events: Vec<Event>,
}

impl Batch {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when there is nothing to store.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}
