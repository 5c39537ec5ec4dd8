//! Row-oriented encoding of a [`Batch`]: the payload of one WAL record, also kept (compressed) as a
//! head chunk until it is flushed into columnar segments. Keys and dataset names are written once per
//! record in a string table, so a batch of similar spans stays small before compression.
//!
//! ```text
//! version u8 | strings: n, (len, bytes)* | events: n, event*
//! event = kind u8 | dataset idx | time ivarint | duration ivarint | ids mask u8 | ids
//!       | fields: n, (key idx, origin<<4|tag u8, payload)*
//! ```

use rustc_hash::FxHashMap;
use waggle_model::{Batch, Event, EventKind, Field, Origin, SpanId, TraceId};

use crate::codec::{Reader, put_bytes, put_ivarint, put_uvarint, put_value_payload, tag_of};
use crate::error::{Result, StoreError};

const VERSION: u8 = 1;
pub(crate) const HAS_TRACE: u8 = 1;
pub(crate) const HAS_SPAN: u8 = 2;
pub(crate) const HAS_PARENT: u8 = 4;

/// Encodes a batch (uncompressed).
pub(crate) fn encode_batch(batch: &Batch) -> Vec<u8> {
    let mut table: FxHashMap<&str, u64> = FxHashMap::default();
    let mut strings: Vec<&str> = Vec::new();
    let mut body = Vec::with_capacity(batch.events.len() * 256);
    put_uvarint(&mut body, batch.events.len() as u64);
    for event in &batch.events {
        body.push(event.kind as u8);
        put_uvarint(&mut body, index_of(&mut table, &mut strings, &event.dataset));
        put_ivarint(&mut body, event.time_unix_nano);
        put_ivarint(&mut body, event.duration_nano);
        put_ids(&mut body, event);
        put_uvarint(&mut body, event.fields.len() as u64);
        for field in &event.fields {
            put_uvarint(&mut body, index_of(&mut table, &mut strings, &field.key));
            body.push((field.origin as u8) << 4 | tag_of(&field.value));
            put_value_payload(&mut body, &field.value);
        }
    }
    let mut out = Vec::with_capacity(body.len() + strings.len() * 16 + 8);
    out.push(VERSION);
    put_uvarint(&mut out, strings.len() as u64);
    for text in &strings {
        put_bytes(&mut out, text.as_bytes());
    }
    out.extend_from_slice(&body);
    out
}

fn index_of<'a>(table: &mut FxHashMap<&'a str, u64>, strings: &mut Vec<&'a str>, text: &'a str) -> u64 {
    *table.entry(text).or_insert_with(|| {
        strings.push(text);
        strings.len() as u64 - 1
    })
}

/// Writes the id presence mask and the ids present.
pub(crate) fn put_ids(out: &mut Vec<u8>, event: &Event) {
    let mask = event.trace_id.map_or(0, |_| HAS_TRACE)
        | event.span_id.map_or(0, |_| HAS_SPAN)
        | event.parent_id.map_or(0, |_| HAS_PARENT);
    out.push(mask);
    if let Some(id) = event.trace_id {
        out.extend_from_slice(&id.0);
    }
    if let Some(id) = event.span_id {
        out.extend_from_slice(&id.0);
    }
    if let Some(id) = event.parent_id {
        out.extend_from_slice(&id.0);
    }
}

/// Reads what [`put_ids`] wrote.
pub(crate) fn read_ids(reader: &mut Reader<'_>) -> Result<(Option<TraceId>, Option<SpanId>, Option<SpanId>)> {
    let mask = reader.u8()?;
    if mask & !(HAS_TRACE | HAS_SPAN | HAS_PARENT) != 0 {
        return Err(StoreError::Corrupt("bad id mask".into()));
    }
    let trace_id = if mask & HAS_TRACE != 0 { Some(TraceId(reader.array()?)) } else { None };
    let span_id = if mask & HAS_SPAN != 0 { Some(SpanId(reader.array()?)) } else { None };
    let parent_id = if mask & HAS_PARENT != 0 { Some(SpanId(reader.array()?)) } else { None };
    Ok((trace_id, span_id, parent_id))
}

/// Splits a cell header byte into origin and value tag.
pub(crate) fn split_header(header: u8) -> Result<(Origin, u8)> {
    let origin = Origin::from_code(header >> 4).ok_or_else(|| StoreError::Corrupt("bad field origin".into()))?;
    Ok((origin, header & 0x0f))
}

/// Reads the version byte and the string table that open every record.
fn read_header<'a>(reader: &mut Reader<'a>) -> Result<Vec<&'a str>> {
    if reader.u8()? != VERSION {
        return Err(StoreError::Corrupt("unknown row encoding version".into()));
    }
    let num_strings = reader.len()?;
    let mut strings = Vec::with_capacity(num_strings);
    for _ in 0..num_strings {
        strings.push(std::str::from_utf8(reader.bytes()?).map_err(|_| StoreError::Corrupt("string table".into()))?);
    }
    Ok(strings)
}

/// Decodes a batch, calling `visit` for each event in order.
pub(crate) fn decode_batch(bytes: &[u8], visit: &mut dyn FnMut(Event) -> Result<()>) -> Result<()> {
    let mut reader = Reader::new(bytes);
    let strings = read_header(&mut reader)?;
    let lookup = |index: u64| -> Result<&str> {
        strings.get(index as usize).copied().ok_or_else(|| StoreError::Corrupt("string index out of range".into()))
    };
    let num_events = reader.len()?;
    for _ in 0..num_events {
        let kind = EventKind::from_code(reader.u8()?).ok_or_else(|| StoreError::Corrupt("bad event kind".into()))?;
        let dataset = lookup(reader.uvarint()?)?.to_owned();
        let time_unix_nano = reader.ivarint()?;
        let duration_nano = reader.ivarint()?;
        let (trace_id, span_id, parent_id) = read_ids(&mut reader)?;
        let num_fields = reader.len()?;
        let mut fields = Vec::with_capacity(num_fields);
        for _ in 0..num_fields {
            let key = lookup(reader.uvarint()?)?.to_owned();
            let (origin, tag) = split_header(reader.u8()?)?;
            fields.push(Field { key, value: reader.value_payload(tag)?, origin });
        }
        visit(Event { kind, dataset, time_unix_nano, duration_nano, trace_id, span_id, parent_id, fields })?;
    }
    if !reader.is_empty() {
        return Err(StoreError::Corrupt("trailing bytes after batch".into()));
    }
    Ok(())
}

/// One row as its encoded parts, borrowing the record, so a flush copies cells without building
/// values.
pub(crate) struct RawRow<'a> {
    pub(crate) kind: EventKind,
    /// Index into the record's strings.
    pub(crate) dataset: u32,
    pub(crate) time_unix_nano: i64,
    pub(crate) duration_nano: i64,
    /// The id mask and ids, exactly as [`put_ids`] wrote them.
    pub(crate) ids: &'a [u8],
    pub(crate) trace_id: Option<TraceId>,
    pub(crate) fields: Vec<RawField<'a>>,
}

/// One field of a [`RawRow`].
pub(crate) struct RawField<'a> {
    /// Index into the record's strings.
    pub(crate) key: u32,
    /// `origin << 4 | tag`.
    pub(crate) header: u8,
    /// The value's encoded payload.
    pub(crate) payload: &'a [u8],
}

/// Walks a batch without decoding values: `visit` gets the record's strings and each row.
pub(crate) fn decode_raw(bytes: &[u8], visit: &mut dyn FnMut(&[&str], &RawRow<'_>) -> Result<()>) -> Result<()> {
    let mut reader = Reader::new(bytes);
    let strings = read_header(&mut reader)?;
    let num_strings = strings.len();
    let check = |index: u64| -> Result<u32> {
        if index < num_strings as u64 {
            Ok(index as u32)
        } else {
            Err(StoreError::Corrupt("string index out of range".into()))
        }
    };
    let mut row = RawRow {
        kind: EventKind::Span,
        dataset: 0,
        time_unix_nano: 0,
        duration_nano: 0,
        ids: &[],
        trace_id: None,
        fields: Vec::new(),
    };
    for _ in 0..reader.len()? {
        row.kind = EventKind::from_code(reader.u8()?).ok_or_else(|| StoreError::Corrupt("bad event kind".into()))?;
        row.dataset = check(reader.uvarint()?)?;
        row.time_unix_nano = reader.ivarint()?;
        row.duration_nano = reader.ivarint()?;
        let ids_start = reader.position();
        row.trace_id = read_ids(&mut reader)?.0;
        row.ids = reader.slice(ids_start, reader.position());
        row.fields.clear();
        for _ in 0..reader.len()? {
            let key = check(reader.uvarint()?)?;
            let header = reader.u8()?;
            split_header(header)?;
            let start = reader.position();
            reader.skip_value_payload(header & 0x0f)?;
            row.fields.push(RawField { key, header, payload: reader.slice(start, reader.position()) });
        }
        visit(&strings, &row)?;
    }
    if !reader.is_empty() {
        return Err(StoreError::Corrupt("trailing bytes after batch".into()));
    }
    Ok(())
}

/// Decodes a whole batch into memory.
pub(crate) fn decode_all(bytes: &[u8]) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    decode_batch(bytes, &mut |event| {
        events.push(event);
        Ok(())
    })?;
    Ok(events)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use waggle_model::Value;

    /// A span with every kind of value, for round-trip tests across the crate.
    pub(crate) fn sample_event(index: i64) -> Event {
        Event {
            kind: EventKind::Span,
            dataset: format!("service-{}", index % 3),
            time_unix_nano: 1_700_000_000_000_000_000 + index * 1_000,
            duration_nano: 5_000 + index,
            trace_id: Some(TraceId([(index % 251) as u8 + 1; 16])),
            span_id: Some(SpanId([(index % 13) as u8 + 1; 8])),
            parent_id: (index % 2 == 0).then_some(SpanId([9; 8])),
            fields: vec![
                Field::new("name", format!("GET /{index}"), Origin::Derived),
                Field::new("service.name", "svc", Origin::Resource),
                Field::new("app.user_id", Value::Int(index), Origin::Attribute),
                Field::new("ratio", Value::Float(index as f64 / 3.0), Origin::Attribute),
                Field::new("flag", Value::Bool(index % 2 == 0), Origin::Scope),
                Field::new(
                    "nested",
                    Value::Map(vec![("k".into(), Value::Array(vec![Value::Bytes(vec![1, 2])]))]),
                    Origin::Attribute,
                ),
            ],
        }
    }

    #[test]
    fn test_rows_round_trip() {
        let batch = Batch { events: (0..50).map(sample_event).collect() };
        let encoded = encode_batch(&batch);
        assert_eq!(decode_all(&encoded).unwrap(), batch.events);
    }

    #[test]
    fn test_rows_raw_walk_matches_decoding() {
        let batch = Batch { events: (0..20).map(sample_event).collect() };
        let encoded = encode_batch(&batch);
        let mut index = 0;
        decode_raw(&encoded, &mut |strings, row| {
            let event = &batch.events[index];
            assert_eq!((row.kind, strings[row.dataset as usize]), (event.kind, event.dataset.as_str()));
            assert_eq!((row.time_unix_nano, row.trace_id), (event.time_unix_nano, event.trace_id));
            for (raw, field) in row.fields.iter().zip(&event.fields) {
                assert_eq!(strings[raw.key as usize], field.key);
                let (_, tag) = split_header(raw.header).unwrap();
                assert_eq!(Reader::new(raw.payload).value_payload(tag).unwrap(), field.value);
            }
            index += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(index, 20);
        for cut in 0..encoded.len() {
            assert!(decode_raw(&encoded[..cut], &mut |_, _| Ok(())).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn test_rows_truncated_input_is_an_error() {
        let encoded = encode_batch(&Batch { events: (0..3).map(sample_event).collect() });
        for cut in 0..encoded.len() {
            assert!(decode_all(&encoded[..cut]).is_err(), "cut at {cut}");
        }
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Arbitrary bytes: both decoders return an error or rows, never panic.
        #[test]
        fn test_rows_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = decode_all(&bytes);
            let _ = decode_raw(&bytes, &mut |_, _| Ok(()));
        }

        /// A valid batch with bytes flipped decodes to an error or to rows, never a panic.
        #[test]
        fn test_rows_decoders_survive_flips(count in 1usize..8, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
            let mut encoded = encode_batch(&Batch { events: (0..count as i64).map(tests::sample_event).collect() });
            for (position, mask) in flips {
                let index = position % encoded.len();
                encoded[index] ^= mask;
            }
            let _ = decode_all(&encoded);
            let _ = decode_raw(&encoded, &mut |_, _| Ok(()));
        }
    }
}
