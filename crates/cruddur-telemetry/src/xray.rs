//! AWS X-Ray beside OTLP, as the bootcamp's Flask app has both: with `AWS_XRAY_DAEMON_ADDRESS`
//! set, every sampled request becomes a segment sent to the X-Ray daemon over UDP (waggle's
//! `--xray-daemon-addr`, or the real daemon), with a subsegment per child span.
//!
//! - `config`: the X-Ray SDKs' variables (`AWS_XRAY_DAEMON_ADDRESS`, `AWS_XRAY_URL`,
//!   `AWS_XRAY_TRACING_NAME`).
//! - `recorder`: the span processor. Spans become segment documents through `opentelemetry-aws`'s
//!   `SegmentTranslator` (http, sql, fault/error/cause blocks, ids); the processor adds what the
//!   crate leaves out: one document per request with its subsegments nested, dynamic naming,
//!   sampling, and [`put_annotation`] / [`put_metadata`], which go to X-Ray only (the OTLP spans
//!   stay as they are). `document` finishes the JSON and frames the datagram.
//! - `sampling` and `poller`: centralized sampling with rules and quotas from the daemon's TCP
//!   port, statistics reported back; `naming` has the wildcard patterns both use.
//!
//! Only X-Ray is sampled this way; OTLP keeps its own sampler (`OTEL_TRACES_SAMPLER`), and a
//! request OTLP does not record has no segment either. Trace ids come from `opentelemetry-aws`'s
//! X-Ray id generator, so a segment's `1-{8 hex}-{24 hex}` is its OpenTelemetry trace id.

mod config;
mod document;
mod naming;
mod poller;
mod recorder;
mod sampling;

pub use config::{
    DEFAULT_SEGMENT_NAME, ENV_DAEMON_ADDRESS, ENV_DYNAMIC_NAMING, ENV_RULES_INTERVAL, ENV_TARGETS_INTERVAL,
    ENV_TRACING_NAME, XrayConfig,
};
pub use document::AnnotationValue;
pub(crate) use recorder::XrayProcessor;
pub use recorder::{put_annotation, put_metadata, put_metadata_in};
