//! Who is calling: the `X-Cruddur-User` header the frontend sends with every request.
//!
//! There is no sign-in yet (the bootcamp adds Cognito later), so the frontend sends the handle of the
//! user picked in its menu. Every request records it as `app.user_id` on its server span; endpoints
//! acting for someone (notifications, messages, posting) require it through [`CurrentUser`].

use axum::extract::{FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use cruddur_telemetry::SpanExt as _;
use serde::Serialize;
use sqlx::Row as _;

use crate::db::Db;
use crate::error::ApiError;
use crate::state::AppState;

/// The header carrying the caller's handle.
pub const USER_HEADER: &str = "x-cruddur-user";

/// Handles longer than this are not looked up (nor recorded whole on spans).
const MAX_HANDLE_CHARS: usize = 64;

/// A user as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    /// Stable id.
    pub uuid: String,
    /// Shown name (`Andrew Brown`).
    pub display_name: String,
    /// `@handle` without the `@` (`andrewbrown`).
    pub handle: String,
}

/// The caller's handle from [`USER_HEADER`], without a leading `@`; `None` when absent or blank.
pub fn caller_handle(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(USER_HEADER)?.to_str().ok()?;
    let handle: String = value.trim().trim_start_matches('@').chars().take(MAX_HANDLE_CHARS).collect();
    (!handle.is_empty()).then_some(handle)
}

/// Middleware: `app.user_id` on the request span, for "latency by user" queries, and the
/// `user_id` annotation on its X-Ray segment (`annotation.user_id = "worf"`).
pub async fn record_user_id(request: Request, next: Next) -> Response {
    if let Some(handle) = caller_handle(request.headers()) {
        let span = tracing::Span::current();
        cruddur_telemetry::xray::put_annotation(&span, "user_id", handle.as_str());
        span.set_attribute("app.user_id", handle);
    }
    next.run(request).await
}

/// The user with `handle`, if any.
pub async fn find_by_handle(db: &Db, handle: &str) -> sqlx::Result<Option<User>> {
    let handle = handle.to_owned();
    let row = db
        .fetch_optional("SELECT uuid, display_name, handle FROM users WHERE handle = $1", |query| query.bind(handle))
        .await?;
    row.map(|row| {
        Ok(User {
            uuid: row.try_get("uuid")?,
            display_name: row.try_get("display_name")?,
            handle: row.try_get("handle")?,
        })
    })
    .transpose()
}

/// Extractor for endpoints that act for the caller: 422 `user_handle_blank` without the header,
/// 422 `user_handle_unknown` when no user has that handle.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let handle = caller_handle(&parts.headers).ok_or(ApiError::Validation(vec!["user_handle_blank"]))?;
        let user =
            find_by_handle(&state.db, &handle).await?.ok_or(ApiError::Validation(vec!["user_handle_unknown"]))?;
        Ok(Self(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_caller_handle_trims_and_drops_at_sign() {
        let mut headers = HeaderMap::new();
        assert_eq!(caller_handle(&headers), None);
        headers.insert(USER_HEADER, " @worf ".parse().unwrap());
        assert_eq!(caller_handle(&headers).as_deref(), Some("worf"));
        headers.insert(USER_HEADER, "   ".parse().unwrap());
        assert_eq!(caller_handle(&headers), None);
        headers.insert(USER_HEADER, "x".repeat(500).parse().unwrap());
        assert_eq!(caller_handle(&headers).unwrap().len(), MAX_HANDLE_CHARS);
    }
}
