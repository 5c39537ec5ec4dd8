use axum::Router;
use axum::body::Body;
use axum::routing::get;
use opentelemetry::Value;
use opentelemetry::trace::{SpanKind, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tower::ServiceExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

use super::*;
use crate::http_client::{client_span, inject_trace_headers};

async fn boom() -> &'static str {
    panic!("kaboom")
}

fn app() -> Router {
    Router::new()
        .route("/api/activities/{uuid}", get(|| async { "ok" }))
        .route("/boom", get(boom))
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route(
            "/invalid",
            get(|| async {
                let mut response = StatusCode::UNPROCESSABLE_ENTITY.into_response();
                response
                    .extensions_mut()
                    .insert(ErrorReport { kind: "validation".into(), message: "message_blank".into() });
                response
            }),
        )
        .layer(axum::middleware::from_fn(trace_http))
}

/// Sends `request` through `app()` with a subscriber exporting to memory; `before` runs inside it
/// first (to create client spans) and may add headers.
async fn send(mut request: Request, before: impl FnOnce(&mut Request)) -> (Response, Vec<SpanData>) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let response = {
        let _default = tracing::subscriber::set_default(subscriber);
        before(&mut request);
        app().oneshot(request).await.unwrap()
    };
    provider.force_flush().unwrap();
    (response, exporter.get_finished_spans().unwrap())
}

fn server_span(spans: &[SpanData]) -> &SpanData {
    spans.iter().find(|span| span.span_kind == SpanKind::Server).expect("a server span")
}

fn attribute(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes.iter().find(|pair| pair.key.as_str() == key).map(|pair| pair.value.clone())
}

fn get_request(uri: &str) -> Request {
    Request::builder().uri(uri).header("user-agent", "pytest/1").body(Body::empty()).unwrap()
}

#[tokio::test]
async fn test_trace_http_records_semconv_attributes_and_remote_parent() {
    let mut request = get_request("/api/activities/68f126b0");
    request.headers_mut().insert("host", "127.0.0.1:4567".parse().unwrap());
    request
        .headers_mut()
        .insert("traceparent", "00-5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174-01".parse().unwrap());
    let (response, spans) = send(request, |_| {}).await;
    assert_eq!(response.status(), StatusCode::OK);
    let span = server_span(&spans);
    assert_eq!(span.name, "GET /api/activities/{uuid}");
    assert_eq!(span.span_context.trace_id().to_string(), "5b8efff798038103d269b633813fc60c");
    assert_eq!(span.parent_span_id.to_string(), "eee19b7ec3c1b174");
    assert_eq!(attribute(span, "http.route"), Some("/api/activities/{uuid}".into()));
    assert_eq!(attribute(span, "http.request.method"), Some("GET".into()));
    assert_eq!(attribute(span, "url.path"), Some("/api/activities/68f126b0".into()));
    assert_eq!(attribute(span, "user_agent.original"), Some("pytest/1".into()));
    assert_eq!(attribute(span, "server.address"), Some("127.0.0.1".into()));
    assert_eq!(attribute(span, "server.port"), Some(Value::I64(4567)));
    assert_eq!(attribute(span, "http.response.status_code"), Some(Value::I64(200)));
    assert_eq!(span.status, Status::Unset);
}

#[tokio::test]
async fn test_trace_http_panic_is_500_with_exception_event() {
    let (response, spans) = send(get_request("/boom"), |_| {}).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let span = server_span(&spans);
    assert_eq!(span.status, Status::error("panic: kaboom"));
    let event = span.events.iter().find(|event| event.name == "exception").expect("exception event");
    assert!(
        event
            .attributes
            .iter()
            .any(|pair| pair.key.as_str() == "exception.message" && pair.value.as_str().contains("kaboom"))
    );
}

#[tokio::test]
async fn test_trace_http_plain_5xx_is_error_without_event() {
    let (_, spans) = send(get_request("/fail"), |_| {}).await;
    let span = server_span(&spans);
    assert!(matches!(span.status, Status::Error { .. }));
    assert_eq!(attribute(span, "error.type"), Some("500".into()));
}

#[tokio::test]
async fn test_trace_http_error_report_on_4xx_sets_status() {
    let (response, spans) = send(get_request("/invalid"), |_| {}).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let span = server_span(&spans);
    assert_eq!(span.status, Status::error("message_blank"));
    assert_eq!(attribute(span, "error.type"), Some("validation".into()));
    assert!(span.events.is_empty());
}

#[tokio::test]
async fn test_trace_http_unmatched_route_is_named_by_method() {
    let (response, spans) = send(get_request("/nope"), |_| {}).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let span = server_span(&spans);
    assert_eq!(span.name, "GET");
    assert_eq!(attribute(span, "http.route"), None);
    assert_eq!(span.status, Status::Unset);
}

#[tokio::test]
async fn test_client_span_is_parent_of_server_span() {
    let (_, spans) = send(get_request("/api/activities/1"), |request| {
        let span = client_span(request.method(), request.uri());
        inject_trace_headers(&span, request.headers_mut());
    })
    .await;
    let client = spans.iter().find(|span| span.span_kind == SpanKind::Client).expect("a client span");
    let server = server_span(&spans);
    assert_eq!(server.span_context.trace_id(), client.span_context.trace_id());
    assert_eq!(server.parent_span_id, client.span_context.span_id());
}
