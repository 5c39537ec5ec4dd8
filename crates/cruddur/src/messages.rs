//! Direct messages between two users, and the caller's conversations ("message groups").

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::clock;
use crate::error::{ApiError, ApiResult};
use crate::routes::record_result_length;
use crate::state::AppState;
use crate::users::{self, CurrentUser};
use crate::validation::validate_message;

/// One message, with its sender.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// Id.
    pub uuid: String,
    /// Sender's shown name.
    pub display_name: String,
    /// Sender's handle.
    pub handle: String,
    /// Text.
    pub message: String,
    /// When it was sent (RFC 3339).
    pub created_at: String,
}

/// A conversation of the caller: the other user and the latest message.
#[derive(Debug, Clone, Serialize)]
pub struct MessageGroup {
    /// The other user's id.
    pub uuid: String,
    /// The other user's shown name.
    pub display_name: String,
    /// The other user's handle.
    pub handle: String,
    /// The latest message's text.
    pub message: String,
    /// When the latest message was sent (RFC 3339).
    pub created_at: String,
}

fn message_from_row(row: &AnyRow) -> sqlx::Result<Message> {
    Ok(Message {
        uuid: row.try_get("uuid")?,
        display_name: row.try_get("display_name")?,
        handle: row.try_get("handle")?,
        message: row.try_get("message")?,
        created_at: row.try_get("created_at")?,
    })
}

/// `GET /api/message_groups`: the caller's conversations, latest first.
pub async fn message_groups_list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<Vec<MessageGroup>>> {
    let rows = state
        .db
        .fetch_all(
            "SELECT u.uuid, u.display_name, u.handle, m.message, m.created_at
             FROM messages m
             JOIN users u ON u.uuid = CASE WHEN m.sender_user_uuid = $1 THEN m.receiver_user_uuid
                                           ELSE m.sender_user_uuid END
             WHERE (m.sender_user_uuid = $1 OR m.receiver_user_uuid = $1)
               AND m.created_at = (
                   SELECT MAX(latest.created_at) FROM messages latest
                   WHERE (latest.sender_user_uuid = m.sender_user_uuid AND latest.receiver_user_uuid = m.receiver_user_uuid)
                      OR (latest.sender_user_uuid = m.receiver_user_uuid AND latest.receiver_user_uuid = m.sender_user_uuid))
             ORDER BY m.created_at DESC",
            |query| query.bind(user.uuid),
        )
        .await?;
    let mut groups = Vec::with_capacity(rows.len());
    for row in &rows {
        let message = message_from_row(row)?;
        groups.push(MessageGroup {
            uuid: message.uuid,
            display_name: message.display_name,
            handle: message.handle,
            message: message.message,
            created_at: message.created_at,
        });
    }
    record_result_length(groups.len());
    Ok(Json(groups))
}

/// `GET /api/messages/@{handle}`: the conversation between the caller and `handle`, oldest first.
pub async fn messages_list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(handle): Path<String>,
) -> ApiResult<Json<Vec<Message>>> {
    let other = users::find_by_handle(&state.db, &handle).await?.ok_or(ApiError::NotFound("user_not_found"))?;
    let rows = state
        .db
        .fetch_all(
            "SELECT m.uuid, u.display_name, u.handle, m.message, m.created_at
             FROM messages m JOIN users u ON u.uuid = m.sender_user_uuid
             WHERE (m.sender_user_uuid = $1 AND m.receiver_user_uuid = $2)
                OR (m.sender_user_uuid = $2 AND m.receiver_user_uuid = $1)
             ORDER BY m.created_at",
            |query| query.bind(user.uuid).bind(other.uuid),
        )
        .await?;
    let messages = rows.iter().map(message_from_row).collect::<sqlx::Result<Vec<_>>>()?;
    record_result_length(messages.len());
    Ok(Json(messages))
}

/// Body of `POST /api/messages`.
#[derive(Debug, Deserialize)]
pub struct NewMessage {
    /// Text, at most 1024 characters.
    message: Option<String>,
    /// Who gets it.
    user_receiver_handle: Option<String>,
}

/// `POST /api/messages`: the caller sends a message; 422 `user_receiver_handle_unknown` when the
/// receiver does not exist.
pub async fn messages_create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    body: Result<Json<NewMessage>, JsonRejection>,
) -> ApiResult<Json<Message>> {
    let Json(body) = body?;
    let (text, receiver_handle) = validate_message(body.message.as_deref(), body.user_receiver_handle.as_deref())
        .map_err(ApiError::Validation)?;
    let receiver = users::find_by_handle(&state.db, &receiver_handle)
        .await?
        .ok_or(ApiError::Validation(vec!["user_receiver_handle_unknown"]))?;
    let message = Message {
        uuid: uuid::Uuid::new_v4().to_string(),
        display_name: user.display_name,
        handle: user.handle,
        message: text,
        created_at: clock::now(),
    };
    let values = message.clone();
    state
        .db
        .execute(
            "INSERT INTO messages (uuid, sender_user_uuid, receiver_user_uuid, message, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            |query| {
                query.bind(values.uuid).bind(user.uuid).bind(receiver.uuid).bind(values.message).bind(values.created_at)
            },
        )
        .await?;
    Ok(Json(message))
}
