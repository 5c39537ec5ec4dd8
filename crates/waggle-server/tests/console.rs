//! What the console reads from the web port besides the public APIs: its configuration (the
//! Rollbar token the errors pages read and change items with), and Rollbar's hourly item counts.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use waggle_server::{AppState, api_router, rollbar_router};
use waggle_store::{DiskStore, StoreConfig};

async fn body_json(response: axum::response::Response) -> serde_json::Value {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn test_console_config_names_a_rollbar_token_that_reads_and_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DiskStore::open(StoreConfig::new(dir.path())).unwrap());
    let state = AppState::in_memory(store.clone());
    let response = api_router(state.clone())
        .oneshot(Request::get("/api/console/config").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let config = body_json(response).await;
    let token = config["rollbar"]["access_token"].as_str().unwrap().to_owned();
    assert_eq!(token, state.rollbar.tokens()[0].access_token);
    assert!(config["version"].is_string());

    // The token works for the read API and the hourly report.
    let report = rollbar_router(state)
        .oneshot(
            Request::get("/api/1/reports/top_active_items?hours=6")
                .header("X-Rollbar-Access-Token", &token)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(report.status(), StatusCode::OK);
    assert_eq!(body_json(report).await, serde_json::json!({"err": 0, "result": []}));
    store.close();
}
