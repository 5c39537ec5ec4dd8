//! The OTLP/HTTP router without a socket: overload, metrics refusal, CORS on errors.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;
use waggle_server::{AppState, otlp_http_router};
use waggle_store::{DiskStore, StoreConfig};

fn span_json(trace_byte: u8) -> String {
    let trace_id = format!("{trace_byte:02x}").repeat(16);
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"api"}}}}]}},
        "scopeSpans":[{{"spans":[{{"traceId":"{trace_id}","spanId":"0102030405060708","name":"GET /",
        "kind":2,"startTimeUnixNano":"1","endTimeUnixNano":"2"}}]}}]}}]}}"#
    )
}

fn post(path: &str, body: String) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, "http://localhost:3000")
        .body(Body::from(body))
        .unwrap()
}

async fn body_json(response: axum::response::Response) -> serde_json::Value {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn test_otlp_http_overload_answers_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = StoreConfig::new(dir.path());
    config.max_head_bytes = 0;
    config.flush_interval = std::time::Duration::from_secs(3600);
    let store = Arc::new(DiskStore::open(config).unwrap());
    let router = otlp_http_router(AppState::in_memory(store));

    let accepted = router.clone().oneshot(post("/v1/traces", span_json(1))).await.unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);

    let refused = router.oneshot(post("/v1/traces", span_json(2))).await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
    assert_eq!(refused.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "http://localhost:3000");
    let status = body_json(refused).await;
    assert_eq!(status["code"], 14, "{status}");
    assert!(status["message"].as_str().unwrap().contains("overloaded"));
}

#[tokio::test]
async fn test_otlp_http_metrics_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DiskStore::open(StoreConfig::new(dir.path())).unwrap());
    let router = otlp_http_router(AppState::in_memory(store));
    let response = router.oneshot(post("/v1/metrics", "{}".into())).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
    let status = body_json(response).await;
    assert_eq!(status["code"], 12);
    assert!(status["message"].as_str().unwrap().contains("not supported"));
}
