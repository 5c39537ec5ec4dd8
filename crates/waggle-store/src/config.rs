//! Store settings, with defaults sized for one developer machine.

use std::path::PathBuf;
use std::time::Duration;

/// How the embedded store behaves.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Where the WAL and segments live.
    pub data_dir: PathBuf,
    /// Rows older than this (by event time) are hidden and their segments deleted.
    pub retention_max_age: Duration,
    /// Oldest segments are deleted while the total exceeds this.
    pub retention_max_bytes: u64,
    /// How often retention runs.
    pub retention_check_interval: Duration,
    /// The head is flushed to segments at least this often.
    pub flush_interval: Duration,
    /// ... or when it holds this many rows. Appends are refused (overloaded) while three times this
    /// many rows wait in memory.
    pub flush_max_rows: u64,
    /// ... or this many compressed bytes.
    pub flush_max_bytes: u64,
    /// Appends are refused (overloaded) while the head and heads being flushed hold more than this.
    pub max_head_bytes: u64,
    /// Batches queued for the WAL writer before appends are refused.
    pub max_queued_batches: usize,
    /// Distinct field columns per segment; rarer keys share an overflow column.
    pub max_columns_per_segment: usize,
    /// Bytes of decoded columns kept between queries (0: none). Repeated queries over the same
    /// segments, a console refreshing its charts, skip decompressing and decoding them again.
    pub column_cache_bytes: usize,
}

impl StoreConfig {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            retention_max_age: Duration::from_secs(7 * 24 * 3600),
            retention_max_bytes: 10 << 30,
            retention_check_interval: Duration::from_secs(60),
            flush_interval: Duration::from_secs(30),
            flush_max_rows: 200_000,
            flush_max_bytes: 64 << 20,
            max_head_bytes: 128 << 20,
            max_queued_batches: 256,
            max_columns_per_segment: 1000,
            column_cache_bytes: 256 << 20,
        }
    }
}
