//! Client spans for outgoing HTTP calls, with `traceparent` injected so the callee joins the trace.
//!
//! Works with any client built on the `http` crate's types (reqwest, hyper):
//!
//! ```no_run
//! # async fn call(client: reqwest::Client) -> Result<(), reqwest::Error> {
//! use tracing::Instrument as _;
//! let url: http::Uri = "http://127.0.0.1:4567/api/health-check".parse().unwrap();
//! let span = cruddur_telemetry::client_span(&http::Method::GET, &url);
//! let mut headers = http::HeaderMap::new();
//! cruddur_telemetry::inject_trace_headers(&span, &mut headers);
//! let response = client.get(url.to_string()).headers(headers).send().instrument(span.clone()).await?;
//! cruddur_telemetry::record_client_response(&span, response.status());
//! # Ok(()) }
//! ```

use http::{HeaderMap, Method, StatusCode, Uri};
use opentelemetry::trace::Status;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::propagation::inject_context;

/// A client span for `method url`; the request should be sent inside it (`.instrument(span)`).
pub fn client_span(method: &Method, url: &Uri) -> tracing::Span {
    let port = url.port_u16().or_else(|| match url.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    });
    tracing::info_span!(
        "http client request",
        otel.name = method.as_str(),
        otel.kind = "client",
        http.request.method = method.as_str(),
        url.full = %url,
        server.address = url.host(),
        server.port = port.map(i64::from),
        http.response.status_code = Empty,
    )
}

/// Writes the trace headers naming `span` as the parent of whatever the request starts remotely.
pub fn inject_trace_headers(span: &tracing::Span, headers: &mut HeaderMap) {
    inject_context(&span.context(), headers);
}

/// Records the answer's status; 4xx and 5xx mark a client span as failed.
pub fn record_client_response(span: &tracing::Span, status: StatusCode) {
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_client_error() || status.is_server_error() {
        span.set_attribute("error.type", status.as_u16().to_string());
        span.set_status(Status::error(format!("HTTP {status}")));
    }
}
