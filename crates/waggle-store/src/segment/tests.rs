use super::*;
use crate::rows::tests::sample_event;

fn write_with(dir: &Path, events: &[Event], max_columns: usize, block_rows: usize) -> Segment {
    let mut builder = SegmentBuilder::with_block_rows(max_columns, block_rows);
    let encoded = crate::rows::encode_batch(&waggle_model::Batch { events: events.to_vec() });
    crate::rows::decode_raw(&encoded, &mut |strings, row| builder.push_raw(0, strings, row)).unwrap();
    let spec = SegmentSpec { table: SignalTable::Traces, dataset: "svc", hour: 0, seq_range: (1, 2) };
    let path = builder.finish(dir, "test", spec, 3).unwrap();
    Segment::open(&path).unwrap()
}

fn write(dir: &Path, events: &[Event], max_columns: usize) -> Segment {
    write_with(dir, events, max_columns, BLOCK_ROWS)
}

/// Rows of every shape: all cell types, a column of mixed types, absent cells, missing ids and
/// keys beyond six columns (the overflow). Never change it: tests/fixtures/segment-v3.seg holds
/// `fixture_event(0..200)` as format 3 wrote them (six columns at most).
fn fixture_event(index: i64) -> Event {
    use waggle_model::{Origin, SpanId, Value};
    let mut fields = vec![
        Field::new("name", format!("op-{}", index % 7), Origin::Derived),
        Field::new("http.status", Value::Int(200 + index % 4 * 100 - index * 1_000_003), Origin::Attribute),
    ];
    if index % 3 != 0 {
        fields.push(Field::new("ratio", Value::Float(index as f64 * 0.25 - 7.0), Origin::Attribute));
    }
    if index % 4 == 1 {
        fields.push(Field::new("flag", Value::Bool(index % 8 == 1), Origin::Scope));
    }
    let mixed = match index % 5 {
        0 => Value::Str(format!("m{}", index % 20)),
        1 => Value::Int(index),
        2 => Value::Bytes(vec![index as u8, 0, 255]),
        3 => Value::Array(vec![Value::Int(index), Value::Str("a".into())]),
        _ => Value::Map(vec![("k".into(), Value::Float(0.5))]),
    };
    fields.push(Field::new("mixed", mixed, Origin::Resource));
    if index % 10 == 0 {
        fields.push(Field::new(format!("rare.{index}"), "r".repeat(index as usize % 5), Origin::Scope));
    }
    Event {
        kind: [EventKind::Span, EventKind::SpanEvent, EventKind::Link][index as usize % 3],
        dataset: "svc".into(),
        time_unix_nano: 1_700_000_000_000_000_000 + index * 7_777 - (index % 3) * 1_000_000_000,
        duration_nano: (index * 37) % 5000 + if index % 11 == 0 { 1 << 40 } else { 0 },
        trace_id: (index % 9 != 0).then(|| TraceId([(index % 17) as u8 + 1; 16])),
        span_id: (index % 8 != 1).then(|| SpanId((index as u64 + 1).to_le_bytes())),
        parent_id: (index % 3 == 1).then_some(SpanId([index as u8 % 5; 8])),
        fields,
    }
}

/// The format 3 segment of `fixture_event(0..200)`, written before format 4 existed.
fn fixture_v3() -> Segment {
    let bytes = include_bytes!("../../tests/fixtures/segment-v3.seg");
    Segment::from_memory(Path::new("segment-v3.seg"), bytes.to_vec()).unwrap()
}

fn read_all(segment: &Segment, columns: Option<&[String]>) -> Vec<Event> {
    let mut out = Vec::new();
    segment
        .scan(columns, None, &mut |_| true, &mut |event| {
            out.push(event);
            true
        })
        .unwrap();
    out
}

fn sorted_fields(mut events: Vec<Event>) -> Vec<Event> {
    for event in &mut events {
        event.dataset = "svc".into();
        event.fields.sort_by(|a, b| a.key.cmp(&b.key));
    }
    events.sort_by_key(|event| event.time_unix_nano);
    events
}

/// Checks every column-wise read against columns built from the events; `keys`: the fields
/// to read (own columns or overflow).
fn assert_columns_match(segment: &Segment, events: &[Event], keys: &[&str]) {
    let file = segment.open_file().unwrap().unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|event| event.kind).collect();
    assert_eq!(segment.read_kinds(&file).unwrap(), kinds);
    let times: Vec<i64> = events.iter().map(|event| event.time_unix_nano).collect();
    assert_eq!(segment.read_times(&file).unwrap(), times);
    let durations: Vec<i64> = events.iter().map(|event| event.duration_nano).collect();
    assert_eq!(segment.read_durations(&file).unwrap(), durations);
    let ids = segment.read_ids(&file).unwrap();
    assert_eq!(ids.trace_ids, events.iter().map(|event| event.trace_id).collect::<Vec<_>>());
    assert_eq!(ids.span_ids, events.iter().map(|event| event.span_id).collect::<Vec<_>>());
    assert_eq!(ids.parent_ids, events.iter().map(|event| event.parent_id).collect::<Vec<_>>());
    for key in keys {
        let mut builder = ColumnBuilder::with_capacity(events.len());
        let mut found = false;
        for event in events {
            let value = event.fields.iter().find(|field| field.key == *key).map(|field| &field.value);
            found |= value.is_some();
            builder.push(value);
        }
        assert_eq!(segment.read_field(&file, key).unwrap(), found.then(|| builder.finish()), "column {key}");
    }
}

#[test]
fn test_segment_round_trip_all_columns() {
    let dir = tempfile::tempdir().unwrap();
    let events: Vec<Event> = (0..300).rev().map(sample_event).collect();
    let expected = sorted_fields(events.clone());
    let segment = write(dir.path(), &events, 512);
    assert_eq!(sorted_fields(read_all(&segment, None)), expected);
    assert!(segment.may_contain_trace(&expected[0].trace_id.unwrap()));
    let user = segment.meta.columns.iter().find(|c| c.name == "app.user_id").unwrap();
    assert_eq!((user.min, user.max, user.non_null), (Some(0.0), Some(299.0), 300));
}

#[test]
fn test_segment_round_trips_across_block_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    for rows in [0, 1, BLOCK_ROWS - 1, BLOCK_ROWS, BLOCK_ROWS + 1, 3 * BLOCK_ROWS + 5] {
        let events: Vec<Event> = (0..rows as i64).map(fixture_event).collect();
        let segment = write(dir.path(), &events, 6);
        let blocks = rows.div_ceil(BLOCK_ROWS);
        assert_eq!((segment.meta.version, segment.meta.block_rows, segment.blocks), (4, BLOCK_ROWS as u64, blocks));
        assert_eq!(segment.block_blooms.len(), blocks);
        for column in segment.meta.fixed.iter().chain(&segment.meta.overflow) {
            assert_eq!(column.frames.len(), blocks, "column {}", column.name);
        }
        for column in &segment.meta.columns {
            assert_eq!(column.frames.len(), blocks + 1, "column {}: a dictionary, then blocks", column.name);
        }
        assert_eq!(sorted_fields(read_all(&segment, None)), sorted_fields(events.clone()), "{rows} rows");
        let last_rare = format!("rare.{}", (rows.max(1) - 1) / 10 * 10);
        assert_columns_match(
            &segment,
            &events,
            &["name", "http.status", "ratio", "flag", "mixed", "rare.10", &last_rare],
        );
        if rows > 0 {
            // One dictionary for the column, whatever block its strings are in.
            let file = segment.open_file().unwrap().unwrap();
            let name = segment.read_field(&file, "name").unwrap().unwrap();
            assert_eq!(name.dict.len(), 7.min(rows));
        }
        for trace in [1, 5] {
            let trace_id = TraceId([trace; 16]);
            let expected: Vec<Event> = read_all(&segment, None)
                .into_iter()
                .filter(|event| event.trace_id == Some(trace_id) && event.time_unix_nano / 1000 % 5 != 0)
                .collect();
            assert_eq!(read_trace(&segment, None, trace_id, usize::MAX), expected, "{rows} rows");
        }
    }
}

#[test]
fn test_segment_overflow_keeps_rare_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut events: Vec<Event> = (0..40).map(sample_event).collect();
    for (index, event) in events.iter_mut().enumerate() {
        event.fields.push(Field::new(format!("unique.{index}"), index as i64, waggle_model::Origin::Attribute));
    }
    let expected = sorted_fields(events.clone());
    for block_rows in [BLOCK_ROWS, 3] {
        let segment = write_with(dir.path(), &events, 6, block_rows);
        assert_eq!(segment.meta.columns.len(), 6);
        assert!(segment.meta.overflow.is_some());
        assert_eq!(sorted_fields(read_all(&segment, None)), expected);
        let projected = read_all(&segment, Some(&["unique.7".to_owned()]));
        assert_eq!(projected.iter().filter(|event| !event.fields.is_empty()).count(), 1);
        assert_columns_match(&segment, &events, &["unique.0", "unique.7", "unique.39", "name", "absent"]);
    }
}

fn read_trace(segment: &Segment, columns: Option<&[String]>, trace_id: TraceId, limit: usize) -> Vec<Event> {
    let mut out = Vec::new();
    segment
        .scan(columns, Some(trace_id), &mut |row| row.time_unix_nano / 1000 % 5 != 0, &mut |event| {
            out.push(event);
            out.len() < limit
        })
        .unwrap();
    out
}

/// Every trace of the segment (and one it does not hold), read alone, is what a full scan finds.
fn assert_trace_scans_match(segment: &Segment) {
    let mut traces: Vec<TraceId> = read_all(segment, None).iter().filter_map(|event| event.trace_id).collect();
    traces.sort_by_key(|id| id.0);
    traces.dedup();
    traces.push(TraceId([0; 16]));
    for columns in [None, Some(vec!["name".to_owned(), "flag".to_owned(), "unique.7".to_owned()])] {
        let all = read_all(segment, columns.as_deref());
        for &trace_id in &traces {
            let expected: Vec<Event> = all
                .iter()
                .filter(|event| event.trace_id == Some(trace_id) && event.time_unix_nano / 1000 % 5 != 0)
                .cloned()
                .collect();
            assert_eq!(read_trace(segment, columns.as_deref(), trace_id, usize::MAX), expected);
            assert_eq!(read_trace(segment, columns.as_deref(), trace_id, 1), expected[..expected.len().min(1)]);
        }
    }
}

#[test]
fn test_segment_trace_scan_matches_a_full_scan() {
    let dir = tempfile::tempdir().unwrap();
    let big = TraceId([0xee; 16]);
    let mut events: Vec<Event> = (0..400).map(sample_event).collect();
    for (index, event) in events.iter_mut().enumerate() {
        event.fields.push(Field::new(format!("unique.{}", index % 50), index as i64, waggle_model::Origin::Scope));
        event.trace_id = match index {
            _ if index % 7 == 0 => None,
            // More than 1/16 of the rows: read by the dense path.
            _ if index % 3 == 0 => Some(big),
            _ => event.trace_id,
        };
    }
    for block_rows in [BLOCK_ROWS, 64, 5] {
        let segment = write_with(dir.path(), &events, 8, block_rows);
        assert!(segment.meta.overflow.is_some());
        assert_trace_scans_match(&segment);
    }
    assert_trace_scans_match(&fixture_v3());
}

/// Flips a byte in every frame of the segment file but those `kept`, a (column, frame) test.
fn damage_frames_but(segment: &Segment, kept: &dyn Fn(&ColumnMeta, usize) -> bool) {
    let mut bytes = std::fs::read(&segment.path).unwrap();
    for column in segment.meta.fixed.iter().chain(&segment.meta.columns).chain(&segment.meta.overflow) {
        for (index, frame) in column.frames.iter().enumerate() {
            if !kept(column, index) {
                bytes[(Segment::frame_offset(column, index) + frame.len / 2) as usize] ^= 0x10;
            }
        }
    }
    std::fs::write(&segment.path, bytes).unwrap();
}

#[test]
fn test_segment_trace_scan_decompresses_only_the_blocks_holding_it() {
    let dir = tempfile::tempdir().unwrap();
    // Blocks of 16 rows; trace 1 sits in block 2, trace 2 in blocks 0, 3 and 5.
    let events: Vec<Event> = (0..100)
        .map(|index| {
            let mut event = fixture_event(index);
            event.trace_id = Some(TraceId(match index {
                40 | 41 | 45 => [1; 16],
                3 | 50 | 90 => [2; 16],
                _ => (index as u128 + 1000).to_le_bytes(),
            }));
            event
        })
        .collect();
    let wanted = |trace: u8| -> Vec<Event> {
        events.iter().filter(|event| event.trace_id == Some(TraceId([trace; 16]))).cloned().collect()
    };
    // An id the segment does not hold that a block's filter lets through.
    let absent = (0u128..)
        .map(|number| TraceId((number << 64 | 7).to_le_bytes()))
        .find(|id| events.iter().all(|event| event.trace_id != Some(*id)) && segment_blooms_hit(&events, id).is_some())
        .unwrap();
    let segment = write_with(dir.path(), &events, 6, 16);
    assert!(segment.may_contain_trace(&absent));
    // The union of the blocks' filters lets more through than they do: they have the last word.
    let union_only = (0u128..)
        .map(|number| TraceId((number << 64 | 9).to_le_bytes()))
        .find(|id| segment.bloom.may_contain(id) && segment_blooms_hit(&events, id).is_none())
        .unwrap();
    assert!(!segment.may_contain_trace(&union_only));
    for (trace_id, expected) in [(TraceId([1; 16]), wanted(1)), (TraceId([2; 16]), wanted(2)), (absent, Vec::new())] {
        let segment = write_with(dir.path(), &events, 6, 16);
        let holding: Vec<usize> =
            (0..segment.blocks).filter(|&block| segment.block_blooms[block].may_contain(&trace_id)).collect();
        let rows_in: Vec<usize> =
            expected.iter().map(|event| events.iter().position(|other| other == event).unwrap() / 16).collect();
        if expected.is_empty() {
            assert_eq!(holding.len(), 1, "a false positive");
            // Only the ids frame of the block the filter names is read.
            damage_frames_but(&segment, &|column, index| column.name == "ids" && holding.contains(&index));
        } else {
            // Nothing outside the trace's blocks is read, but the dictionaries.
            damage_frames_but(&segment, &|column, index| {
                let first = segment.first_block_frame(column);
                index < first || rows_in.contains(&(index - first))
            });
        }
        let segment = Segment::open(&segment.path).unwrap();
        let mut found = Vec::new();
        segment
            .scan(None, Some(trace_id), &mut |_| true, &mut |event| {
                found.push(event);
                true
            })
            .unwrap();
        assert_eq!(sorted_fields(found), sorted_fields(expected));
        assert!(segment.scan(None, None, &mut |_| true, &mut |_| true).is_err(), "the rest is damaged");
    }
}

/// The block whose filter lets `id` through, in a segment of `events` in blocks of 16.
fn segment_blooms_hit(events: &[Event], id: &TraceId) -> Option<usize> {
    thread_local! {
        static BLOOMS: std::cell::RefCell<Option<Vec<Bloom>>> = const { std::cell::RefCell::new(None) };
    }
    BLOOMS.with(|blooms| {
        let mut blooms = blooms.borrow_mut();
        let blooms = blooms.get_or_insert_with(|| {
            let dir = tempfile::tempdir().unwrap();
            write_with(dir.path(), events, 6, 16).block_blooms.clone()
        });
        blooms.iter().position(|bloom| bloom.may_contain(id))
    })
}

#[test]
fn test_segment_reads_format_3() {
    let fixture = fixture_v3();
    assert_eq!((fixture.meta.version, fixture.blocks, fixture.meta.columns.len()), (3, 1, 6));
    let events: Vec<Event> = (0..200).map(fixture_event).collect();
    assert_eq!(sorted_fields(read_all(&fixture, None)), sorted_fields(events.clone()));
    assert_columns_match(
        &fixture,
        &events,
        &["name", "http.status", "ratio", "flag", "mixed", "rare.0", "rare.190", "absent"],
    );
    assert!(fixture.may_contain_trace(&TraceId([3; 16])));
    // A merge rewrites it through the builder, as format 4.
    let dir = tempfile::tempdir().unwrap();
    let merged = write_with(dir.path(), &read_all(&fixture, None), 6, 64);
    assert_eq!((merged.meta.version, merged.blocks), (4, 4));
    assert_eq!(read_all(&merged, None), read_all(&fixture, None));
    assert_columns_match(&merged, &events, &["name", "mixed", "rare.0", "rare.190"]);
}

/// Reads everything a segment can be asked for; the first error.
fn read_everything(segment: &Segment) -> Result<()> {
    segment.scan(None, None, &mut |_| true, &mut |_| true)?;
    for trace in [1, 2, 3, 9] {
        segment.scan(None, Some(TraceId([trace; 16])), &mut |_| true, &mut |_| true)?;
    }
    let file = segment.open_file()?.expect("the file is there");
    segment.read_kinds(&file)?;
    segment.read_times(&file)?;
    segment.read_durations(&file)?;
    segment.read_ids(&file)?;
    for name in ["name", "http.status", "ratio", "flag", "mixed", "rare.10", "rare.190"] {
        segment.read_field(&file, name)?;
    }
    Ok(())
}

/// Every byte flipped in turn is caught at open or on read, never returned as data.
fn assert_flips_caught(path: &Path, original: &[u8], trace_id: TraceId) {
    let expected_trace = Segment::open(path).map(|segment| read_trace(&segment, None, trace_id, usize::MAX)).unwrap();
    assert!(!expected_trace.is_empty());
    for position in (0..original.len()).step_by(3) {
        let mut bytes = original.to_vec();
        bytes[position] ^= 0x20;
        std::fs::write(path, &bytes).unwrap();
        if let Ok(segment) = Segment::open(path) {
            let result = segment.scan(None, None, &mut |_| true, &mut |_| true);
            assert!(result.is_err() || position < MAGIC.len(), "flip at {position} went unnoticed");
            assert!(
                matches!(read_everything(&segment), Err(StoreError::Corrupt(_))) || position < MAGIC.len(),
                "flip at {position}"
            );
            let mut trace = Vec::new();
            let result =
                segment.scan(None, Some(trace_id), &mut |row| row.time_unix_nano / 1000 % 5 != 0, &mut |event| {
                    trace.push(event);
                    true
                });
            assert!(result.is_err() || trace == expected_trace, "flip at {position} changed the trace");
        }
    }
    for cut in (0..original.len()).step_by(5) {
        std::fs::write(path, &original[..cut]).unwrap();
        assert!(matches!(Segment::open(path), Err(StoreError::Corrupt(_))), "cut at {cut}");
    }
    std::fs::write(path, original).unwrap();
}

#[test]
fn test_segment_refuses_flipped_bits() {
    let dir = tempfile::tempdir().unwrap();
    let events: Vec<Event> = (0..100).map(fixture_event).collect();
    for block_rows in [BLOCK_ROWS, 32] {
        let segment = write_with(dir.path(), &events, 6, block_rows);
        let original = std::fs::read(&segment.path).unwrap();
        assert_flips_caught(&segment.path, &original, TraceId([3; 16]));
    }
    let path = dir.path().join("v3.seg");
    let original = include_bytes!("../../tests/fixtures/segment-v3.seg");
    std::fs::write(&path, original).unwrap();
    assert_flips_caught(&path, original, TraceId([3; 16]));
}

/// Rewrites the footer of a segment file, with a valid CRC.
fn with_footer(original: &[u8], edit: &dyn Fn(&mut serde_json::Value)) -> Vec<u8> {
    let footer_len = u32::from_le_bytes(original[original.len() - 16..][..4].try_into().unwrap()) as usize;
    let footer_start = original.len() - TRAILER - footer_len;
    let mut footer: serde_json::Value =
        serde_json::from_slice(&original[footer_start..original.len() - TRAILER]).unwrap();
    edit(&mut footer);
    let footer = serde_json::to_vec(&footer).unwrap();
    let mut bytes = original[..footer_start].to_vec();
    bytes.extend_from_slice(&footer);
    bytes.extend_from_slice(&(footer.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&footer).to_le_bytes());
    bytes.extend_from_slice(END_MAGIC);
    bytes
}

#[test]
fn test_segment_refuses_lying_footers() {
    use serde_json::{Value as Json, json};
    let dir = tempfile::tempdir().unwrap();
    let events: Vec<Event> = (0..100).map(fixture_event).collect();
    let segment = write_with(dir.path(), &events, 6, 32);
    let original = std::fs::read(&segment.path).unwrap();
    // The footer rewritten as it is still reads.
    std::fs::write(&segment.path, with_footer(&original, &|_| ())).unwrap();
    read_everything(&Segment::open(&segment.path).unwrap()).unwrap();
    let frame = |footer: &mut Json, column: &str, index: usize, field: usize, value: u64| {
        let columns = footer["fixed"].as_array_mut().unwrap();
        let column = columns.iter_mut().find(|meta| meta["name"] == column).unwrap();
        column["frames"][index][field] = json!(value);
    };
    type Edit = Box<dyn Fn(&mut Json)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("no block size", Box::new(|footer| footer["block_rows"] = json!(0))),
        ("smaller blocks", Box::new(|footer| footer["block_rows"] = json!(1))),
        ("larger blocks", Box::new(|footer| footer["block_rows"] = json!(64))),
        ("huge blocks", Box::new(|footer| footer["block_rows"] = json!(u64::MAX))),
        ("more rows", Box::new(|footer| footer["rows"] = json!(101))),
        ("format 3", Box::new(|footer| footer["version"] = json!(3))),
        ("format 5", Box::new(|footer| footer["version"] = json!(5))),
        (
            "a frame too many",
            Box::new(|footer| footer["fixed"][3]["frames"].as_array_mut().unwrap().push(json!([1, 1, 1]))),
        ),
        (
            "no dictionary",
            Box::new(|footer| {
                footer["columns"][0]["frames"].as_array_mut().unwrap().remove(0);
            }),
        ),
        (
            "frame lengths moved",
            Box::new(move |footer| {
                let len = footer["fixed"][3]["frames"][0][0].as_u64().unwrap();
                let next = footer["fixed"][3]["frames"][1][0].as_u64().unwrap();
                frame(footer, "ids", 0, 0, len + 1);
                frame(footer, "ids", 1, 0, next - 1);
            }),
        ),
        (
            "raw lengths moved",
            Box::new(move |footer| {
                let raw = footer["fixed"][0]["frames"][0][1].as_u64().unwrap();
                let next = footer["fixed"][0]["frames"][1][1].as_u64().unwrap();
                frame(footer, "kind", 0, 1, raw - 1);
                frame(footer, "kind", 1, 1, next + 1);
            }),
        ),
        (
            "a huge raw length",
            Box::new(move |footer| {
                frame(footer, "time", 0, 1, 1 << 40);
                footer["fixed"][1]["raw_len"] = json!(1u64 << 40);
            }),
        ),
        ("a wrong crc", Box::new(move |footer| frame(footer, "duration", 1, 2, 12345))),
        ("a crc out of range", Box::new(move |footer| frame(footer, "duration", 1, 2, 1 << 33))),
        (
            "bloom cut",
            Box::new(|footer| {
                let len = footer["bloom"]["len"].as_u64().unwrap();
                footer["bloom"]["len"] = json!(len - 8);
            }),
        ),
        (
            "no bloom filters",
            Box::new(|footer| {
                footer["bloom"]["len"] = json!(0);
                footer["bloom"]["raw_len"] = json!(0);
                footer["bloom"].as_object_mut().unwrap().remove("crc");
            }),
        ),
        ("column past the end", Box::new(|footer| footer["columns"][1]["offset"] = json!(1u64 << 40))),
    ];
    for (what, edit) in edits {
        std::fs::write(&segment.path, with_footer(&original, &*edit)).unwrap();
        let result = Segment::open(&segment.path).and_then(|segment| read_everything(&segment));
        assert!(matches!(result, Err(StoreError::Corrupt(_))), "{what}: {result:?}");
    }
}
