//! Exports a time range of one table to a Parquet file, for DuckDB, pandas or Spark.
//!
//! ```text
//!  Store::scan ──pass 1──> KeyCensus (field keys and their value types) ──> schema
//!  Store::scan ──pass 2──> RowGroupBuffer (≤ 65,536 rows) ──row group──> <out>.tmp ──rename──> <out>
//! ```
//!
//! Each row is one event. The fixed columns come first: `timestamp` (INT64 nanoseconds, UTC),
//! `dataset`, `meta.signal_type`, `meta.annotation_type`, `trace.trace_id`, `trace.span_id`,
//! `trace.parent_id` (hex) and `duration_ms`, derived as [`Event::lookup`] derives them. Then one
//! column per field key, sorted by name: all ints become INT64, ints and floats DOUBLE, bools
//! BOOLEAN, strings a string column; anything else (bytes, arrays, maps, mixed types) a string
//! column holding each value's JSON, strings and bytes (base64) as plain text. Field keys that
//! collide with a fixed column are left out. Values are ZSTD-compressed.
//!
//! Memory stays bounded: only the key census and one row group are held. The file is written
//! beside the output as `<out>.tmp` and renamed over `<out>` once complete, so a failed export
//! leaves no partial file.
//!
//! Layout: `columns` (pass 1 and the schema), `row_group` (pass 2's buffer), `error`.
//!
//! [`Event::lookup`]: waggle_model::Event::lookup

#![warn(missing_docs)]

mod columns;
mod error;
mod row_group;

use std::ffi::OsString;
use std::fs::{self, File};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use waggle_model::SignalTable;
use waggle_store::{ScanRequest, Store};

use crate::columns::{ColumnSpec, KeyCensus};
pub use crate::error::ExportError;
use crate::error::Result;
use crate::row_group::RowGroupBuffer;

/// Rows buffered before they are written as a row group.
const MAX_ROWS_PER_ROW_GROUP: usize = 65_536;

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRequest {
    /// The table: traces (spans, span events, links) or logs.
    pub table: SignalTable,
    /// Only this dataset; `None` for every dataset of the table.
    pub dataset: Option<String>,
    /// Rows at or after this time, unix nanoseconds.
    pub start_unix_nano: i64,
    /// Rows before this time, unix nanoseconds.
    pub end_unix_nano: i64,
}

impl ExportRequest {
    fn scan_request(&self) -> ScanRequest {
        ScanRequest {
            table: self.table,
            datasets: self.dataset.clone().map(|dataset| vec![dataset]),
            start_unix_nano: self.start_unix_nano,
            end_unix_nano: self.end_unix_nano,
            trace_id: None,
            columns: None,
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    /// Rows written.
    pub rows: u64,
    /// Columns in the file, fixed ones included.
    pub columns: usize,
    /// Size of the file in bytes.
    pub bytes: u64,
}

/// Writes the rows `request` selects to a Parquet file at `out`, replacing any file there.
///
/// Scans the store twice: once to learn the columns, once to write. `progress` is called with the
/// number of rows written so far after each row group. An empty selection still writes a valid
/// file, with the fixed columns and no rows. On failure nothing is left at `out` or `<out>.tmp`
/// (an existing file at `out` is untouched).
pub fn export_parquet(
    store: &dyn Store,
    request: &ExportRequest,
    out: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportSummary> {
    let scan = request.scan_request();
    let mut census = KeyCensus::default();
    store.scan(&scan, &mut |event| {
        census.observe(&event);
        ControlFlow::Continue(())
    })?;
    let columns = census.into_columns();

    let temp_path = temp_path(out);
    let written = write_file(store, &scan, &columns, &temp_path, out, progress)
        .and_then(|summary| fs::rename(&temp_path, out).map(|()| summary).map_err(ExportError::io(out)));
    if written.is_err() {
        // The export's own error is what the caller needs; a leftover temp file is only clutter.
        let _ = fs::remove_file(&temp_path);
    }
    written
}

/// `<out>.tmp`, in the same directory so the final rename stays on one file system.
fn temp_path(out: &Path) -> PathBuf {
    let mut name = OsString::from(out.as_os_str());
    name.push(".tmp");
    PathBuf::from(name)
}

/// Pass 2: writes and syncs the whole file at `temp_path`. Errors name `out`, the user's path.
fn write_file(
    store: &dyn Store,
    scan: &ScanRequest,
    columns: &[ColumnSpec],
    temp_path: &Path,
    out: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportSummary> {
    let file = File::create(temp_path).map_err(ExportError::io(out))?;
    let schema = columns::parquet_schema(columns).map_err(ExportError::parquet(out))?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_created_by(format!("waggle {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut writer =
        SerializedFileWriter::new(file, schema, Arc::new(properties)).map_err(ExportError::parquet(out))?;

    let mut buffer = RowGroupBuffer::new(columns);
    let mut num_rows_written = 0u64;
    let mut write_failure = None;
    let scanned = store.scan(scan, &mut |event| {
        buffer.push(&event);
        if buffer.num_rows() < MAX_ROWS_PER_ROW_GROUP {
            return ControlFlow::Continue(());
        }
        match buffer.write_row_group(&mut writer) {
            Ok(num_rows) => {
                num_rows_written += num_rows;
                progress(num_rows_written);
                ControlFlow::Continue(())
            }
            Err(error) => {
                write_failure = Some(error);
                ControlFlow::Break(())
            }
        }
    });
    if let Some(error) = write_failure {
        return Err(ExportError::parquet(out)(error));
    }
    scanned?;
    if buffer.num_rows() > 0 {
        num_rows_written += buffer.write_row_group(&mut writer).map_err(ExportError::parquet(out))?;
        progress(num_rows_written);
    }

    writer.finish().map_err(ExportError::parquet(out))?;
    writer.inner().sync_all().map_err(ExportError::io(out))?;
    Ok(ExportSummary { rows: num_rows_written, columns: columns.len(), bytes: writer.bytes_written() as u64 })
}
