//! Compaction: a partition's small segments are merged into one, so that a long-running waggle
//! with modest traffic (a flush every 30 s leaves a segment per dataset and hour: 120 an hour, some
//! 20,000 a week per dataset) keeps about one segment per dataset and hour. Queries and memory pay
//! per segment: its footer and bloom filter held, a file opened, a dictionary mapped.
//!
//! A partition is (table, dataset, hour). Its segments, in sequence order, merge in runs of small
//! ones (under [`SMALL_ROWS`] rows each): [`MIN_INPUTS`] of them, or two once the hour is over, up
//! to [`MAX_ROWS`] rows. Large segments are left alone: aggregations gained nothing measurable from
//! bigger ones, and a merge holds its rows uncompressed. (Before segment format 4's row blocks a trace
//! lookup also slowed down with segment size: 13.6 ms at ~40k rows, 125 ms at ~330k, over 10M spans.)
//!
//! The merged segment covers the sequence range of its inputs; an input found beside it after a
//! crash (between writing the merged file and deleting the inputs) lies strictly inside its range,
//! and recovery drops it (`recovery::drop_merged_inputs`). Inputs leave the view at once but their
//! files only go when the last reader holding them lets go ([`Segment::retire`]), so a query
//! running meanwhile still reads every row exactly once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use waggle_model::{Batch, Event};

use super::Shared;
use super::flush::{SEGMENT_ZSTD_LEVEL, partition_dir};
use crate::error::Result;
use crate::rows;
use crate::segment::{Segment, SegmentBuilder, SegmentSpec};

/// Segments at least this large are left alone.
pub(crate) const SMALL_ROWS: u64 = 20_000;
/// A merged segment holds at most this many rows (its builder holds them uncompressed).
pub(crate) const MAX_ROWS: u64 = 50_000;
/// Small segments of a partition still receiving flushes merge once there are this many.
pub(crate) const MIN_INPUTS: usize = 4;
/// Rows re-encoded at a time while merging.
const BATCH_ROWS: usize = 4096;
/// How often the compactor looks even when no flush woke it.
const CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// The compactor thread: after each flush (the flusher unparks it) and every few seconds, merges
/// until nothing is left to merge.
pub(crate) fn run(shared: &Shared) {
    while !shared.shutting_down.load(Ordering::SeqCst) {
        loop {
            if shared.shutting_down.load(Ordering::SeqCst) {
                return;
            }
            match compact_once(shared) {
                Ok(true) => continue,
                Ok(false) => break,
                Err(err) => {
                    tracing::warn!(%err, "compaction failed; the segments stay as they are");
                    break;
                }
            }
        }
        std::thread::park_timeout(CHECK_INTERVAL);
    }
}

/// Merges one run of small segments, if there is one; true when it did.
pub(crate) fn compact_once(shared: &Shared) -> Result<bool> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs() as i64);
    let segments = shared.view.read().segments.clone();
    let Some(inputs) = pick(&segments, now, shared.config.flush_interval) else { return Ok(false) };
    let started = Instant::now();
    let merged = Arc::new(merge(shared, &inputs)?);
    let swapped = {
        let mut view = shared.view.write();
        // Retention may have removed an input meanwhile: then the merged copy would revive it.
        let all_there = inputs.iter().all(|input| view.segments.iter().any(|segment| Arc::ptr_eq(segment, input)));
        if all_there {
            view.segments.retain(|segment| !inputs.iter().any(|input| Arc::ptr_eq(segment, input)));
            view.segments.push(merged.clone());
        }
        all_there
    };
    if !swapped {
        merged.retire();
        return Ok(false);
    }
    for input in &inputs {
        input.retire();
    }
    tracing::debug!(
        inputs = inputs.len(),
        rows = merged.meta.rows,
        dataset = %merged.meta.dataset,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "merged segments"
    );
    Ok(true)
}

/// The first run worth merging: small segments of one partition, consecutive in sequence order.
fn pick(segments: &[Arc<Segment>], now_unix: i64, flush_interval: Duration) -> Option<Vec<Arc<Segment>>> {
    let mut partitions: BTreeMap<(&str, &str, i64), Vec<&Arc<Segment>>> = BTreeMap::new();
    for segment in segments {
        let meta = &segment.meta;
        partitions.entry((meta.table.as_str(), meta.dataset.as_str(), meta.hour)).or_default().push(segment);
    }
    for ((_, _, hour), mut members) in partitions {
        members.sort_by_key(|segment| segment.meta.seq_lo);
        // An hour is over once no flush can still bring it rows written on time.
        let closed = now_unix > hour + 3600 + 2 * flush_interval.as_secs() as i64;
        let needed = if closed { 2 } else { MIN_INPUTS };
        let mut run: Vec<Arc<Segment>> = Vec::new();
        let mut rows = 0;
        for segment in members {
            let small = segment.meta.rows < SMALL_ROWS;
            if small && rows + segment.meta.rows <= MAX_ROWS {
                rows += segment.meta.rows;
                run.push(segment.clone());
                continue;
            }
            if run.len() >= needed {
                return Some(run);
            }
            // A large segment, or one that would overflow: the run restarts after (or with) it.
            (run, rows) = if small { (vec![segment.clone()], segment.meta.rows) } else { (Vec::new(), 0) };
        }
        if run.len() >= needed {
            return Some(run);
        }
    }
    None
}

/// Writes the inputs' rows, in sequence order, into one new segment of their partition.
fn merge(shared: &Shared, inputs: &[Arc<Segment>]) -> Result<Segment> {
    let first = &inputs[0].meta;
    let table = first.table().expect("segments are checked at open");
    let mut builder = SegmentBuilder::new(shared.config.max_columns_per_segment);
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut chunk = 0u64;
    let mut failed = None;
    for input in inputs {
        input.scan(None, None, &mut |_| true, &mut |event: Event| {
            batch.push(event);
            if batch.len() == BATCH_ROWS
                && let Err(err) = push_batch(&mut builder, &mut batch, &mut chunk)
            {
                failed = Some(err);
                return false;
            }
            true
        })?;
        if let Some(err) = failed.take() {
            return Err(err);
        }
    }
    push_batch(&mut builder, &mut batch, &mut chunk)?;
    let seq_range = (
        inputs.iter().map(|input| input.meta.seq_lo).min().unwrap_or(0),
        inputs.iter().map(|input| input.meta.seq_hi).max().unwrap_or(0),
    );
    let dir = partition_dir(&shared.segments_dir, table, &first.dataset);
    // Not `<hour>-<seq_hi>` as a flush names it: the last input has that name.
    let stem = format!("{}-{:020}-{:020}", first.hour, seq_range.1, seq_range.0);
    let spec = SegmentSpec { table, dataset: &first.dataset, hour: first.hour, seq_range };
    let path = builder.finish(&dir, &stem, spec, SEGMENT_ZSTD_LEVEL)?;
    Segment::open(&path)
}

/// Feeds buffered events to the builder through the row encoding a flush reads from.
fn push_batch(builder: &mut SegmentBuilder, batch: &mut Vec<Event>, chunk: &mut u64) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let bytes = rows::encode_batch(&Batch { events: std::mem::take(batch) });
    *chunk += 1;
    rows::decode_raw(&bytes, &mut |strings, row| builder.push_raw(*chunk, strings, row))
}
