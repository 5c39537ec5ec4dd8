//! Reading the store the way people ask: a whole trace, the recent traces of a dataset, the
//! datasets. Results are plain serializable views, shaped as the HTTP API documents them
//! (`docs/API.md`), so the server only serializes and the CLI only deserializes.
//!
//! Layout: `trace` (assemble one trace), `recent` (list traces), `views` (the result types).

#![warn(missing_docs)]

mod recent;
mod trace;
mod views;

pub use recent::{RecentPage, RecentTraces, recent_traces};
pub use trace::get_trace;
pub use views::{LogView, RecentTrace, ScopeView, SpanEventView, SpanLinkView, SpanView, TraceView};

/// Query errors.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The request is invalid; the message says which parameter and why.
    #[error("{0}")]
    BadRequest(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] waggle_store::StoreError),
}

/// Result alias for queries.
pub type Result<T, E = QueryError> = std::result::Result<T, E>;
