//! Versioned schema migrations, applied at start-up.
//!
//! Each migration is a list of idempotent statements (`IF NOT EXISTS`), so a start that stopped
//! half-way simply runs it again; `schema_migrations` records what was applied.

use crate::clock;
use crate::db::{Db, no_params};

/// (version, statements), in order; append new versions, never edit applied ones.
const MIGRATIONS: &[(i64, &[&str])] = &[(
    1,
    &[
        "CREATE TABLE IF NOT EXISTS users (
            uuid TEXT PRIMARY KEY,
            display_name TEXT NOT NULL,
            handle TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        )",
        "CREATE TABLE IF NOT EXISTS activities (
            uuid TEXT PRIMARY KEY,
            user_uuid TEXT NOT NULL REFERENCES users (uuid),
            message TEXT NOT NULL,
            reply_to_activity_uuid TEXT REFERENCES activities (uuid),
            likes_count BIGINT NOT NULL DEFAULT 0,
            replies_count BIGINT NOT NULL DEFAULT 0,
            reposts_count BIGINT NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )",
        "CREATE INDEX IF NOT EXISTS activities_created_at ON activities (created_at)",
        "CREATE TABLE IF NOT EXISTS messages (
            uuid TEXT PRIMARY KEY,
            sender_user_uuid TEXT NOT NULL REFERENCES users (uuid),
            receiver_user_uuid TEXT NOT NULL REFERENCES users (uuid),
            message TEXT NOT NULL,
            created_at TEXT NOT NULL
        )",
    ],
)];

/// Applies every migration not yet recorded in `schema_migrations`.
pub async fn migrate(db: &Db) -> sqlx::Result<()> {
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
        no_params,
    )
    .await?;
    for (version, statements) in MIGRATIONS {
        let applied = db
            .fetch_optional("SELECT version FROM schema_migrations WHERE version = $1", |query| query.bind(*version))
            .await?
            .is_some();
        if applied {
            continue;
        }
        for statement in *statements {
            db.execute(statement, no_params).await?;
        }
        db.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", |query| {
            query.bind(*version).bind(clock::now())
        })
        .await?;
    }
    Ok(())
}
