//! Errors of the set-up; nothing on the request path fails because of telemetry.

/// What can go wrong while setting telemetry up or shutting it down.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// An `OTEL_*` variable has a value this crate does not understand.
    #[error("telemetry configuration: {0}")]
    Config(String),
    /// The OTLP exporter could not be built (bad endpoint, headers, ...).
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// A global `tracing` subscriber was already installed.
    #[error("cannot install the tracing subscriber: {0}")]
    Subscriber(#[from] tracing_subscriber::util::TryInitError),
    /// The X-Ray daemon's socket or the sampling poller could not be set up.
    #[error("cannot set up X-Ray: {0}")]
    Xray(#[source] std::io::Error),
    /// Flushing or shutting down the tracer provider failed.
    #[error("cannot flush spans: {0}")]
    Shutdown(#[from] opentelemetry_sdk::error::OTelSdkError),
}

/// The result type of this crate.
pub type Result<T, E = TelemetryError> = std::result::Result<T, E>;
