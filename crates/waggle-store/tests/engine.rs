//! The embedded store end to end: append, read back, flush, restart, retention, overload.

use std::ops::ControlFlow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use waggle_model::{Batch, Event, EventKind, Field, Origin, SignalTable, SpanId, TraceId, Value};
use waggle_store::{DiskStore, ScanRequest, Store, StoreConfig, StoreError};

fn now_nanos() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64
}

fn span(trace: u64, span: u64, time: i64) -> Event {
    let mut trace_bytes = [0u8; 16];
    trace_bytes[..8].copy_from_slice(&(trace + 1).to_le_bytes());
    Event {
        kind: EventKind::Span,
        dataset: format!("svc-{}", trace % 2),
        time_unix_nano: time,
        duration_nano: 1_000_000 + span as i64,
        trace_id: Some(TraceId(trace_bytes)),
        span_id: Some(SpanId((span + 1).to_le_bytes())),
        parent_id: None,
        fields: vec![
            Field::new("name", format!("op-{span}"), Origin::Derived),
            Field::new("service.name", format!("svc-{}", trace % 2), Origin::Resource),
            Field::new("app.user_id", Value::Int(span as i64), Origin::Attribute),
        ],
    }
}

fn config(dir: &std::path::Path) -> StoreConfig {
    let mut config = StoreConfig::new(dir);
    config.retention_check_interval = Duration::from_millis(50);
    config
}

fn append(store: &DiskStore, events: Vec<Event>) {
    store.append(Batch { events }).unwrap().wait_blocking().unwrap();
}

fn trace_of(store: &DiskStore, trace: u64) -> Vec<Event> {
    let id = span(trace, 0, 0).trace_id;
    let mut out = Vec::new();
    let request = ScanRequest { trace_id: id, ..ScanRequest::all(SignalTable::Traces) };
    store
        .scan(&request, &mut |event| {
            out.push(event);
            ControlFlow::Continue(())
        })
        .unwrap();
    out.sort_by_key(|event| event.span_id);
    out
}

fn count(store: &DiskStore) -> usize {
    let mut rows = 0;
    store
        .scan(&ScanRequest::all(SignalTable::Traces), &mut |_| {
            rows += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
    rows
}

fn normalized(mut events: Vec<Event>) -> Vec<Event> {
    for event in &mut events {
        event.fields.sort_by(|a, b| a.key.cmp(&b.key));
    }
    events.sort_by_key(|event| (event.trace_id, event.span_id));
    events
}

#[test]
fn test_store_reads_back_from_head_and_segments_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let time = now_nanos();
    let expected: Vec<Event> = (0..3).map(|index| span(7, index, time + index as i64)).collect();
    {
        let store = DiskStore::open(config(dir.path())).unwrap();
        append(&store, expected.clone());
        assert_eq!(normalized(trace_of(&store, 7)), normalized(expected.clone()));
    }
    // Reopen: the head comes back from the WAL.
    let mut flushing = config(dir.path());
    flushing.flush_max_rows = 1;
    let store = DiskStore::open(flushing).unwrap();
    assert_eq!(normalized(trace_of(&store, 7)), normalized(expected.clone()));
    append(&store, vec![span(8, 0, time)]);
    // The append above crossed flush_max_rows: wait for segments.
    for _ in 0..100 {
        if store.stats().head_rows == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let stats = store.stats();
    assert_eq!((stats.head_rows, stats.segment_rows), (0, 4), "{stats:?}");
    assert_eq!(normalized(trace_of(&store, 7)), normalized(expected.clone()));
    drop(store);
    // Reopen after a flush: no duplicates from a replayed WAL.
    let store = DiskStore::open(config(dir.path())).unwrap();
    assert_eq!(count(&store), 4);
    assert_eq!(normalized(trace_of(&store, 7)), normalized(expected));
    let datasets = store.datasets().unwrap();
    assert_eq!(
        datasets.iter().map(|d| (d.name.as_str(), d.rows)).collect::<Vec<_>>(),
        vec![("svc-0", 1), ("svc-1", 3)]
    );
}

#[test]
fn test_store_segments_partition_by_hour_and_project_columns() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.flush_max_rows = 10;
    let store = DiskStore::open(cfg).unwrap();
    let time = now_nanos();
    let events: Vec<Event> = (0..10).map(|index| span(index, index, time - index as i64 * 1_800_000_000_000)).collect();
    append(&store, events);
    for _ in 0..100 {
        if store.stats().segments > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(store.stats().segments >= 5, "{:?}", store.stats());
    let request = ScanRequest {
        columns: Some(vec!["app.user_id".into()]),
        start_unix_nano: time - 3 * 1_800_000_000_000,
        ..ScanRequest::all(SignalTable::Traces)
    };
    let mut seen = Vec::new();
    store
        .scan(&request, &mut |event| {
            seen.push(event.fields);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(seen.len(), 4, "rows at 0, 30, 60 and 90 minutes ago");
    assert!(seen.iter().all(|fields| fields.len() == 1 && fields[0].key == "app.user_id"));
}

#[test]
fn test_store_retention_hides_and_deletes_old_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.retention_max_age = Duration::from_secs(3600);
    cfg.flush_max_rows = 2;
    let store = DiskStore::open(cfg).unwrap();
    let old = now_nanos() - 2 * 3_600_000_000_000;
    append(&store, vec![span(1, 0, old), span(1, 1, old)]);
    append(&store, vec![span(2, 0, now_nanos()), span(2, 1, now_nanos())]);
    assert!(trace_of(&store, 1).is_empty());
    assert_eq!(trace_of(&store, 2).len(), 2);
    for _ in 0..200 {
        let stats = store.stats();
        if stats.head_rows == 0 && stats.segments == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(store.stats().segments, 1, "the old hour's segment is deleted");
    assert_eq!(trace_of(&store, 2).len(), 2);
}

#[test]
fn test_store_retention_by_size_drops_oldest() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.flush_max_rows = 1;
    cfg.retention_max_bytes = 1;
    let store = DiskStore::open(cfg).unwrap();
    append(&store, vec![span(1, 0, now_nanos() - 10_000_000_000)]);
    for _ in 0..200 {
        if store.stats().head_rows == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    store.enforce_retention().unwrap();
    assert_eq!(store.stats().segments, 0);
}

#[test]
fn test_store_refuses_second_opener_and_overload() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.max_head_bytes = 0;
    cfg.flush_interval = Duration::from_secs(3600);
    let store = DiskStore::open(cfg.clone()).unwrap();
    assert!(matches!(DiskStore::open(cfg), Err(StoreError::Locked(_))));
    // The first batch fits (the head is empty), then the head is over its limit.
    append(&store, vec![span(1, 0, now_nanos())]);
    let refused = store.append(Batch { events: vec![span(2, 0, now_nanos())] });
    assert!(matches!(refused, Err(StoreError::Overloaded { .. })));
}

#[test]
fn test_store_sets_aside_corrupt_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.flush_max_rows = 1;
    {
        let store = DiskStore::open(cfg.clone()).unwrap();
        append(&store, vec![span(3, 0, now_nanos())]);
        for _ in 0..200 {
            if store.stats().head_rows == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let segment = walk(dir.path()).into_iter().find(|path| path.extension().is_some_and(|ext| ext == "seg")).unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let len = bytes.len();
    bytes[len - 20] ^= 0xff;
    std::fs::write(&segment, bytes).unwrap();
    let store = DiskStore::open(cfg).unwrap();
    assert_eq!(store.stats().segments, 0);
    assert!(walk(dir.path()).iter().any(|path| path.to_string_lossy().ends_with(".seg.corrupt")));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn test_store_recovers_from_a_replayed_head_over_the_memory_cap() {
    // Regression: a restart replayed more rows than 3 x flush_max_rows; every append was refused
    // and the writer only considered flushing after a commit, so ingest stalled.
    let dir = tempfile::tempdir().unwrap();
    {
        let store = DiskStore::open(config(dir.path())).unwrap();
        append(&store, (0..50).map(|index| span(index, index, now_nanos())).collect());
    }
    let mut small = config(dir.path());
    small.flush_max_rows = 10;
    let store = DiskStore::open(small).unwrap();
    let mut accepted = false;
    for _ in 0..100 {
        match store.append(Batch { events: vec![span(99, 0, now_nanos())] }) {
            Ok(ticket) => {
                ticket.wait_blocking().unwrap();
                accepted = true;
                break;
            }
            Err(StoreError::Overloaded { .. }) => std::thread::sleep(Duration::from_millis(50)),
            Err(err) => panic!("{err}"),
        }
    }
    assert!(accepted, "appends still refused after 5 s");
    assert_eq!(count(&store), 51);
    // Regression: the freeze right after recovery "rotated" to the live WAL file's own name, and the
    // flusher deleted it with the acknowledged batch inside.
    drop(store);
    let store = DiskStore::open(config(dir.path())).unwrap();
    assert_eq!(count(&store), 51, "an acknowledged batch was lost across a restart");
}

fn wait_flushed(store: &DiskStore) {
    for _ in 0..200 {
        if store.stats().head_rows == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("head not flushed: {:?}", store.stats());
}

#[test]
fn test_store_sequence_never_reuses_a_leftover_wal_name() {
    // Regression: with every segment expired, recovery restarted sequence numbers below an empty
    // leftover WAL file; the next rotation reopened that file as the live one after listing it for
    // deletion, and the batch acknowledged next was lost at the following restart.
    let dir = tempfile::tempdir().unwrap();
    let mut flush_each = config(dir.path());
    flush_each.flush_max_rows = 1;
    flush_each.retention_max_bytes = 1;
    {
        let store = DiskStore::open(flush_each).unwrap();
        append(&store, vec![span(1, 0, now_nanos())]);
        wait_flushed(&store);
        store.enforce_retention().unwrap();
        assert_eq!(store.stats().segments, 0);
    }
    let mut flush_ten = config(dir.path());
    flush_ten.flush_max_rows = 10;
    {
        let store = DiskStore::open(flush_ten.clone()).unwrap();
        append(&store, (0..10).map(|index| span(2, index, now_nanos())).collect());
        wait_flushed(&store);
        append(&store, vec![span(3, 0, now_nanos())]);
    }
    let store = DiskStore::open(flush_ten).unwrap();
    assert_eq!(trace_of(&store, 3).len(), 1, "the acknowledged batch after the flush was lost");
    assert_eq!(trace_of(&store, 2).len(), 10);
}

/// One row read column-wise: dataset, time, duration, trace id, user, name.
type PartRow = (String, i64, i64, Option<TraceId>, Option<Value>, Option<Value>);

/// Every row of a table read column-wise.
fn read_parts(store: &DiskStore) -> Vec<PartRow> {
    let mut rows = Vec::new();
    for part in store.parts(&waggle_store::PartsRequest::all(SignalTable::Traces)).unwrap() {
        let mut reader = part.open().unwrap();
        let (times, durations, ids) = (reader.times().unwrap(), reader.durations().unwrap(), reader.ids().unwrap());
        let user = reader.column("app.user_id").unwrap().unwrap();
        let name = reader.column("name").unwrap().unwrap();
        assert!(reader.column("no.such.field").unwrap().is_none());
        assert_eq!(reader.kinds().unwrap().len(), times.len());
        for row in 0..times.len() {
            let dataset = part.info().dataset.clone();
            rows.push((dataset, times[row], durations[row], ids.trace_ids[row], user.value(row), name.value(row)));
        }
    }
    rows.sort_by_key(|row| (row.1, row.2));
    rows
}

#[test]
fn test_store_parts_read_the_same_columns_from_head_and_segments() {
    let dir = tempfile::tempdir().unwrap();
    let time = now_nanos();
    let events: Vec<Event> = (0..20).map(|index| span(index % 3, index, time + index as i64)).collect();
    let mut expected: Vec<_> = events
        .iter()
        .map(|event| {
            let field = |key: &str| event.field(key).cloned();
            (
                event.dataset.clone(),
                event.time_unix_nano,
                event.duration_nano,
                event.trace_id,
                field("app.user_id"),
                field("name"),
            )
        })
        .collect();
    expected.sort_by_key(|row| (row.1, row.2));
    let mut cfg = config(dir.path());
    cfg.flush_max_rows = 40;
    let store = DiskStore::open(cfg.clone()).unwrap();
    append(&store, events.clone());
    assert_eq!(read_parts(&store), expected, "from the head");
    let columns = store.columns(SignalTable::Traces, None).unwrap();
    let names: Vec<&str> = columns.iter().map(|column| column.name.as_str()).collect();
    assert_eq!(names, vec!["app.user_id", "name", "service.name"]);
    assert_eq!(columns[0].types, vec![waggle_store::CellType::Int]);
    append(&store, events.clone());
    for _ in 0..100 {
        if store.stats().head_rows == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(store.stats().head_rows, 0);
    let doubled: Vec<_> = expected.iter().flat_map(|row| [row.clone(), row.clone()]).collect();
    assert_eq!(read_parts(&store), doubled, "from segments");
    assert_eq!(store.columns(SignalTable::Traces, Some(&["svc-1".to_owned()])).unwrap().len(), 3);
}

/// Appends `flushes` batches of `rows` rows of one trace, timed in the current hour (so one
/// dataset and hour, one partition), each batch flushed into a segment of its own.
fn flush_batches(store: &DiskStore, trace: u64, flushes: u64, rows: u64) -> Vec<Event> {
    let hour = now_nanos() / 3_600_000_000_000 * 3_600_000_000_000;
    let mut all = Vec::new();
    for flush in 0..flushes {
        let events: Vec<Event> =
            (0..rows).map(|row| span(trace, flush * rows + row, hour + (flush * rows + row) as i64)).collect();
        all.extend(events.clone());
        append(store, events);
        wait_flushed(store);
    }
    all
}

fn wait_for_segments(store: &DiskStore, at_most: u64) {
    for _ in 0..500 {
        if store.stats().segments <= at_most {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("segments were not merged: {:?}", store.stats());
}

fn segment_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    walk(dir).into_iter().filter(|path| path.extension().is_some_and(|ext| ext == "seg")).collect()
}

#[test]
fn test_store_merges_small_segments_keeping_every_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.flush_max_rows = 10;
    let store = DiskStore::open(cfg.clone()).unwrap();
    // A read that starts before the merge: its parts must stay readable after it.
    let expected = normalized(flush_batches(&store, 2, 1, 10));
    let early_parts = store.parts(&waggle_store::PartsRequest::all(SignalTable::Traces)).unwrap();
    let mut expected_all = expected.clone();
    expected_all.extend(flush_batches(&store, 2, 7, 10));
    let expected_all = normalized(expected_all);
    wait_for_segments(&store, 2);
    assert_eq!(normalized(trace_of(&store, 2)), expected_all);
    assert_eq!(count(&store), 80);
    let early_rows: usize = early_parts.iter().map(|part| part.open().unwrap().times().unwrap().len()).sum();
    assert_eq!(early_rows, 10, "a merged segment's file went while a reader held it");
    drop(early_parts);
    let files = segment_files(dir.path());
    assert_eq!(files.len() as u64, store.stats().segments, "merged inputs are deleted: {files:?}");
    drop(store);
    let store = DiskStore::open(cfg).unwrap();
    assert_eq!(normalized(trace_of(&store, 2)), expected_all, "after a restart");
}

#[test]
fn test_store_recovery_drops_inputs_left_beside_their_merged_segment() {
    // A crash after the merged segment was written but before its inputs were deleted leaves both.
    let dir = tempfile::tempdir().unwrap();
    let saved = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.flush_max_rows = 10;
    let expected = {
        let store = DiskStore::open(cfg.clone()).unwrap();
        let mut expected = flush_batches(&store, 4, 3, 10);
        let inputs = segment_files(dir.path());
        for (index, path) in inputs.iter().enumerate() {
            std::fs::copy(path, saved.path().join(format!("{index}"))).unwrap();
        }
        expected.extend(flush_batches(&store, 4, 1, 10));
        wait_for_segments(&store, 1);
        for (index, path) in inputs.iter().enumerate() {
            std::fs::copy(saved.path().join(format!("{index}")), path).unwrap();
        }
        normalized(expected)
    };
    assert_eq!(segment_files(dir.path()).len(), 4, "the merged segment and three of its inputs");
    let store = DiskStore::open(cfg).unwrap();
    assert_eq!(normalized(trace_of(&store, 4)), expected, "no row twice");
    assert_eq!(store.stats().segments, 1);
    assert_eq!(segment_files(dir.path()).len(), 1, "the leftover inputs are deleted");
}
