//! waggle's embedded store: durable, columnar, partitioned by dataset and time.
//!
//! ```text
//!  append(batch) ──encode──> WAL writer thread ──group fsync──> ack
//!                                   │
//!                                   └──> head (compressed row chunks, queryable)
//!                                             │ size / age
//!                                             v
//!                       flusher thread ──> segments/<table>/<dataset>/<hour>-<seq>.seg
//! ```
//!
//! Layout: `codec` (varints, values), `rows` (WAL/head row encoding), `wal`, `segment` (columnar
//! files), `bloom`, `head`, `engine` (threads, recovery, retention, reads), `config`.
//! Nothing outside this crate knows the file formats: callers see [`Store`].

#![warn(missing_docs)]

mod bloom;
mod codec;
pub mod columns;
mod config;
mod engine;
mod error;
mod head;
mod rows;
mod segment;
mod wal;

use std::ops::ControlFlow;
use std::sync::Arc;

use waggle_model::{Batch, Event, SignalTable, TraceId};

pub use columns::{CellType, Column, Part, PartInfo, PartReader, PartsRequest};
pub use config::StoreConfig;
pub use engine::DiskStore;
pub use error::{Result, StoreError};

/// Which rows a scan visits.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// Table to read.
    pub table: SignalTable,
    /// Only these datasets; `None` for all.
    pub datasets: Option<Vec<String>>,
    /// Rows whose time is at or after this (unix ns).
    pub start_unix_nano: i64,
    /// Rows whose time is before this (unix ns).
    pub end_unix_nano: i64,
    /// Only rows of this trace.
    pub trace_id: Option<TraceId>,
    /// Only these fields (fixed columns always come); `None` for every field.
    pub columns: Option<Vec<String>>,
}

impl ScanRequest {
    /// Every row of a table.
    pub fn all(table: SignalTable) -> Self {
        Self {
            table,
            datasets: None,
            start_unix_nano: i64::MIN,
            end_unix_nano: i64::MAX,
            trace_id: None,
            columns: None,
        }
    }
}

/// A dataset and what it holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DatasetInfo {
    /// Dataset name.
    pub name: String,
    /// `traces` or `logs`.
    pub table: SignalTable,
    /// Rows stored (spans, span events, links or log records).
    pub rows: u64,
    /// Earliest row time, unix ns.
    pub first_time_unix_nano: i64,
    /// Latest row time, unix ns.
    pub last_time_unix_nano: i64,
}

/// A field column and what it holds, for autocomplete.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    /// Field name.
    pub name: String,
    /// The value types seen, in [`CellType`] order.
    pub types: Vec<CellType>,
    /// Time of the latest row holding the field, unix ns.
    pub last_written_unix_nano: i64,
}

/// Store-wide counters, for logs and benchmarks.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct StoreStats {
    /// Rows in the in-memory head (including heads being flushed).
    pub head_rows: u64,
    /// Compressed bytes held by the head.
    pub head_bytes: u64,
    /// Segments on disk.
    pub segments: u64,
    /// Rows in segments.
    pub segment_rows: u64,
    /// Bytes of segments on disk.
    pub segment_bytes: u64,
    /// Bytes of write-ahead log on disk.
    pub wal_bytes: u64,
}

/// Waits for an append to become durable.
#[must_use = "an append is only durable once its ticket resolves"]
pub struct AppendTicket(tokio::sync::oneshot::Receiver<Result<()>>);

impl AppendTicket {
    /// Resolves once the batch is fsync'd (or failed).
    pub async fn wait(self) -> Result<()> {
        self.0.await.unwrap_or_else(|_| Err(StoreError::Unavailable("store writer stopped".into())))
    }

    /// Blocking form of [`AppendTicket::wait`], for non-async callers.
    pub fn wait_blocking(self) -> Result<()> {
        self.0.blocking_recv().unwrap_or_else(|_| Err(StoreError::Unavailable("store writer stopped".into())))
    }
}

/// The storage interface every receiver writes to and every reader reads from. The embedded
/// [`DiskStore`] implements it; a ClickHouse backend can too.
pub trait Store: Send + Sync + 'static {
    /// Queues a batch for durable storage. All of it is stored or none; the ticket resolves once it
    /// is durable. Fails at once with [`StoreError::Overloaded`] when the store is behind.
    fn append(&self, batch: Batch) -> Result<AppendTicket>;

    /// Visits matching rows; `visit` breaks to stop early. Order is unspecified.
    fn scan(&self, request: &ScanRequest, visit: &mut dyn FnMut(Event) -> ControlFlow<()>) -> Result<()>;

    /// Datasets with their row counts and time ranges.
    fn datasets(&self) -> Result<Vec<DatasetInfo>>;

    /// The parts holding a table's rows, for column-wise reads: a snapshot, readable on any thread.
    fn parts(&self, request: &PartsRequest) -> Result<Vec<Arc<dyn Part>>>;

    /// The field columns of a table (of some datasets, or all), with their types.
    fn columns(&self, table: SignalTable, datasets: Option<&[String]>) -> Result<Vec<ColumnInfo>>;

    /// Counters.
    fn stats(&self) -> StoreStats;
}
