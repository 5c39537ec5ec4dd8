//! Rollbar's API on the web port: `POST /api/1/item/` (what pyrollbar and rollbar.js send) and the
//! read API (`GET /api/1/items`, `GET /api/1/item/{id}`, `GET /api/1/item/{id}/instances`,
//! `PATCH /api/1/item/{id}`). Every answer is Rollbar's JSON; CORS is open, as Rollbar's is.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::cors::{Any, CorsLayer};
use waggle_rollbar::{ItemFilters, MAX_ITEM_BYTES, RollbarError, TopActiveParams};

use crate::AppState;

/// The header Rollbar's clients send their token in.
const TOKEN_HEADER: &str = "x-rollbar-access-token";

/// Routes under `/api/1`.
pub fn rollbar_router(state: AppState) -> Router {
    let cors = CorsLayer::new().allow_origin(Any).allow_methods(Any).allow_headers(Any);
    Router::new()
        .route("/api/1/item/", post(item_create))
        .route("/api/1/item", post(item_create))
        .route("/api/1/items", get(items_list))
        .route("/api/1/items/", get(items_list))
        .route("/api/1/item/{id}", get(item_get).patch(item_update))
        .route("/api/1/item/{id}/instances", get(instances_list))
        .route("/api/1/item/{id}/instances/", get(instances_list))
        .route("/api/1/instances", get(trace_instances))
        .route("/api/1/reports/top_active_items", get(top_active_items))
        // Rollbar answers 413 itself, in its own shape, above MAX_ITEM_BYTES.
        .layer(DefaultBodyLimit::max(MAX_ITEM_BYTES * 2))
        .layer(cors)
        .with_state(state)
}

/// A Rollbar error answer.
struct RollbarResponse(RollbarError);

impl IntoResponse for RollbarResponse {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::BAD_REQUEST);
        if status.is_server_error() {
            tracing::warn!(err = %self.0, "rollbar call failed");
        }
        (status, Json(self.0.body())).into_response()
    }
}

type RollbarResult = Result<Json<serde_json::Value>, RollbarResponse>;

fn token(headers: &HeaderMap) -> Option<&str> {
    headers.get(TOKEN_HEADER).and_then(|value| value.to_str().ok())
}

fn item_id(id: &str) -> Result<u64, RollbarResponse> {
    id.parse().map_err(|_| RollbarResponse(RollbarError::NotFound(format!("item {id} not found"))))
}

async fn item_create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> RollbarResult {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    state.rollbar.post_item(&body, form, token(&headers)).await.map(Json).map_err(RollbarResponse)
}

/// Runs a read on the blocking pool (instances scan the store).
async fn blocking(work: impl FnOnce() -> Result<serde_json::Value, RollbarError> + Send + 'static) -> RollbarResult {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map(Json).map_err(RollbarResponse),
        Err(err) => Err(RollbarResponse(RollbarError::Save(format!("read task failed: {err}")))),
    }
}

async fn items_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(filters): Query<ItemFilters>,
) -> RollbarResult {
    let token = token(&headers).map(str::to_owned);
    blocking(move || state.rollbar.list_items(token.as_deref(), &filters)).await
}

async fn item_get(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> RollbarResult {
    let (token, id) = (token(&headers).map(str::to_owned), item_id(&id)?);
    blocking(move || state.rollbar.get_item(token.as_deref(), id)).await
}

async fn item_update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> RollbarResult {
    let (token, id) = (token(&headers).map(str::to_owned), item_id(&id)?);
    blocking(move || state.rollbar.patch_item(token.as_deref(), id, &body)).await
}

#[derive(Debug, serde::Deserialize)]
struct PageParams {
    page: Option<usize>,
}

async fn instances_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> RollbarResult {
    let (token, id) = (token(&headers).map(str::to_owned), item_id(&id)?);
    blocking(move || state.rollbar.instances(token.as_deref(), id, params.page)).await
}

async fn top_active_items(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<TopActiveParams>,
) -> RollbarResult {
    let token = token(&headers).map(str::to_owned);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX));
    blocking(move || state.rollbar.top_active_items(token.as_deref(), &params, now)).await
}

#[derive(Debug, serde::Deserialize)]
struct TraceParams {
    trace_id: Option<String>,
}

/// waggle's addition: the occurrences of one trace (`?trace_id=`), for the trace view.
async fn trace_instances(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<TraceParams>,
) -> RollbarResult {
    let token = token(&headers).map(str::to_owned);
    let trace_id = params.trace_id.ok_or_else(|| {
        RollbarResponse(RollbarError::BadRequest("trace_id is required: GET /api/1/instances?trace_id=<32 hex>".into()))
    })?;
    blocking(move || state.rollbar.trace_instances(token.as_deref(), &trace_id)).await
}
