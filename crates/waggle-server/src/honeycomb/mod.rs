//! Honeycomb's API on the web port, so tools that speak it work against waggle: datasets, columns,
//! queries, query results and query annotations (saved queries), plus waggle's query history,
//! BubbleUp and exemplars under `/api`. Shapes follow docs.honeycomb.io; `docs/API.md` lists them.
//!
//! Queries run synchronously: a query result is complete when `POST /1/query_results` answers.

pub mod library;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json_, json};
use waggle_model::SignalTable;
use waggle_query::spec::QuerySpec;
use waggle_query::{BubbleUpRequest, ExemplarRequest, QueryError, RunOptions};
use waggle_store::CellType;

use crate::AppState;
use library::{HistoryEntry, LibraryError};

/// The dataset name that queries the whole environment.
const ALL_DATASETS: &str = "__all__";

/// Routes under `/1` and waggle's query extras under `/api`.
pub fn honeycomb_router(state: AppState) -> Router {
    Router::new()
        .route("/1/auth", get(auth))
        .route("/1/datasets", get(datasets_list))
        .route("/1/datasets/{dataset}", get(dataset_get))
        .route("/1/columns/{dataset}", get(columns_list))
        .route("/1/queries/{dataset}", axum::routing::post(query_create))
        .route("/1/queries/{dataset}/{id}", get(query_get))
        .route("/1/query_results/{dataset}", axum::routing::post(result_create))
        .route("/1/query_results/{dataset}/{id}", get(result_get))
        .route("/1/query_annotations/{dataset}", get(annotations_list).post(annotation_create))
        .route(
            "/1/query_annotations/{dataset}/{id}",
            get(annotation_get).put(annotation_update).delete(annotation_delete),
        )
        .route("/api/query_history", get(history_list))
        .route("/api/bubbleup/{dataset}", axum::routing::post(bubble_up))
        .route("/api/exemplars/{dataset}", axum::routing::post(exemplars))
        .with_state(state)
}

/// An error in Honeycomb's shape: `{"error": ..., "status": ...}`, with the offending field in
/// `type_detail` for validation failures.
struct HoneycombError {
    status: StatusCode,
    message: String,
}

impl HoneycombError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for HoneycombError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.message, "status": self.status.as_u16()});
        if self.status == StatusCode::BAD_REQUEST {
            // Messages name the field first: "calculations[1].column: ...".
            let (field, description) = self.message.split_once(": ").unwrap_or(("", &self.message));
            body["type"] = json!("https://api.honeycomb.io/problems/validation-failed");
            body["title"] = json!("The provided input is invalid.");
            body["type_detail"] = json!([{"code": "invalid", "field": field, "description": description}]);
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<QueryError> for HoneycombError {
    fn from(err: QueryError) -> Self {
        match err {
            QueryError::BadRequest(message) => Self::bad_request(message),
            QueryError::Store(err) => {
                tracing::error!(%err, "query failed");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, format!("storage error: {err}"))
            }
        }
    }
}

impl From<LibraryError> for HoneycombError {
    fn from(err: LibraryError) -> Self {
        match err {
            LibraryError::NotFound(message) => Self::not_found(message),
            LibraryError::Invalid(message) => Self::bad_request(message),
            LibraryError::Io { .. } => {
                tracing::error!(%err, "query library");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, err.to_string())
            }
        }
    }
}

/// Runs store work on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, HoneycombError> + Send + 'static,
) -> Result<T, HoneycombError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| HoneycombError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("query task failed: {err}")))?
}

/// A JSON body, with a Honeycomb-shaped 400 when it does not parse.
fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, HoneycombError> {
    serde_json::from_slice(body).map_err(|err| HoneycombError::bad_request(format!("body: {err}")))
}

fn now_nanos() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos() as i64)
}

fn nanos_to_rfc3339(nanos: i64) -> String {
    let time = UNIX_EPOCH + std::time::Duration::from_secs(nanos.max(0) as u64 / 1_000_000_000);
    humantime::format_rfc3339_seconds(time).to_string()
}

/// The stored name of a dataset given in a URL: names are matched case-insensitively, as in
/// Honeycomb; `__all__` is the whole environment.
fn resolve_dataset(state: &AppState, given: &str) -> Result<String, HoneycombError> {
    if given == ALL_DATASETS {
        return Ok(ALL_DATASETS.to_owned());
    }
    let datasets = state.store.datasets().map_err(QueryError::from)?;
    let mut names: Vec<String> = datasets.into_iter().map(|info| info.name).collect();
    names.dedup();
    names.iter().find(|name| name.eq_ignore_ascii_case(given)).cloned().ok_or_else(|| {
        HoneycombError::not_found(format!(
            "dataset {given:?} not found; datasets: {} (or __all__ for every dataset)",
            if names.is_empty() { "none yet".to_owned() } else { names.join(", ") }
        ))
    })
}

async fn auth() -> Json<Json_> {
    Json(json!({
        "id": "local",
        "type": "configuration",
        "api_key_access": {"events": true, "markers": true, "triggers": true, "boards": true, "queries": true,
                           "columns": true, "createDatasets": true, "slos": true, "recipients": true},
        "environment": {"name": "local", "slug": "local"},
        "team": {"name": "waggle", "slug": "waggle"}
    }))
}

fn dataset_json(name: &str, rows: &[&waggle_store::DatasetInfo]) -> Json_ {
    let first = rows.iter().map(|info| info.first_time_unix_nano).min().unwrap_or(0);
    let last = rows.iter().map(|info| info.last_time_unix_nano).max().unwrap_or(0);
    json!({
        "name": name,
        "slug": name.to_ascii_lowercase(),
        "description": "",
        "expand_json_depth": 0,
        "created_at": nanos_to_rfc3339(first),
        "last_written_at": nanos_to_rfc3339(last),
        "regular_columns_count": null,
    })
}

async fn datasets_list(State(state): State<AppState>) -> Result<Response, HoneycombError> {
    let datasets = blocking(move || Ok(state.store.datasets().map_err(QueryError::from)?)).await?;
    let mut names: Vec<&str> = datasets.iter().map(|info| info.name.as_str()).collect();
    names.dedup();
    let body: Vec<Json_> = names
        .iter()
        .map(|name| dataset_json(name, &datasets.iter().filter(|info| info.name == *name).collect::<Vec<_>>()))
        .collect();
    Ok(Json(body).into_response())
}

async fn dataset_get(State(state): State<AppState>, Path(dataset): Path<String>) -> Result<Response, HoneycombError> {
    blocking(move || {
        let name = resolve_dataset(&state, &dataset)?;
        let datasets = state.store.datasets().map_err(QueryError::from)?;
        let rows: Vec<&waggle_store::DatasetInfo> =
            datasets.iter().filter(|info| name == ALL_DATASETS || info.name == name).collect();
        Ok(Json(dataset_json(&name, &rows)).into_response())
    })
    .await
}

#[derive(Debug, Deserialize)]
struct ColumnsParams {
    key_name: Option<String>,
}

/// Honeycomb's name for a column's type; a mixed column is reported by its most general type.
fn column_type(types: &[CellType]) -> &'static str {
    if types.contains(&CellType::Str) || types.contains(&CellType::Other) {
        "string"
    } else if types.contains(&CellType::Float) {
        "float"
    } else if types.contains(&CellType::Int) {
        "integer"
    } else if types.contains(&CellType::Bool) {
        "boolean"
    } else {
        "string"
    }
}

/// The fixed columns every span has, derived from the row itself.
const DERIVED_COLUMNS: [(&str, &str); 6] = [
    ("duration_ms", "float"),
    ("trace.trace_id", "string"),
    ("trace.span_id", "string"),
    ("trace.parent_id", "string"),
    ("meta.signal_type", "string"),
    ("meta.annotation_type", "string"),
];

async fn columns_list(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
    Query(params): Query<ColumnsParams>,
) -> Result<Response, HoneycombError> {
    blocking(move || {
        let name = resolve_dataset(&state, &dataset)?;
        let filter = (name != ALL_DATASETS).then(|| vec![name.clone()]);
        let columns = state.store.columns(SignalTable::Traces, filter.as_deref()).map_err(QueryError::from)?;
        let last = columns.iter().map(|column| column.last_written_unix_nano).max().unwrap_or(0);
        let mut body: Vec<Json_> = DERIVED_COLUMNS
            .iter()
            .map(|(key, kind)| column_json(key, kind, last))
            .chain(
                columns
                    .iter()
                    .map(|column| column_json(&column.name, column_type(&column.types), column.last_written_unix_nano)),
            )
            .collect();
        if let Some(key) = params.key_name {
            body.retain(|column| column["key_name"] == key.as_str());
            return body
                .pop()
                .map(|column| Json(column).into_response())
                .ok_or_else(|| HoneycombError::not_found(format!("column {key:?} not found in dataset {name}")));
        }
        Ok(Json(body).into_response())
    })
    .await
}

fn column_json(key: &str, kind: &str, last_written: i64) -> Json_ {
    let written = nanos_to_rfc3339(last_written);
    json!({
        "id": key,
        "key_name": key,
        "type": kind,
        "description": "",
        "hidden": false,
        "last_written": written,
        "created_at": written,
        "updated_at": written,
    })
}

/// A spec as stored and returned: the parsed spec with its id.
fn spec_json(spec: &QuerySpec, id: &str) -> Json_ {
    let mut body = serde_json::to_value(spec).expect("spec serializes");
    body["id"] = json!(id);
    body
}

async fn query_create(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, HoneycombError> {
    let spec: QuerySpec = parse_body(&body)?;
    spec.validate()?;
    blocking(move || {
        let dataset = resolve_dataset(&state, &dataset)?;
        let stored = serde_json::to_value(&spec).expect("spec serializes");
        let id = state.library.create_query(&dataset, stored)?;
        Ok(Json(spec_json(&spec, &id)).into_response())
    })
    .await
}

/// A stored query, checked to belong to the dataset in the URL.
fn stored_spec(state: &AppState, dataset: &str, id: &str) -> Result<QuerySpec, HoneycombError> {
    let query = state
        .library
        .query(id)
        .filter(|query| query.dataset.eq_ignore_ascii_case(dataset))
        .ok_or_else(|| HoneycombError::not_found(format!("no query {id} in dataset {dataset}")))?;
    serde_json::from_value(query.spec)
        .map_err(|err| HoneycombError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("stored query {id}: {err}")))
}

async fn query_get(
    State(state): State<AppState>,
    Path((dataset, id)): Path<(String, String)>,
) -> Result<Response, HoneycombError> {
    let spec = stored_spec(&state, &dataset, &id)?;
    Ok(Json(spec_json(&spec, &id)).into_response())
}

#[derive(Debug, Deserialize)]
struct ResultRequest {
    query_id: String,
    #[serde(default)]
    disable_series: bool,
    limit: Option<usize>,
    /// waggle's addition: `false` keeps the run out of the query history (the console's
    /// autocomplete queries); default `true`.
    #[serde(default = "record_history_default")]
    record_history: bool,
}

fn record_history_default() -> bool {
    true
}

async fn result_create(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, HoneycombError> {
    let request: ResultRequest = parse_body(&body)?;
    blocking(move || {
        let dataset = resolve_dataset(&state, &dataset)?;
        let mut spec = stored_spec(&state, &dataset, &request.query_id)?;
        if let Some(limit) = request.limit {
            spec.limit = Some(limit);
        }
        let started = Instant::now();
        let options = RunOptions { series: !request.disable_series, ..RunOptions::default() };
        let result = waggle_query::run_query_with(state.store.as_ref(), &dataset, &spec, now_nanos(), options)?;
        let duration_ms = started.elapsed().as_secs_f64() * 1e3;
        let entry = HistoryEntry {
            query_id: request.query_id.clone(),
            dataset: dataset.clone(),
            ran_at: library::rfc3339_now(),
            duration_ms,
            results: result.results.len(),
        };
        let result_id = if request.record_history {
            state.library.record_run(entry)?
        } else {
            library::QueryLibrary::result_id(&request.query_id)
        };
        // Serialized once, straight from the result (no intermediate JSON tree), and kept as is
        // for `GET /1/query_results/{dataset}/{id}`.
        let body = ResultBody {
            id: &result_id,
            query_id: &request.query_id,
            complete: true,
            data: &result,
            links: ResultLinks {
                query_url: format!("/query?dataset={dataset}&query_id={}", request.query_id),
                graph_image_url: "",
            },
        };
        let body = Bytes::from(serde_json::to_vec(&body).expect("result serializes"));
        state.library.store_result(&result_id, body.clone());
        Ok((StatusCode::CREATED, json_bytes(body)).into_response())
    })
    .await
}

/// Honeycomb's query result: `{"id", "query_id", "complete", "data", "links"}`.
#[derive(Serialize)]
struct ResultBody<'a> {
    id: &'a str,
    query_id: &'a str,
    complete: bool,
    data: &'a waggle_query::QueryResult,
    links: ResultLinks,
}

#[derive(Serialize)]
struct ResultLinks {
    query_url: String,
    graph_image_url: &'static str,
}

/// A JSON body already serialized.
fn json_bytes(body: Bytes) -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body)
}

async fn result_get(
    State(state): State<AppState>,
    Path((_dataset, id)): Path<(String, String)>,
) -> Result<Response, HoneycombError> {
    let body = state.library.result(&id).ok_or_else(|| {
        HoneycombError::not_found(format!("no query result {id}: results are kept for the latest 256 runs"))
    })?;
    Ok(json_bytes(body).into_response())
}

#[derive(Debug, Deserialize)]
struct AnnotationBody {
    name: String,
    #[serde(default)]
    description: String,
    query_id: String,
}

async fn annotations_list(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
) -> Result<Response, HoneycombError> {
    let filter = (dataset != ALL_DATASETS).then_some(dataset.as_str());
    Ok(Json(state.library.annotations(filter)).into_response())
}

async fn annotation_create(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, HoneycombError> {
    let body: AnnotationBody = parse_body(&body)?;
    blocking(move || {
        let dataset = resolve_dataset(&state, &dataset)?;
        let annotation = state.library.create_annotation(&dataset, &body.name, &body.description, &body.query_id)?;
        Ok((StatusCode::CREATED, Json(annotation)).into_response())
    })
    .await
}

async fn annotation_get(
    State(state): State<AppState>,
    Path((_dataset, id)): Path<(String, String)>,
) -> Result<Response, HoneycombError> {
    let annotation =
        state.library.annotation(&id).ok_or_else(|| HoneycombError::not_found(format!("no saved query {id}")))?;
    Ok(Json(annotation).into_response())
}

async fn annotation_update(
    State(state): State<AppState>,
    Path((_dataset, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, HoneycombError> {
    let body: AnnotationBody = parse_body(&body)?;
    blocking(move || {
        let annotation = state.library.update_annotation(&id, &body.name, &body.description, &body.query_id)?;
        Ok(Json(annotation).into_response())
    })
    .await
}

async fn annotation_delete(
    State(state): State<AppState>,
    Path((_dataset, id)): Path<(String, String)>,
) -> Result<Response, HoneycombError> {
    blocking(move || {
        state.library.delete_annotation(&id)?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}

async fn history_list(State(state): State<AppState>) -> Json<Json_> {
    Json(json!({ "history": state.library.history() }))
}

async fn bubble_up(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, HoneycombError> {
    let request: BubbleUpRequest = parse_body(&body)?;
    blocking(move || {
        let dataset = resolve_dataset(&state, &dataset)?;
        let result = waggle_query::bubble_up(state.store.as_ref(), &dataset, &request, now_nanos())?;
        Ok(Json(result).into_response())
    })
    .await
}

async fn exemplars(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, HoneycombError> {
    let request: ExemplarRequest = parse_body(&body)?;
    blocking(move || {
        let dataset = resolve_dataset(&state, &dataset)?;
        let result = waggle_query::exemplars(state.store.as_ref(), &dataset, &request, now_nanos())?;
        Ok(Json(json!({ "exemplars": result })).into_response())
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    use waggle_store::{DiskStore, StoreConfig};

    use super::*;

    async fn call(router: &Router, method: &str, uri: &str, body: Json_) -> (StatusCode, Json_) {
        let request = Request::builder().method(method).uri(uri).header("content-type", "application/json");
        let response = router.clone().oneshot(request.body(Body::from(body.to_string())).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Json_::Null))
    }

    #[tokio::test]
    async fn test_query_results_without_record_history_stay_out_of_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(DiskStore::open(StoreConfig::new(dir.path())).unwrap());
        let router = honeycomb_router(AppState::in_memory(store));
        let (status, query) =
            call(&router, "POST", "/1/queries/__all__", json!({"breakdowns": ["app.user_id"], "limit": 20})).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        let id = query["id"].as_str().unwrap().to_owned();

        let body = json!({"query_id": id, "disable_series": true, "record_history": false});
        let (status, quiet) = call(&router, "POST", "/1/query_results/__all__", body).await;
        assert_eq!(status, StatusCode::CREATED, "{quiet}");
        let (_, history) = call(&router, "GET", "/api/query_history", Json_::Null).await;
        assert_eq!(history["history"], json!([]), "a run with record_history false is not recorded");
        let (status, again) =
            call(&router, "GET", &format!("/1/query_results/__all__/{}", quiet["id"].as_str().unwrap()), Json_::Null)
                .await;
        assert_eq!((status, &again["data"]), (StatusCode::OK, &quiet["data"]), "its result is still kept");

        let (status, _) = call(&router, "POST", "/1/query_results/__all__", json!({"query_id": id})).await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, history) = call(&router, "GET", "/api/query_history", Json_::Null).await;
        assert_eq!(history["history"].as_array().unwrap().len(), 1, "runs are recorded by default: {history}");
        assert_eq!(history["history"][0]["query_id"], json!(id));
    }
}
