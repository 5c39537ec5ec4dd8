//! The WAL writer thread: takes every queued batch, writes them all, fsyncs once (group commit),
//! adds them to the head, then acknowledges. It also decides when the head is frozen for flushing.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use super::{Frozen, Shared, WriteRequest};
use crate::StoreError;
use crate::wal::WalWriter;

/// At most this many bytes go into one group commit, so one fsync does not wait on a huge write.
const MAX_GROUP_BYTES: u64 = 32 << 20;
/// Heads waiting for the flusher before the writer stops freezing (then appends back off).
const MAX_FROZEN: usize = 2;
/// How often an idle writer holding rows re-checks whether to freeze them.
const RECHECK: Duration = Duration::from_millis(100);

pub(crate) struct Writer {
    shared: Arc<Shared>,
    wal: WalWriter,
    closed_wal_files: Vec<PathBuf>,
    next_seq: u64,
    flush_sender: Sender<Arc<Frozen>>,
    head_started: Option<Instant>,
}

impl Writer {
    pub(crate) fn new(
        shared: Arc<Shared>,
        wal: WalWriter,
        closed_wal_files: Vec<PathBuf>,
        next_seq: u64,
        flush_sender: Sender<Arc<Frozen>>,
    ) -> Self {
        let head_started = (shared.view.read().active.rows > 0).then(Instant::now);
        Self { shared, wal, closed_wal_files, next_seq, flush_sender, head_started }
    }

    pub(crate) fn run(mut self, receiver: Receiver<WriteRequest>) {
        // A replayed head may already be due (and, past the memory cap, block every append).
        self.freeze_if_due();
        loop {
            // While rows wait, re-check often: a refused sender commits nothing, so the next freeze
            // must not wait for a commit (or a whole flush interval) to happen.
            let wait = match self.head_started {
                Some(started) => self.shared.config.flush_interval.saturating_sub(started.elapsed()).min(RECHECK),
                None => Duration::from_secs(3600),
            };
            let first = match receiver.recv_timeout(wait) {
                Ok(request) => request,
                Err(RecvTimeoutError::Timeout) => {
                    self.freeze_if_due();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut group = vec![first];
            let mut bytes = group[0].chunk.bytes();
            while bytes < MAX_GROUP_BYTES {
                let Ok(request) = receiver.try_recv() else { break };
                bytes += request.chunk.bytes();
                group.push(request);
            }
            if !self.commit(group) {
                // Queued requests are dropped: their tickets resolve as unavailable.
                return;
            }
            self.freeze_if_due();
        }
    }

    /// Writes and fsyncs a group, then acknowledges it. Returns false when the WAL failed: the
    /// writer then stops, since records after a partial write would be cut off at the next replay.
    fn commit(&mut self, mut group: Vec<WriteRequest>) -> bool {
        for request in &mut group {
            request.chunk.seq = self.next_seq;
            self.next_seq += 1;
            self.wal.push(request.chunk.seq, &request.chunk.payload);
        }
        if let Err(err) = self.wal.commit() {
            // Nothing in this group was acknowledged; nothing after it may be either, since the
            // WAL's state is unknown.
            let reason = format!("write-ahead log failed: {err}");
            tracing::error!(%reason, "refusing further writes");
            *self.shared.failed.lock() = Some(reason.clone());
            for request in group {
                let _ = request.reply.send(Err(StoreError::Unavailable(reason.clone())));
            }
            return false;
        }
        let mut replies = Vec::with_capacity(group.len());
        {
            let mut view = self.shared.view.write();
            for request in group {
                view.active.push(Arc::new(request.chunk));
                replies.push(request.reply);
            }
        }
        self.head_started.get_or_insert_with(Instant::now);
        for reply in replies {
            let _ = reply.send(Ok(()));
        }
        true
    }

    fn freeze_if_due(&mut self) {
        let config = &self.shared.config;
        let (rows, bytes, frozen) = {
            let view = self.shared.view.read();
            (view.active.rows, view.active.bytes, view.frozen.len())
        };
        let aged = self.head_started.is_some_and(|started| started.elapsed() >= config.flush_interval);
        let due = rows > 0 && (aged || rows >= config.flush_max_rows || bytes >= config.flush_max_bytes);
        if !due || frozen >= MAX_FROZEN {
            return;
        }
        // Right after recovery the live file holds none of the head's records (they are all in the
        // older files): it must stay live, not be handed to the flusher for deletion.
        if !self.wal.holds_no_records(self.next_seq) {
            match self.wal.rotate(self.next_seq) {
                Ok(closed) => self.closed_wal_files.push(closed),
                Err(err) => {
                    tracing::warn!(%err, "could not rotate the write-ahead log; will retry");
                    return;
                }
            }
        }
        let frozen = {
            let mut view = self.shared.view.write();
            let frozen = Arc::new(Frozen {
                head: std::mem::take(&mut view.active),
                wal_files: std::mem::take(&mut self.closed_wal_files),
            });
            view.frozen.push(frozen.clone());
            frozen
        };
        self.head_started = None;
        let _ = self.flush_sender.send(frozen);
    }
}
