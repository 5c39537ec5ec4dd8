//! What to export and how, read from the standard OpenTelemetry environment variables.
//!
//! Only the choices this crate makes itself are read here. The OTLP exporter reads the endpoint,
//! headers, timeout and compression variables itself, the SDK reads the sampler
//! (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`), batch (`OTEL_BSP_*`) and resource
//! (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`) variables, so they behave as in every SDK.

use crate::error::{Result, TelemetryError};
use crate::xray::XrayConfig;

/// `OTEL_SDK_DISABLED=true`: no tracer provider at all (telemetry off, e.g. for benchmarks).
pub const ENV_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// Comma-separated exporters: `otlp` (default), `console`, `none`.
pub const ENV_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
/// `http/protobuf` (default), `http/json` or `grpc`.
pub const ENV_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// The traces-only form of [`ENV_PROTOCOL`]; wins when both are set.
pub const ENV_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP/HTTP with protobuf bodies to `{endpoint}/v1/traces` (what the bootcamp's Python SDK sends).
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies.
    HttpJson,
    /// OTLP/gRPC (plain HTTP/2, no TLS: a local collector or waggle's 4317).
    Grpc,
}

impl OtlpProtocol {
    fn parse(value: &str) -> Result<Self> {
        match value.trim() {
            "http/protobuf" => Ok(Self::HttpProtobuf),
            "http/json" => Ok(Self::HttpJson),
            "grpc" => Ok(Self::Grpc),
            other => Err(TelemetryError::Config(format!(
                "unknown OTLP protocol {other:?}: use http/protobuf, http/json or grpc"
            ))),
        }
    }
}

/// The exporters and names to set up; build it with [`TelemetryConfig::from_env`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// `service.name` when neither `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES` names one.
    pub default_service_name: String,
    /// Name of the instrumentation scope the spans are recorded under.
    pub scope_name: &'static str,
    /// No tracer provider at all; spans are still logged by the fmt layer's filter.
    pub disabled: bool,
    /// Export over OTLP with this protocol; `None` when `OTEL_TRACES_EXPORTER` leaves out `otlp`.
    pub otlp: Option<OtlpProtocol>,
    /// Print every finished span to stdout as JSON (the bootcamp's `ConsoleSpanExporter`).
    pub console: bool,
    /// Also send AWS X-Ray segments to the daemon; `None` unless `AWS_XRAY_DAEMON_ADDRESS` is set.
    pub xray: Option<XrayConfig>,
    /// Targets of `tracing` events that are log lines only, never span events (see
    /// [`TelemetryConfig::with_log_only_target`]).
    pub log_only_targets: Vec<&'static str>,
}

impl TelemetryConfig {
    /// Reads the process environment.
    pub fn from_env(default_service_name: &str, scope_name: &'static str) -> Result<Self> {
        Self::from_lookup(default_service_name, scope_name, |name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(
        default_service_name: &str,
        scope_name: &'static str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let disabled = lookup(ENV_SDK_DISABLED).is_some_and(|value| value.trim().eq_ignore_ascii_case("true"));
        let exporters = lookup(ENV_TRACES_EXPORTER).unwrap_or_else(|| "otlp".to_owned());
        let mut otlp = false;
        let mut console = false;
        for exporter in exporters.split(',').map(str::trim).filter(|name| !name.is_empty()) {
            match exporter {
                "otlp" => otlp = true,
                "console" => console = true,
                "none" => {}
                other => {
                    return Err(TelemetryError::Config(format!(
                        "unknown exporter {other:?} in {ENV_TRACES_EXPORTER}: use otlp, console or none"
                    )));
                }
            }
        }
        let protocol = match lookup(ENV_TRACES_PROTOCOL).or_else(|| lookup(ENV_PROTOCOL)) {
            Some(value) => OtlpProtocol::parse(&value)?,
            None => OtlpProtocol::HttpProtobuf,
        };
        Ok(Self {
            default_service_name: default_service_name.to_owned(),
            scope_name,
            disabled,
            otlp: otlp.then_some(protocol),
            console,
            xray: XrayConfig::from_lookup(&lookup)?,
            log_only_targets: Vec::new(),
        })
    }

    /// Keeps `tracing` events with `target` out of the exported spans: by default an event inside
    /// a span becomes one of its span events. For a line such as a request log, which repeats the
    /// request span's own attributes and goes to the logs anyway, that would be a duplicate row
    /// per request for the exporter to encode and the backend to store. Only events are meant to
    /// use the target: a span with it would not be exported either.
    #[must_use]
    pub fn with_log_only_target(mut self, target: &'static str) -> Self {
        self.log_only_targets.push(target);
        self
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<TelemetryConfig> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        TelemetryConfig::from_lookup("cruddur-backend", "test", |name| vars.get(name).cloned())
    }

    #[test]
    fn test_config_defaults_to_otlp_http_protobuf() {
        let config = config(&[]).unwrap();
        assert_eq!(config.otlp, Some(OtlpProtocol::HttpProtobuf));
        assert!(!config.console);
        assert!(!config.disabled);
        assert_eq!(config.default_service_name, "cruddur-backend");
        assert_eq!(config.xray, None);
    }

    #[test]
    fn test_config_xray_with_a_daemon_address() {
        let config = config(&[("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000"), ("AWS_XRAY_URL", "*4567*")]).unwrap();
        let xray = config.xray.expect("x-ray");
        assert_eq!(xray.udp, "127.0.0.1:2000".parse().unwrap());
        assert_eq!(xray.dynamic_naming.as_deref(), Some("*4567*"));
        assert!(self::config(&[("AWS_XRAY_DAEMON_ADDRESS", "nowhere")]).is_err());
    }

    #[test]
    fn test_config_console_and_otlp_together() {
        let config = config(&[(ENV_TRACES_EXPORTER, "otlp, console"), (ENV_PROTOCOL, "grpc")]).unwrap();
        assert_eq!(config.otlp, Some(OtlpProtocol::Grpc));
        assert!(config.console);
    }

    #[test]
    fn test_config_console_only_has_no_otlp() {
        let config = config(&[(ENV_TRACES_EXPORTER, "console")]).unwrap();
        assert_eq!(config.otlp, None);
        assert!(config.console);
    }

    #[test]
    fn test_config_traces_protocol_wins_over_generic() {
        let config = config(&[(ENV_PROTOCOL, "grpc"), (ENV_TRACES_PROTOCOL, "http/json")]).unwrap();
        assert_eq!(config.otlp, Some(OtlpProtocol::HttpJson));
    }

    #[test]
    fn test_config_rejects_unknown_values() {
        assert!(config(&[(ENV_PROTOCOL, "http")]).unwrap_err().to_string().contains("http/protobuf"));
        assert!(config(&[(ENV_TRACES_EXPORTER, "zipkin")]).unwrap_err().to_string().contains("zipkin"));
    }

    #[test]
    fn test_config_sdk_disabled() {
        assert!(config(&[(ENV_SDK_DISABLED, "TRUE")]).unwrap().disabled);
        assert!(!config(&[(ENV_SDK_DISABLED, "false")]).unwrap().disabled);
    }
}
