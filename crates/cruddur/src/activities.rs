//! Activities ("cruds"): the feeds, search, posting and replies.
//!
//! A feed is two statements: the top-level activities, then the replies to them, nested in Rust;
//! each is a SQL span under the request span. Expired activities are hidden from feeds.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use chrono::Utc;
use cruddur_telemetry::xray;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use sqlx::any::AnyRow;
use tracing::field::Empty;

use crate::clock;
use crate::db::{AnyQuery, Db};
use crate::error::{ApiError, ApiResult};
use crate::routes::record_result_length;
use crate::state::AppState;
use crate::users::{self, CurrentUser};
use crate::validation::{validate_activity, validate_reply, validate_search};

/// `SELECT` of every activity column joined with its author, followed by the given clauses.
macro_rules! select_activities {
    ($($clauses:literal),+) => {
        concat!(
            "SELECT a.uuid, u.display_name, u.handle, a.message, a.reply_to_activity_uuid, a.likes_count, ",
            "a.replies_count, a.reposts_count, a.created_at, a.expires_at ",
            "FROM activities a JOIN users u ON u.uuid = a.user_uuid ",
            $($clauses),+
        )
    };
}

/// An activity as the API shows it (the bootcamp's JSON keys).
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    /// Id.
    pub uuid: String,
    /// Author's shown name.
    pub display_name: String,
    /// Author's handle.
    pub handle: String,
    /// Text.
    pub message: String,
    /// The activity this one answers, for replies.
    pub reply_to_activity_uuid: Option<String>,
    /// Likes.
    pub likes_count: i64,
    /// Number of replies.
    pub replies_count: i64,
    /// Reposts.
    pub reposts_count: i64,
    /// When it was posted (RFC 3339).
    pub created_at: String,
    /// When it disappears from the feeds (RFC 3339).
    pub expires_at: String,
    /// Replies, oldest first (only on top-level activities of a feed).
    pub replies: Vec<Activity>,
}

fn activity_from_row(row: &AnyRow) -> sqlx::Result<Activity> {
    Ok(Activity {
        uuid: row.try_get("uuid")?,
        display_name: row.try_get("display_name")?,
        handle: row.try_get("handle")?,
        message: row.try_get("message")?,
        reply_to_activity_uuid: row.try_get("reply_to_activity_uuid")?,
        likes_count: row.try_get("likes_count")?,
        replies_count: row.try_get("replies_count")?,
        reposts_count: row.try_get("reposts_count")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        replies: Vec::new(),
    })
}

fn bind_all(mut query: AnyQuery, params: &[String]) -> AnyQuery {
    for param in params {
        query = query.bind(param.clone());
    }
    query
}

/// Runs a feed: `top_sql` selects the activities, `replies_sql` their replies; both take `params`.
async fn load_feed(
    db: &Db,
    top_sql: &'static str,
    replies_sql: &'static str,
    params: &[String],
) -> sqlx::Result<Vec<Activity>> {
    let mut activities = Vec::new();
    for row in db.fetch_all(top_sql, |query| bind_all(query, params)).await? {
        activities.push(activity_from_row(&row)?);
    }
    let positions: HashMap<String, usize> =
        activities.iter().enumerate().map(|(position, activity)| (activity.uuid.clone(), position)).collect();
    for row in db.fetch_all(replies_sql, |query| bind_all(query, params)).await? {
        let reply = activity_from_row(&row)?;
        let parent = reply.reply_to_activity_uuid.as_ref().and_then(|uuid| positions.get(uuid));
        if let Some(&position) = parent {
            activities[position].replies.push(reply);
        }
    }
    Ok(activities)
}

/// `%text%` for `LIKE ... ESCAPE '\'`, lowercased, with `%`, `_` and `\` taken literally.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

/// `GET /api/activities/home`: every live top-level activity, newest first, with replies.
pub async fn activities_home(State(state): State<AppState>) -> ApiResult<Json<Vec<Activity>>> {
    // The bootcamp's custom span, under the same name so the same Honeycomb queries find it; with
    // X-Ray, its subsegment carries the bootcamp's `now` and `results-size` metadata and a
    // `results_size` annotation.
    let now = clock::now();
    let span = tracing::info_span!("home-activities-mock-data", app.now = %now, app.result_length = Empty);
    xray::put_metadata(&span, "now", now.as_str());
    let params = [now];
    // The SQL spans are the custom span's children without it being entered on every poll.
    let activities = load_feed(
        &state.db.in_span(&span),
        select_activities!(
            "WHERE a.reply_to_activity_uuid IS NULL AND a.expires_at > $1 ",
            "ORDER BY a.created_at DESC LIMIT 50"
        ),
        select_activities!(
            "JOIN activities p ON p.uuid = a.reply_to_activity_uuid ",
            "WHERE p.reply_to_activity_uuid IS NULL AND p.expires_at > $1 ORDER BY a.created_at"
        ),
        &params,
    )
    .await?;
    span.record("app.result_length", activities.len() as i64);
    xray::put_metadata(&span, "results-size", activities.len());
    xray::put_annotation(&span, "results_size", activities.len());
    record_result_length(activities.len());
    Ok(Json(activities))
}

/// `GET /api/activities/notifications`: others' replies to the caller's activities and activities
/// mentioning `@caller`, newest first.
pub async fn activities_notifications(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<Activity>>> {
    let params = [clock::now(), user.uuid.clone(), like_pattern(&format!("@{}", user.handle))];
    let rows = state
        .db
        .fetch_all(
            select_activities!(
                "LEFT JOIN activities p ON p.uuid = a.reply_to_activity_uuid ",
                "WHERE a.user_uuid <> $2 AND a.expires_at > $1 ",
                "AND (p.user_uuid = $2 OR LOWER(a.message) LIKE $3 ESCAPE '\\') ",
                "ORDER BY a.created_at DESC LIMIT 50"
            ),
            |query| bind_all(query, &params),
        )
        .await?;
    let activities = rows.iter().map(activity_from_row).collect::<sqlx::Result<Vec<_>>>()?;
    record_result_length(activities.len());
    Ok(Json(activities))
}

/// `GET /api/activities/@{handle}`: one user's live activities, newest first, with replies.
pub async fn activities_user(
    State(state): State<AppState>,
    Path(handle): Path<String>,
) -> ApiResult<Json<Vec<Activity>>> {
    let user = users::find_by_handle(&state.db, &handle).await?.ok_or(ApiError::NotFound("user_not_found"))?;
    let params = [clock::now(), user.uuid];
    let activities = load_feed(
        &state.db,
        select_activities!(
            "WHERE a.reply_to_activity_uuid IS NULL AND a.expires_at > $1 AND a.user_uuid = $2 ",
            "ORDER BY a.created_at DESC LIMIT 50"
        ),
        select_activities!(
            "JOIN activities p ON p.uuid = a.reply_to_activity_uuid ",
            "WHERE p.reply_to_activity_uuid IS NULL AND p.expires_at > $1 AND p.user_uuid = $2 ",
            "ORDER BY a.created_at"
        ),
        &params,
    )
    .await?;
    record_result_length(activities.len());
    Ok(Json(activities))
}

/// Query string of the search.
#[derive(Debug, Deserialize)]
pub struct SearchParams {
    /// Words to look for in activities.
    term: Option<String>,
}

/// `GET /api/activities/search?term=`: live top-level activities containing `term` (any case).
pub async fn activities_search(
    State(state): State<AppState>,
    Query(search): Query<SearchParams>,
) -> ApiResult<Json<Vec<Activity>>> {
    let term = validate_search(search.term.as_deref()).map_err(ApiError::Validation)?;
    let params = [clock::now(), like_pattern(&term)];
    let activities = load_feed(
        &state.db,
        select_activities!(
            "WHERE a.reply_to_activity_uuid IS NULL AND a.expires_at > $1 AND LOWER(a.message) LIKE $2 ESCAPE '\\' ",
            "ORDER BY a.created_at DESC LIMIT 50"
        ),
        select_activities!(
            "JOIN activities p ON p.uuid = a.reply_to_activity_uuid ",
            "WHERE p.reply_to_activity_uuid IS NULL AND p.expires_at > $1 AND LOWER(p.message) LIKE $2 ESCAPE '\\' ",
            "ORDER BY a.created_at"
        ),
        &params,
    )
    .await?;
    record_result_length(activities.len());
    Ok(Json(activities))
}

/// Body of `POST /api/activities`.
#[derive(Debug, Deserialize)]
pub struct NewActivity {
    /// Text, at most 280 characters.
    message: Option<String>,
    /// Lifetime: `30-days`, `7-days`, `3-days`, `1-day`, `12-hours`, `3-hours` or `1-hour`.
    ttl: Option<String>,
}

/// `POST /api/activities`: the caller posts an activity.
pub async fn activities_create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    body: Result<Json<NewActivity>, JsonRejection>,
) -> ApiResult<Json<Activity>> {
    let Json(body) = body?;
    let (message, ttl) =
        validate_activity(body.message.as_deref(), body.ttl.as_deref()).map_err(ApiError::Validation)?;
    let now = Utc::now();
    let activity = Activity {
        uuid: uuid::Uuid::new_v4().to_string(),
        display_name: user.display_name,
        handle: user.handle,
        message,
        reply_to_activity_uuid: None,
        likes_count: 0,
        replies_count: 0,
        reposts_count: 0,
        created_at: clock::timestamp(now),
        expires_at: clock::timestamp(now + ttl),
        replies: Vec::new(),
    };
    insert_activity(&state.db, &activity, &user.uuid).await?;
    Ok(Json(activity))
}

async fn insert_activity(db: &Db, activity: &Activity, user_uuid: &str) -> sqlx::Result<()> {
    let values = activity.clone();
    let user_uuid = user_uuid.to_owned();
    db.execute(
        "INSERT INTO activities (uuid, user_uuid, message, reply_to_activity_uuid, likes_count, replies_count,
            reposts_count, created_at, expires_at)
         VALUES ($1, $2, $3, $4, 0, 0, 0, $5, $6)",
        |query| {
            query
                .bind(values.uuid)
                .bind(user_uuid)
                .bind(values.message)
                .bind(values.reply_to_activity_uuid)
                .bind(values.created_at)
                .bind(values.expires_at)
        },
    )
    .await?;
    Ok(())
}

/// The activity `uuid` path parameter, checked: 422 `activity_uuid_invalid` when it is no uuid.
fn parse_activity_uuid(uuid: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(uuid)
        .map(|parsed| parsed.hyphenated().to_string())
        .map_err(|_| ApiError::Validation(vec!["activity_uuid_invalid"]))
}

/// `GET /api/activities/{activity_uuid}`: one activity with its replies.
pub async fn activities_show(State(state): State<AppState>, Path(uuid): Path<String>) -> ApiResult<Json<Activity>> {
    let uuid = parse_activity_uuid(&uuid)?;
    let params = [uuid];
    let row = state
        .db
        .fetch_optional(select_activities!("WHERE a.uuid = $1"), |query| bind_all(query, &params))
        .await?
        .ok_or(ApiError::NotFound("activity_not_found"))?;
    let mut activity = activity_from_row(&row)?;
    let replies = state
        .db
        .fetch_all(select_activities!("WHERE a.reply_to_activity_uuid = $1 ORDER BY a.created_at"), |query| {
            bind_all(query, &params)
        })
        .await?;
    activity.replies = replies.iter().map(activity_from_row).collect::<sqlx::Result<_>>()?;
    Ok(Json(activity))
}

/// Body of `POST /api/activities/{activity_uuid}/reply`.
#[derive(Debug, Deserialize)]
pub struct NewReply {
    /// Text, at most 1024 characters.
    message: Option<String>,
}

/// `POST /api/activities/{activity_uuid}/reply`: the caller answers an activity.
pub async fn activities_reply(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(uuid): Path<String>,
    body: Result<Json<NewReply>, JsonRejection>,
) -> ApiResult<Json<Activity>> {
    let Json(body) = body?;
    let parent_uuid = parse_activity_uuid(&uuid)?;
    let message = validate_reply(body.message.as_deref()).map_err(ApiError::Validation)?;
    let lookup = parent_uuid.clone();
    let parent = state
        .db
        .fetch_optional("SELECT expires_at FROM activities WHERE uuid = $1", |query| query.bind(lookup))
        .await?
        .ok_or(ApiError::NotFound("activity_not_found"))?;
    let reply = Activity {
        uuid: uuid::Uuid::new_v4().to_string(),
        display_name: user.display_name,
        handle: user.handle,
        message,
        reply_to_activity_uuid: Some(parent_uuid.clone()),
        likes_count: 0,
        replies_count: 0,
        reposts_count: 0,
        created_at: clock::now(),
        // A reply lives as long as what it answers.
        expires_at: parent.try_get("expires_at")?,
        replies: Vec::new(),
    };
    insert_activity(&state.db, &reply, &user.uuid).await?;
    state
        .db
        .execute("UPDATE activities SET replies_count = replies_count + 1 WHERE uuid = $1", |query| {
            query.bind(parent_uuid)
        })
        .await?;
    Ok(Json(reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("Prune"), "%prune%");
        assert_eq!(like_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }

    #[test]
    fn test_parse_activity_uuid() {
        assert_eq!(
            parse_activity_uuid("68F126B0-1CEB-4A33-88BE-D90FA7109EEE").unwrap(),
            "68f126b0-1ceb-4a33-88be-d90fa7109eee"
        );
        assert!(
            matches!(parse_activity_uuid("nope"), Err(ApiError::Validation(errors)) if errors == ["activity_uuid_invalid"])
        );
    }
}
