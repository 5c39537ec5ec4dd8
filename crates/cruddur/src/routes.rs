//! The backend's router: every endpoint of the bootcamp's API, with tracing and CORS around each.
//!
//! Layers, outermost first: CORS (preflights are answered here and not traced), the server span
//! (`cruddur_telemetry::trace_http`), the request's log line and error reports (`crate::observe`),
//! `app.user_id` from the user header, then the handler.

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use cruddur_telemetry::{SpanExt as _, TRACEPARENT, X_AMZN_TRACE_ID};
use serde_json::{Value, json};
use sqlx::Row as _;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::activities::{
    activities_create, activities_home, activities_notifications, activities_reply, activities_search, activities_show,
    activities_user,
};
use crate::db::no_params;
use crate::error::{ApiError, ApiResult};
use crate::messages::{message_groups_list, messages_create, messages_list};
use crate::observe::{RequestSnapshot, current_trace_ids};
use crate::state::AppState;
use crate::users::{USER_HEADER, record_user_id};

/// The backend API; `allowed_origins` may call it from a browser (the frontend's and backend's URLs).
/// `demo` injects [`crate::demo`]'s faults.
pub fn app(state: AppState, allowed_origins: Vec<HeaderValue>, demo: bool) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed_origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            HeaderName::from_static(USER_HEADER),
            HeaderName::from_static(TRACEPARENT),
            HeaderName::from_static("tracestate"),
            HeaderName::from_static(X_AMZN_TRACE_ID),
        ]);
    let router = Router::new()
        .route("/api/health-check", get(health_check))
        .route("/api/activities/home", get(activities_home))
        .route("/api/activities/notifications", get(activities_notifications))
        .route("/api/activities/search", get(activities_search))
        .route("/api/activities/@{handle}", get(activities_user))
        .route("/api/activities", post(activities_create))
        .route("/api/activities/{activity_uuid}", get(activities_show))
        .route("/api/activities/{activity_uuid}/reply", post(activities_reply))
        .route("/api/message_groups", get(message_groups_list))
        .route("/api/messages/@{handle}", get(messages_list))
        .route("/api/messages", post(messages_create))
        .route("/rollbar/test", get(rollbar_test))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed);
    let router = if demo { router.layer(middleware::from_fn(crate::demo::faults)) } else { router };
    router
        .layer(middleware::from_fn(record_user_id))
        .layer(middleware::from_fn_with_state(crate::rollbar::global().cloned(), crate::observe::observe))
        .layer(middleware::from_fn(cruddur_telemetry::trace_http))
        .layer(cors)
        .with_state(state)
}

/// `app.result_length` on the request span: how many items a list endpoint returned.
pub fn record_result_length(num_items: usize) {
    tracing::Span::current().set_attribute("app.result_length", num_items as i64);
}

/// `GET /api/health-check`: the bootcamp's answer, after a round trip to the database.
async fn health_check(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let row = state.db.fetch_optional("SELECT 1 AS ok", no_params).await?;
    let ok: i64 = match row {
        Some(row) => row.try_get("ok")?,
        None => 0,
    };
    Ok(Json(json!({ "success": ok == 1, "ver": 1 })))
}

/// `GET /rollbar/test`: the bootcamp's Rollbar smoke test,
/// `rollbar.report_message('Hello World!', 'warning')`, with the request and its trace id. The
/// item is queued for the background reporter: `reported` says whether it was (Rollbar is configured
/// by `ROLLBAR_ACCESS_TOKEN`).
async fn rollbar_test(request: axum::extract::Request) -> Json<Value> {
    let reported = crate::rollbar::global().is_some_and(|rollbar| {
        let context = RequestSnapshot::of(&request).context(current_trace_ids().as_ref());
        rollbar.report_message("Hello World!", "warning", Some(context))
    });
    let mut answer = json!({ "message": "Hello World!", "reported": reported });
    if crate::rollbar::global().is_none() {
        answer["detail"] = "ROLLBAR_ACCESS_TOKEN is not set: nothing was sent".into();
    }
    Json(answer)
}

async fn route_not_found() -> ApiError {
    ApiError::NotFound("route_not_found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests;
