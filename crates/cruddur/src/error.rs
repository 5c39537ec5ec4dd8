//! API errors and their one mapping to HTTP: a status, a JSON body with an `errors` array (the
//! bootcamp's shape), and an [`ErrorReport`] for the request span.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cruddur_telemetry::ErrorReport;
use serde_json::json;

use crate::validation::Errors;

/// Everything a handler can answer instead of data.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Broken input rules: 422 with the error codes.
    #[error("validation failed: {}", .0.join(", "))]
    Validation(Errors),
    /// The thing asked for does not exist: 404 with one error code.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The path exists, but not for this method: 405.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A body that is not the JSON expected (syntax, types, content type).
    #[error("invalid request body: {0}")]
    Body(#[from] JsonRejection),
    /// The database failed: 500; the details go to the span and the log, not to the caller.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Something the request needed failed (demo mode's injected faults): 500.
    #[error("{0}")]
    Upstream(&'static str),
}

/// A handler's result.
pub type ApiResult<T> = Result<T, ApiError>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, body) = match &self {
            ApiError::Validation(errors) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "validation", json!({ "errors": errors }))
            }
            ApiError::NotFound(code) => (StatusCode::NOT_FOUND, "not_found", json!({ "errors": [code] })),
            ApiError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", json!({ "errors": ["method_not_allowed"] }))
            }
            ApiError::Body(rejection) => (
                rejection.status(),
                "invalid_body",
                json!({ "errors": ["invalid_json_body"], "detail": rejection.body_text() }),
            ),
            ApiError::Database(error) => {
                tracing::error!(%error, "database error");
                (StatusCode::INTERNAL_SERVER_ERROR, "database", json!({ "errors": ["internal_error"] }))
            }
            ApiError::Upstream(message) => {
                tracing::error!(%message, "upstream failure");
                (StatusCode::INTERNAL_SERVER_ERROR, "UpstreamError", json!({ "errors": ["internal_error"] }))
            }
        };
        let mut response = (status, Json(body)).into_response();
        if status.is_server_error() {
            // Where the failure surfaced, for the Rollbar report (`crate::observe`).
            response.extensions_mut().insert(crate::observe::ErrorBacktrace(crate::rollbar::capture()));
        }
        response.extensions_mut().insert(ErrorReport { kind: kind.into(), message: self.to_string() });
        response
    }
}
