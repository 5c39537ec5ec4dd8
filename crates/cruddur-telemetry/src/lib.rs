//! OpenTelemetry tracing for Cruddur's Rust services in one call, configured like the bootcamp's
//! Python SDK by the standard `OTEL_*` variables.
//!
//! ```no_run
//! # fn main() -> Result<(), cruddur_telemetry::TelemetryError> {
//! let config = cruddur_telemetry::TelemetryConfig::from_env("cruddur-backend", "cruddur")?;
//! let guard = cruddur_telemetry::init(&config)?; // spans export until the guard is dropped
//! # drop(guard); Ok(()) }
//! ```
//!
//! Layout: `config` reads the variables; `pipeline` builds the tracer provider (batch OTLP export
//! over HTTP or gRPC, console spans on stdout) and installs the `tracing` subscriber; `propagation`
//! reads and writes W3C and X-Ray trace headers; `http_server` is the axum middleware making the
//! server span of each request; `http_client` and `db` make client spans for outgoing HTTP calls and
//! SQL statements; `console` prints spans; [`xray`] sends AWS X-Ray segments to the daemon when
//! `AWS_XRAY_DAEMON_ADDRESS` is set.
//!
//! Application code uses plain `tracing` spans; `tracing_opentelemetry::OpenTelemetrySpanExt`
//! (re-exported as [`SpanExt`]) sets attributes whose names are not known in advance.

#![warn(missing_docs)]

mod config;
mod console;
mod db;
mod error;
mod exception;
mod http_client;
mod http_server;
mod pipeline;
mod propagation;
pub mod xray;

pub use config::{OtlpProtocol, TelemetryConfig};
pub use console::ConsoleExporter;
pub use db::{db_span, sanitize_sql, summarize_sql};
pub use error::{Result, TelemetryError};
pub use exception::record_exception;
pub use http_client::{client_span, inject_trace_headers, record_client_response};
pub use http_server::{ErrorReport, trace_http};
pub use pipeline::{AppLayer, TelemetryGuard, init, init_with_layer};
pub use propagation::{TRACEPARENT, X_AMZN_TRACE_ID, extract_context, inject_context, propagator};
pub use tracing_opentelemetry::OpenTelemetrySpanExt as SpanExt;
