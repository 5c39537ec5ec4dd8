//! The database: SQLite (embedded, in memory or a file) or PostgreSQL through sqlx's `Any` driver.
//!
//! Every statement goes through [`Db`], which gives it a client span (`db.system`, sanitized
//! `db.statement`), a child of the request that made it. The span opens before the statement runs
//! and closes after it, but is never entered: nothing inside sqlx is exported, and a query is
//! polled dozens of times, each poll entering and leaving every entered span around it. SQL is
//! written once for both databases: `$1` placeholders (which SQLite also understands), `TEXT`
//! timestamps in a fixed RFC 3339 form (so they sort as text), `BIGINT` counters.

use std::time::Duration;

use cruddur_telemetry::{db_span, record_exception};
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyQueryResult, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool};

/// A statement with its parameters bound.
pub type AnyQuery = Query<'static, Any, AnyArguments>;

/// The default: a fresh SQLite database in memory, seeded at every start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite::memory:";

/// The connection pool and what it connects to.
#[derive(Debug, Clone)]
pub struct Db {
    /// sqlx pool over the `Any` driver.
    pool: AnyPool,
    /// `db.system` of the spans: `sqlite` or `postgresql`.
    system: &'static str,
    /// Parent of the statements' spans; `None`: the current span.
    parent: Option<tracing::Span>,
}

impl Db {
    /// Connects to `url` (`sqlite::memory:`, `sqlite:///path/cruddur.db?mode=rwc`, `postgres://...`).
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let system = if url.starts_with("postgres") { "postgresql" } else { "sqlite" };
        let options = if url.contains(":memory:") || url.contains("mode=memory") {
            // Each SQLite in-memory connection is its own database: keep exactly one, forever.
            AnyPoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            AnyPoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(5))
        };
        Ok(Self { pool: options.connect(url).await?, system, parent: None })
    }

    /// This database, with its statements' spans children of `span`, which need not be entered:
    /// entering a span around a query costs on every poll of it.
    pub fn in_span(&self, span: &tracing::Span) -> Self {
        Self { parent: Some(span.clone()), ..self.clone() }
    }

    /// `db.system` of this database.
    pub fn system(&self) -> &'static str {
        self.system
    }

    /// Runs `sql` with the parameters `bind` adds; returns every row.
    pub async fn fetch_all(
        &self,
        sql: &'static str,
        bind: impl FnOnce(AnyQuery) -> AnyQuery,
    ) -> sqlx::Result<Vec<AnyRow>> {
        let span = db_span(self.system, sql, self.parent.as_ref());
        let result = bind(sqlx::query(sql)).fetch_all(&self.pool).await;
        record_error(&span, result)
    }

    /// Runs `sql`; returns the first row, if any.
    pub async fn fetch_optional(
        &self,
        sql: &'static str,
        bind: impl FnOnce(AnyQuery) -> AnyQuery,
    ) -> sqlx::Result<Option<AnyRow>> {
        let span = db_span(self.system, sql, self.parent.as_ref());
        let result = bind(sqlx::query(sql)).fetch_optional(&self.pool).await;
        record_error(&span, result)
    }

    /// Runs a statement that returns no rows.
    pub async fn execute(
        &self,
        sql: &'static str,
        bind: impl FnOnce(AnyQuery) -> AnyQuery,
    ) -> sqlx::Result<AnyQueryResult> {
        let span = db_span(self.system, sql, self.parent.as_ref());
        let result = bind(sqlx::query(sql)).execute(&self.pool).await;
        record_error(&span, result)
    }

    /// Waits for the connections to close.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn record_error<T>(span: &tracing::Span, result: sqlx::Result<T>) -> sqlx::Result<T> {
    if let Err(error) = &result {
        record_exception(span, "sqlx::Error", &error.to_string());
    }
    result
}

/// Parameters that need none.
pub fn no_params(query: AnyQuery) -> AnyQuery {
    query
}
