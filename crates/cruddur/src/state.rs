//! What every handler shares.

use crate::db::Db;

/// The backend's shared state.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database, with a span per statement.
    pub db: Db,
}
