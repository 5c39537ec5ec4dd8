//! The in-memory head: acknowledged batches not yet in a segment, kept as compressed row chunks
//! (one per WAL record) so memory stays a fraction of the raw data. Each chunk carries a summary of
//! what it holds for pruning reads.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use std::sync::Arc;

use waggle_model::{Batch, Event, SignalTable};

use crate::bloom::Bloom;
use crate::error::{Result, StoreError};
use crate::rows;
use crate::segment::{Segment, SegmentBuilder, SegmentSpec};

/// One acknowledged batch.
#[derive(Debug)]
pub(crate) struct HeadChunk {
    pub(crate) seq: u64,
    /// zstd-compressed [`rows`] encoding; also the WAL record payload.
    pub(crate) payload: Vec<u8>,
    pub(crate) rows: u64,
    pub(crate) summary: BTreeMap<(SignalTable, String), Extent>,
    pub(crate) bloom: Bloom,
    /// The rows column-wise, built by the first query that reads the chunk: later queries decode
    /// only the columns they need instead of every row whole.
    columnar: OnceLock<Vec<ColumnarPart>>,
}

/// One (table, dataset) of a chunk, as an in-memory segment.
#[derive(Debug)]
pub(crate) struct ColumnarPart {
    pub(crate) table: SignalTable,
    pub(crate) dataset: String,
    pub(crate) segment: Arc<Segment>,
}

/// Rows and time range of one dataset in a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extent {
    pub(crate) rows: u64,
    pub(crate) min_time: i64,
    pub(crate) max_time: i64,
}

impl Extent {
    pub(crate) fn of(time: i64) -> Self {
        Self { rows: 1, min_time: time, max_time: time }
    }

    pub(crate) fn merge(&mut self, other: Extent) {
        self.rows += other.rows;
        self.min_time = self.min_time.min(other.min_time);
        self.max_time = self.max_time.max(other.max_time);
    }
}

/// zstd level for WAL records: fast, still several times smaller than raw.
const WAL_ZSTD_LEVEL: i32 = 1;

thread_local! {
    /// A zstd context costs about a megabyte to set up: each ingest thread keeps one.
    static WAL_COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
}

impl HeadChunk {
    /// Encodes and compresses a batch (done on the caller's thread, off the WAL writer).
    pub(crate) fn encode(batch: &Batch) -> Result<Self> {
        let raw = rows::encode_batch(batch);
        let payload = WAL_COMPRESSOR.with(|cell| -> Result<Vec<u8>> {
            let mut slot = cell.borrow_mut();
            let compressor = match slot.as_mut() {
                Some(compressor) => compressor,
                None => slot.insert(
                    zstd::bulk::Compressor::new(WAL_ZSTD_LEVEL).map_err(StoreError::io("creating compressor"))?,
                ),
            };
            compressor.compress(&raw).map_err(StoreError::io("compressing batch"))
        })?;
        Ok(Self::summarize(0, payload, &batch.events))
    }

    fn summarize(seq: u64, payload: Vec<u8>, events: &[Event]) -> Self {
        // Keyed by borrowed names while counting: no allocation per row.
        let mut extents: FxHashMap<(SignalTable, &str), Extent> = FxHashMap::default();
        let mut bloom = Bloom::with_capacity(events.len());
        for event in events {
            let extent = Extent::of(event.time_unix_nano);
            extents
                .entry((event.kind.table(), &event.dataset))
                .and_modify(|existing| existing.merge(extent))
                .or_insert(extent);
            if let Some(id) = &event.trace_id {
                bloom.insert(id);
            }
        }
        let summary =
            extents.into_iter().map(|((table, dataset), extent)| ((table, dataset.to_owned()), extent)).collect();
        Self { seq, payload, rows: events.len() as u64, summary, bloom, columnar: OnceLock::new() }
    }

    /// Rebuilds a chunk from a replayed WAL record, keeping only the rows `keep` accepts.
    pub(crate) fn from_wal(seq: u64, payload: Vec<u8>, keep: &dyn Fn(&Event) -> bool) -> Result<Option<Self>> {
        let events = decode_payload(&payload)?;
        let total = events.len();
        let kept: Vec<Event> = events.into_iter().filter(|event| keep(event)).collect();
        if kept.is_empty() {
            return Ok(None);
        }
        if kept.len() == total {
            return Ok(Some(Self::summarize(seq, payload, &kept)));
        }
        let mut chunk = Self::encode(&Batch { events: kept })?;
        chunk.seq = seq;
        Ok(Some(chunk))
    }

    /// Decodes the chunk's rows.
    pub(crate) fn events(&self) -> Result<Vec<Event>> {
        decode_payload(&self.payload)
    }

    /// The uncompressed row encoding, for [`rows::decode_raw`].
    pub(crate) fn raw(&self) -> Result<Vec<u8>> {
        zstd::stream::decode_all(self.payload.as_slice())
            .map_err(|err| StoreError::Corrupt(format!("head chunk: {err}")))
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.payload.len() as u64
    }

    /// The chunk's rows as in-memory segments, one per (table, dataset); built once.
    pub(crate) fn columnar(&self, max_columns: usize) -> Result<&[ColumnarPart]> {
        if let Some(parts) = self.columnar.get() {
            return Ok(parts);
        }
        let raw = self.raw()?;
        let mut builders: BTreeMap<(SignalTable, String), SegmentBuilder> = BTreeMap::new();
        rows::decode_raw(&raw, &mut |strings, row| {
            let key = (row.kind.table(), strings[row.dataset as usize].to_owned());
            builders.entry(key).or_insert_with(|| SegmentBuilder::new(max_columns)).push_raw(0, strings, row)
        })?;
        let label = PathBuf::from(format!("head chunk {}", self.seq));
        let parts = builders
            .into_iter()
            .map(|((table, dataset), builder)| {
                let spec = SegmentSpec { table, dataset: &dataset, hour: 0, seq_range: (self.seq, self.seq) };
                let segment = Segment::from_memory(&label, builder.finish_bytes(spec, COLUMNAR_ZSTD_LEVEL)?)?;
                Ok(ColumnarPart { table, dataset, segment: Arc::new(segment) })
            })
            .collect::<Result<Vec<_>>>()?;
        // Two queries may build it at once: the first stored wins, the other's copy is dropped.
        Ok(self.columnar.get_or_init(|| parts))
    }
}

/// zstd level of the column-wise copy: it lives in memory only, so favour speed.
const COLUMNAR_ZSTD_LEVEL: i32 = 1;

fn decode_payload(payload: &[u8]) -> Result<Vec<Event>> {
    let raw = zstd::stream::decode_all(payload).map_err(|err| StoreError::Corrupt(format!("head chunk: {err}")))?;
    rows::decode_all(&raw)
}

/// A set of chunks: the active head, or a frozen one being flushed.
#[derive(Debug, Default, Clone)]
pub(crate) struct Head {
    pub(crate) chunks: Vec<Arc<HeadChunk>>,
    pub(crate) rows: u64,
    pub(crate) bytes: u64,
}

impl Head {
    pub(crate) fn push(&mut self, chunk: Arc<HeadChunk>) {
        self.rows += chunk.rows;
        self.bytes += chunk.bytes();
        self.chunks.push(chunk);
    }

    pub(crate) fn seq_range(&self) -> (u64, u64) {
        let seqs = self.chunks.iter().map(|chunk| chunk.seq);
        (seqs.clone().min().unwrap_or(0), seqs.max().unwrap_or(0))
    }
}
