//! Writing a segment a row at a time from WAL records, copying encoded cells: a flush never holds
//! its rows as events, and memory is the column buffers, about the raw size of the rows.
//!
//! A key gets a column the first time it appears (earlier rows get absent cells), until the segment
//! has `max_columns`; later new keys go to the overflow column. Flushing thus decodes each row once.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use waggle_model::SignalTable;

use super::layout::ColumnWriter;
use super::{BLOCK_ROWS, ColumnMeta, END_MAGIC, FORMAT_VERSION, Frame, MAGIC, SegmentMeta};
use crate::bloom::Bloom;
use crate::codec::{Reader, put_bytes, put_packed, put_uvarint, tag};
use crate::error::{Result, StoreError};
use crate::rows::RawRow;
use crate::wal::sync_dir;

/// The partition a segment holds and the WAL records it came from.
pub(crate) struct SegmentSpec<'a> {
    pub(crate) table: SignalTable,
    pub(crate) dataset: &'a str,
    /// Partition start, unix seconds.
    pub(crate) hour: i64,
    pub(crate) seq_range: (u64, u64),
}

#[derive(Debug, Clone, Default)]
struct CellStats {
    non_null: u64,
    types: u16,
    min: Option<f64>,
    max: Option<f64>,
}

impl CellStats {
    /// Counts a cell; numbers also update min and max.
    fn add(&mut self, value_tag: u8, payload: &[u8]) -> Result<()> {
        self.non_null += 1;
        self.types |= 1 << value_tag;
        let number = match value_tag {
            tag::INT => Reader::new(payload).ivarint()? as f64,
            tag::FLOAT => f64::from_le_bytes(Reader::new(payload).array()?),
            _ => return Ok(()),
        };
        if !number.is_nan() {
            self.min = Some(self.min.map_or(number, |min| min.min(number)));
            self.max = Some(self.max.map_or(number, |max| max.max(number)));
        }
        Ok(())
    }
}

fn packed(values: &[i64], planes: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 5);
    put_packed(&mut out, values, planes);
    out
}

/// zstd level of the time and duration frames. Durations are byte planes (see `codec::put_packed`)
/// that compress without entropy coding, which a fast (negative) level skips; measured on format 4
/// blocks: 1.30x smaller and 2.6 GB/s to decompress, against 1.26x and 1 GB/s for interleaved bytes
/// at level 3. Times compress by 1% at any level: zstd stores their frames as they are.
const PACKED_ZSTD_LEVEL: i32 = -1;

/// Bits per distinct trace id of a block's bloom filter (rounded up to a power of two: 32 to 64).
/// At four probes a block answers a false positive about once in 7,000; a lookup over 10M spans
/// tests a few hundred blocks (those of the segments whose union filter matches), so about one
/// lookup in 15 decompresses an ids frame for nothing. Ids repeat within a block (~9 spans per
/// trace and service), so this costs ~0.5 B per span, a third of format 3's one filter sized at
/// ten bits per row.
const BLOOM_BITS_PER_ID: usize = 32;

/// The blocks of `items`, given where each full block ends (`ends`): `blocks` in all, the last
/// ending with `items`.
fn blocks_of<'a, T>(items: &'a [T], ends: &'a [usize], blocks: usize) -> impl Iterator<Item = &'a [T]> {
    (0..blocks).map(move |block| {
        let start = block.checked_sub(1).map_or(0, |before| ends[before]);
        &items[start..ends.get(block).copied().unwrap_or(items.len())]
    })
}

/// Compresses columns into a segment being written, a frame per block.
struct FrameWriter {
    blob: Vec<u8>,
    /// At the level the caller asked for.
    compressor: zstd::bulk::Compressor<'static>,
    /// At [`PACKED_ZSTD_LEVEL`].
    packed_compressor: zstd::bulk::Compressor<'static>,
}

impl FrameWriter {
    /// Appends a column's frames (each one zstd frame; `packed` for packed integers), returning its
    /// footer entry.
    fn column<R: AsRef<[u8]>>(
        &mut self,
        name: &str,
        frames: impl IntoIterator<Item = R>,
        stats: CellStats,
        packed: bool,
    ) -> Result<ColumnMeta> {
        let offset = self.blob.len() as u64;
        let mut metas = Vec::new();
        let compressor = if packed { &mut self.packed_compressor } else { &mut self.compressor };
        for raw in frames {
            let raw = raw.as_ref();
            let compressed = compressor.compress(raw).map_err(StoreError::io("compressing column"))?;
            metas.push(Frame {
                len: compressed.len() as u64,
                raw_len: raw.len() as u64,
                crc: crc32fast::hash(&compressed),
            });
            self.blob.extend_from_slice(&compressed);
        }
        Ok(ColumnMeta {
            name: name.to_owned(),
            offset,
            len: self.blob.len() as u64 - offset,
            raw_len: metas.iter().map(|frame| frame.raw_len).sum(),
            crc: 0,
            frames: metas,
            non_null: stats.non_null,
            types: stats.types,
            min: stats.min,
            max: stats.max,
        })
    }
}

/// The overflow column being built: its bytes, where each full block ends in them, its stats.
struct Overflow {
    raw: Vec<u8>,
    block_ends: Vec<usize>,
    stats: CellStats,
}

/// Column buffers of one segment being built.
pub(crate) struct SegmentBuilder {
    max_columns: usize,
    block_rows: usize,
    columns: Vec<String>,
    index: FxHashMap<String, usize>,
    cells: Vec<ColumnWriter>,
    stats: Vec<CellStats>,
    overflow: Option<Overflow>,
    kinds: Vec<u8>,
    times: Vec<i64>,
    durations: Vec<i64>,
    ids: Vec<u8>,
    min_time: i64,
    max_time: i64,
    max_end_time: i64,
    rows: u64,
    bloom_ids: Vec<waggle_model::TraceId>,
    /// Where each full block of rows ends in `ids` and in `bloom_ids`.
    ids_ends: Vec<usize>,
    bloom_ends: Vec<usize>,
    /// Scratch for the current row: the field index per column (`NO_FIELD` when absent).
    field_of_column: Vec<u32>,
    /// Scratch for the current row: fields with no column of their own.
    spilled: Vec<u32>,
    /// Column of each key index of the current chunk (`KEY_UNSEEN` until looked up, `NO_FIELD` when
    /// it overflows), so keys are hashed once per chunk, not once per row.
    key_cache: Vec<u32>,
    key_cache_chunk: Option<u64>,
}

const NO_FIELD: u32 = u32::MAX;
const KEY_UNSEEN: u32 = u32::MAX - 1;

impl SegmentBuilder {
    /// An empty builder giving at most `max_columns` keys a column of their own.
    pub(crate) fn new(max_columns: usize) -> Self {
        Self::with_block_rows(max_columns, BLOCK_ROWS)
    }

    /// A builder cutting rows into blocks of `block_rows`: small blocks let tests cross block
    /// boundaries with few rows.
    pub(crate) fn with_block_rows(max_columns: usize, block_rows: usize) -> Self {
        Self {
            max_columns,
            block_rows,
            cells: Vec::new(),
            stats: Vec::new(),
            overflow: None,
            columns: Vec::new(),
            index: FxHashMap::default(),
            kinds: Vec::new(),
            times: Vec::new(),
            durations: Vec::new(),
            ids: Vec::new(),
            min_time: i64::MAX,
            max_time: i64::MIN,
            max_end_time: i64::MIN,
            rows: 0,
            bloom_ids: Vec::new(),
            ids_ends: Vec::new(),
            bloom_ends: Vec::new(),
            field_of_column: Vec::new(),
            spilled: Vec::new(),
            key_cache: Vec::new(),
            key_cache_chunk: None,
        }
    }

    /// Appends one row of a WAL record, copying its cells as they are. `chunk` identifies the
    /// record: key indices are only meaningful within it.
    pub(crate) fn push_raw(&mut self, chunk: u64, strings: &[&str], row: &RawRow<'_>) -> Result<()> {
        self.rows += 1;
        self.kinds.push(row.kind as u8);
        self.times.push(row.time_unix_nano);
        self.min_time = self.min_time.min(row.time_unix_nano);
        self.max_time = self.max_time.max(row.time_unix_nano);
        self.max_end_time = self.max_end_time.max(row.time_unix_nano.saturating_add(row.duration_nano));
        self.durations.push(row.duration_nano);
        self.ids.extend_from_slice(row.ids);
        self.bloom_ids.extend(row.trace_id);

        // Every column gets a cell for every row, absent or not.
        if self.key_cache_chunk != Some(chunk) {
            self.key_cache_chunk = Some(chunk);
            self.key_cache.clear();
            self.key_cache.resize(strings.len(), KEY_UNSEEN);
        }
        self.spilled.clear();
        for (position, field) in row.fields.iter().enumerate() {
            let cached = self.key_cache[field.key as usize];
            let column = if cached == KEY_UNSEEN {
                let column = self.column_for(strings[field.key as usize]).map_or(NO_FIELD, |column| column as u32);
                self.key_cache[field.key as usize] = column;
                column
            } else {
                cached
            };
            match column {
                NO_FIELD => self.spilled.push(position as u32),
                column => self.field_of_column[column as usize] = position as u32,
            }
        }
        if !self.spilled.is_empty() && self.overflow.is_none() {
            // Earlier rows spilled nothing: one zero count (one byte) each.
            let earlier = self.rows as usize - 1;
            self.overflow = Some(Overflow {
                raw: vec![0; earlier],
                block_ends: (1..=earlier / self.block_rows).map(|block| block * self.block_rows).collect(),
                stats: CellStats::default(),
            });
        }
        for (column, slot) in self.field_of_column.iter_mut().enumerate() {
            if *slot == NO_FIELD {
                self.cells[column].push_null();
                continue;
            }
            let field = &row.fields[*slot as usize];
            self.cells[column].push(field.header, field.payload)?;
            self.stats[column].add(field.header & 0x0f, field.payload)?;
            *slot = NO_FIELD;
        }
        if let Some(overflow) = &mut self.overflow {
            put_uvarint(&mut overflow.raw, self.spilled.len() as u64);
            for &position in &self.spilled {
                let field = &row.fields[position as usize];
                put_bytes(&mut overflow.raw, strings[field.key as usize].as_bytes());
                overflow.raw.push(field.header);
                overflow.raw.extend_from_slice(field.payload);
            }
            overflow.stats.non_null += !self.spilled.is_empty() as u64;
        }
        if self.rows as usize == (self.ids_ends.len() + 1) * self.block_rows {
            self.ids_ends.push(self.ids.len());
            self.bloom_ends.push(self.bloom_ids.len());
            if let Some(overflow) = &mut self.overflow {
                overflow.block_ends.push(overflow.raw.len());
            }
        }
        Ok(())
    }

    /// The column of a key, creating it (absent in every earlier row) while under the cap.
    fn column_for(&mut self, key: &str) -> Option<usize> {
        if let Some(&column) = self.index.get(key) {
            return Some(column);
        }
        if self.columns.len() >= self.max_columns {
            return None;
        }
        let column = self.columns.len();
        self.columns.push(key.to_owned());
        self.index.insert(key.to_owned(), column);
        self.cells.push(ColumnWriter::with_nulls(self.block_rows, self.rows as usize - 1));
        self.stats.push(CellStats::default());
        self.field_of_column.push(NO_FIELD);
        Some(column)
    }

    /// Rows pushed so far.
    pub(crate) fn rows(&self) -> u64 {
        self.rows
    }

    /// Compresses the columns and writes `<dir>/<stem>.seg` durably (temporary file, fsync, rename).
    pub(crate) fn finish(self, dir: &Path, stem: &str, spec: SegmentSpec<'_>, zstd_level: i32) -> Result<PathBuf> {
        let blob = self.finish_bytes(spec, zstd_level)?;
        let path = dir.join(format!("{stem}.seg"));
        let tmp = dir.join(format!("{stem}.seg.tmp"));
        let mut file = File::create(&tmp).map_err(StoreError::io(format!("creating {}", tmp.display())))?;
        file.write_all(&blob).and_then(|()| file.sync_all()).map_err(StoreError::io("writing segment"))?;
        fs::rename(&tmp, &path).map_err(StoreError::io("renaming segment"))?;
        sync_dir(dir)?;
        Ok(path)
    }

    /// Compresses the columns into a whole segment, in memory.
    pub(crate) fn finish_bytes(self, spec: SegmentSpec<'_>, zstd_level: i32) -> Result<Vec<u8>> {
        let mut blob = Vec::with_capacity(self.kinds.len() * 16);
        blob.extend_from_slice(MAGIC);
        let compressor = |level| zstd::bulk::Compressor::new(level).map_err(StoreError::io("creating compressor"));
        let mut writer = FrameWriter {
            blob,
            compressor: compressor(zstd_level)?,
            packed_compressor: compressor(PACKED_ZSTD_LEVEL)?,
        };
        let rows = self.rows as usize;
        let (block_rows, blocks) = (self.block_rows, rows.div_ceil(self.block_rows));
        let full = CellStats { non_null: self.rows, ..CellStats::default() };
        let fixed = vec![
            writer.column("kind", self.kinds.chunks(block_rows), full.clone(), false)?,
            writer.column(
                "time",
                self.times.chunks(block_rows).map(|times| packed(times, false)),
                full.clone(),
                true,
            )?,
            writer.column(
                "duration",
                self.durations.chunks(block_rows).map(|durations| packed(durations, true)),
                full.clone(),
                true,
            )?,
            writer.column("ids", blocks_of(&self.ids, &self.ids_ends, blocks), full, false)?,
        ];
        let mut columns = Vec::with_capacity(self.columns.len());
        for ((name, cells), stats) in self.columns.iter().zip(self.cells).zip(self.stats) {
            let (dict, column_blocks) = cells.finish();
            columns.push(writer.column(name, std::iter::once(dict).chain(column_blocks), stats, false)?);
        }
        columns.sort_by(|a, b| a.name.cmp(&b.name));
        let overflow = match self.overflow {
            Some(overflow) => Some(writer.column(
                "overflow",
                blocks_of(&overflow.raw, &overflow.block_ends, blocks),
                overflow.stats,
                false,
            )?),
            None => None,
        };
        // One filter per block, all of one size (the union is then the segment's filter), sized
        // for the block with the most distinct ids.
        let block_ids: Vec<Vec<waggle_model::TraceId>> = blocks_of(&self.bloom_ids, &self.bloom_ends, blocks)
            .map(|ids| {
                let mut ids = ids.to_vec();
                ids.sort_unstable_by_key(|id| id.0);
                ids.dedup();
                ids
            })
            .collect();
        let most = block_ids.iter().map(Vec::len).max().unwrap_or(0);
        let mut bloom_bytes = Vec::new();
        for ids in &block_ids {
            let mut bloom = Bloom::with_bits(most.max(1) * BLOOM_BITS_PER_ID);
            ids.iter().for_each(|id| bloom.insert(id));
            bloom_bytes.extend_from_slice(&bloom.to_bytes());
        }
        let mut blob = writer.blob;
        let bloom_meta = ColumnMeta {
            name: "bloom".into(),
            offset: blob.len() as u64,
            len: bloom_bytes.len() as u64,
            raw_len: bloom_bytes.len() as u64,
            crc: crc32fast::hash(&bloom_bytes),
            frames: Vec::new(),
            non_null: 0,
            types: 0,
            min: None,
            max: None,
        };
        blob.extend_from_slice(&bloom_bytes);
        let empty = self.rows == 0;
        let meta = SegmentMeta {
            version: FORMAT_VERSION,
            block_rows: block_rows as u64,
            table: spec.table.as_str().into(),
            dataset: spec.dataset.into(),
            hour: spec.hour,
            rows: self.rows,
            min_time: if empty { 0 } else { self.min_time },
            max_time: if empty { 0 } else { self.max_time },
            max_end_time: if empty { 0 } else { self.max_end_time },
            seq_lo: spec.seq_range.0,
            seq_hi: spec.seq_range.1,
            fixed,
            columns,
            overflow,
            bloom: bloom_meta,
        };
        let footer = serde_json::to_vec(&meta).expect("segment meta serializes");
        blob.extend_from_slice(&footer);
        blob.extend_from_slice(&(footer.len() as u32).to_le_bytes());
        blob.extend_from_slice(&crc32fast::hash(&footer).to_le_bytes());
        blob.extend_from_slice(END_MAGIC);
        Ok(blob)
    }
}
