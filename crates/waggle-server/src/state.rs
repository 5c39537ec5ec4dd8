//! What every handler shares.

use std::sync::Arc;

use waggle_logs::LogsService;
use waggle_rollbar::RollbarService;
use waggle_store::Store;

use crate::honeycomb::library::QueryLibrary;

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest OTLP/HTTP body, after decompression (413 beyond).
    pub max_body_bytes: usize,
    /// Largest OTLP/gRPC message, after decompression (RESOURCE_EXHAUSTED beyond).
    pub max_grpc_message_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_body_bytes: 64 << 20, max_grpc_message_bytes: 16 << 20 }
    }
}

/// Handler state: the store, the query library and the limits.
#[derive(Clone)]
pub struct AppState {
    /// Where everything is written and read.
    pub store: Arc<dyn Store>,
    /// Saved queries and history.
    pub library: Arc<QueryLibrary>,
    /// Request limits.
    pub limits: Limits,
    /// CloudWatch Logs: log groups and streams over the store.
    pub logs: Arc<LogsService>,
    /// Rollbar: items, tokens and occurrences over the store.
    pub rollbar: Arc<RollbarService>,
    /// AWS X-Ray: segments, groups, sampling rules and targets over the store.
    pub xray: Arc<waggle_xray::Xray>,
}

impl AppState {
    /// A state whose saved queries, log groups and Rollbar items live in memory only, with
    /// default limits: for tests and tools that need no data directory.
    pub fn in_memory(store: Arc<dyn Store>) -> Self {
        Self {
            logs: Arc::new(LogsService::in_memory(store.clone())),
            rollbar: Arc::new(RollbarService::in_memory(store.clone())),
            xray: Arc::new(waggle_xray::Xray::in_memory(store.clone())),
            store,
            library: Arc::new(QueryLibrary::in_memory()),
            limits: Limits::default(),
        }
    }
}
