//! The server span of every request, as axum middleware.
//!
//! `Router::layer(axum::middleware::from_fn(trace_http))` wraps each route (and the fallback) after
//! routing, so the matched route is known. The span's parent comes from the request's trace headers;
//! handlers run inside it, so their spans (custom, SQL) are its children and `Span::current()` in a
//! handler is this span.
//!
//! Errors: a 5xx marks the span as failed; a panic becomes a 500 with an `exception` event. A handler
//! says more by putting an [`ErrorReport`] in its response's extensions: its text becomes the status
//! description (for a 4xx too, which semantic conventions otherwise leave unset on server spans).

use std::any::Any;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;

use axum::Json;
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use futures_util::FutureExt as _;
use http::StatusCode;
use http::uri::Authority;
use opentelemetry::trace::Status;
use tracing::Instrument as _;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::exception::record_exception;
use crate::propagation::extract_context;

/// Why a response is an error, put in its extensions for [`trace_http`] to record on the span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    /// Short class of error, recorded as `error.type` and `exception.type` (`validation`, `not_found`, ...).
    pub kind: Cow<'static, str>,
    /// What went wrong, for the span's status description and the `exception.message`.
    pub message: String,
}

/// Middleware: one server span per request with the HTTP semantic-convention attributes.
pub async fn trace_http(request: Request, next: Next) -> Response {
    let span = request_span(&request);
    let outcome = AssertUnwindSafe(next.run(request)).catch_unwind().instrument(span.clone()).await;
    let response = outcome.unwrap_or_else(|panic| {
        let message = panic_message(panic.as_ref());
        let mut response =
            (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({ "error": "internal server error" })))
                .into_response();
        response.extensions_mut().insert(ErrorReport { kind: "panic".into(), message });
        response
    });
    record_response(&span, &response);
    response
}

fn request_span(request: &Request) -> tracing::Span {
    let method = request.method().as_str();
    let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    // `{method} {route}` keeps span names low-cardinality; unmatched paths are just the method.
    let name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    // The host the client asked for (HTTP/2's authority, else `Host`): X-Ray's dynamic naming and
    // sampling rules match on it.
    let authority = request.uri().authority().cloned().or_else(|| {
        request.headers().get(http::header::HOST).and_then(|host| host.to_str().ok()?.parse::<Authority>().ok())
    });
    let server_address =
        authority.as_ref().map(|authority| authority.host().trim_start_matches('[').trim_end_matches(']'));
    let client_address =
        request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip().to_string());
    let user_agent = request.headers().get(http::header::USER_AGENT).and_then(|value| value.to_str().ok());
    // Known attributes are given at creation (an absent one is not recorded): each later
    // `record` is another pass through every layer.
    let span = tracing::info_span!(
        "http request",
        otel.name = %name,
        otel.kind = "server",
        http.request.method = method,
        http.route = route,
        url.path = request.uri().path(),
        url.scheme = "http",
        server.address = server_address,
        server.port = authority.as_ref().and_then(Authority::port_u16).map(i64::from),
        client.address = client_address.as_deref(),
        user_agent.original = user_agent,
        http.response.status_code = Empty,
    );
    // Fails only when no OpenTelemetry layer is installed (telemetry off): nothing to link then.
    let _ = span.set_parent(extract_context(request.headers()));
    span
}

fn record_response(span: &tracing::Span, response: &Response) {
    let status = response.status();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    match response.extensions().get::<ErrorReport>() {
        Some(report) if status.is_server_error() => record_exception(span, &report.kind, &report.message),
        Some(report) => {
            span.set_attribute("error.type", report.kind.to_string());
            span.set_status(Status::error(report.message.clone()));
        }
        None if status.is_server_error() => {
            span.set_attribute("error.type", status.as_u16().to_string());
            span.set_status(Status::error(format!("HTTP {status}")));
        }
        None => {}
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("handler panicked");
    format!("panic: {text}")
}

#[cfg(test)]
mod tests;
