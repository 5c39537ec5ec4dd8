//! Column-wise reads of [`DiskStore`](super::DiskStore): each segment is a part, and so is each
//! dataset's share of a head chunk.

use std::collections::BTreeMap;
use std::sync::Arc;

use waggle_model::{EventKind, SignalTable};

use super::cache::{ColumnCache, ColumnKey, Decoded};
use super::{Shared, read};
use crate::columns::{CellType, Column, ColumnBuilder, Ids, Part, PartInfo, PartReader, PartsRequest};
use crate::error::{Result, StoreError};
use crate::head::HeadChunk;
use crate::segment::{Segment, Source};
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
                let max_columns = shared.config.max_columns_per_segment;
                parts.push(Arc::new(HeadPart {
                    cache: shared.column_cache.clone(),
                    chunk: chunk.clone(),
                    table: *table,
                    info,
                    max_columns,
                }));
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
            parts.push(Arc::new(SegmentPart { cache: shared.column_cache.clone(), segment: segment.clone(), info }));
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
    cache: Arc<ColumnCache>,
    segment: Arc<Segment>,
    info: PartInfo,
}

impl Part for SegmentPart {
    fn info(&self) -> &PartInfo {
        &self.info
    }

    fn open(&self) -> Result<Box<dyn PartReader + '_>> {
        Ok(Box::new(SegmentReader::new(&self.cache, &self.segment)))
    }
}

/// Reads a segment through the column cache. The file is opened on the first miss; a file deleted
/// by retention since the snapshot reads as empty (and is not cached).
struct SegmentReader<'a> {
    cache: &'a ColumnCache,
    segment: &'a Segment,
    file: Option<Option<Source>>,
}

impl<'a> SegmentReader<'a> {
    fn new(cache: &'a ColumnCache, segment: &'a Segment) -> Self {
        Self { cache, segment, file: None }
    }

    /// A column from the cache, or decoded by `decode` from the file; `None` when the file is gone.
    fn read(
        &mut self,
        key: ColumnKey,
        decode: impl FnOnce(&Segment, &Source) -> Result<Decoded>,
    ) -> Result<Option<Decoded>> {
        let (segment, file) = (self.segment, &mut self.file);
        let found = self.cache.get_or_decode(segment.id, key, || {
            let source = file.get_or_insert(segment.open_file().map_err(Miss::Failed)?);
            match source {
                Some(source) => decode(segment, source).map_err(Miss::Failed),
                None => Err(Miss::Gone),
            }
        });
        match found {
            Ok(decoded) => Ok(Some(decoded)),
            Err(Miss::Gone) => Ok(None),
            Err(Miss::Failed(err)) => Err(err),
        }
    }
}

/// Why a column was not decoded.
enum Miss {
    /// Retention deleted the file since the snapshot: the part reads as empty.
    Gone,
    Failed(StoreError),
}

/// A cached value of the wrong kind for its key: cannot happen short of a bug, reported as such.
fn mismatch() -> StoreError {
    StoreError::Corrupt("column cache entry of the wrong kind".into())
}

impl PartReader for SegmentReader<'_> {
    fn times(&mut self) -> Result<Arc<[i64]>> {
        match self.read(ColumnKey::Times, |segment, file| Ok(Decoded::Ints(segment.read_times(file)?.into())))? {
            Some(Decoded::Ints(times)) => Ok(times),
            None => Ok(Arc::new([])),
            Some(_) => Err(mismatch()),
        }
    }

    fn durations(&mut self) -> Result<Arc<[i64]>> {
        match self
            .read(ColumnKey::Durations, |segment, file| Ok(Decoded::Ints(segment.read_durations(file)?.into())))?
        {
            Some(Decoded::Ints(durations)) => Ok(durations),
            None => Ok(Arc::new([])),
            Some(_) => Err(mismatch()),
        }
    }

    fn kinds(&mut self) -> Result<Arc<[EventKind]>> {
        match self.read(ColumnKey::Kinds, |segment, file| Ok(Decoded::Kinds(segment.read_kinds(file)?.into())))? {
            Some(Decoded::Kinds(kinds)) => Ok(kinds),
            None => Ok(Arc::new([])),
            Some(_) => Err(mismatch()),
        }
    }

    fn ids(&mut self) -> Result<Arc<Ids>> {
        match self.read(ColumnKey::Ids, |segment, file| Ok(Decoded::Ids(Arc::new(segment.read_ids(file)?))))? {
            Some(Decoded::Ids(ids)) => Ok(ids),
            None => Ok(Arc::default()),
            Some(_) => Err(mismatch()),
        }
    }

    fn column(&mut self, name: &str) -> Result<Option<Arc<Column>>> {
        let key = ColumnKey::Field(name.to_owned());
        match self.read(key, |segment, file| Ok(Decoded::Field(segment.read_field(file, name)?.map(Arc::new))))? {
            Some(Decoded::Field(column)) => Ok(column),
            None => Ok(None),
            Some(_) => Err(mismatch()),
        }
    }
}

/// One dataset's rows of a head chunk, read through the chunk's column-wise copy.
struct HeadPart {
    cache: Arc<ColumnCache>,
    chunk: Arc<HeadChunk>,
    table: SignalTable,
    info: PartInfo,
    max_columns: usize,
}

impl Part for HeadPart {
    fn info(&self) -> &PartInfo {
        &self.info
    }

    fn open(&self) -> Result<Box<dyn PartReader + '_>> {
        let columnar = self.chunk.columnar(self.max_columns)?;
        let part =
            columnar.iter().find(|part| part.table == self.table && part.dataset == self.info.dataset).ok_or_else(
                || StoreError::Corrupt(format!("head chunk {} lost dataset {}", self.chunk.seq, self.info.dataset)),
            )?;
        Ok(Box::new(SegmentReader::new(&self.cache, &part.segment)))
    }
}
