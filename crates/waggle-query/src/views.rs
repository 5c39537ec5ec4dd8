//! Result types of trace queries: the JSON bodies of `docs/API.md`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

/// A whole trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceView {
    /// 32 hex characters.
    pub trace_id: String,
    /// Spans by start time.
    pub spans: Vec<SpanView>,
    /// Log records carrying the trace id, by time.
    pub logs: Vec<LogView>,
}

/// One span with its events and links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanView {
    /// Hex trace id.
    pub trace_id: String,
    /// Hex span id.
    pub span_id: String,
    /// Hex parent span id, `null` for a root.
    pub parent_span_id: Option<String>,
    /// Span name.
    pub name: String,
    /// `server`, `client`, `internal`, `producer`, `consumer` or `unspecified`.
    pub kind: String,
    /// Start, unix ns.
    pub start_time_unix_nano: i64,
    /// End, unix ns.
    pub end_time_unix_nano: i64,
    /// Duration in milliseconds.
    pub duration_ms: f64,
    /// 0 unset, 1 ok, 2 error.
    pub status_code: i64,
    /// Status message, "" when none.
    pub status_message: String,
    /// W3C trace state, "" when none.
    pub trace_state: String,
    /// OTLP span flags, 0 when none.
    pub flags: i64,
    /// Dataset the span is stored in.
    pub dataset: String,
    /// `service.name` of the span's resource.
    pub service_name: String,
    /// The span's own attributes.
    pub attributes: Map<String, Json>,
    /// Resource attributes.
    pub resource: Map<String, Json>,
    /// Instrumentation scope.
    pub scope: ScopeView,
    /// Span events by time.
    pub events: Vec<SpanEventView>,
    /// Links.
    pub links: Vec<SpanLinkView>,
}

/// Instrumentation scope of a span or log.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScopeView {
    /// Scope name, "" when none.
    pub name: String,
    /// Scope version, "" when none.
    pub version: String,
    /// Scope attributes.
    pub attributes: Map<String, Json>,
}

/// An event inside a span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanEventView {
    /// Event name.
    pub name: String,
    /// Time, unix ns.
    pub time_unix_nano: i64,
    /// Event attributes.
    pub attributes: Map<String, Json>,
}

/// A link from a span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanLinkView {
    /// Linked trace id, hex.
    pub trace_id: String,
    /// Linked span id, hex.
    pub span_id: String,
    /// Trace state, "" when none.
    pub trace_state: String,
    /// Link attributes.
    pub attributes: Map<String, Json>,
}

/// A log record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogView {
    /// Time, unix ns.
    pub time_unix_nano: i64,
    /// When it was observed, unix ns (0 when unknown).
    pub observed_time_unix_nano: i64,
    /// OTLP severity number (0 when unset).
    pub severity_number: i64,
    /// Severity text.
    pub severity_text: String,
    /// Body, any JSON value (`null` when none).
    pub body: Json,
    /// Hex trace id, if any.
    pub trace_id: Option<String>,
    /// Hex span id, if any.
    pub span_id: Option<String>,
    /// OTLP log flags.
    pub flags: i64,
    /// Dataset.
    pub dataset: String,
    /// Record attributes.
    pub attributes: Map<String, Json>,
    /// Resource attributes.
    pub resource: Map<String, Json>,
    /// Instrumentation scope.
    pub scope: ScopeView,
}

/// One row of the recent-traces list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentTrace {
    /// Hex trace id.
    pub trace_id: String,
    /// Root span name.
    pub root_name: String,
    /// Root span's service.
    pub service_name: String,
    /// Root span's dataset.
    pub dataset: String,
    /// Root start, unix ns.
    pub start_time_unix_nano: i64,
    /// Root duration, ms.
    pub duration_ms: f64,
    /// Spans in the trace.
    pub span_count: u64,
    /// True when any span of the trace has error status.
    pub error: bool,
}
