//! AWS X-Ray for waggle: what the X-Ray daemon and the X-Ray API receive and answer, over the same
//! store as every other signal.
//!
//! ```text
//!  UDP :2000 datagram ──daemon──> segment document ──convert──> span rows ──> Store::append
//!  PutTraceSegments ────────────────────────────────┘
//!  Store::scan ──read──> traces (latest version of each segment) ──graph──> services, edges, calls
//!     ├─ filter expressions ──> GetTraceSummaries (and groups' filters)
//!     ├─ service graph ──> GetServiceGraph, GetTraceGraph
//!     └─ documents ──> BatchGetTraces
//!  groups, sampling rules ──> <data dir>/xray.json; sampling targets from reservoir and fixed rate
//! ```
//!
//! Segments become spans in the traces table, so Honeycomb-style queries see X-Ray data, and the
//! X-Ray API reads OpenTelemetry spans too (a span's service is its `service.name`).
//!
//! Layout: `ids` (trace and segment ids), `names` (field names), `daemon` (UDP datagrams),
//! `convert` (documents to events), `read` (traces back from the store), `graph` (services and
//! edges of a trace), `filter` (filter expressions: parser and evaluator), `summaries`,
//! `service_graph`, `documents` (BatchGetTraces), `config` (groups and rules on disk), `sampling`,
//! `api` (the operations), `error`.

#![warn(missing_docs)]

mod api;
mod config;
mod convert;
mod daemon;
mod documents;
mod error;
mod filter;
mod graph;
pub mod ids;
pub mod names;
mod read;
mod sampling;
mod service_graph;
mod summaries;

pub use api::{Operation, Xray, XrayCounters, now_seconds};
pub use convert::{ConvertContext, ConvertedDocument, DocumentError, UNKNOWN_SERVICE, document_to_events};
pub use daemon::{DatagramError, MAX_DATAGRAM_BYTES, decode_datagram};
pub use error::{Result, XrayError};
