//! Errors on spans the OpenTelemetry way: an `exception` event plus an error status.

use opentelemetry::KeyValue;
use opentelemetry::trace::Status;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Adds an `exception` event (`exception.type`, `exception.message`) to `span` and marks it as
/// failed with `message` as the status description.
pub fn record_exception(span: &tracing::Span, exception_type: &str, message: &str) {
    span.add_event(
        "exception",
        vec![
            KeyValue::new("exception.type", exception_type.to_owned()),
            KeyValue::new("exception.message", message.to_owned()),
        ],
    );
    span.set_attribute("error.type", exception_type.to_owned());
    span.set_status(Status::error(message.to_owned()));
}
