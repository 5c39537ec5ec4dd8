//! Well-known field names. Stored fields use OpenTelemetry's names; the derived names (`trace.*`,
//! `duration_ms`, `meta.signal_type`) are Honeycomb's, computed from the fixed columns.

/// Span or log name.
pub const NAME: &str = "name";
/// `service.name` resource attribute.
pub const SERVICE_NAME: &str = "service.name";
/// Span kind as Honeycomb spells it: `server`, `client`, ...
pub const SPAN_KIND: &str = "span.kind";
/// OTLP status code as an integer: 0 unset, 1 ok, 2 error.
pub const STATUS_CODE: &str = "status_code";
/// OTLP status message.
pub const STATUS_MESSAGE: &str = "status_message";
/// `true` when the span's status is error (Honeycomb).
pub const ERROR: &str = "error";
/// Instrumentation scope name (Honeycomb calls it library).
pub const LIBRARY_NAME: &str = "library.name";
/// Instrumentation scope version.
pub const LIBRARY_VERSION: &str = "library.version";
/// W3C trace state of a span or link.
pub const TRACE_STATE: &str = "trace.trace_state";
/// OTLP span or log flags.
pub const TRACE_FLAGS: &str = "trace.flags";
/// Trace id of a link's target.
pub const LINK_TRACE_ID: &str = "trace.link.trace_id";
/// Span id of a link's target.
pub const LINK_SPAN_ID: &str = "trace.link.span_id";
/// `span_event` or `link` on annotation rows (Honeycomb).
pub const ANNOTATION_TYPE: &str = "meta.annotation_type";
/// OTLP's count of attributes the sender dropped (only when nonzero).
pub const DROPPED_ATTRIBUTES: &str = "meta.dropped_attributes_count";
/// OTLP's count of span events the sender dropped (only when nonzero).
pub const DROPPED_EVENTS: &str = "meta.dropped_events_count";
/// OTLP's count of links the sender dropped (only when nonzero).
pub const DROPPED_LINKS: &str = "meta.dropped_links_count";
/// The `x-honeycomb-team` key a batch arrived with.
pub const TEAM: &str = "meta.team";
/// Log severity text.
pub const SEVERITY: &str = "severity";
/// Log severity number.
pub const SEVERITY_CODE: &str = "severity_code";
/// Log body.
pub const BODY: &str = "body";
/// When the collector observed a log record, unix nanoseconds.
pub const OBSERVED_TIME: &str = "observed_time_unix_nano";

/// Derived: the trace id as hex.
pub const TRACE_ID: &str = "trace.trace_id";
/// Derived: the span id as hex.
pub const SPAN_ID: &str = "trace.span_id";
/// Derived: the parent span id as hex.
pub const PARENT_ID: &str = "trace.parent_id";
/// Derived: duration in milliseconds (float).
pub const DURATION_MS: &str = "duration_ms";
/// Derived: `trace`, `log`, ... (Honeycomb).
pub const SIGNAL_TYPE: &str = "meta.signal_type";
/// Derived: the event's timestamp.
pub const TIMESTAMP: &str = "timestamp";

/// CloudWatch Logs: the log group of an event (also its dataset).
pub const LOG_GROUP: &str = "aws.log.group.name";
/// CloudWatch Logs: the log stream of an event.
pub const LOG_STREAM: &str = "aws.log.stream.name";
/// The access key id of the SigV4 `Authorization` header a batch arrived with.
pub const AWS_ACCESS_KEY_ID: &str = "meta.aws.access_key_id";
/// Rollbar: the item (group of occurrences) an occurrence belongs to.
pub const ROLLBAR_ITEM_ID: &str = "rollbar.item_id";
/// Rollbar: the occurrence's own id.
pub const ROLLBAR_OCCURRENCE_ID: &str = "rollbar.occurrence_id";
/// Rollbar: the occurrence's uuid (the client's `data.uuid`).
pub const ROLLBAR_UUID: &str = "rollbar.uuid";
/// Rollbar: the occurrence's whole `data` object, as JSON text.
pub const ROLLBAR_PAYLOAD: &str = "rollbar.payload";
/// The environment an error happened in (Rollbar's `environment`).
pub const DEPLOYMENT_ENVIRONMENT: &str = "deployment.environment";
/// An exception's class.
pub const EXCEPTION_TYPE: &str = "exception.type";
/// An exception's message.
pub const EXCEPTION_MESSAGE: &str = "exception.message";
