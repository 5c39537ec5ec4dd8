//! waggle's network face: the OTLP receivers (HTTP and gRPC) and the JSON API of the web port.
//!
//! ```text
//!  OTLP/HTTP :4318 ─┐
//!                   ├─> ingest (decode, convert, Store::append, wait for fsync) ─> 2xx
//!  OTLP/gRPC :4317 ─┘
//!  web :7070 /api/*, /1/* ─> waggle-query ─> Store::scan, Store::parts
//!  AWS :4566 POST / (X-Amz-Target: Logs_20140328.*) ─> waggle-logs ─> Store::append, Store::scan
//!  web :7070 /api/1/item/, /api/1/items ─> waggle-rollbar ─> Store::append, Store::scan
//!  AWS :4566 and daemon TCP :2000 POST /TraceSummaries, ... ─> waggle-xray; daemon UDP :2000 ─> waggle-xray
//! ```
//!
//! Layout: `ingest` (the path shared by both receivers), `otlp_http`, `otlp_grpc`, `api`,
//! `honeycomb` (Honeycomb's query API and the saved-query library), `aws` (the AWS edge port),
//! `xray` (X-Ray's API and daemon), `state`.

#![warn(missing_docs)]

mod api;
mod aws;
mod honeycomb;
mod ingest;
mod otlp_grpc;
mod otlp_http;
mod rollbar;
mod state;
mod xray;

pub use api::api_router;
pub use aws::{SigV4, aws_router, parse_sigv4};
pub use honeycomb::honeycomb_router;
pub use honeycomb::library::{Annotation, HistoryEntry, LibraryError, QueryLibrary, StoredQuery};
pub use otlp_grpc::serve_otlp_grpc;
pub use otlp_http::otlp_http_router;
pub use rollbar::rollbar_router;
pub use state::{AppState, Limits};
pub use xray::{serve_xray_daemon_udp, xray_router};
