//! Store errors. Each says whether the caller should retry ([`StoreError::Overloaded`]) or not.

use std::time::Duration;

/// Result alias for the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The write-ahead log or flushing is behind: retry after the given delay.
    #[error("store is overloaded, retry in {}s", retry_after.as_secs().max(1))]
    Overloaded {
        /// Suggested wait before retrying.
        retry_after: Duration,
    },
    /// The store is shutting down or its writer failed: nothing more can be written.
    #[error("store is not accepting writes: {0}")]
    Unavailable(String),
    /// Data on disk failed a checksum or could not be decoded.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The data directory is in use by another waggle process.
    #[error("data directory {0} is in use by another waggle process; stop it or pick another --data-dir")]
    Locked(String),
    /// An I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What the store was doing.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl StoreError {
    /// Wraps an I/O error with context.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
        let context = context.into();
        move |source| StoreError::Io { context, source }
    }
}
