//! The one call at start-up: tracer provider, exporters, propagator and `tracing` subscriber.
//!
//! ```text
//! tracing span ─> tracing-opentelemetry layer ─> SdkTracerProvider ─┬─ BatchSpanProcessor ─> OTLP (http or grpc)
//!                                                                   ├─ SimpleSpanProcessor ─> ConsoleExporter (stdout)
//!                                                                   └─ XrayProcessor ─> X-Ray daemon (UDP; rules over TCP)
//! ```
//! Logs go to stderr through the fmt layer (`RUST_LOG`), so stdout carries only console spans.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Key, global};
use opentelemetry_aws::trace::XrayIdGenerator;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{OtlpProtocol, TelemetryConfig};
use crate::console::ConsoleExporter;
use crate::error::Result;
use crate::propagation::propagator;
use crate::xray::XrayProcessor;

/// Log filter when `RUST_LOG` is unset.
const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn";

/// Crates whose own spans and events must never become exported spans: the exporter's HTTP and
/// gRPC stacks (exporting them would feed back into the exporter) and sqlx, whose statements
/// get their own client spans with sanitized text.
const NOT_EXPORTED: [&str; 11] =
    ["h2", "hyper", "hyper_util", "tonic", "tower", "reqwest", "rustls", "opentelemetry", "sqlx", "tokio", "mio"];

/// Keeps telemetry running; dropping it (or [`TelemetryGuard::shutdown`]) flushes pending spans.
///
/// With the gRPC exporter, drop it while the Tokio runtime that [`init`] ran in is still alive.
#[must_use = "dropping the guard flushes and stops span export"]
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Exports every pending span and stops the exporters; blocks for at most a few seconds.
    pub fn shutdown(mut self) -> Result<()> {
        match self.provider.take() {
            Some(provider) => Ok(provider.shutdown()?),
            None => Ok(()),
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("cruddur-telemetry: spans may be lost: {error}");
        }
    }
}

/// An application's own layer (a log handler such as Cruddur's CloudWatch Logs shipper), installed
/// beside the console log and the span exporter by [`init_with_layer`].
pub type AppLayer = Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync>;

/// Installs the global tracer provider, propagator and `tracing` subscriber described by `config`.
///
/// Call it once, inside a Tokio runtime context when the protocol is gRPC (tonic needs one).
pub fn init(config: &TelemetryConfig) -> Result<TelemetryGuard> {
    init_with_layer(config, None)
}

/// [`init`], with `app_layer` also receiving every span and event (whatever `RUST_LOG` says: the
/// layer filters for itself), even when telemetry is disabled.
pub fn init_with_layer(config: &TelemetryConfig, app_layer: Option<AppLayer>) -> Result<TelemetryGuard> {
    let log_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let fmt_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(log_filter);
    if config.disabled || (config.otlp.is_none() && !config.console && config.xray.is_none()) {
        tracing_subscriber::registry().with(app_layer).with(fmt_layer).try_init()?;
        return Ok(TelemetryGuard { provider: None });
    }

    let resource = resource(&config.default_service_name);
    let mut builder = SdkTracerProvider::builder().with_resource(resource.clone());
    if let Some(protocol) = config.otlp {
        builder = builder.with_batch_exporter(otlp_exporter(protocol)?);
    }
    if config.console {
        builder = builder.with_simple_exporter(ConsoleExporter::default());
    }
    let mut sampling_poller = None;
    if let Some(xray) = &config.xray {
        // Trace ids whose first 32 bits are the epoch seconds, as X-Ray's are: the same id in
        // both systems (`1-5b8efff7-98038103d269b633813fc60c` is `5b8efff798038103d269b633813fc60c`).
        let (processor, poller) = XrayProcessor::new(xray, &resource)?;
        builder = builder.with_id_generator(XrayIdGenerator::default()).with_span_processor(processor);
        sampling_poller = Some(poller);
    }
    let provider = builder.build();
    global::set_tracer_provider(provider.clone());
    global::set_text_map_propagator(propagator());

    let otel_layer = export_layer(provider.tracer(config.scope_name), &config.log_only_targets);
    tracing_subscriber::registry().with(app_layer).with(fmt_layer).with(otel_layer).try_init()?;
    if let (Some(xray), Some(poller)) = (&config.xray, sampling_poller) {
        tracing::info!(
            udp = %xray.udp,
            tcp = %xray.tcp,
            name = xray.segment_name,
            dynamic_naming = xray.dynamic_naming,
            "x-ray: segments go to the daemon"
        );
        let service = resource.get(&Key::from_static_str("service.name")).map(|name| name.to_string());
        if service.as_deref() == Some(xray.segment_name.as_str()) {
            tracing::warn!(
                name = xray.segment_name,
                "x-ray: segments are named like the OTLP service.name; waggle and Honeycomb-style queries would \
                 see each request twice in that dataset: set AWS_XRAY_TRACING_NAME to another name"
            );
        }
        poller.start()?;
    }
    Ok(TelemetryGuard { provider: Some(provider) })
}

/// The layer turning `tracing` spans (and the events inside them, as span events) into
/// OpenTelemetry spans, except the exporter stacks' own and the `log_only_targets` events.
fn export_layer<S>(tracer: opentelemetry_sdk::trace::Tracer, log_only_targets: &[&'static str]) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    let export_filter = Targets::new()
        .with_default(LevelFilter::INFO)
        .with_targets(NOT_EXPORTED.map(|target| (target, LevelFilter::OFF)))
        .with_targets(log_only_targets.iter().map(|target| (*target, LevelFilter::OFF)));
    // A request enters its spans dozens of times (every poll): skip the layer's per-enter work
    // (busy/idle timing, thread and code-location attributes, and making the span's context the
    // current OpenTelemetry context: nothing here reads `Context::current()`, propagation uses
    // the span's own context). Measured with bench/run-cruddur-instructions.sh: context
    // activation alone was 3% of Cruddur's instructions per request. The Rust module path
    // (`target`) is no attribute either: every span would carry it, converted, encoded and
    // stored, for a name that means nothing to Honeycomb or X-Ray users.
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_context_activation(false)
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_location(false)
        .with_target(false)
        .with_filter(export_filter)
}

/// The SDK's resource (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, SDK attributes), named
/// `default_service_name` when neither variable names the service.
fn resource(default_service_name: &str) -> Resource {
    let detected = Resource::builder().build();
    let named = detected
        .get(&Key::from_static_str("service.name"))
        .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    if named { detected } else { Resource::builder().with_service_name(default_service_name.to_owned()).build() }
}

/// The OTLP exporter; endpoint, headers, timeout and compression come from the `OTEL_EXPORTER_OTLP_*`
/// variables, read by `opentelemetry-otlp` itself.
fn otlp_exporter(protocol: OtlpProtocol) -> Result<opentelemetry_otlp::SpanExporter> {
    let builder = opentelemetry_otlp::SpanExporter::builder();
    let exporter = match protocol {
        OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => {
            // https:// endpoints (Honeycomb) need a rustls crypto provider; an error only means
            // that the application installed one already.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let wire = if protocol == OtlpProtocol::HttpJson { Protocol::HttpJson } else { Protocol::HttpBinary };
            builder.with_http().with_protocol(wire).build()?
        }
        OtlpProtocol::Grpc => builder.with_tonic().with_protocol(Protocol::Grpc).build()?,
    };
    Ok(exporter)
}

#[cfg(test)]
mod tests {
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[test]
    fn test_export_layer_keeps_log_only_events_out_of_spans() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let subscriber = tracing_subscriber::registry().with(export_layer(provider.tracer("test"), &["app-log"]));
        tracing::subscriber::with_default(subscriber, || {
            let request = tracing::info_span!("request");
            let _entered = request.enter();
            tracing::info!(target: "app-log", status = 200, "GET / 200");
            tracing::warn!(target: "app::handler", "cache miss");
            // Made inside the request but never entered, as Cruddur's SQL spans.
            let statement = tracing::info_span!("statement");
            drop(statement);
        });
        provider.force_flush().unwrap();
        let spans = exporter.get_finished_spans().unwrap();
        let request = spans.iter().find(|span| span.name == "request").expect("request span");
        let events: Vec<&str> = request.events.iter().map(|event| event.name.as_ref()).collect();
        assert_eq!(events, ["cache miss"], "the log-only line is no span event, other events are");
        let statement = spans.iter().find(|span| span.name == "statement").expect("a span never entered is exported");
        assert_eq!(statement.parent_span_id, request.span_context.span_id());
        assert_eq!(statement.span_context.trace_id(), request.span_context.trace_id());
        assert!(statement.end_time >= statement.start_time);
    }
}
