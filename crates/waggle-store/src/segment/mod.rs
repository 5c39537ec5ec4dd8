//! Immutable columnar segments: one file per (table, dataset, hour) partition and flush.
//! [`SegmentBuilder`] writes them a row at a time; [`Segment`] reads them.
//!
//! ```text
//! "WGLSEG01" | column blob* | footer JSON | footer len u32 | footer crc32 u32 | "WGLSEGND"
//! ```
//! Each blob is one zstd-compressed column with its own CRC in the footer, checked on every read, so
//! a corrupt segment is refused rather than served. Fixed columns: `kind` (u8 per row), `time` and
//! `duration` (frame-of-reference bit-packed, see `codec::put_packed`), `ids` (presence mask + ids).
//! Every other field key gets a column laid out by type with dictionary-encoded strings (see
//! `layout`); beyond
//! [`SegmentLimits::max_columns`] distinct keys, the rarest go to one `overflow` column of
//! `(key, origin<<4|tag, payload)` lists, so arbitrary attribute keys cannot blow up the footer. The footer carries the
//! time range, per-column statistics and a bloom filter of trace ids.

mod builder;
mod layout;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use waggle_model::{Event, EventKind, Field, SignalTable, SpanId, TraceId};

pub(crate) use builder::{SegmentBuilder, SegmentSpec};

use crate::bloom::Bloom;
use crate::codec::{Reader, decode_packed, decode_packed_at, tag};
use crate::columns::{Column, ColumnBuilder, Ids};
use crate::error::{Result, StoreError};
use crate::rows::{HAS_PARENT, HAS_SPAN, HAS_TRACE, read_ids, split_header};

const MAGIC: &[u8; 8] = b"WGLSEG01";
const END_MAGIC: &[u8; 8] = b"WGLSEGND";
const TRAILER: usize = 16;
const FORMAT_VERSION: u32 = 3;
/// No column of a segment we write comes near this; a footer claiming more is corrupt.
const MAX_COLUMN_RAW_BYTES: u64 = 4 << 30;

/// Where a column's bytes are and what they hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ColumnMeta {
    pub(crate) name: String,
    pub(crate) offset: u64,
    pub(crate) len: u64,
    pub(crate) raw_len: u64,
    pub(crate) crc: u32,
    /// Rows with a value.
    pub(crate) non_null: u64,
    /// Bit `1 << tag` for each value type present.
    pub(crate) types: u16,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) max: Option<f64>,
}

/// The footer: everything needed to plan a read without touching the columns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SegmentMeta {
    pub(crate) version: u32,
    pub(crate) table: String,
    pub(crate) dataset: String,
    /// Partition start, unix seconds (hour aligned).
    pub(crate) hour: i64,
    pub(crate) rows: u64,
    pub(crate) min_time: i64,
    pub(crate) max_time: i64,
    /// Latest end time (time + duration) of any row.
    pub(crate) max_end_time: i64,
    /// WAL sequence numbers of the records this flush covered: replay skips rows of this partition
    /// inside the range, so a crash between flush and WAL removal does not duplicate them.
    pub(crate) seq_lo: u64,
    pub(crate) seq_hi: u64,
    pub(crate) fixed: Vec<ColumnMeta>,
    pub(crate) columns: Vec<ColumnMeta>,
    pub(crate) overflow: Option<ColumnMeta>,
    pub(crate) bloom: ColumnMeta,
}

impl SegmentMeta {
    pub(crate) fn table(&self) -> Option<SignalTable> {
        SignalTable::parse(&self.table)
    }
}

thread_local! {
    /// A zstd context costs an allocation and setup: each reading thread keeps one.
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// A checked segment: its footer and bloom in memory, columns read on demand. The file is opened
/// only while a scan reads it, so thousands of segments do not hold thousands of descriptors.
pub(crate) struct Segment {
    /// Unique in this process: names the segment's entries in the column cache.
    pub(crate) id: u64,
    pub(crate) path: PathBuf,
    pub(crate) meta: SegmentMeta,
    pub(crate) size_bytes: u64,
    bloom: Bloom,
    /// The bytes, for a segment held in memory instead of a file.
    memory: Option<Arc<[u8]>>,
    /// Merged into another segment: the file goes when the last reader lets go of this one.
    retired: AtomicBool,
}

impl Drop for Segment {
    fn drop(&mut self) {
        if self.retired.load(Ordering::SeqCst)
            && self.memory.is_none()
            && let Err(err) = std::fs::remove_file(&self.path)
        {
            tracing::warn!(path = %self.path.display(), %err, "could not delete a merged segment");
        }
    }
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment").field("path", &self.path).field("rows", &self.meta.rows).finish()
    }
}

fn corrupt(path: &Path, what: &str) -> StoreError {
    StoreError::Corrupt(format!("segment {}: {what}", path.display()))
}

/// Where a segment's bytes are: its file, or memory (a head chunk's column-wise copy).
pub(crate) enum Source {
    File(File),
    Memory(Arc<[u8]>),
}

impl Source {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        match self {
            Self::File(file) => file.read_exact_at(buf, offset),
            Self::Memory(bytes) => {
                let start = usize::try_from(offset).map_err(std::io::Error::other)?;
                let range = bytes.get(start..start + buf.len()).ok_or(std::io::ErrorKind::UnexpectedEof)?;
                buf.copy_from_slice(range);
                Ok(())
            }
        }
    }
}

impl Segment {
    /// Opens a segment file, checking its trailer, footer CRC and bloom CRC.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(StoreError::io(format!("opening {}", path.display())))?;
        let size_bytes = file.metadata().map_err(StoreError::io("stat segment"))?.len();
        Self::parse(path, &Source::File(file), size_bytes, None)
    }

    /// A segment held in memory, checked as a file is; `label` names it in errors.
    pub(crate) fn from_memory(label: &Path, bytes: Vec<u8>) -> Result<Self> {
        let bytes: Arc<[u8]> = bytes.into();
        let size_bytes = bytes.len() as u64;
        Self::parse(label, &Source::Memory(bytes.clone()), size_bytes, Some(bytes))
    }

    fn parse(path: &Path, file: &Source, size_bytes: u64, memory: Option<Arc<[u8]>>) -> Result<Self> {
        if size_bytes < (MAGIC.len() + TRAILER) as u64 {
            return Err(corrupt(path, "too short"));
        }
        let mut trailer = [0u8; TRAILER];
        file.read_exact_at(&mut trailer, size_bytes - TRAILER as u64)
            .map_err(StoreError::io("reading segment trailer"))?;
        if &trailer[8..] != END_MAGIC {
            return Err(corrupt(path, "missing end marker"));
        }
        let footer_len = u32::from_le_bytes(trailer[..4].try_into().expect("4")) as u64;
        let footer_crc = u32::from_le_bytes(trailer[4..8].try_into().expect("4"));
        if footer_len + (TRAILER + MAGIC.len()) as u64 > size_bytes {
            return Err(corrupt(path, "footer length out of range"));
        }
        let mut footer = vec![0u8; footer_len as usize];
        file.read_exact_at(&mut footer, size_bytes - TRAILER as u64 - footer_len)
            .map_err(StoreError::io("reading footer"))?;
        if crc32fast::hash(&footer) != footer_crc {
            return Err(corrupt(path, "footer checksum mismatch"));
        }
        let meta: SegmentMeta =
            serde_json::from_slice(&footer).map_err(|err| corrupt(path, &format!("footer: {err}")))?;
        if meta.version != FORMAT_VERSION || meta.table().is_none() {
            return Err(corrupt(path, "unknown version or table"));
        }
        let data_end = size_bytes - TRAILER as u64 - footer_len;
        let all_columns = meta.fixed.iter().chain(&meta.columns).chain(&meta.overflow).chain([&meta.bloom]);
        for column in all_columns {
            if column.offset.checked_add(column.len).is_none_or(|end| end > data_end)
                || column.offset < MAGIC.len() as u64
            {
                return Err(corrupt(path, &format!("column {} out of range", column.name)));
            }
        }
        // Sizes the reader will allocate come from the footer: hold them to what the file can mean.
        if meta.fixed.len() != 4 || meta.fixed[0].raw_len != meta.rows {
            return Err(corrupt(path, "fixed columns missing or of the wrong length"));
        }
        if meta
            .fixed
            .iter()
            .chain(&meta.columns)
            .chain(&meta.overflow)
            .any(|column| column.raw_len > MAX_COLUMN_RAW_BYTES)
        {
            return Err(corrupt(path, "column length out of range"));
        }
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let mut segment = Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            path: path.to_owned(),
            meta,
            size_bytes,
            bloom: Bloom::with_capacity(1),
            memory,
            retired: AtomicBool::new(false),
        };
        let bloom_bytes = segment.read_raw(file, &segment.meta.bloom.clone())?;
        segment.bloom = Bloom::from_bytes(&bloom_bytes).ok_or_else(|| corrupt(path, "bad bloom filter"))?;
        Ok(segment)
    }

    fn read_raw(&self, file: &Source, column: &ColumnMeta) -> Result<Vec<u8>> {
        let mut bytes = vec![0u8; column.len as usize];
        file.read_exact_at(&mut bytes, column.offset)
            .map_err(StoreError::io(format!("reading {}", self.path.display())))?;
        if crc32fast::hash(&bytes) != column.crc {
            return Err(corrupt(&self.path, &format!("column {} checksum mismatch", column.name)));
        }
        Ok(bytes)
    }

    fn read_column(&self, file: &Source, column: &ColumnMeta) -> Result<Vec<u8>> {
        let compressed = self.read_raw(file, column)?;
        let mut raw = Vec::with_capacity(column.raw_len as usize);
        DECOMPRESSOR
            .with(|cell| -> std::io::Result<usize> {
                let mut slot = cell.borrow_mut();
                let decompressor = match slot.as_mut() {
                    Some(decompressor) => decompressor,
                    None => slot.insert(zstd::bulk::Decompressor::new()?),
                };
                decompressor.decompress_to_buffer(&compressed, &mut raw)
            })
            .map_err(|err| corrupt(&self.path, &format!("column {}: {err}", column.name)))?;
        if raw.len() as u64 != column.raw_len {
            return Err(corrupt(&self.path, &format!("column {} has the wrong length", column.name)));
        }
        Ok(raw)
    }

    /// False when the segment surely does not hold the trace.
    /// Marks the segment as replaced (its rows are in a merged segment): its file is deleted when
    /// the last snapshot holding it is dropped, so a read that began before the merge still sees it.
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::SeqCst);
    }

    pub(crate) fn may_contain_trace(&self, trace_id: &TraceId) -> bool {
        self.bloom.may_contain(trace_id)
    }

    /// Streams the rows for which `select` is true, with only the `columns` asked for (all when
    /// `None`); `visit` returns false to stop early.
    /// `trace_id` narrows the scan to one trace (only its rows are offered to `select`): the ids
    /// are read first, so a segment whose bloom filter answered a false positive costs one column,
    /// not all of them.
    pub(crate) fn scan(
        &self,
        columns: Option<&[String]>,
        trace_id: Option<TraceId>,
        select: &mut dyn FnMut(&RowHead) -> bool,
        visit: &mut dyn FnMut(Event) -> bool,
    ) -> Result<()> {
        let Some(file) = self.open_file()? else { return Ok(()) };
        if let Some(wanted) = trace_id {
            let found = self.trace_rows(&file, &wanted)?;
            if found.is_empty() {
                return Ok(());
            }
            // A trace is a handful of rows: reading only their cells beats decoding every column.
            // A huge one (past 1/16 of the rows) takes the dense decode, whose per-column loops
            // then cost less than per-cell lookups (a UTF-8 check and a value per cell).
            if found.len() * 16 < self.meta.rows as usize {
                return self.scan_rows(&file, columns, wanted, &found, select, visit);
            }
        }
        let ids = self.read_ids(&file)?;
        let (kinds, times, durations) = (self.read_kinds(&file)?, self.read_times(&file)?, self.read_durations(&file)?);
        // The fixed columns decide which rows are wanted at all.
        let heads: Vec<RowHead> = (0..self.meta.rows as usize)
            .map(|row| RowHead {
                kind: kinds[row],
                time_unix_nano: times[row],
                duration_nano: durations[row],
                trace_id: ids.trace_ids[row],
                span_id: ids.span_ids[row],
                parent_id: ids.parent_ids[row],
            })
            .collect();
        let selected: Vec<bool> =
            heads.iter().map(|head| trace_id.is_none_or(|id| head.trace_id == Some(id)) && select(head)).collect();
        if !selected.contains(&true) {
            return Ok(());
        }
        let wanted = |name: &str| columns.is_none_or(|names| names.iter().any(|wanted| wanted == name));
        let data: Vec<(&str, Column, Vec<u8>)> = self
            .meta
            .columns
            .iter()
            .filter(|column| wanted(&column.name))
            .map(|column| {
                let (decoded, headers) = layout::decode(&self.read_column(&file, column)?, self.meta.rows as usize)
                    .map_err(|err| corrupt(&self.path, &format!("column {}: {err}", column.name)))?;
                Ok((column.name.as_str(), decoded, headers))
            })
            .collect::<Result<_>>()?;
        let overflow = self.overflow_for(columns).map(|column| self.read_column(&file, column)).transpose()?;
        let mut overflow_reader = overflow.as_deref().map(Reader::new);
        for (row, head) in heads.into_iter().enumerate() {
            let mut fields = Vec::new();
            if selected[row] {
                for (name, column, headers) in &data {
                    if let Some(value) = column.value(row) {
                        let (origin, _) = split_header(headers[row])?;
                        fields.push(Field { key: (*name).to_owned(), value, origin });
                    }
                }
            }
            if let Some(reader) = overflow_reader.as_mut() {
                for _ in 0..reader.len()? {
                    let key = reader.string()?;
                    let (origin, tag) = split_header(reader.u8()?)?;
                    let value = reader.value_payload(tag)?;
                    if selected[row] && wanted(&key) {
                        fields.push(Field { key, value, origin });
                    }
                }
            }
            if selected[row] && !visit(head.into_event(self.meta.dataset.clone(), fields)) {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The overflow column, when a wanted key may be in it: one without a column of its own.
    fn overflow_for(&self, columns: Option<&[String]>) -> Option<&ColumnMeta> {
        let has_own_column = |name: &String| self.meta.columns.iter().any(|column| &column.name == name);
        self.meta.overflow.as_ref().filter(|_| columns.is_none_or(|names| !names.iter().all(has_own_column)))
    }

    /// The rows of one trace (ascending) with their span and parent ids, found by comparing trace
    /// ids in place in the raw ids column: nothing is built for the other rows.
    fn trace_rows(&self, file: &Source, wanted: &TraceId) -> Result<Vec<TraceRow>> {
        let raw = self.read_column(file, &self.meta.fixed[3])?;
        let truncated = || corrupt(&self.path, "ids column truncated");
        let mut found = Vec::new();
        // Plain indexing, not a Reader: this loop runs for every row of every segment the bloom
        // filter lets through.
        let mut pos = 0;
        for row in 0..self.meta.rows as usize {
            let mask = *raw.get(pos).ok_or_else(truncated)?;
            if mask & !(HAS_TRACE | HAS_SPAN | HAS_PARENT) != 0 {
                return Err(corrupt(&self.path, "bad id mask"));
            }
            // The ids present, as `rows::put_ids` writes them.
            let len: usize = [(HAS_TRACE, 16), (HAS_SPAN, 8), (HAS_PARENT, 8)]
                .into_iter()
                .filter(|(bit, _)| mask & bit != 0)
                .map(|(_, len)| len)
                .sum();
            let ids = raw.get(pos + 1..pos + 1 + len).ok_or_else(truncated)?;
            if mask & HAS_TRACE != 0 && ids[..16] == wanted.0 {
                let (_, span_id, parent_id) = read_ids(&mut Reader::new(&raw[pos..]))?;
                found.push((row, span_id, parent_id));
            }
            pos += 1 + len;
        }
        Ok(found)
    }

    /// [`Self::scan`] of the few rows of one trace, `found` by [`Self::trace_rows`]: each column
    /// yields just their cells, without being decoded whole.
    fn scan_rows(
        &self,
        file: &Source,
        columns: Option<&[String]>,
        trace_id: TraceId,
        found: &[TraceRow],
        select: &mut dyn FnMut(&RowHead) -> bool,
        visit: &mut dyn FnMut(Event) -> bool,
    ) -> Result<()> {
        let rows: Vec<usize> = found.iter().map(|(row, ..)| *row).collect();
        let kinds = self.read_column(file, &self.meta.fixed[0])?;
        let times = self.read_packed_at(file, &self.meta.fixed[1], &rows)?;
        let durations = self.read_packed_at(file, &self.meta.fixed[2], &rows)?;
        let mut heads = Vec::with_capacity(found.len());
        for (index, &(row, span_id, parent_id)) in found.iter().enumerate() {
            let head = RowHead {
                kind: EventKind::from_code(kinds[row]).ok_or_else(|| corrupt(&self.path, "bad kind"))?,
                time_unix_nano: times[index],
                duration_nano: durations[index],
                trace_id: Some(trace_id),
                span_id,
                parent_id,
            };
            if select(&head) {
                heads.push((row, head));
            }
        }
        if heads.is_empty() {
            return Ok(());
        }
        let rows: Vec<usize> = heads.iter().map(|(row, _)| *row).collect();
        let mut fields: Vec<Vec<Field>> = vec![Vec::new(); rows.len()];
        let wanted = |name: &str| columns.is_none_or(|names| names.iter().any(|wanted| wanted == name));
        for column in self.meta.columns.iter().filter(|column| wanted(&column.name)) {
            let cells = layout::decode_rows(&self.read_column(file, column)?, self.meta.rows as usize, &rows)
                .map_err(|err| corrupt(&self.path, &format!("column {}: {err}", column.name)))?;
            for (row_fields, cell) in fields.iter_mut().zip(cells) {
                if let Some((origin, value)) = cell {
                    row_fields.push(Field { key: column.name.clone(), value, origin });
                }
            }
        }
        if let Some(column) = self.overflow_for(columns) {
            let raw = self.read_column(file, column)?;
            let mut reader = Reader::new(&raw);
            let mut next = 0;
            for row in 0..=rows[rows.len() - 1] {
                let keep = rows[next] == row;
                for _ in 0..reader.len()? {
                    let key = reader.bytes()?;
                    let (origin, tag) = split_header(reader.u8()?)?;
                    if keep && columns.is_none_or(|names| names.iter().any(|name| name.as_bytes() == key)) {
                        let key = String::from_utf8(key.to_vec()).map_err(|_| corrupt(&self.path, "utf-8 key"))?;
                        fields[next].push(Field { key, value: reader.value_payload(tag)?, origin });
                    } else {
                        reader.skip_value_payload(tag)?;
                    }
                }
                next += usize::from(keep);
            }
        }
        for ((_, head), fields) in heads.into_iter().zip(fields) {
            if !visit(head.into_event(self.meta.dataset.clone(), fields)) {
                break;
            }
        }
        Ok(())
    }
}

/// Column-wise decoding, for [`crate::columns`].
impl Segment {
    /// Opens the file for reading; `None` when retention deleted it since the caller's snapshot
    /// (its rows are past retention anyway).
    pub(crate) fn open_file(&self) -> Result<Option<Source>> {
        if let Some(bytes) = &self.memory {
            return Ok(Some(Source::Memory(bytes.clone())));
        }
        match File::open(&self.path) {
            Ok(file) => Ok(Some(Source::File(file))),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(StoreError::Io { context: format!("opening {}", self.path.display()), source: err }),
        }
    }

    pub(crate) fn read_kinds(&self, file: &Source) -> Result<Vec<EventKind>> {
        let raw = self.read_column(file, &self.meta.fixed[0])?;
        raw.iter().map(|&code| EventKind::from_code(code).ok_or_else(|| corrupt(&self.path, "bad kind"))).collect()
    }

    pub(crate) fn read_times(&self, file: &Source) -> Result<Vec<i64>> {
        self.read_packed(file, &self.meta.fixed[1])
    }

    pub(crate) fn read_durations(&self, file: &Source) -> Result<Vec<i64>> {
        self.read_packed(file, &self.meta.fixed[2])
    }

    /// A fixed column of one packed integer per row.
    fn read_packed(&self, file: &Source, column: &ColumnMeta) -> Result<Vec<i64>> {
        let raw = self.read_column(file, column)?;
        decode_packed(&raw, self.meta.rows as usize)
            .map_err(|err| corrupt(&self.path, &format!("column {}: {err}", column.name)))
    }

    /// The values at `rows` (ascending) of a packed fixed column.
    fn read_packed_at(&self, file: &Source, column: &ColumnMeta, rows: &[usize]) -> Result<Vec<i64>> {
        let raw = self.read_column(file, column)?;
        decode_packed_at(&raw, self.meta.rows as usize, rows)
            .map_err(|err| corrupt(&self.path, &format!("column {}: {err}", column.name)))
    }

    pub(crate) fn read_ids(&self, file: &Source) -> Result<Ids> {
        let raw = self.read_column(file, &self.meta.fixed[3])?;
        let mut reader = Reader::new(&raw);
        let rows = self.meta.rows as usize;
        let mut ids = Ids {
            trace_ids: Vec::with_capacity(rows),
            span_ids: Vec::with_capacity(rows),
            parent_ids: Vec::with_capacity(rows),
        };
        for _ in 0..rows {
            let (trace_id, span_id, parent_id) = read_ids(&mut reader)?;
            ids.trace_ids.push(trace_id);
            ids.span_ids.push(span_id);
            ids.parent_ids.push(parent_id);
        }
        Ok(ids)
    }

    /// A field column, from its own column or the overflow; `None` when no row has the field.
    pub(crate) fn read_field(&self, file: &Source, name: &str) -> Result<Option<Column>> {
        let rows = self.meta.rows as usize;
        if let Some(meta) = self.meta.columns.iter().find(|column| column.name == name) {
            let (column, _) = layout::decode(&self.read_column(file, meta)?, rows)
                .map_err(|err| corrupt(&self.path, &format!("column {name}: {err}")))?;
            return Ok(Some(column));
        }
        let Some(meta) = &self.meta.overflow else { return Ok(None) };
        let mut builder = ColumnBuilder::with_capacity(rows);
        let raw = self.read_column(file, meta)?;
        let mut reader = Reader::new(&raw);
        let mut found = false;
        for _ in 0..rows {
            let mut pushed = false;
            for _ in 0..reader.len()? {
                let key = reader.bytes()?;
                if key == name.as_bytes() && !pushed {
                    push_cell(&mut builder, &mut reader)?;
                    pushed = true;
                } else {
                    let (_, tag) = split_header(reader.u8()?)?;
                    reader.skip_value_payload(tag)?;
                }
            }
            if !pushed {
                builder.push_null();
            }
            found |= pushed;
        }
        Ok(found.then(|| builder.finish()))
    }
}

/// Decodes one `header, payload` cell into the builder.
fn push_cell(builder: &mut ColumnBuilder, reader: &mut Reader<'_>) -> Result<()> {
    let header = reader.u8()?;
    if header == tag::NULL {
        builder.push_null();
        return Ok(());
    }
    let (_, value_tag) = split_header(header)?;
    push_payload(builder, value_tag, reader)
}

/// Decodes a value payload of the given tag into the builder.
pub(crate) fn push_payload(builder: &mut ColumnBuilder, value_tag: u8, reader: &mut Reader<'_>) -> Result<()> {
    match value_tag {
        tag::STR => builder
            .push_str(std::str::from_utf8(reader.bytes()?).map_err(|_| StoreError::Corrupt("utf-8 string".into()))?),
        tag::INT => builder.push_int(reader.ivarint()?),
        tag::FLOAT => builder.push_float(f64::from_le_bytes(reader.array()?)),
        tag::BOOL => builder.push_bool(reader.u8()? != 0),
        other => builder.push(Some(&reader.value_payload(other)?)),
    }
    Ok(())
}

/// A row of one trace, with its span and parent ids.
type TraceRow = (usize, Option<SpanId>, Option<SpanId>);

/// The fixed columns of a row, for deciding whether to read the rest.
#[derive(Debug, Clone)]
pub(crate) struct RowHead {
    pub(crate) kind: EventKind,
    pub(crate) time_unix_nano: i64,
    pub(crate) duration_nano: i64,
    pub(crate) trace_id: Option<TraceId>,
    pub(crate) span_id: Option<waggle_model::SpanId>,
    pub(crate) parent_id: Option<waggle_model::SpanId>,
}

impl RowHead {
    fn into_event(self, dataset: String, fields: Vec<Field>) -> Event {
        Event {
            kind: self.kind,
            dataset,
            time_unix_nano: self.time_unix_nano,
            duration_nano: self.duration_nano,
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_id: self.parent_id,
            fields,
        }
    }
}

/// The start of the hour holding a timestamp, unix seconds.
pub(crate) fn hour_of(time_unix_nano: i64) -> i64 {
    time_unix_nano.div_euclid(1_000_000_000).div_euclid(3600) * 3600
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::tests::sample_event;

    fn write(dir: &Path, events: &mut [Event], max_columns: usize) -> Segment {
        let mut builder = SegmentBuilder::new(max_columns);
        let encoded = crate::rows::encode_batch(&waggle_model::Batch { events: events.to_vec() });
        crate::rows::decode_raw(&encoded, &mut |strings, row| builder.push_raw(0, strings, row)).unwrap();
        let spec = SegmentSpec { table: SignalTable::Traces, dataset: "svc", hour: 0, seq_range: (1, 2) };
        let path = builder.finish(dir, "test", spec, 3).unwrap();
        Segment::open(&path).unwrap()
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

    #[test]
    fn test_segment_round_trip_all_columns() {
        let dir = tempfile::tempdir().unwrap();
        let mut events: Vec<Event> = (0..300).rev().map(sample_event).collect();
        let expected = sorted_fields(events.clone());
        let segment = write(dir.path(), &mut events, 512);
        assert_eq!(sorted_fields(read_all(&segment, None)), expected);
        assert!(segment.may_contain_trace(&expected[0].trace_id.unwrap()));
        let user = segment.meta.columns.iter().find(|c| c.name == "app.user_id").unwrap();
        assert_eq!((user.min, user.max, user.non_null), (Some(0.0), Some(299.0), 300));
    }

    #[test]
    fn test_segment_overflow_keeps_rare_keys() {
        let dir = tempfile::tempdir().unwrap();
        let mut events: Vec<Event> = (0..40).map(sample_event).collect();
        for (index, event) in events.iter_mut().enumerate() {
            event.fields.push(Field::new(format!("unique.{index}"), index as i64, waggle_model::Origin::Attribute));
        }
        let expected = sorted_fields(events.clone());
        let segment = write(dir.path(), &mut events, 6);
        assert_eq!(segment.meta.columns.len(), 6);
        assert!(segment.meta.overflow.is_some());
        assert_eq!(sorted_fields(read_all(&segment, None)), expected);
        let projected = read_all(&segment, Some(&["unique.7".to_owned()]));
        assert_eq!(projected.iter().filter(|event| !event.fields.is_empty()).count(), 1);
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
        let mut traces: Vec<TraceId> = events.iter().filter_map(|event| event.trace_id).collect();
        traces.sort_by_key(|id| id.0);
        traces.dedup();
        traces.push(TraceId([0; 16]));
        let segment = write(dir.path(), &mut events, 8);
        assert!(segment.meta.overflow.is_some());
        for columns in [None, Some(vec!["name".to_owned(), "flag".to_owned(), "unique.7".to_owned()])] {
            let all = read_all(&segment, columns.as_deref());
            for &trace_id in &traces {
                let expected: Vec<Event> = all
                    .iter()
                    .filter(|event| event.trace_id == Some(trace_id) && event.time_unix_nano / 1000 % 5 != 0)
                    .cloned()
                    .collect();
                assert_eq!(read_trace(&segment, columns.as_deref(), trace_id, usize::MAX), expected);
                assert_eq!(read_trace(&segment, columns.as_deref(), trace_id, 1), expected[..expected.len().min(1)]);
            }
        }
    }

    #[test]
    fn test_segment_refuses_flipped_bits() {
        let dir = tempfile::tempdir().unwrap();
        let mut events: Vec<Event> = (0..100).map(sample_event).collect();
        let segment = write(dir.path(), &mut events, 512);
        let trace_id = events[41].trace_id.unwrap();
        let expected_trace = read_trace(&segment, None, trace_id, usize::MAX);
        assert!(!expected_trace.is_empty());
        let path = segment.path.clone();
        let original = std::fs::read(&path).unwrap();
        // Every byte flipped in turn is caught at open or on read, never returned as data.
        for position in (0..original.len()).step_by(7) {
            let mut bytes = original.clone();
            bytes[position] ^= 0x20;
            std::fs::write(&path, &bytes).unwrap();
            if let Ok(segment) = Segment::open(&path) {
                let result = segment.scan(None, None, &mut |_| true, &mut |_| true);
                assert!(result.is_err() || position < MAGIC.len(), "flip at {position} went unnoticed");
                let mut trace = Vec::new();
                let result =
                    segment.scan(None, Some(trace_id), &mut |row| row.time_unix_nano / 1000 % 5 != 0, &mut |event| {
                        trace.push(event);
                        true
                    });
                assert!(result.is_err() || trace == expected_trace, "flip at {position} changed the trace");
            }
        }
    }
}
