//! Reads: snapshot the view, then scan head chunks and segments without holding the lock.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use waggle_model::{Event, SignalTable};

use super::{Shared, retention};
use crate::error::Result;
use crate::head::{Extent, HeadChunk};
use crate::segment::Segment;
use crate::{DatasetInfo, ScanRequest, StoreStats};

pub(super) struct Snapshot {
    pub(super) chunks: Vec<Arc<HeadChunk>>,
    pub(super) segments: Vec<Arc<Segment>>,
}

pub(super) fn snapshot(shared: &Shared) -> Snapshot {
    let view = shared.view.read();
    let mut chunks = view.active.chunks.clone();
    for frozen in &view.frozen {
        chunks.extend(frozen.head.chunks.iter().cloned());
    }
    Snapshot { chunks, segments: view.segments.clone() }
}

fn wants_dataset(request: &ScanRequest, dataset: &str) -> bool {
    request.datasets.as_ref().is_none_or(|names| names.iter().any(|name| name == dataset))
}

pub(super) fn overlaps(start: i64, end: i64, min_time: i64, max_time: i64) -> bool {
    min_time < end && max_time >= start
}

pub(crate) fn scan(
    shared: &Shared,
    request: &ScanRequest,
    visit: &mut dyn FnMut(Event) -> ControlFlow<()>,
) -> Result<()> {
    let start = request.start_unix_nano.max(retention::cutoff(shared));
    let end = request.end_unix_nano;
    let in_range = |time: i64| time >= start && time < end;
    let snapshot = snapshot(shared);
    let mut stopped = false;

    for chunk in &snapshot.chunks {
        let relevant = chunk.summary.iter().any(|((table, dataset), extent)| {
            *table == request.table
                && wants_dataset(request, dataset)
                && overlaps(start, end, extent.min_time, extent.max_time)
        });
        if !relevant || request.trace_id.is_some_and(|id| !chunk.bloom.may_contain(&id)) {
            continue;
        }
        for mut event in chunk.events()? {
            let matches = event.kind.table() == request.table
                && in_range(event.time_unix_nano)
                && wants_dataset(request, &event.dataset)
                && request.trace_id.is_none_or(|id| event.trace_id == Some(id));
            if !matches {
                continue;
            }
            if let Some(columns) = &request.columns {
                event.fields.retain(|field| columns.contains(&field.key));
            }
            if visit(event).is_break() {
                return Ok(());
            }
        }
    }

    for segment in &snapshot.segments {
        let meta = &segment.meta;
        if meta.table() != Some(request.table)
            || !wants_dataset(request, &meta.dataset)
            || !overlaps(start, end, meta.min_time, meta.max_time)
            || request.trace_id.is_some_and(|id| !segment.may_contain_trace(&id))
        {
            continue;
        }
        segment.scan(
            request.columns.as_deref(),
            request.trace_id,
            &mut |row| in_range(row.time_unix_nano) && request.trace_id.is_none_or(|id| row.trace_id == Some(id)),
            &mut |event| {
                stopped = visit(event).is_break();
                !stopped
            },
        )?;
        if stopped {
            break;
        }
    }
    Ok(())
}

pub(crate) fn datasets(shared: &Shared) -> Vec<DatasetInfo> {
    let snapshot = snapshot(shared);
    let mut extents: BTreeMap<(SignalTable, String), Extent> = BTreeMap::new();
    let mut add = |key: (SignalTable, String), extent: Extent| match extents.get_mut(&key) {
        Some(existing) => existing.merge(extent),
        None => {
            extents.insert(key, extent);
        }
    };
    for chunk in &snapshot.chunks {
        for (key, extent) in &chunk.summary {
            add(key.clone(), *extent);
        }
    }
    for segment in &snapshot.segments {
        let meta = &segment.meta;
        if let Some(table) = meta.table() {
            add(
                (table, meta.dataset.clone()),
                Extent { rows: meta.rows, min_time: meta.min_time, max_time: meta.max_time },
            );
        }
    }
    extents
        .into_iter()
        .map(|((table, name), extent)| DatasetInfo {
            name,
            table,
            rows: extent.rows,
            first_time_unix_nano: extent.min_time,
            last_time_unix_nano: extent.max_time,
        })
        .collect()
}

pub(crate) fn stats(shared: &Shared) -> StoreStats {
    // Directory I/O before taking the lock: the writer needs it for every commit.
    let wal_bytes = std::fs::read_dir(&shared.wal_dir)
        .map(|entries| entries.filter_map(|entry| entry.ok()?.metadata().ok()).map(|meta| meta.len()).sum())
        .unwrap_or(0);
    let view = shared.view.read();
    let heads = std::iter::once(&view.active).chain(view.frozen.iter().map(|frozen| &frozen.head));
    let (head_rows, head_bytes) = heads.fold((0, 0), |(rows, bytes), head| (rows + head.rows, bytes + head.bytes));
    StoreStats {
        head_rows,
        head_bytes,
        segments: view.segments.len() as u64,
        segment_rows: view.segments.iter().map(|segment| segment.meta.rows).sum(),
        segment_bytes: view.segments.iter().map(|segment| segment.size_bytes).sum(),
        wal_bytes,
    }
}
