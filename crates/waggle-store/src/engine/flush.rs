//! The flusher thread: frozen heads become segments; then their WAL files are deleted. A failed
//! flush is retried; meanwhile the frozen head stays readable and its WAL stays on disk.
//!
//! The head's compressed chunks are decoded one at a time and their rows fed to one segment builder
//! per partition: rows are never all held as events at once.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use rustc_hash::FxHashMap;
use waggle_model::SignalTable;

use super::{Frozen, Shared};
use crate::error::{Result, StoreError};
use crate::rows;
use crate::segment::{Segment, SegmentBuilder, SegmentSpec, hour_of};
use crate::wal::sync_dir;

/// zstd level for segment columns: a good ratio at a few hundred MB/s.
pub(crate) const SEGMENT_ZSTD_LEVEL: i32 = 3;

/// Flushes each frozen head; `flushed` runs after each (it wakes the compactor).
pub(crate) fn run(shared: &Shared, receiver: Receiver<Arc<Frozen>>, flushed: impl Fn()) {
    for frozen in receiver {
        loop {
            match flush(shared, &frozen) {
                Ok(()) => {
                    flushed();
                    break;
                }
                Err(err) if shared.shutting_down.load(Ordering::SeqCst) => {
                    tracing::warn!(%err, "flush failed during shutdown; the write-ahead log keeps the data");
                    return;
                }
                Err(err) => {
                    tracing::error!(%err, "flush failed; retrying in 1s");
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
    }
}

/// Directory of a partition: `segments/<table>/<dataset, escaped>`.
pub(crate) fn partition_dir(segments_dir: &Path, table: SignalTable, dataset: &str) -> PathBuf {
    segments_dir.join(table.as_str()).join(escape(dataset))
}

/// Dataset names may hold any character; file names get `[A-Za-z0-9._-]` and `%XX` for the rest.
fn escape(dataset: &str) -> String {
    let mut out = String::with_capacity(dataset.len());
    for byte in dataset.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' => out.push(byte as char),
            b'.' if !out.is_empty() => out.push('.'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    if out.is_empty() { "%".into() } else { out }
}

fn flush(shared: &Shared, frozen: &Arc<Frozen>) -> Result<()> {
    let started = std::time::Instant::now();
    // dataset -> (table, hour) -> builder: looked up by &str, so no allocation per row.
    let mut builders: FxHashMap<String, FxHashMap<(SignalTable, i64), SegmentBuilder>> = FxHashMap::default();
    let max_columns = shared.config.max_columns_per_segment;
    for (chunk_number, chunk) in frozen.head.chunks.iter().enumerate() {
        let raw = chunk.raw()?;
        rows::decode_raw(&raw, &mut |strings, row| {
            let dataset = strings[row.dataset as usize];
            if !builders.contains_key(dataset) {
                builders.insert(dataset.to_owned(), FxHashMap::default());
            }
            let partitions = builders.get_mut(dataset).expect("inserted above");
            let partition = (row.kind.table(), hour_of(row.time_unix_nano));
            partitions.entry(partition).or_insert_with(|| SegmentBuilder::new(max_columns)).push_raw(
                chunk_number as u64,
                strings,
                row,
            )
        })?;
    }
    let builders = builders.into_iter().flat_map(|(dataset, partitions)| {
        partitions.into_iter().map(move |((table, hour), builder)| ((table, dataset.clone(), hour), builder))
    });

    let seq_range = frozen.head.seq_range();
    let mut segments = Vec::new();
    for ((table, dataset, hour), builder) in builders {
        let dir = partition_dir(&shared.segments_dir, table, &dataset);
        if !dir.is_dir() {
            fs::create_dir_all(&dir).map_err(StoreError::io(format!("creating {}", dir.display())))?;
            // The new table and dataset directories must survive a power loss too.
            sync_dir(dir.parent().expect("partition dir has a parent"))?;
            sync_dir(&shared.segments_dir)?;
        }
        let stem = format!("{hour}-{:020}", seq_range.1);
        let spec = SegmentSpec { table, dataset: &dataset, hour, seq_range };
        debug_assert!(builder.rows() > 0);
        let path = builder.finish(&dir, &stem, spec, SEGMENT_ZSTD_LEVEL)?;
        segments.push(Arc::new(Segment::open(&path)?));
    }
    let num_segments = segments.len();
    {
        let mut view = shared.view.write();
        view.segments.extend(segments);
        view.frozen.retain(|other| !Arc::ptr_eq(other, frozen));
    }
    // The segments are in the view: from here on nothing may fail the flush, or a retry would add
    // them twice. A WAL file left behind is only replayed and skipped on the next start.
    for path in &frozen.wal_files {
        if let Err(err) = fs::remove_file(path) {
            tracing::warn!(path = %path.display(), %err, "could not remove flushed write-ahead log");
        }
    }
    if let Err(err) = sync_dir(&shared.wal_dir) {
        tracing::warn!(%err, "could not sync the write-ahead log directory");
    }
    tracing::debug!(
        rows = frozen.head.rows,
        num_segments,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "flushed head"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_escape_keeps_names_safe() {
        assert_eq!(escape("cruddur-backend"), "cruddur-backend");
        assert_eq!(escape("a/b c"), "a%2Fb%20c");
        assert_eq!(escape(".."), "%2E.");
        assert_eq!(escape(""), "%");
    }
}
