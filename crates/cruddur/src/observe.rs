//! One log line per request and error reports, as the bootcamp's Flask `after_request` logger and
//! Rollbar's Flask contrib: middleware inside the request span (so the line and the report carry
//! its trace id).
//!
//! Every request logs one line with the [`LOGGER`](crate::cloudwatch::LOGGER) target: INFO, or ERROR
//! for a 5xx. With a [`Rollbar`] reporter, a 5xx answer (with the [`ErrorBacktrace`] of the error,
//! when the handler attached one) and a panic (with the stack the panic hook kept) are reported; the
//! panic then goes on unwinding to `cruddur_telemetry::trace_http`, which answers the 500.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::extract::{ConnectInfo, MatchedPath, Query, Request, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use cruddur_telemetry::{ErrorReport, SpanExt as _};
use futures_util::FutureExt as _;
use opentelemetry::trace::TraceContextExt as _;

use crate::cloudwatch::LOGGER;
use crate::rollbar::{Body, Occurrence, RequestContext, Rollbar};
use crate::users::caller_handle;

/// The stack where an error answer was made, in the response's extensions for the report.
#[derive(Debug, Clone)]
pub struct ErrorBacktrace(pub Arc<std::backtrace::Backtrace>);

/// The request span's trace and span ids (hex), when tracing is on.
pub fn current_trace_ids() -> Option<(String, String)> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    span_context.is_valid().then(|| (span_context.trace_id().to_string(), span_context.span_id().to_string()))
}

/// What a report needs from the request, kept before the handler consumes it.
#[derive(Debug, Clone)]
pub struct RequestSnapshot {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    client: Option<SocketAddr>,
    route: Option<String>,
}

impl RequestSnapshot {
    /// Copies what a report needs.
    pub fn of(request: &Request) -> Self {
        Self {
            method: request.method().clone(),
            uri: request.uri().clone(),
            headers: request.headers().clone(),
            client: request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| *peer),
            route: request.extensions().get::<MatchedPath>().map(|path| path.as_str().to_owned()),
        }
    }

    /// Rollbar's `request`, `person` and trace ids.
    pub fn context(&self, trace_ids: Option<&(String, String)>) -> RequestContext {
        let host = self.headers.get(header::HOST).and_then(|host| host.to_str().ok()).unwrap_or("localhost");
        let path_and_query = self.uri.path_and_query().map_or("/", |path| path.as_str());
        let query =
            Query::<Vec<(String, String)>>::try_from_uri(&self.uri).map(|Query(pairs)| pairs).unwrap_or_default();
        RequestContext {
            method: self.method.to_string(),
            url: format!("http://{host}{path_and_query}"),
            route: self.route.clone(),
            query,
            headers: self
                .headers
                .iter()
                .map(|(name, value)| (name.to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
                .collect(),
            user_ip: self.client.map(|peer| peer.ip().to_string()),
            user_id: caller_handle(&self.headers),
            trace_id: trace_ids.map(|(trace, _)| trace.clone()),
            span_id: trace_ids.map(|(_, span)| span.clone()),
        }
    }
}

/// The middleware: state is the reporter, if Rollbar is configured.
pub async fn observe(State(rollbar): State<Option<Rollbar>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let trace_ids = current_trace_ids();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let user_id = caller_handle(request.headers());
    let snapshot = rollbar.as_ref().map(|_| RequestSnapshot::of(&request));
    let outcome = AssertUnwindSafe(next.run(request)).catch_unwind().await;
    let (trace_id, span_id) = trace_ids.clone().unzip();
    let response = match outcome {
        Ok(response) => response,
        Err(panic) => {
            let capture = crate::rollbar::take_panic();
            let message = capture.as_ref().map_or_else(|| "handler panicked".to_owned(), |c| c.message.clone());
            tracing::error!(
                target: LOGGER, %method, path, status = 500_u64, user_id, trace_id, span_id,
                duration_ms = started.elapsed().as_secs_f64() * 1000.0, error = %message,
                "{method} {path} 500 (panic)"
            );
            if let (Some(rollbar), Some(snapshot)) = (&rollbar, &snapshot) {
                rollbar.report(Occurrence {
                    level: "error",
                    body: Body::Trace { class: "panic".into(), message, backtrace: capture.map(|c| c.backtrace) },
                    request: Some(snapshot.context(trace_ids.as_ref())),
                    time: SystemTime::now(),
                });
            }
            std::panic::resume_unwind(panic);
        }
    };
    let status = response.status();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let code = u64::from(status.as_u16());
    if status.is_server_error() {
        let report = response.extensions().get::<ErrorReport>();
        let error = report.map(|report| report.message.as_str());
        tracing::error!(target: LOGGER, %method, path, status = code, user_id, trace_id, span_id, duration_ms, error, "{method} {path} {code}");
        if let (Some(rollbar), Some(snapshot)) = (&rollbar, &snapshot) {
            let (class, message) = match report {
                Some(report) => (report.kind.to_string(), report.message.clone()),
                None => (format!("HTTP {code}"), status.to_string()),
            };
            let backtrace = response.extensions().get::<ErrorBacktrace>().map(|found| found.0.clone());
            rollbar.report(Occurrence {
                level: "error",
                body: Body::Trace { class, message, backtrace },
                request: Some(snapshot.context(trace_ids.as_ref())),
                time: SystemTime::now(),
            });
        }
    } else {
        tracing::info!(target: LOGGER, %method, path, status = code, user_id, trace_id, span_id, duration_ms, "{method} {path} {code}");
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body as HttpBody;
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;
    use crate::error::ApiError;
    use crate::rollbar::Command;

    #[inline(never)]
    fn fail_deep_inside() -> ! {
        panic!("the flux capacitor broke")
    }

    async fn panicking_handler() -> &'static str {
        fail_deep_inside()
    }

    async fn failing_handler() -> Result<&'static str, ApiError> {
        Err(ApiError::Upstream("connection reset by the activity store"))
    }

    fn app(rollbar: Rollbar) -> Router {
        Router::new()
            .route("/panic", get(panicking_handler))
            .route("/fail", get(failing_handler))
            .route("/ok", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(Some(rollbar), observe))
            .layer(axum::middleware::from_fn(cruddur_telemetry::trace_http))
    }

    async fn call(app: &Router, path: &str) -> u16 {
        let request = axum::http::Request::get(path).header("x-cruddur-user", "worf").body(HttpBody::empty()).unwrap();
        app.clone().oneshot(request).await.unwrap().status().as_u16()
    }

    fn next_occurrence(receiver: &mut tokio::sync::mpsc::Receiver<Command>) -> Occurrence {
        match receiver.try_recv() {
            Ok(Command::Item(occurrence)) => *occurrence,
            _ => panic!("an occurrence was expected"),
        }
    }

    #[tokio::test]
    async fn test_panic_is_reported_with_its_stack_and_still_answers_500() {
        crate::rollbar::install_panic_hook();
        let (rollbar, mut receiver) = Rollbar::channel();
        let app = app(rollbar);
        assert_eq!(call(&app, "/panic").await, 500);
        let occurrence = next_occurrence(&mut receiver);
        let Body::Trace { class, message, backtrace } = &occurrence.body else { panic!("a trace body") };
        assert_eq!(class, "panic");
        assert!(message.starts_with("the flux capacitor broke at "), "{message}");
        let frames = crate::rollbar::parse_backtrace(&backtrace.as_ref().expect("the hook's stack").to_string());
        assert!(frames.last().is_some_and(|frame| frame.method.contains("fail_deep_inside")), "{frames:?}");
        let request = occurrence.request.expect("the request");
        assert_eq!((request.method.as_str(), request.route.as_deref()), ("GET", Some("/panic")));
        assert_eq!(request.user_id.as_deref(), Some("worf"));
        assert!(receiver.try_recv().is_err(), "one report per panic");
    }

    #[tokio::test]
    async fn test_5xx_is_reported_and_other_answers_are_not() {
        let (rollbar, mut receiver) = Rollbar::channel();
        let app = app(rollbar);
        assert_eq!(call(&app, "/ok").await, 200);
        assert_eq!(call(&app, "/nowhere").await, 404);
        assert!(receiver.try_recv().is_err());
        assert_eq!(call(&app, "/fail").await, 500);
        let occurrence = next_occurrence(&mut receiver);
        assert_eq!(occurrence.level, "error");
        let Body::Trace { class, message, backtrace } = &occurrence.body else { panic!("a trace body") };
        assert_eq!((class.as_str(), message.as_str()), ("UpstreamError", "connection reset by the activity store"));
        let frames = crate::rollbar::parse_backtrace(&backtrace.as_ref().expect("the error's stack").to_string());
        assert!(frames.iter().any(|frame| frame.method.contains("into_response")), "{frames:?}");
    }
}
