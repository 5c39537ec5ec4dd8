//! Immutable columnar segments: one file per (table, dataset, hour) partition and flush.
//! [`SegmentBuilder`] writes them a row at a time; [`Segment`] reads them.
//!
//! ```text
//! "WGLSEG01" | column* | bloom filter* | footer JSON | footer len u32 | footer crc32 u32 | "WGLSEGND"
//! column       = [dictionary frame] block frame*        (a field column has a dictionary frame)
//! block frame  = zstd of one column's cells of rows [b * block_rows, (b + 1) * block_rows)
//! bloom filter = the trace ids of one block of rows; all of one size
//! footer       = version 4, block_rows, rows, time range...; per column: offset, len, raw_len,
//!                stats, frames: [[len, raw_len, crc32]*]
//! ```
//! Format 4 cuts the rows into blocks of [`BLOCK_ROWS`] consecutive rows, and every column stores
//! each block as its own zstd frame with its own CRC, checked on every read: a corrupt segment is
//! refused rather than served, and a read of a few rows (one trace) decompresses only the frames of
//! their blocks, after the blocks' bloom filters and ids frames have located them. Fixed columns:
//! `kind` (u8 per row), `time` and `duration` (frame-of-reference packed, durations as byte planes
//! compressed at a fast level, see `codec::put_packed`), `ids` (presence mask + ids). Every other field key gets a column laid out
//! by type with dictionary-encoded strings, one dictionary for the whole column (see `layout`);
//! beyond `max_columns` distinct keys, the rarest go to one `overflow` column of
//! `(key, origin<<4|tag, payload)` lists, so arbitrary attribute keys cannot blow up the footer.
//! The footer carries the time range, per-column statistics and the frames' lengths and CRCs; the
//! union of the blocks' bloom filters, built at open, is the segment's.
//!
//! Format 3 (still read) had no blocks: each column was one frame (a field column's dictionary
//! inside it), with one bloom filter for the segment. It reads as a segment of a single block.

mod builder;
mod layout;
mod trace;

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use waggle_model::{Event, EventKind, Field, SignalTable, SpanId, TraceId};

pub(crate) use builder::{SegmentBuilder, SegmentSpec};

use crate::bloom::Bloom;
use crate::codec::{Reader, decode_packed, tag};
use crate::columns::{Column, ColumnBuilder, Ids};
use crate::error::{Result, StoreError};
use crate::rows::{HAS_PARENT, HAS_SPAN, HAS_TRACE, split_header};

const MAGIC: &[u8; 8] = b"WGLSEG01";
const END_MAGIC: &[u8; 8] = b"WGLSEGND";
const TRAILER: usize = 16;
const FORMAT_VERSION: u32 = 4;
/// Rows per block. Smaller blocks make a trace lookup decompress less (a block of every column of
/// the segments holding the trace, and the dictionaries of its string cells) but compress a little
/// worse and add zstd's per-frame setup (its entropy tables) to whole-column reads. Measured over
/// 10M spans (segments of ~40k rows): bytes on disk per span, median trace lookup, bytes
/// decompressed per lookup:
///   4096:  25.0 B, 0.73 ms, ~540 KB
///   8192:  24.7 B, 0.89 ms, ~920 KB
///   16384: 24.7 B, 1.41 ms
///   (format 3, one frame per column: 25.4 B, 2.7 ms)
/// At 4096 the frame setup costs field columns ~8% of a whole-column read; the fixed columns, laid
/// out for it (see `codec::put_packed`), read faster than as one frame.
const BLOCK_ROWS: usize = 4096;
/// No column of a segment we write comes near this; a footer claiming more is corrupt.
const MAX_COLUMN_RAW_BYTES: u64 = 4 << 30;

/// One zstd frame of a column: its compressed length, raw length and the CRC of its compressed
/// bytes. In the footer as `[len, raw_len, crc]`, to keep it small.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "[u64; 3]", into = "[u64; 3]")]
pub(crate) struct Frame {
    pub(crate) len: u64,
    pub(crate) raw_len: u64,
    pub(crate) crc: u32,
}

impl TryFrom<[u64; 3]> for Frame {
    type Error = &'static str;

    fn try_from([len, raw_len, crc]: [u64; 3]) -> std::result::Result<Self, Self::Error> {
        Ok(Self { len, raw_len, crc: u32::try_from(crc).map_err(|_| "frame crc out of range")? })
    }
}

impl From<Frame> for [u64; 3] {
    fn from(frame: Frame) -> Self {
        [frame.len, frame.raw_len, frame.crc as u64]
    }
}

/// Where a column's bytes are and what they hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ColumnMeta {
    pub(crate) name: String,
    pub(crate) offset: u64,
    /// Bytes of all its frames.
    pub(crate) len: u64,
    /// Bytes of all its frames, decompressed.
    pub(crate) raw_len: u64,
    /// Format 3 and the bloom filters: the CRC of the bytes (format 4 columns have one per frame).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) crc: u32,
    /// Format 4: the column's frames in file order, a field column's dictionary first, then one
    /// per block of rows. A format 3 column is read as a column of one frame, set at open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) frames: Vec<Frame>,
    /// Rows with a value.
    pub(crate) non_null: u64,
    /// Bit `1 << tag` for each value type present.
    pub(crate) types: u16,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) max: Option<f64>,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

/// The footer: everything needed to plan a read without touching the columns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SegmentMeta {
    pub(crate) version: u32,
    /// Format 4: rows per block (the last block may hold fewer).
    #[serde(default)]
    pub(crate) block_rows: u64,
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
    /// Format 4: the blocks' bloom filters, one after the other; format 3: the segment's.
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

/// A checked segment: its footer and bloom filters in memory, columns read on demand. The file is
/// opened only while a scan reads it, so thousands of segments do not hold thousands of descriptors.
pub(crate) struct Segment {
    /// Unique in this process: names the segment's entries in the column cache.
    pub(crate) id: u64,
    pub(crate) path: PathBuf,
    pub(crate) meta: SegmentMeta,
    pub(crate) size_bytes: u64,
    /// Rows per block: all of them (at least one) in format 3.
    block_rows: usize,
    /// Blocks of rows: frames of each fixed column.
    blocks: usize,
    /// The segment's trace ids (format 4: the union of the blocks' filters).
    bloom: Bloom,
    /// Format 4: each block's trace ids; format 3 has none (its one block is read whenever the
    /// segment's filter lets a lookup through).
    block_blooms: Vec<Bloom>,
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
        let mut meta: SegmentMeta =
            serde_json::from_slice(&footer).map_err(|err| corrupt(path, &format!("footer: {err}")))?;
        if !(3..=FORMAT_VERSION).contains(&meta.version) || meta.table().is_none() {
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
        let rows = meta.rows as usize;
        let (block_rows, blocks) = if meta.version == 3 {
            for column in meta.fixed.iter_mut().chain(&mut meta.columns).chain(&mut meta.overflow) {
                column.frames = vec![Frame { len: column.len, raw_len: column.raw_len, crc: column.crc }];
            }
            (rows.max(1), 1)
        } else {
            let block_rows = usize::try_from(meta.block_rows).ok().filter(|&block_rows| block_rows > 0);
            let block_rows = block_rows.ok_or_else(|| corrupt(path, "bad block size"))?;
            let blocks = rows.div_ceil(block_rows);
            // Each column's frames add up to it: frame offsets then stay inside the column.
            let dictionaries =
                meta.fixed.iter().map(|column| (column, 0)).chain(meta.columns.iter().map(|column| (column, 1)));
            for (column, dictionary) in dictionaries.chain(meta.overflow.iter().map(|column| (column, 0))) {
                let sum = |field: fn(&Frame) -> u64| {
                    column.frames.iter().try_fold(0u64, |sum, frame| sum.checked_add(field(frame)))
                };
                if column.frames.len() != blocks + dictionary
                    || sum(|frame| frame.len) != Some(column.len)
                    || sum(|frame| frame.raw_len) != Some(column.raw_len)
                {
                    return Err(corrupt(path, &format!("column {} has the wrong frames", column.name)));
                }
            }
            (block_rows, blocks)
        };
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let mut segment = Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            path: path.to_owned(),
            meta,
            size_bytes,
            block_rows,
            blocks,
            bloom: Bloom::with_capacity(1),
            block_blooms: Vec::new(),
            memory,
            retired: AtomicBool::new(false),
        };
        let bloom_bytes = segment.read_raw(file, &segment.meta.bloom.clone())?;
        let bad_bloom = || corrupt(path, "bad bloom filter");
        if segment.meta.version == 3 {
            segment.bloom = Bloom::from_bytes(&bloom_bytes).ok_or_else(bad_bloom)?;
        } else if blocks > 0 {
            if bloom_bytes.is_empty() || !bloom_bytes.len().is_multiple_of(blocks) {
                return Err(bad_bloom());
            }
            segment.block_blooms = bloom_bytes
                .chunks(bloom_bytes.len() / blocks)
                .map(|bytes| Bloom::from_bytes(bytes).ok_or_else(bad_bloom))
                .collect::<Result<_>>()?;
            segment.bloom = Bloom::union(&segment.block_blooms).ok_or_else(bad_bloom)?;
        }
        Ok(segment)
    }

    /// A column's bytes as stored, checked against its CRC (the bloom filters).
    fn read_raw(&self, file: &Source, column: &ColumnMeta) -> Result<Vec<u8>> {
        let mut bytes = vec![0u8; column.len as usize];
        file.read_exact_at(&mut bytes, column.offset)
            .map_err(StoreError::io(format!("reading {}", self.path.display())))?;
        if crc32fast::hash(&bytes) != column.crc {
            return Err(corrupt(&self.path, &format!("column {} checksum mismatch", column.name)));
        }
        Ok(bytes)
    }

    /// Decompresses one frame of a column into `raw` (replacing what it held), checking the CRC of
    /// the compressed bytes and the length of the result.
    fn decompress(&self, column: &ColumnMeta, frame: &Frame, compressed: &[u8], raw: &mut Vec<u8>) -> Result<()> {
        if crc32fast::hash(compressed) != frame.crc {
            return Err(corrupt(&self.path, &format!("column {} checksum mismatch", column.name)));
        }
        // The frame names its size: a footer claiming another is refused before allocating for it.
        if matches!(zstd::zstd_safe::get_frame_content_size(compressed), Ok(Some(size)) if size != frame.raw_len) {
            return Err(corrupt(&self.path, &format!("column {} has the wrong length", column.name)));
        }
        raw.clear();
        raw.reserve(frame.raw_len as usize);
        DECOMPRESSOR
            .with(|cell| -> std::io::Result<usize> {
                let mut slot = cell.borrow_mut();
                let decompressor = match slot.as_mut() {
                    Some(decompressor) => decompressor,
                    None => slot.insert(zstd::bulk::Decompressor::new()?),
                };
                decompressor.decompress_to_buffer(compressed, raw)
            })
            .map_err(|err| corrupt(&self.path, &format!("column {}: {err}", column.name)))?;
        if raw.len() as u64 != frame.raw_len {
            return Err(corrupt(&self.path, &format!("column {} has the wrong length", column.name)));
        }
        Ok(())
    }

    /// Where frame `index` of a column starts in the file (the frames add up to the column: checked
    /// at open).
    fn frame_offset(column: &ColumnMeta, index: usize) -> u64 {
        column.offset + column.frames[..index].iter().map(|frame| frame.len).sum::<u64>()
    }

    /// The stored bytes of frames `range` of a column, one after the other.
    fn read_compressed(&self, file: &Source, column: &ColumnMeta, range: Range<usize>) -> Result<Vec<u8>> {
        let mut bytes = vec![0u8; column.frames[range.clone()].iter().map(|frame| frame.len as usize).sum()];
        file.read_exact_at(&mut bytes, Self::frame_offset(column, range.start))
            .map_err(StoreError::io(format!("reading {}", self.path.display())))?;
        Ok(bytes)
    }

    /// Frames `range` of a column, read in one go and decompressed in order into one buffer, each
    /// handed to `visit` with its index.
    fn read_frames(
        &self,
        file: &Source,
        column: &ColumnMeta,
        range: Range<usize>,
        visit: &mut dyn FnMut(usize, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let bytes = self.read_compressed(file, column, range.clone())?;
        let (mut raw, mut start) = (Vec::new(), 0);
        for (index, frame) in range.clone().zip(&column.frames[range]) {
            let end = start + frame.len as usize;
            self.decompress(column, frame, &bytes[start..end], &mut raw)?;
            visit(index, &raw)?;
            start = end;
        }
        Ok(())
    }

    /// One frame of a column, decompressed.
    fn read_frame(&self, file: &Source, column: &ColumnMeta, index: usize) -> Result<Vec<u8>> {
        let compressed = self.read_compressed(file, column, index..index + 1)?;
        let mut raw = Vec::new();
        self.decompress(column, &column.frames[index], &compressed, &mut raw)?;
        Ok(raw)
    }

    /// The frame of a column holding its first block: a format 4 field column's dictionary comes
    /// before.
    fn first_block_frame(&self, column: &ColumnMeta) -> usize {
        column.frames.len() - self.blocks
    }

    /// Whether field columns hold their dictionary inside their one block (format 3).
    fn embedded_dict(&self) -> bool {
        self.meta.version == 3
    }

    /// Rows in a block.
    fn block_len(&self, block: usize) -> usize {
        self.block_rows.min(self.meta.rows as usize - block * self.block_rows)
    }

    /// Every block of a column in order, raw, with its row count.
    fn read_blocks(
        &self,
        file: &Source,
        column: &ColumnMeta,
        visit: &mut dyn FnMut(&[u8], usize) -> Result<()>,
    ) -> Result<()> {
        let first = self.first_block_frame(column);
        self.read_frames(file, column, first..column.frames.len(), &mut |index, raw| {
            visit(raw, self.block_len(index - first))
        })
    }

    /// Labels a decoding error with the segment and column.
    fn in_column(&self, column: &ColumnMeta) -> impl Fn(StoreError) -> StoreError {
        let (path, name) = (self.path.clone(), column.name.clone());
        move |err| match err {
            StoreError::Corrupt(what) => corrupt(&path, &format!("column {name}: {what}")),
            other => other,
        }
    }

    /// False when the segment surely does not hold the trace. The union of the blocks' filters
    /// answers most lookups; being fuller than each of them (it holds every block's ids in the
    /// bits of one), it lets more through, so the blocks' filters have the last word before the
    /// file is opened.
    pub(crate) fn may_contain_trace(&self, trace_id: &TraceId) -> bool {
        self.bloom.may_contain(trace_id)
            && (self.block_blooms.is_empty() || self.block_blooms.iter().any(|bloom| bloom.may_contain(trace_id)))
    }

    /// Marks the segment as replaced (its rows are in a merged segment): its file is deleted when
    /// the last snapshot holding it is dropped, so a read that began before the merge still sees it.
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::SeqCst);
    }

    /// Streams the rows for which `select` is true, with only the `columns` asked for (all when
    /// `None`); `visit` returns false to stop early.
    /// `trace_id` narrows the scan to one trace (only its rows are offered to `select`): the ids of
    /// the blocks whose bloom filter may hold it are read first, so a false positive costs one
    /// frame, not every column.
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
                let (decoded, headers) = self.decode_field(&file, column)?;
                Ok((column.name.as_str(), decoded, headers))
            })
            .collect::<Result<_>>()?;
        let overflow = self.overflow_for(columns).map(|column| self.read_joined(&file, column)).transpose()?;
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
}

/// Column-wise decoding, for [`crate::columns`]: blocks are decoded one after the other straight
/// into one vector per column.
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
        // A table from code to kind: one load per row, checked once per block.
        let table: [Option<EventKind>; 256] = std::array::from_fn(|code| EventKind::from_code(code as u8));
        let mut kinds = Vec::with_capacity(self.meta.rows as usize);
        self.read_blocks(file, &self.meta.fixed[0], &mut |raw, rows| {
            if raw.len() != rows {
                return Err(corrupt(&self.path, "kind column has the wrong length"));
            }
            if raw.iter().any(|&code| table[code as usize].is_none()) {
                return Err(corrupt(&self.path, "bad kind"));
            }
            kinds.extend(raw.iter().map(|&code| table[code as usize].unwrap_or(EventKind::Span)));
            Ok(())
        })?;
        Ok(kinds)
    }

    pub(crate) fn read_times(&self, file: &Source) -> Result<Vec<i64>> {
        self.read_packed(file, &self.meta.fixed[1])
    }

    pub(crate) fn read_durations(&self, file: &Source) -> Result<Vec<i64>> {
        self.read_packed(file, &self.meta.fixed[2])
    }

    /// A fixed column of one packed integer per row.
    fn read_packed(&self, file: &Source, column: &ColumnMeta) -> Result<Vec<i64>> {
        let mut values = Vec::with_capacity(self.meta.rows as usize);
        self.read_blocks(file, column, &mut |raw, rows| {
            decode_packed(raw, rows, &mut values).map_err(self.in_column(column))
        })?;
        Ok(values)
    }

    pub(crate) fn read_ids(&self, file: &Source) -> Result<Ids> {
        let rows = self.meta.rows as usize;
        let mut ids = Ids {
            trace_ids: Vec::with_capacity(rows),
            span_ids: Vec::with_capacity(rows),
            parent_ids: Vec::with_capacity(rows),
        };
        self.read_blocks(file, &self.meta.fixed[3], &mut |raw, rows| {
            push_ids(raw, rows, &mut ids).ok_or_else(|| corrupt(&self.path, "ids column does not match its rows"))
        })?;
        Ok(ids)
    }

    /// A field column decoded whole, with its header bytes (they carry each cell's origin).
    fn decode_field(&self, file: &Source, column: &ColumnMeta) -> Result<(Column, Vec<u8>)> {
        let first = self.first_block_frame(column);
        let mut decoder = layout::ColumnDecoder::new(self.meta.rows as usize);
        self.read_frames(file, column, 0..column.frames.len(), &mut |index, raw| {
            match index.checked_sub(first) {
                None => decoder.set_dict(raw),
                Some(block) => decoder.push_block(raw, self.block_len(block), self.embedded_dict()),
            }
            .map_err(self.in_column(column))
        })?;
        decoder.finish().map_err(self.in_column(column))
    }

    /// The raw blocks of a column, joined: for a format 3 column, its raw bytes.
    fn read_joined(&self, file: &Source, column: &ColumnMeta) -> Result<Vec<u8>> {
        let mut joined = Vec::with_capacity(column.raw_len as usize);
        self.read_blocks(file, column, &mut |raw, _| {
            joined.extend_from_slice(raw);
            Ok(())
        })?;
        Ok(joined)
    }

    /// A field column, from its own column or the overflow; `None` when no row has the field.
    pub(crate) fn read_field(&self, file: &Source, name: &str) -> Result<Option<Column>> {
        if let Some(meta) = self.meta.columns.iter().find(|column| column.name == name) {
            return Ok(Some(self.decode_field(file, meta)?.0));
        }
        let Some(meta) = &self.meta.overflow else { return Ok(None) };
        let mut builder = ColumnBuilder::with_capacity(self.meta.rows as usize);
        let mut found = false;
        self.read_blocks(file, meta, &mut |raw, rows| {
            let mut reader = Reader::new(raw);
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
            Ok(())
        })?;
        Ok(found.then(|| builder.finish()))
    }
}

/// Decodes the ids of `rows` rows, as `rows::put_ids` wrote them, onto `ids`; `None` when the bytes
/// do not hold exactly that. Plain indexing in one loop: the ids are the largest column.
fn push_ids(raw: &[u8], rows: usize, ids: &mut Ids) -> Option<()> {
    let mut pos = 0;
    for _ in 0..rows {
        let mask = *raw.get(pos)?;
        if mask & !(HAS_TRACE | HAS_SPAN | HAS_PARENT) != 0 {
            return None;
        }
        pos += 1;
        let mut take = |bit: u8, len: usize| -> Option<Option<&[u8]>> {
            if mask & bit == 0 {
                return Some(None);
            }
            let id = raw.get(pos..pos + len)?;
            pos += len;
            Some(Some(id))
        };
        let trace_id = take(HAS_TRACE, 16)?.map(|id| TraceId(id.try_into().expect("16 bytes")));
        let span_id = take(HAS_SPAN, 8)?.map(|id| SpanId(id.try_into().expect("8 bytes")));
        let parent_id = take(HAS_PARENT, 8)?.map(|id| SpanId(id.try_into().expect("8 bytes")));
        ids.trace_ids.push(trace_id);
        ids.span_ids.push(span_id);
        ids.parent_ids.push(parent_id);
    }
    (pos == raw.len()).then_some(())
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
mod tests;
