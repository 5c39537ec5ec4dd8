//! Trace assembly and the recent-traces list over a real store.

use waggle_model::{Batch, Event, EventKind, Field, Origin, SpanId, TraceId, Value};
use waggle_query::{RecentTraces, get_trace, recent_traces};
use waggle_store::{DiskStore, Store, StoreConfig};

const BASE: i64 = 1_900_000_000_000_000_000;

fn row(kind: EventKind, trace: u8, span: Option<u8>, parent: Option<u8>, time: i64, fields: Vec<Field>) -> Event {
    Event {
        kind,
        dataset: "api".into(),
        time_unix_nano: time,
        duration_nano: if kind == EventKind::Span { 2_000_000 } else { 0 },
        trace_id: Some(TraceId([trace; 16])),
        span_id: span.map(|id| SpanId([id; 8])),
        parent_id: parent.map(|id| SpanId([id; 8])),
        fields,
    }
}

/// A store in a temporary directory, its retention by age out of the way.
fn empty_store() -> (tempfile::TempDir, DiskStore) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = StoreConfig::new(dir.path());
    config.retention_max_age = std::time::Duration::from_secs(u32::MAX as u64);
    (dir, DiskStore::open(config).unwrap())
}

fn store_with_two_traces() -> (tempfile::TempDir, DiskStore) {
    let (dir, store) = empty_store();
    let name = |text: &str| Field::new("name", text, Origin::Derived);
    let events = vec![
        row(
            EventKind::Span,
            1,
            Some(1),
            None,
            BASE,
            vec![
                name("GET /"),
                Field::new("span.kind", "server", Origin::Derived),
                Field::new("service.name", "api", Origin::Resource),
                Field::new("http.route", "/", Origin::Attribute),
                Field::new("library.name", "flask", Origin::Derived),
            ],
        ),
        row(
            EventKind::Span,
            1,
            Some(2),
            Some(1),
            BASE + 10,
            vec![
                name("SELECT"),
                Field::new("status_code", Value::Int(2), Origin::Derived),
                Field::new("error", true, Origin::Derived),
            ],
        ),
        row(
            EventKind::SpanEvent,
            1,
            None,
            Some(2),
            BASE + 20,
            vec![name("exception"), Field::new("exception.type", "E", Origin::Attribute)],
        ),
        row(
            EventKind::Link,
            1,
            None,
            Some(2),
            BASE + 10,
            vec![
                Field::new("trace.link.trace_id", "0202020202020202", Origin::Derived),
                Field::new("trace.link.span_id", "0303030303030303", Origin::Derived),
            ],
        ),
        row(
            EventKind::Log,
            1,
            Some(2),
            None,
            BASE + 15,
            vec![Field::new("body", "boom", Origin::Derived), Field::new("severity", "ERROR", Origin::Derived)],
        ),
        row(
            EventKind::Span,
            2,
            Some(9),
            None,
            BASE + 1_000,
            vec![name("GET /health"), Field::new("service.name", "api", Origin::Resource)],
        ),
    ];
    store.append(Batch { events }).unwrap().wait_blocking().unwrap();
    (dir, store)
}

#[test]
fn test_get_trace_assembles_spans_events_links_and_logs() {
    let (_dir, store) = store_with_two_traces();
    let trace = get_trace(&store, TraceId([1; 16])).unwrap().unwrap();
    assert_eq!(trace.spans.len(), 2);
    let root = &trace.spans[0];
    assert_eq!((root.name.as_str(), root.kind.as_str(), root.parent_span_id.as_deref()), ("GET /", "server", None));
    assert_eq!(root.attributes["http.route"], "/");
    assert_eq!(root.resource["service.name"], "api");
    assert_eq!(root.scope.name, "flask");
    assert!(!root.attributes.contains_key("name"));
    let child = &trace.spans[1];
    assert_eq!((child.status_code, child.events.len(), child.links.len()), (2, 1, 1));
    assert_eq!(child.events[0].attributes["exception.type"], "E");
    assert_eq!(child.links[0].span_id, "0303030303030303");
    assert_eq!(trace.logs.len(), 1);
    assert_eq!((trace.logs[0].body.as_str(), trace.logs[0].severity_text.as_str()), (Some("boom"), "ERROR"));
    assert!(get_trace(&store, TraceId([7; 16])).unwrap().is_none());
}

#[test]
fn test_recent_traces_counts_filters_and_pages() {
    let (_dir, store) = store_with_two_traces();
    let params =
        RecentTraces { start_unix_nano: BASE - 1, end_unix_nano: BASE + 10_000, limit: 1, ..Default::default() };
    let first = recent_traces(&store, &params).unwrap();
    assert_eq!(first.traces[0].root_name, "GET /health");
    let second = recent_traces(&store, &RecentTraces { cursor: first.next_cursor.clone(), ..params.clone() }).unwrap();
    assert_eq!((second.traces[0].span_count, second.traces[0].error), (2, true));
    assert_eq!(second.next_cursor, None);
    let errors = recent_traces(&store, &RecentTraces { error: Some(true), limit: 10, ..params.clone() }).unwrap();
    assert_eq!(errors.traces.len(), 1);
    let slow =
        recent_traces(&store, &RecentTraces { min_duration_ms: Some(3.0), limit: 10, ..params.clone() }).unwrap();
    assert!(slow.traces.is_empty());
    assert!(recent_traces(&store, &RecentTraces { limit: 0, ..params }).is_err());
}

/// Regression (issue 5): an X-Ray segment sent in progress and then complete is one span in the
/// trace view, the complete one.
#[test]
fn test_get_trace_keeps_the_complete_version_of_a_span() {
    let (_dir, store) = empty_store();
    let name = Field::new("name", "Cruddur", Origin::Derived);
    let mut in_progress = row(
        EventKind::Span,
        9,
        Some(1),
        None,
        BASE,
        vec![name.clone(), Field::new("xray.in_progress", true, Origin::Derived)],
    );
    in_progress.duration_nano = 0;
    let mut complete = row(EventKind::Span, 9, Some(1), None, BASE, vec![name]);
    complete.duration_nano = 250_000_000;
    for event in [in_progress, complete] {
        store.append(Batch { events: vec![event] }).unwrap().wait_blocking().unwrap();
    }
    let trace = get_trace(&store, TraceId([9; 16])).unwrap().unwrap();
    assert_eq!(trace.spans.len(), 1);
    assert_eq!(trace.spans[0].duration_ms, 250.0);
}

/// Regression: a request traced both over OTLP and to X-Ray (one trace id, two roots: a server span
/// and a segment named for its service) is one row, named for the operation, though the segment
/// arrives first; a dataset filter still finds the trace by its other root. A root sent in progress
/// and then complete is one row with the complete duration.
#[test]
fn test_recent_traces_lists_a_trace_with_two_roots_once() {
    let (_dir, store) = empty_store();
    let root = |dataset: &str, span: u8, time: i64, name: &str| Event {
        dataset: dataset.into(),
        ..row(
            EventKind::Span,
            1,
            Some(span),
            None,
            time,
            vec![Field::new("name", name, Origin::Derived), Field::new("service.name", dataset, Origin::Resource)],
        )
    };
    // The segment's start is the span's, cut to X-Ray's microseconds; it arrives first (over UDP).
    let segment = root("backend-flask", 2, BASE + 1_000, "backend-flask");
    let span = root("cruddur-backend", 1, BASE + 1_356, "GET /api/activities/home");
    let mut in_progress = root("worker", 3, BASE + 5_000_000, "worker");
    in_progress.trace_id = Some(TraceId([2; 16]));
    in_progress.duration_nano = 0;
    let complete = Event { duration_nano: 250_000_000, ..in_progress.clone() };
    for event in [segment, span, in_progress, complete] {
        store.append(Batch { events: vec![event] }).unwrap().wait_blocking().unwrap();
    }
    let params = RecentTraces {
        start_unix_nano: BASE - 1,
        end_unix_nano: BASE + 1_000_000_000,
        limit: 10,
        ..Default::default()
    };
    let page = recent_traces(&store, &params).unwrap();
    let rows: Vec<_> = page.traces.iter().map(|trace| (trace.root_name.as_str(), trace.duration_ms)).collect();
    assert_eq!(rows, [("worker", 250.0), ("GET /api/activities/home", 2.0)]);
    let counts: Vec<_> = page.traces.iter().map(|trace| trace.span_count).collect();
    assert_eq!(counts, [1, 2], "a span stored twice is one span");
    let by_segment = RecentTraces { dataset: Some("backend-flask".into()), ..params };
    let page = recent_traces(&store, &by_segment).unwrap();
    let rows: Vec<_> = page.traces.iter().map(|trace| trace.root_name.as_str()).collect();
    assert_eq!(rows, ["backend-flask"]);
}

/// Regression: a span exported over OTLP and, under the same span id, to X-Ray (as Cruddur does) is
/// one span with the OTLP version's exception event only, and one span in the recent list.
#[test]
fn test_a_span_sent_twice_shows_the_events_of_the_version_shown() {
    let (_dir, store) = empty_store();
    let version = |dataset: &str, extra: Vec<Field>| {
        let mut fields = vec![Field::new("name", "GET /", Origin::Derived)];
        fields.extend(extra);
        Event { dataset: dataset.into(), ..row(EventKind::Span, 3, Some(1), None, BASE, fields) }
    };
    let exception = |dataset: &str, time: i64| Event {
        dataset: dataset.into(),
        ..row(EventKind::SpanEvent, 3, None, Some(1), time, vec![Field::new("name", "exception", Origin::Derived)])
    };
    let events = vec![
        version("backend-flask", vec![Field::new("xray.type", "segment", Origin::Derived)]),
        exception("backend-flask", BASE + 7),
        version("cruddur-backend", Vec::new()),
        exception("cruddur-backend", BASE + 5),
    ];
    store.append(Batch { events }).unwrap().wait_blocking().unwrap();
    let trace = get_trace(&store, TraceId([3; 16])).unwrap().unwrap();
    assert_eq!(trace.spans.len(), 1);
    assert_eq!(trace.spans[0].dataset, "cruddur-backend");
    let times: Vec<_> = trace.spans[0].events.iter().map(|event| event.time_unix_nano).collect();
    assert_eq!(times, [BASE + 5]);
    let params = RecentTraces { start_unix_nano: BASE - 1, end_unix_nano: BASE + 1, limit: 10, ..Default::default() };
    let page = recent_traces(&store, &params).unwrap();
    assert_eq!(page.traces.len(), 1);
    assert_eq!(page.traces[0].span_count, 1);
}
