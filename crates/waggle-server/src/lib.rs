//! waggle's network face: the OTLP receivers (HTTP and gRPC) and the JSON API of the web port.
//!
//! ```text
//!  OTLP/HTTP :4318 ─┐
//!                   ├─> ingest (decode, convert, Store::append, wait for fsync) ─> 2xx
//!  OTLP/gRPC :4317 ─┘
//!  web :7070 /api/*, /1/* ─> waggle-query ─> Store::scan, Store::parts
//! ```
//!
//! Layout: `ingest` (the path shared by both receivers), `otlp_http`, `otlp_grpc`, `api`,
//! `honeycomb` (Honeycomb's query API and the saved-query library), `state`.

#![warn(missing_docs)]

mod api;
mod honeycomb;
mod ingest;
mod otlp_grpc;
mod otlp_http;
mod state;

pub use api::api_router;
pub use honeycomb::honeycomb_router;
pub use honeycomb::library::{Annotation, HistoryEntry, LibraryError, QueryLibrary, StoredQuery};
pub use otlp_grpc::serve_otlp_grpc;
pub use otlp_http::otlp_http_router;
pub use state::{AppState, Limits};
