//! The JSON API of the web port (`docs/API.md`): health, traces, datasets.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use waggle_model::TraceId;
use waggle_query::{QueryError, RecentTraces};

use crate::AppState;

/// Routes under `/api`.
pub fn api_router(state: AppState) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/traces", get(traces_list))
        .route("/api/traces/{trace_id}", get(traces_get))
        .route("/api/datasets", get(datasets_list))
        .route("/api/stats", get(stats_get))
        .route("/api/console/config", get(console_config))
        .with_state(state)
}

/// An API error: a status and `{"error": message}`.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<QueryError> for ApiError {
    fn from(err: QueryError) -> Self {
        match err {
            QueryError::BadRequest(message) => ApiError(StatusCode::BAD_REQUEST, message),
            QueryError::Store(err) => {
                tracing::error!(%err, "query failed");
                ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("storage error: {err}"))
            }
        }
    }
}

/// Runs a store read on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, QueryError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("query task failed: {err}")))?
        .map_err(ApiError::from)
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

async fn traces_get(State(state): State<AppState>, Path(trace_id): Path<String>) -> Result<Response, ApiError> {
    let id = TraceId::from_hex(&trace_id)
        .map_err(|err| ApiError(StatusCode::BAD_REQUEST, format!("{err}: a trace id is 32 hex characters")))?;
    let trace = blocking(move || waggle_query::get_trace(state.store.as_ref(), id)).await?;
    match trace {
        Some(trace) => Ok(Json(trace).into_response()),
        None => Err(ApiError(StatusCode::NOT_FOUND, format!("no span or log has trace id {id}"))),
    }
}

/// Query parameters of `GET /api/traces`; times in unix seconds.
#[derive(Debug, Deserialize)]
struct TracesListParams {
    dataset: Option<String>,
    start: Option<f64>,
    end: Option<f64>,
    min_duration_ms: Option<f64>,
    max_duration_ms: Option<f64>,
    error: Option<bool>,
    limit: Option<usize>,
    cursor: Option<String>,
}

fn seconds_to_nanos(seconds: f64) -> i64 {
    (seconds * 1e9) as i64
}

async fn traces_list(
    State(state): State<AppState>,
    Query(params): Query<TracesListParams>,
) -> Result<Response, ApiError> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |elapsed| elapsed.as_secs_f64());
    let end = params.end.unwrap_or(now + 1.0);
    let start = params.start.unwrap_or(end - 3600.0);
    let request = RecentTraces {
        dataset: params.dataset,
        start_unix_nano: seconds_to_nanos(start),
        end_unix_nano: seconds_to_nanos(end),
        min_duration_ms: params.min_duration_ms,
        max_duration_ms: params.max_duration_ms,
        error: params.error,
        limit: params.limit.unwrap_or(50),
        cursor: params.cursor,
    };
    let page = blocking(move || waggle_query::recent_traces(state.store.as_ref(), &request)).await?;
    Ok(Json(page).into_response())
}

async fn datasets_list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let datasets = blocking(move || Ok(state.store.datasets()?)).await?;
    Ok(Json(json!({ "datasets": datasets })).into_response())
}

async fn stats_get(State(state): State<AppState>) -> Result<Response, ApiError> {
    let stats = blocking(move || Ok(state.store.stats())).await?;
    Ok(Json(stats).into_response())
}

/// What the browser console needs: the local Rollbar project's read token (docs/API.md).
async fn console_config(State(state): State<AppState>) -> Json<serde_json::Value> {
    let rollbar = state
        .rollbar
        .console_token()
        .map(|token| json!({"access_token": token.access_token, "scopes": token.scopes, "project_id": 1}));
    Json(json!({"version": env!("CARGO_PKG_VERSION"), "rollbar": rollbar}))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    use waggle_store::{DiskStore, StoreConfig};

    use super::*;

    async fn get_json(router: Router, uri: &str) -> (StatusCode, serde_json::Value) {
        let response = router.oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn test_console_config_hands_out_a_token_that_reads_a_traces_occurrences() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(DiskStore::open(StoreConfig::new(dir.path())).unwrap());
        let state = AppState::in_memory(store.clone());
        let router = api_router(state.clone()).merge(crate::rollbar_router(state));
        let (status, config) = get_json(router.clone(), "/api/console/config").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(config["rollbar"]["project_id"], 1);
        assert!(config["rollbar"]["scopes"].as_array().unwrap().iter().any(|scope| scope == "read"));
        let token = config["rollbar"]["access_token"].as_str().unwrap().to_owned();

        let trace = "5b8efff798038103d269b633813fc60c";
        let item = json!({"access_token": token, "data": {"environment": "production", "custom": {"trace_id": trace},
            "body": {"trace": {"frames": [{"filename": "app.py", "lineno": 3, "method": "home"}],
                               "exception": {"class": "ValueError", "message": "bad"}}}}});
        let request = Request::post("/api/1/item/").header("content-type", "application/json");
        let response = router.clone().oneshot(request.body(Body::from(item.to_string())).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);

        let uri = format!("/api/1/instances?trace_id={trace}");
        let request = Request::get(&uri).header("x-rollbar-access-token", &token).body(Body::empty()).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(answer["result"]["instances"][0]["item"]["title"], "ValueError: bad");
        let (status, missing) = get_json(router.clone(), "/api/1/instances").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(missing["message"].as_str().unwrap().contains("trace_id is required"));
        let (status, _) = get_json(router, &uri).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "occurrences need the token");
        store.close();
    }
}
