//! What every handler shares.

use std::sync::Arc;

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
}
