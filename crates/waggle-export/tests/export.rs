//! Exports from a real `DiskStore` and reads the files back with parquet's own reader.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::time::Duration;

use parquet::basic::{LogicalType, TimeUnit, Type as PhysicalType};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field as ParquetField;
use waggle_export::{ExportError, ExportRequest, ExportSummary, export_parquet};
use waggle_model::{Batch, Event, EventKind, Field, Origin, SignalTable, SpanId, TraceId, Value};
use waggle_store::{DiskStore, Store, StoreConfig};

/// 2023-11-14T22:13:20Z.
const BASE: i64 = 1_700_000_000 * 1_000_000_000;
const HOUR: i64 = 3600 * 1_000_000_000;
const TRACE: &str = "5b8efff798038103d269b633813fc60c";
const ROOT: &str = "0102030405060708";
const CHILD: &str = "1112131415161718";

fn open_store(dir: &Path) -> DiskStore {
    let mut config = StoreConfig::new(dir);
    // The fixtures are from 2023: keep them visible.
    config.retention_max_age = Duration::from_secs(100 * 365 * 24 * 3600);
    DiskStore::open(config).unwrap()
}

fn event(kind: EventKind, dataset: &str, time_unix_nano: i64, fields: Vec<(&str, Value)>) -> Event {
    Event {
        kind,
        dataset: dataset.into(),
        time_unix_nano,
        duration_nano: 0,
        trace_id: None,
        span_id: None,
        parent_id: None,
        fields: fields.into_iter().map(|(key, value)| Field::new(key, value, Origin::Attribute)).collect(),
    }
}

fn append(store: &DiskStore, events: Vec<Event>) {
    store.append(Batch { events }).unwrap().wait_blocking().unwrap();
}

/// Spans, a span event, a link, another dataset, a row out of range and a log.
fn fixture_store(dir: &Path) -> DiskStore {
    let store = open_store(dir);
    let trace_id = Some(TraceId::from_hex(TRACE).unwrap());
    let root_id = Some(SpanId::from_hex(ROOT).unwrap());
    let child_id = Some(SpanId::from_hex(CHILD).unwrap());

    let mut root = event(
        EventKind::Span,
        "api",
        BASE,
        vec![
            ("name", Value::Str("GET /".into())),
            ("http.status_code", Value::Int(200)),
            ("ratio", Value::Float(0.25)),
            ("cached", Value::Bool(true)),
            ("payload", Value::Bytes(b"hi!?".to_vec())),
            ("tags", Value::Array(vec![Value::Str("a".into()), Value::Int(1)])),
            ("attrs", Value::Map(vec![("a".into(), Value::Int(1)), ("b".into(), Value::Str("x".into()))])),
            ("mixed", Value::Str("abc".into())),
            // Collides with a fixed column: left out.
            ("duration_ms", Value::Float(99.0)),
        ],
    );
    root.trace_id = trace_id;
    root.span_id = root_id;
    root.duration_nano = 1_500_000;

    let mut child = event(
        EventKind::Span,
        "api",
        BASE + 1_000,
        vec![
            ("name", Value::Str("SELECT".into())),
            ("http.status_code", Value::Int(404)),
            ("ratio", Value::Int(2)),
            ("mixed", Value::Int(7)),
        ],
    );
    child.trace_id = trace_id;
    child.span_id = child_id;
    child.parent_id = root_id;
    child.duration_nano = 250_000;

    let mut span_event =
        event(EventKind::SpanEvent, "api", BASE + 2_000, vec![("name", Value::Str("exception".into()))]);
    span_event.trace_id = trace_id;
    span_event.parent_id = child_id;

    let mut link = event(EventKind::Link, "api", BASE + 3_000, vec![("name", Value::Str("link".into()))]);
    link.trace_id = trace_id;
    link.parent_id = root_id;

    let other_dataset = event(EventKind::Span, "web", BASE + 4_000, vec![("name", Value::Str("render".into()))]);
    let too_early = event(EventKind::Span, "api", BASE - 1, vec![("name", Value::Str("early".into()))]);
    let too_late = event(EventKind::Span, "api", BASE + HOUR, vec![("name", Value::Str("late".into()))]);

    let mut log = event(
        EventKind::Log,
        "api",
        BASE + 5_000,
        vec![("body", Value::Str("boom".into())), ("severity_code", Value::Int(17))],
    );
    log.trace_id = trace_id;
    log.span_id = child_id;

    append(&store, vec![root, child, span_event, link, other_dataset, too_early, too_late]);
    append(&store, vec![log]);
    store
}

fn request(table: SignalTable, dataset: Option<&str>, start_unix_nano: i64, end_unix_nano: i64) -> ExportRequest {
    ExportRequest { table, dataset: dataset.map(str::to_owned), start_unix_nano, end_unix_nano }
}

/// Exports, checking that progress ends at the row count and no temp file is left.
fn export(store: &DiskStore, request: &ExportRequest, out: &Path) -> ExportSummary {
    let mut reported = Vec::new();
    let summary = export_parquet(store, request, out, &mut |rows| reported.push(rows)).unwrap();
    if summary.rows > 0 {
        assert_eq!(reported.last(), Some(&summary.rows));
    } else {
        assert!(reported.is_empty());
    }
    assert!(!out.with_extension("parquet.tmp").exists());
    assert_eq!(summary.bytes, std::fs::metadata(out).unwrap().len());
    summary
}

/// Every row, keyed by column name.
fn read_rows(path: &Path) -> Vec<HashMap<String, ParquetField>> {
    let reader = SerializedFileReader::try_from(File::open(path).unwrap()).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| row.unwrap().get_column_iter().map(|(name, value)| (name.clone(), value.clone())).collect())
        .collect()
}

/// (name, physical type, logical type, required) of every column.
fn read_schema(path: &Path) -> Vec<(String, PhysicalType, Option<LogicalType>, bool)> {
    let reader = SerializedFileReader::try_from(File::open(path).unwrap()).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    schema
        .columns()
        .iter()
        .map(|column| {
            (
                column.name().to_owned(),
                column.physical_type(),
                column.logical_type_ref().cloned(),
                column.max_def_level() == 0,
            )
        })
        .collect()
}

fn row_named<'a>(rows: &'a [HashMap<String, ParquetField>], name: &str) -> &'a HashMap<String, ParquetField> {
    let wanted = ParquetField::Str(name.into());
    rows.iter().find(|row| row.get("name") == Some(&wanted)).unwrap_or_else(|| panic!("no row named {name}"))
}

fn text(value: &str) -> ParquetField {
    ParquetField::Str(value.into())
}

#[test]
fn test_export_parquet_traces_schema_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixture_store(&dir.path().join("data"));
    let out = dir.path().join("traces.parquet");
    let summary = export(&store, &request(SignalTable::Traces, None, BASE, BASE + HOUR), &out);
    assert_eq!(summary.rows, 5);
    assert_eq!(summary.columns, 16);

    let timestamp = Some(LogicalType::timestamp(true, TimeUnit::NANOS));
    let string = Some(LogicalType::String);
    let expected_schema = [
        ("timestamp", PhysicalType::INT64, timestamp, true),
        ("dataset", PhysicalType::BYTE_ARRAY, string.clone(), true),
        ("meta.signal_type", PhysicalType::BYTE_ARRAY, string.clone(), false),
        ("meta.annotation_type", PhysicalType::BYTE_ARRAY, string.clone(), false),
        ("trace.trace_id", PhysicalType::BYTE_ARRAY, string.clone(), false),
        ("trace.span_id", PhysicalType::BYTE_ARRAY, string.clone(), false),
        ("trace.parent_id", PhysicalType::BYTE_ARRAY, string.clone(), false),
        ("duration_ms", PhysicalType::DOUBLE, None, false),
        ("attrs", PhysicalType::BYTE_ARRAY, string.clone(), false),
        ("cached", PhysicalType::BOOLEAN, None, false),
        ("http.status_code", PhysicalType::INT64, None, false),
        ("mixed", PhysicalType::BYTE_ARRAY, string.clone(), false),
        ("name", PhysicalType::BYTE_ARRAY, string.clone(), false),
        ("payload", PhysicalType::BYTE_ARRAY, string.clone(), false),
        ("ratio", PhysicalType::DOUBLE, None, false),
        ("tags", PhysicalType::BYTE_ARRAY, string.clone(), false),
    ];
    let schema = read_schema(&out);
    assert_eq!(schema.len(), expected_schema.len(), "{schema:?}");
    for (column, expected) in schema.iter().zip(&expected_schema) {
        assert_eq!(
            (column.0.as_str(), column.1, &column.2, column.3),
            (expected.0, expected.1, &expected.2, expected.3)
        );
    }

    let rows = read_rows(&out);
    assert_eq!(rows.len(), 5);
    let root = row_named(&rows, "GET /");
    assert_eq!(root["timestamp"], ParquetField::Long(BASE));
    assert_eq!(root["dataset"], text("api"));
    assert_eq!(root["meta.signal_type"], text("trace"));
    assert_eq!(root["meta.annotation_type"], ParquetField::Null);
    assert_eq!(root["trace.trace_id"], text(TRACE));
    assert_eq!(root["trace.span_id"], text(ROOT));
    assert_eq!(root["trace.parent_id"], ParquetField::Null);
    assert_eq!(root["duration_ms"], ParquetField::Double(1.5));
    assert_eq!(root["http.status_code"], ParquetField::Long(200));
    assert_eq!(root["ratio"], ParquetField::Double(0.25));
    assert_eq!(root["cached"], ParquetField::Bool(true));
    assert_eq!(root["payload"], text("aGkhPw=="));
    assert_eq!(root["tags"], text(r#"["a",1]"#));
    assert_eq!(root["attrs"], text(r#"{"a":1,"b":"x"}"#));
    assert_eq!(root["mixed"], text("abc"));

    let child = row_named(&rows, "SELECT");
    assert_eq!(child["timestamp"], ParquetField::Long(BASE + 1_000));
    assert_eq!(child["trace.span_id"], text(CHILD));
    assert_eq!(child["trace.parent_id"], text(ROOT));
    assert_eq!(child["duration_ms"], ParquetField::Double(0.25));
    assert_eq!(child["http.status_code"], ParquetField::Long(404));
    assert_eq!(child["ratio"], ParquetField::Double(2.0));
    assert_eq!(child["mixed"], text("7"));
    for absent in ["cached", "payload", "tags", "attrs"] {
        assert_eq!(child[absent], ParquetField::Null, "{absent}");
    }

    let span_event = row_named(&rows, "exception");
    assert_eq!(span_event["meta.annotation_type"], text("span_event"));
    assert_eq!(span_event["meta.signal_type"], text("trace"));
    assert_eq!(span_event["trace.span_id"], ParquetField::Null);
    assert_eq!(span_event["trace.parent_id"], text(CHILD));
    assert_eq!(row_named(&rows, "link")["meta.annotation_type"], text("link"));

    let other_dataset = row_named(&rows, "render");
    assert_eq!(other_dataset["dataset"], text("web"));
    assert_eq!(other_dataset["trace.trace_id"], ParquetField::Null);
    assert_eq!(other_dataset["http.status_code"], ParquetField::Null);
}

#[test]
fn test_export_parquet_applies_dataset_filter_and_time_range() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixture_store(&dir.path().join("data"));
    let out = dir.path().join("web.parquet");

    let summary = export(&store, &request(SignalTable::Traces, Some("web"), BASE, BASE + HOUR), &out);
    assert_eq!((summary.rows, summary.columns), (1, 9));
    let rows = read_rows(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["dataset"], text("web"));
    assert_eq!(rows[0]["name"], text("render"));

    // The range is [start, end): `early` is just before it, `late` exactly at its end.
    let summary = export(&store, &request(SignalTable::Traces, Some("api"), BASE - 1, BASE + 1_000), &out);
    assert_eq!(summary.rows, 2);
    let mut names: Vec<ParquetField> = read_rows(&out).into_iter().map(|row| row["name"].clone()).collect();
    names.sort_by_key(|name| name.to_string());
    assert_eq!(names, [text("GET /"), text("early")]);
}

#[test]
fn test_export_parquet_logs_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixture_store(&dir.path().join("data"));
    let out = dir.path().join("logs.parquet");
    let summary = export(&store, &request(SignalTable::Logs, None, BASE, BASE + HOUR), &out);
    assert_eq!((summary.rows, summary.columns), (1, 10));
    let rows = read_rows(&out);
    let log = &rows[0];
    assert_eq!(log["timestamp"], ParquetField::Long(BASE + 5_000));
    assert_eq!(log["meta.signal_type"], text("log"));
    assert_eq!(log["meta.annotation_type"], ParquetField::Null);
    assert_eq!(log["trace.trace_id"], text(TRACE));
    assert_eq!(log["trace.span_id"], text(CHILD));
    assert_eq!(log["body"], text("boom"));
    assert_eq!(log["severity_code"], ParquetField::Long(17));
}

#[test]
fn test_export_parquet_empty_range_writes_valid_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixture_store(&dir.path().join("data"));
    let out = dir.path().join("empty.parquet");
    // Overwrites whatever is there.
    std::fs::write(&out, b"not parquet").unwrap();
    let summary = export(&store, &request(SignalTable::Traces, None, BASE + 2 * HOUR, BASE + 3 * HOUR), &out);
    assert_eq!((summary.rows, summary.columns), (0, 8));
    let reader = SerializedFileReader::try_from(File::open(&out).unwrap()).unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 0);
    assert_eq!(reader.num_row_groups(), 0);
    assert_eq!(read_schema(&out).len(), 8);
    assert!(read_rows(&out).is_empty());
}

#[test]
fn test_export_parquet_splits_row_groups_and_reports_progress() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("data"));
    let num_rows: i64 = 70_000;
    for chunk_start in (0..num_rows).step_by(10_000) {
        let events = (chunk_start..(chunk_start + 10_000).min(num_rows))
            .map(|index| event(EventKind::Log, "bulk", BASE + index, vec![("index", Value::Int(index))]))
            .collect();
        append(&store, events);
    }
    let out = dir.path().join("bulk.parquet");
    let mut reported = Vec::new();
    let summary = export_parquet(&store, &request(SignalTable::Logs, None, BASE, BASE + HOUR), &out, &mut |rows| {
        reported.push(rows)
    })
    .unwrap();
    assert_eq!(summary.rows, 70_000);
    assert_eq!(reported, [65_536, 70_000]);
    let reader = SerializedFileReader::try_from(File::open(&out).unwrap()).unwrap();
    assert_eq!(reader.num_row_groups(), 2);
    assert_eq!(reader.metadata().file_metadata().num_rows(), 70_000);
    let mut sum = 0;
    for row in reader.get_row_iter(None).unwrap() {
        let row = row.unwrap();
        let (_, index) = row.get_column_iter().find(|(name, _)| name.as_str() == "index").unwrap();
        let ParquetField::Long(index) = index else { panic!("index is {index:?}") };
        sum += index;
    }
    assert_eq!(sum, (0..num_rows).sum::<i64>());
}

#[test]
fn test_export_parquet_unwritable_path_reports_it_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixture_store(&dir.path().join("data"));
    let out = dir.path().join("missing-dir").join("traces.parquet");
    let error =
        export_parquet(&store, &request(SignalTable::Traces, None, BASE, BASE + HOUR), &out, &mut |_| {}).unwrap_err();
    assert!(matches!(error, ExportError::Io { .. }), "{error:?}");
    assert_eq!(error.to_string(), format!("cannot write {}: no such file or directory (os error 2)", out.display()));

    // A directory in the way: the rename fails, and the temp file is cleaned up.
    let out = dir.path().join("taken");
    std::fs::create_dir_all(out.join("inside")).unwrap();
    let error =
        export_parquet(&store, &request(SignalTable::Traces, None, BASE, BASE + HOUR), &out, &mut |_| {}).unwrap_err();
    assert!(error.to_string().starts_with(&format!("cannot write {}: ", out.display())), "{error}");
    assert!(!dir.path().join("taken.tmp").exists());
}
