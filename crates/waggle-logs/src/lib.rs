//! CloudWatch Logs in waggle: the operations watchtower, boto3, the AWS CLI and the AWS SDKs call
//! (AWS JSON 1.1, `X-Amz-Target: Logs_20140328.<Operation>`), over waggle's store.
//!
//! ```text
//!  PutLogEvents ──rules (put)──> rows (convert: trace id, level) ──> Store::append ──fsync──> 200
//!                                                         logs table, dataset = log group
//!  GetLogEvents, FilterLogEvents ──> Store::scan (read) ──> live streams, retention ──> pattern
//!  StartQuery ──> Logs Insights (insights: parse, exec) ──> GetQueryResults
//! ```
//!
//! Groups and streams are a small catalog saved as JSON in the data directory (`catalog`); events
//! are ordinary log rows, so `GET /api/traces/{id}` shows the lines of a trace and Honeycomb-style
//! queries run over them. The HTTP envelope (target header, error body, SigV4) is the server's.
//!
//! Layout: `error`, `models` (request bodies), `catalog`, `put` (PutLogEvents' rules), `convert`,
//! `read`, `pattern` (filter patterns), `insights`, `service` (the operations).

#![warn(missing_docs)]

mod catalog;
mod convert;
mod error;
pub mod insights;
mod models;
pub mod pattern;
mod put;
mod read;
mod service;

pub use catalog::{CATALOG_FILE, RETENTION_DAYS};
pub use error::{LogsError, Result};
pub use pattern::{FilterPattern, PatternError};
pub use put::{InputLogEvent, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, RejectedInfo, check_batch};
pub use service::{CallContext, LogsService};
