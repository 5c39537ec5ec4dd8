//! [`DiskStore`]: the embedded implementation of [`Store`].
//!
//! Four threads: the WAL writer (group commit, then the batch joins the head), the flusher (frozen
//! heads become segments, then their WAL files are deleted), the compactor (small segments of a
//! partition merge into one) and retention. Readers take a snapshot
//! of the view (head chunks, frozen heads, segments) under a short read lock and scan it unlocked.

mod cache;
mod compact;
mod flush;
mod parts;
mod read;
mod recovery;
mod retention;
mod writer;

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use waggle_model::{Batch, Event, SignalTable};

use crate::columns::{Part, PartsRequest};
use crate::head::{Head, HeadChunk};
use crate::segment::Segment;
use crate::{AppendTicket, ColumnInfo, DatasetInfo, Result, ScanRequest, Store, StoreConfig, StoreError, StoreStats};

/// Flushes' worth of rows (`flush_max_rows` each) that may wait in memory before appends are refused.
const MAX_HEADS_IN_MEMORY: u64 = 3;

/// How long an overloaded sender is asked to wait.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A head handed to the flusher, with the WAL files that become deletable once it is in segments.
#[derive(Debug)]
pub(crate) struct Frozen {
    pub(crate) head: Head,
    pub(crate) wal_files: Vec<PathBuf>,
}

/// What readers see.
#[derive(Debug, Default)]
pub(crate) struct View {
    pub(crate) active: Head,
    pub(crate) frozen: Vec<Arc<Frozen>>,
    pub(crate) segments: Vec<Arc<Segment>>,
}

pub(crate) struct WriteRequest {
    chunk: HeadChunk,
    reply: tokio::sync::oneshot::Sender<Result<()>>,
}

/// State shared by the handle and the threads.
pub(crate) struct Shared {
    pub(crate) config: StoreConfig,
    pub(crate) wal_dir: PathBuf,
    pub(crate) segments_dir: PathBuf,
    pub(crate) view: RwLock<View>,
    /// Set when the WAL cannot be written: later appends fail instead of being acknowledged.
    pub(crate) failed: Mutex<Option<String>>,
    pub(crate) shutting_down: AtomicBool,
    /// Decoded columns of segments and head chunks, kept for the next query.
    pub(crate) column_cache: Arc<cache::ColumnCache>,
}

/// The embedded, durable store. Cheap to share behind an `Arc`; [`DiskStore::close`] (or drop)
/// finishes pending writes.
pub struct DiskStore {
    shared: Arc<Shared>,
    sender: Mutex<Option<SyncSender<WriteRequest>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    _lock: Option<File>,
}

impl DiskStore {
    /// Opens (or creates) a store: replays the WAL, checks segments, starts the threads.
    pub fn open(config: StoreConfig) -> Result<Self> {
        let recovered = recovery::recover(&config, false)?;
        let wal = recovered.wal.expect("a writable recovery opens a WAL file");
        let shared =
            Self::shared(config, recovered.wal_dir, recovered.segments_dir, recovered.head, recovered.segments);
        let (sender, receiver) = mpsc::sync_channel(shared.config.max_queued_batches);
        let (flush_sender, flush_receiver) = mpsc::channel();
        let writer =
            writer::Writer::new(shared.clone(), wal, recovered.closed_wal_files, recovered.next_seq, flush_sender);
        let compactor = spawn("waggle-compact", {
            let shared = shared.clone();
            move || compact::run(&shared)
        })?;
        let wake_compactor = compactor.thread().clone();
        let threads = vec![
            compactor,
            spawn("waggle-wal", move || writer.run(receiver))?,
            spawn("waggle-flush", {
                let shared = shared.clone();
                move || flush::run(&shared, flush_receiver, || wake_compactor.unpark())
            })?,
            spawn("waggle-retention", {
                let shared = shared.clone();
                move || retention::run(&shared)
            })?,
        ];
        Ok(Self { shared, sender: Mutex::new(Some(sender)), threads: Mutex::new(threads), _lock: recovered.lock })
    }

    /// Opens a store for reading only, changing nothing on disk, so it may run beside a live
    /// waggle (which may flush or expire segments meanwhile: retry a read that fails). Appends fail.
    pub fn open_read_only(config: StoreConfig) -> Result<Self> {
        let recovered = recovery::recover(&config, true)?;
        let shared =
            Self::shared(config, recovered.wal_dir, recovered.segments_dir, recovered.head, recovered.segments);
        Ok(Self { shared, sender: Mutex::new(None), threads: Mutex::new(Vec::new()), _lock: None })
    }

    fn shared(
        config: StoreConfig,
        wal_dir: PathBuf,
        segments_dir: PathBuf,
        head: Head,
        segments: Vec<Arc<Segment>>,
    ) -> Arc<Shared> {
        Arc::new(Shared {
            wal_dir,
            segments_dir,
            view: RwLock::new(View { active: head, frozen: Vec::new(), segments }),
            failed: Mutex::new(None),
            shutting_down: AtomicBool::new(false),
            column_cache: Arc::new(cache::ColumnCache::new(config.column_cache_bytes)),
            config,
        })
    }

    /// Stops accepting writes, waits for queued ones and the flusher. Data still in the head stays
    /// in the WAL and is replayed on the next open.
    pub fn close(&self) {
        self.sender.lock().take();
        self.shared.shutting_down.store(true, Ordering::SeqCst);
        for thread in self.threads.lock().drain(..) {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }

    /// Runs retention once now (also runs periodically).
    pub fn enforce_retention(&self) -> Result<()> {
        retention::enforce(&self.shared)
    }
}

fn spawn(name: &str, work: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    std::thread::Builder::new().name(name.into()).spawn(work).map_err(StoreError::io("starting store thread"))
}

impl Drop for DiskStore {
    fn drop(&mut self) {
        self.close();
    }
}

impl Store for DiskStore {
    fn append(&self, batch: Batch) -> Result<AppendTicket> {
        if let Some(reason) = self.shared.failed.lock().as_ref() {
            return Err(StoreError::Unavailable(reason.clone()));
        }
        {
            // Memory is bounded by what the flusher has yet to write: refuse, don't queue.
            let view = self.shared.view.read();
            let heads = std::iter::once(&view.active).chain(view.frozen.iter().map(|frozen| &frozen.head));
            let (rows, bytes) = heads.fold((0, 0), |(rows, bytes), head| (rows + head.rows, bytes + head.bytes));
            let config = &self.shared.config;
            if bytes > config.max_head_bytes || rows > config.flush_max_rows.saturating_mul(MAX_HEADS_IN_MEMORY) {
                return Err(StoreError::Overloaded { retry_after: RETRY_AFTER });
            }
        }
        let chunk = HeadChunk::encode(&batch)?;
        let (reply, receiver) = tokio::sync::oneshot::channel();
        let sender =
            self.sender.lock().clone().ok_or_else(|| StoreError::Unavailable("store is closed or read-only".into()))?;
        match sender.try_send(WriteRequest { chunk, reply }) {
            Ok(()) => Ok(AppendTicket(receiver)),
            Err(TrySendError::Full(_)) => Err(StoreError::Overloaded { retry_after: RETRY_AFTER }),
            Err(TrySendError::Disconnected(_)) => Err(StoreError::Unavailable("store writer stopped".into())),
        }
    }

    fn scan(&self, request: &ScanRequest, visit: &mut dyn FnMut(Event) -> std::ops::ControlFlow<()>) -> Result<()> {
        read::scan(&self.shared, request, visit)
    }

    fn datasets(&self) -> Result<Vec<DatasetInfo>> {
        Ok(read::datasets(&self.shared))
    }

    fn parts(&self, request: &PartsRequest) -> Result<Vec<Arc<dyn Part>>> {
        Ok(parts::parts(&self.shared, request))
    }

    fn columns(&self, table: SignalTable, datasets: Option<&[String]>) -> Result<Vec<ColumnInfo>> {
        parts::columns(&self.shared, table, datasets)
    }

    fn stats(&self) -> StoreStats {
        read::stats(&self.shared)
    }
}
