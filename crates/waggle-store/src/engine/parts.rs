//! Column-wise reads of [`DiskStore`](super::DiskStore): each segment is a part, and so is each
//! dataset's share of a head chunk.

use std::collections::BTreeMap;
use std::fs::File;
use std::sync::Arc;

use waggle_model::{EventKind, SignalTable};

use super::{Shared, read};
use crate::codec::Reader;
use crate::columns::{CellType, Column, ColumnBuilder, Ids, Part, PartInfo, PartReader, PartsRequest};
use crate::error::Result;
use crate::head::HeadChunk;
use crate::rows;
use crate::segment::{Segment, push_payload};
use crate::{ColumnInfo, codec::tag};

pub(crate) fn parts(shared: &Shared, request: &PartsRequest) -> Vec<Arc<dyn Part>> {
    let start = request.start_unix_nano.max(super::retention::cutoff(shared));
    let end = request.end_unix_nano;
    let snapshot = read::snapshot(shared);
    let wants = |dataset: &str| request.datasets.as_ref().is_none_or(|names| names.iter().any(|name| name == dataset));
    let mut parts: Vec<Arc<dyn Part>> = Vec::new();
    for chunk in &snapshot.chunks {
        if request.trace_id.is_some_and(|id| !chunk.bloom.may_contain(&id)) {
            continue;
        }
        for ((table, dataset), extent) in &chunk.summary {
            if *table == request.table && wants(dataset) && read::overlaps(start, end, extent.min_time, extent.max_time)
            {
                let info = PartInfo {
                    dataset: dataset.clone(),
                    rows: extent.rows,
                    min_time_unix_nano: extent.min_time,
                    max_time_unix_nano: extent.max_time,
                };
                parts.push(Arc::new(HeadPart { chunk: chunk.clone(), table: *table, info }));
            }
        }
    }
    for segment in &snapshot.segments {
        let meta = &segment.meta;
        if meta.table() == Some(request.table)
            && wants(&meta.dataset)
            && read::overlaps(start, end, meta.min_time, meta.max_time)
            && request.trace_id.is_none_or(|id| segment.may_contain_trace(&id))
        {
            let info = PartInfo {
                dataset: meta.dataset.clone(),
                rows: meta.rows,
                min_time_unix_nano: meta.min_time,
                max_time_unix_nano: meta.max_time,
            };
            parts.push(Arc::new(SegmentPart { segment: segment.clone(), info }));
        }
    }
    parts
}

/// Field names of a table with their types and latest row time, for autocomplete.
pub(crate) fn columns(shared: &Shared, table: SignalTable, datasets: Option<&[String]>) -> Result<Vec<ColumnInfo>> {
    let wants = |dataset: &str| datasets.is_none_or(|names| names.iter().any(|name| name == dataset));
    let snapshot = read::snapshot(shared);
    let mut found: BTreeMap<String, ColumnInfo> = BTreeMap::new();
    let mut note = |name: &str, cell: CellType, time: i64| {
        let info = found.entry(name.to_owned()).or_insert_with(|| ColumnInfo {
            name: name.to_owned(),
            types: Vec::new(),
            last_written_unix_nano: time,
        });
        if !info.types.contains(&cell) {
            info.types.push(cell);
            info.types.sort();
        }
        info.last_written_unix_nano = info.last_written_unix_nano.max(time);
    };
    for segment in &snapshot.segments {
        let meta = &segment.meta;
        if meta.table() != Some(table) || !wants(&meta.dataset) {
            continue;
        }
        for column in &meta.columns {
            for (value_tag, cell) in TAG_TYPES {
                if column.types & (1 << value_tag) != 0 {
                    note(&column.name, cell, meta.max_time);
                }
            }
        }
    }
    for chunk in &snapshot.chunks {
        if !chunk.summary.keys().any(|(chunk_table, dataset)| *chunk_table == table && wants(dataset)) {
            continue;
        }
        for event in chunk.events()? {
            if event.kind.table() == table && wants(&event.dataset) {
                for field in &event.fields {
                    let mut builder = ColumnBuilder::with_capacity(1);
                    builder.push(Some(&field.value));
                    note(&field.key, builder.finish().types[0], event.time_unix_nano);
                }
            }
        }
    }
    Ok(found.into_values().collect())
}

const TAG_TYPES: [(u8, CellType); 7] = [
    (tag::STR, CellType::Str),
    (tag::INT, CellType::Int),
    (tag::FLOAT, CellType::Float),
    (tag::BOOL, CellType::Bool),
    (tag::BYTES, CellType::Other),
    (tag::ARRAY, CellType::Other),
    (tag::MAP, CellType::Other),
];

struct SegmentPart {
    segment: Arc<Segment>,
    info: PartInfo,
}

impl Part for SegmentPart {
    fn info(&self) -> &PartInfo {
        &self.info
    }

    fn open(&self) -> Result<Box<dyn PartReader + '_>> {
        let file = self.segment.open_file()?;
        Ok(Box::new(SegmentReader { segment: &self.segment, file }))
    }
}

/// Reads a segment; a file deleted by retention since the snapshot reads as empty.
struct SegmentReader<'a> {
    segment: &'a Segment,
    file: Option<File>,
}

impl PartReader for SegmentReader<'_> {
    fn times(&mut self) -> Result<Vec<i64>> {
        self.file.as_ref().map_or(Ok(Vec::new()), |file| self.segment.read_times(file))
    }

    fn durations(&mut self) -> Result<Vec<i64>> {
        self.file.as_ref().map_or(Ok(Vec::new()), |file| self.segment.read_durations(file))
    }

    fn kinds(&mut self) -> Result<Vec<EventKind>> {
        self.file.as_ref().map_or(Ok(Vec::new()), |file| self.segment.read_kinds(file))
    }

    fn ids(&mut self) -> Result<Ids> {
        self.file.as_ref().map_or(Ok(Ids::default()), |file| self.segment.read_ids(file))
    }

    fn column(&mut self, name: &str) -> Result<Option<Column>> {
        self.file.as_ref().map_or(Ok(None), |file| self.segment.read_field(file, name))
    }
}

struct HeadPart {
    chunk: Arc<HeadChunk>,
    table: SignalTable,
    info: PartInfo,
}

impl Part for HeadPart {
    fn info(&self) -> &PartInfo {
        &self.info
    }

    fn open(&self) -> Result<Box<dyn PartReader + '_>> {
        Ok(Box::new(HeadReader::new(&self.chunk, self.table, &self.info.dataset)?))
    }
}

/// One field of a row of a [`HeadReader`]: where its payload lies in the record.
struct FieldRef {
    key: u32,
    header: u8,
    payload: std::ops::Range<usize>,
}

/// One dataset's rows of a head chunk, walked once without building values; each column is then
/// decoded from the payloads it needs.
struct HeadReader {
    raw: Vec<u8>,
    strings: Vec<String>,
    times: Vec<i64>,
    durations: Vec<i64>,
    kinds: Vec<EventKind>,
    ids: Ids,
    /// Per row, its range in `fields`.
    rows: Vec<std::ops::Range<usize>>,
    fields: Vec<FieldRef>,
}

impl HeadReader {
    fn new(chunk: &HeadChunk, table: SignalTable, dataset: &str) -> Result<Self> {
        let raw = chunk.raw()?;
        let mut reader = Self {
            raw: Vec::new(),
            strings: Vec::new(),
            times: Vec::new(),
            durations: Vec::new(),
            kinds: Vec::new(),
            ids: Ids::default(),
            rows: Vec::new(),
            fields: Vec::new(),
        };
        let base = raw.as_ptr() as usize;
        rows::decode_raw(&raw, &mut |strings, row| {
            if reader.strings.is_empty() {
                reader.strings = strings.iter().map(|text| (*text).to_owned()).collect();
            }
            if row.kind.table() != table || strings[row.dataset as usize] != dataset {
                return Ok(());
            }
            reader.times.push(row.time_unix_nano);
            reader.durations.push(row.duration_nano);
            reader.kinds.push(row.kind);
            let (trace_id, span_id, parent_id) = rows::read_ids(&mut Reader::new(row.ids))?;
            reader.ids.trace_ids.push(trace_id);
            reader.ids.span_ids.push(span_id);
            reader.ids.parent_ids.push(parent_id);
            let first = reader.fields.len();
            for field in &row.fields {
                // Payloads borrow `raw`: keep their offsets, valid once `raw` moves into the reader.
                let start = field.payload.as_ptr() as usize - base;
                let payload = start..start + field.payload.len();
                reader.fields.push(FieldRef { key: field.key, header: field.header, payload });
            }
            reader.rows.push(first..reader.fields.len());
            Ok(())
        })?;
        reader.raw = raw;
        Ok(reader)
    }
}

impl PartReader for HeadReader {
    fn times(&mut self) -> Result<Vec<i64>> {
        Ok(self.times.clone())
    }

    fn durations(&mut self) -> Result<Vec<i64>> {
        Ok(self.durations.clone())
    }

    fn kinds(&mut self) -> Result<Vec<EventKind>> {
        Ok(self.kinds.clone())
    }

    fn ids(&mut self) -> Result<Ids> {
        Ok(self.ids.clone())
    }

    fn column(&mut self, name: &str) -> Result<Option<Column>> {
        let Some(key) = self.strings.iter().position(|text| text == name) else { return Ok(None) };
        let mut builder = ColumnBuilder::with_capacity(self.rows.len());
        let mut found = false;
        for row in &self.rows {
            match self.fields[row.clone()].iter().find(|field| field.key as usize == key) {
                Some(field) => {
                    found = true;
                    let mut payload = Reader::new(&self.raw[field.payload.clone()]);
                    push_payload(&mut builder, field.header & 0x0f, &mut payload)?;
                }
                None => builder.push_null(),
            }
        }
        Ok(found.then(|| builder.finish()))
    }
}
