//! PutLogEvents' rules (PROTOCOLS.md 3.2): limits that fail the whole call, and the events that are
//! rejected one by one (too new, too old, expired) while the rest is stored.

use serde::Serialize;

use crate::error::{LogsError, Result};

/// Most events in one call.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// Most bytes in one call: UTF-8 message bytes plus [`EVENT_OVERHEAD`] per event.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Bytes CloudWatch adds to each event when counting a batch.
pub const EVENT_OVERHEAD: usize = 26;
/// Largest single event, overhead included.
pub const MAX_EVENT_BYTES: usize = 262_144;
/// How far into the future an event may be.
pub const MAX_FUTURE_MS: i64 = 2 * 3_600_000;
/// How old an event may be (less when the store keeps data for less time).
pub const MAX_AGE_MS: i64 = 14 * 86_400_000;
/// How much time one batch may span.
pub const MAX_SPAN_MS: i64 = 24 * 3_600_000;

/// One event as sent.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct InputLogEvent {
    /// Unix ms.
    pub timestamp: i64,
    /// The line.
    pub message: String,
}

/// `rejectedLogEventsInfo`; every index refers to the batch as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedInfo {
    /// The first event that is too new (inclusive); every later one is too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub too_new_log_event_start_index: Option<usize>,
    /// Events before this index are older than 14 days (exclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub too_old_log_event_end_index: Option<usize>,
    /// Events before this index are older than the group's retention (exclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_log_event_end_index: Option<usize>,
}

impl RejectedInfo {
    /// True when no event was rejected.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Which events of a valid batch are stored (a contiguous range) and which were rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// Indexes of the stored events.
    pub accepted: std::ops::Range<usize>,
    /// What was rejected.
    pub rejected: RejectedInfo,
}

/// Applies the rules: whole-call failures first, then per-event rejections. Events older than
/// `max_age_ms` (at most [`MAX_AGE_MS`]) are too old.
pub fn check_batch(
    events: &[InputLogEvent],
    now_ms: i64,
    max_age_ms: i64,
    retention_cutoff_ms: Option<i64>,
) -> Result<Checked> {
    if events.is_empty() {
        return Err(LogsError::InvalidParameter("logEvents must hold at least 1 event".into()));
    }
    if events.len() > MAX_BATCH_EVENTS {
        return Err(LogsError::InvalidParameter(format!(
            "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length \
             less than or equal to {MAX_BATCH_EVENTS} (got {})",
            events.len()
        )));
    }
    let mut total = 0;
    for event in events {
        let size = event.message.len() + EVENT_OVERHEAD;
        if event.message.is_empty() {
            return Err(LogsError::InvalidParameter("Log event messages must not be empty".into()));
        }
        if size > MAX_EVENT_BYTES {
            return Err(LogsError::InvalidParameter(format!(
                "Log event too large: {size} bytes exceeds limit of {MAX_EVENT_BYTES}"
            )));
        }
        total += size;
    }
    if total > MAX_BATCH_BYTES {
        return Err(LogsError::InvalidParameter(format!(
            "Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    if events.windows(2).any(|pair| pair[1].timestamp < pair[0].timestamp) {
        return Err(LogsError::InvalidParameter(
            "Log events in a single PutLogEvents request must be in chronological order.".into(),
        ));
    }
    let (first, last) = (events[0].timestamp, events[events.len() - 1].timestamp);
    if last - first > MAX_SPAN_MS {
        return Err(LogsError::InvalidParameter(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.".into(),
        ));
    }
    let too_old_before = now_ms - max_age_ms.min(MAX_AGE_MS);
    let num_too_old = events.partition_point(|event| event.timestamp < too_old_before);
    let num_expired = retention_cutoff_ms.map_or(0, |cutoff| events.partition_point(|event| event.timestamp < cutoff));
    let too_new_from = events.partition_point(|event| event.timestamp <= now_ms + MAX_FUTURE_MS);
    let rejected = RejectedInfo {
        too_new_log_event_start_index: (too_new_from < events.len()).then_some(too_new_from),
        too_old_log_event_end_index: (num_too_old > 0).then_some(num_too_old),
        expired_log_event_end_index: (num_expired > 0).then_some(num_expired),
    };
    let start = num_too_old.max(num_expired).min(too_new_from);
    Ok(Checked { accepted: start..too_new_from, rejected })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;
    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;

    fn batch(times: &[i64]) -> Vec<InputLogEvent> {
        times.iter().map(|&timestamp| InputLogEvent { timestamp, message: "m".into() }).collect()
    }

    #[test]
    fn test_put_accepts_a_plain_batch() {
        let checked = check_batch(&batch(&[NOW - 5, NOW]), NOW, MAX_AGE_MS, None).unwrap();
        assert_eq!(checked, Checked { accepted: 0..2, rejected: RejectedInfo::default() });
    }

    #[test]
    fn test_put_rejects_too_old_expired_and_too_new() {
        let events = batch(&[NOW - 15 * DAY, NOW - 15 * DAY + HOUR, NOW - 15 * DAY + 2 * HOUR]);
        let checked = check_batch(&events, NOW, MAX_AGE_MS, None).unwrap();
        assert_eq!(checked.rejected.too_old_log_event_end_index, Some(3));
        assert!(checked.accepted.is_empty());

        let events = batch(&[NOW - 11 * HOUR, NOW - HOUR, NOW + HOUR, NOW + 3 * HOUR]);
        let checked = check_batch(&events, NOW, MAX_AGE_MS, Some(NOW - 10 * HOUR)).unwrap();
        assert_eq!(checked.accepted, 1..3);
        assert_eq!(
            checked.rejected,
            RejectedInfo {
                too_new_log_event_start_index: Some(3),
                too_old_log_event_end_index: None,
                expired_log_event_end_index: Some(1)
            }
        );
    }

    #[test]
    fn test_put_fails_whole_batch() {
        assert!(check_batch(&batch(&[NOW, NOW - 1]), NOW, MAX_AGE_MS, None).is_err(), "out of order");
        assert!(check_batch(&batch(&[NOW - 25 * HOUR, NOW]), NOW, MAX_AGE_MS, None).is_err(), "spans 25 h");
        assert!(check_batch(&batch(&[]), NOW, MAX_AGE_MS, None).is_err());
        assert!(check_batch(&batch(&vec![NOW; 10_001]), NOW, MAX_AGE_MS, None).is_err());
        assert!(check_batch(&batch(&vec![NOW; 10_000]), NOW, MAX_AGE_MS, None).is_ok());
        let big = vec![InputLogEvent { timestamp: NOW, message: "x".repeat(200_000) }; 6];
        let err = check_batch(&big, NOW, MAX_AGE_MS, None).unwrap_err();
        assert!(err.to_string().contains("Upload too large"), "{err}");
        let huge = vec![InputLogEvent { timestamp: NOW, message: "x".repeat(262_144) }];
        assert!(check_batch(&huge, NOW, MAX_AGE_MS, None).unwrap_err().to_string().contains("Log event too large"));
    }
}
