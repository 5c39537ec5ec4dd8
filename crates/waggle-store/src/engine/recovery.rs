//! Opening a store: lock the directory, check every segment (a corrupt one is set aside, never
//! served), then replay the WAL into the head, skipping rows a segment already holds.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use waggle_model::{Event, SignalTable};

use crate::StoreConfig;
use crate::error::{Result, StoreError};
use crate::head::{Head, HeadChunk};
use crate::segment::{Segment, hour_of};
use crate::wal::{self, WalWriter, sync_dir};

pub(crate) struct Recovered {
    /// Held for the store's lifetime; `None` when read-only.
    pub(crate) lock: Option<File>,
    pub(crate) wal_dir: PathBuf,
    pub(crate) segments_dir: PathBuf,
    pub(crate) segments: Vec<Arc<Segment>>,
    pub(crate) head: Head,
    /// The WAL file to append to; `None` when read-only.
    pub(crate) wal: Option<WalWriter>,
    pub(crate) closed_wal_files: Vec<PathBuf>,
    pub(crate) next_seq: u64,
}

type Coverage = HashMap<(SignalTable, String, i64), Vec<(u64, u64)>>;

/// Read-only recovery changes nothing on disk (no lock, no truncation, no clean-up), so it can run
/// beside a live waggle, e.g. for `waggle export`.
pub(crate) fn recover(config: &StoreConfig, read_only: bool) -> Result<Recovered> {
    let root = &config.data_dir;
    let wal_dir = root.join("wal");
    let segments_dir = root.join("segments");
    if read_only {
        if !wal_dir.is_dir() {
            return Err(StoreError::Io {
                context: format!("{} holds no waggle data", root.display()),
                source: std::io::ErrorKind::NotFound.into(),
            });
        }
    } else {
        for dir in [root, &wal_dir, &segments_dir] {
            fs::create_dir_all(dir).map_err(StoreError::io(format!("creating {}", dir.display())))?;
        }
    }
    let lock = if read_only { None } else { Some(lock(root)?) };
    if !read_only {
        sync_dir(root)?;
    }

    // WAL files are listed before segments are loaded: a live waggle (beside a read-only open)
    // deletes WAL files only after their segments exist, so no row falls between the two.
    let wal_files = wal::list(&wal_dir)?;
    let segments = drop_merged_inputs(load_segments(&segments_dir, read_only)?, read_only);
    let mut coverage: Coverage = HashMap::new();
    let mut max_seq = 0;
    for segment in &segments {
        let meta = &segment.meta;
        let table = meta.table().expect("checked at open");
        coverage.entry((table, meta.dataset.clone(), meta.hour)).or_default().push((meta.seq_lo, meta.seq_hi));
        max_seq = max_seq.max(meta.seq_hi);
    }

    let mut head = Head::default();
    let mut closed_wal_files = Vec::new();
    let mut num_replayed = 0u64;
    for (first_seq, path) in wal_files {
        // Sequence numbers never go back, even when the files are empty and the segments expired.
        max_seq = max_seq.max(first_seq.saturating_sub(1));
        for record in wal::replay_file(&path, !read_only)? {
            max_seq = max_seq.max(record.seq);
            let seq = record.seq;
            let keep = |event: &Event| !covered(&coverage, event, seq);
            match HeadChunk::from_wal(seq, record.payload, &keep) {
                Ok(Some(chunk)) => {
                    num_replayed += chunk.rows;
                    head.push(Arc::new(chunk));
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::error!(path = %path.display(), seq, %err, "skipping undecodable write-ahead log record")
                }
            }
        }
        closed_wal_files.push(path);
    }
    let next_seq = max_seq + 1;
    let wal = if read_only { None } else { Some(WalWriter::create(&wal_dir, next_seq)?) };
    closed_wal_files.retain(|path| wal.as_ref().is_none_or(|wal| path != wal.path()));
    tracing::info!(segments = segments.len(), replayed_rows = num_replayed, "store opened");
    Ok(Recovered { lock, wal_dir, segments_dir, segments, head, wal, closed_wal_files, next_seq })
}

fn lock(root: &Path) -> Result<File> {
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join("waggle.lock"))
        .map_err(StoreError::io("opening lock file"))?;
    if lock.try_lock().is_err() {
        return Err(StoreError::Locked(root.display().to_string()));
    }
    Ok(lock)
}

fn covered(coverage: &Coverage, event: &Event, seq: u64) -> bool {
    let key = (event.kind.table(), event.dataset.clone(), hour_of(event.time_unix_nano));
    coverage.get(&key).is_some_and(|ranges| ranges.iter().any(|&(lo, hi)| lo <= seq && seq <= hi))
}

/// Opens every segment under `segments/<table>/<dataset>/`. Leftover temporary files from an
/// interrupted flush are removed; segments that fail their checks are renamed `*.corrupt`.
fn load_segments(segments_dir: &Path, read_only: bool) -> Result<Vec<Arc<Segment>>> {
    let mut segments = Vec::new();
    if !segments_dir.is_dir() {
        return Ok(segments);
    }
    for table_dir in read_dirs(segments_dir)? {
        for dataset_dir in read_dirs(&table_dir)? {
            let entries =
                fs::read_dir(&dataset_dir).map_err(StoreError::io(format!("reading {}", dataset_dir.display())))?;
            for entry in entries {
                let path = entry.map_err(StoreError::io("listing segments"))?.path();
                let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
                if name.ends_with(".tmp") && !read_only {
                    let _ = fs::remove_file(&path);
                } else if name.ends_with(".seg") {
                    match Segment::open(&path) {
                        Ok(segment) => segments.push(Arc::new(segment)),
                        Err(err) if read_only => {
                            tracing::error!(path = %path.display(), %err, "skipping a corrupt segment")
                        }
                        Err(err) => {
                            tracing::error!(path = %path.display(), %err, "setting aside a corrupt segment");
                            let _ = fs::rename(&path, path.with_extension("seg.corrupt"));
                        }
                    }
                }
            }
        }
    }
    segments.sort_by_key(|segment| (segment.meta.min_time, segment.meta.seq_hi));
    Ok(segments)
}

/// (table, dataset, hour).
type Partition<'a> = (&'a str, &'a str, i64);

/// Compaction writes a merged segment before it deletes the inputs: a crash in between leaves
/// both. An input lies strictly inside its merged segment's sequence range in the same partition
/// (flushes give a partition disjoint ranges, merges take runs of them), so such a segment is a
/// duplicate: skipped, and deleted unless read-only.
fn drop_merged_inputs(segments: Vec<Arc<Segment>>, read_only: bool) -> Vec<Arc<Segment>> {
    let mut ranges: HashMap<Partition<'_>, Vec<(u64, u64)>> = HashMap::new();
    for segment in &segments {
        let meta = &segment.meta;
        ranges.entry((&meta.table, &meta.dataset, meta.hour)).or_default().push((meta.seq_lo, meta.seq_hi));
    }
    let duplicate: Vec<bool> = segments
        .iter()
        .map(|segment| {
            let meta = &segment.meta;
            let (lo, hi) = (meta.seq_lo, meta.seq_hi);
            ranges[&(meta.table.as_str(), meta.dataset.as_str(), meta.hour)]
                .iter()
                .any(|&(outer_lo, outer_hi)| outer_lo <= lo && hi <= outer_hi && (outer_lo, outer_hi) != (lo, hi))
        })
        .collect();
    segments
        .into_iter()
        .zip(duplicate)
        .filter_map(|(segment, duplicate)| {
            if !duplicate {
                return Some(segment);
            }
            tracing::info!(path = %segment.path.display(), "dropping a segment already merged into another");
            if !read_only {
                segment.retire();
            }
            None
        })
        .collect()
}

fn read_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in fs::read_dir(dir).map_err(StoreError::io(format!("reading {}", dir.display())))? {
        let path = entry.map_err(StoreError::io("listing directory"))?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    Ok(dirs)
}
