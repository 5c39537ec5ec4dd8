//! Retention: segments whose newest row is older than the maximum age are deleted, then the oldest
//! segments while the total exceeds the size limit. Reads also hide rows past the age limit, so
//! expiry does not wait for the next check.

use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::Shared;
use crate::error::Result;

pub(crate) fn run(shared: &Shared) {
    let mut next = Instant::now();
    while !shared.shutting_down.load(Ordering::SeqCst) {
        if Instant::now() >= next {
            if let Err(err) = enforce(shared) {
                tracing::warn!(%err, "retention failed");
            }
            next = Instant::now() + shared.config.retention_check_interval;
        }
        std::thread::park_timeout(
            next.saturating_duration_since(Instant::now()).min(std::time::Duration::from_millis(500)),
        );
    }
}

/// Rows strictly older than this (unix ns) are past retention.
pub(crate) fn cutoff(shared: &Shared) -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos() as i64);
    now.saturating_sub(shared.config.retention_max_age.as_nanos().min(i64::MAX as u128) as i64)
}

pub(crate) fn enforce(shared: &Shared) -> Result<()> {
    let cutoff = cutoff(shared);
    let removed = {
        let mut view = shared.view.write();
        let mut segments = std::mem::take(&mut view.segments);
        let (mut removed, mut kept): (Vec<_>, Vec<_>) =
            segments.drain(..).partition(|segment| segment.meta.max_time < cutoff);
        let mut total: u64 = kept.iter().map(|segment| segment.size_bytes).sum();
        if total > shared.config.retention_max_bytes {
            kept.sort_by_key(|segment| (segment.meta.max_time, segment.meta.seq_hi));
            let mut over = kept.into_iter().peekable();
            let mut rest = Vec::new();
            while let Some(segment) = over.next() {
                if total > shared.config.retention_max_bytes {
                    total -= segment.size_bytes;
                    removed.push(segment);
                } else {
                    rest.push(segment);
                    rest.extend(over.by_ref());
                }
            }
            kept = rest;
        }
        view.segments = kept;
        removed
    };
    for segment in &removed {
        if let Err(err) = std::fs::remove_file(&segment.path) {
            tracing::warn!(path = %segment.path.display(), %err, "could not delete expired segment");
        }
    }
    if !removed.is_empty() {
        tracing::info!(num_segments = removed.len(), "retention deleted segments");
    }
    Ok(())
}
