//! Reading a log group's events back from the store: the rows of the group's dataset that belong to
//! a live stream, in CloudWatch's order (timestamp, then ingestion), with stable keys for tokens.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use waggle_model::{Value, names};
use waggle_store::{ScanRequest, Store};

use crate::catalog::LogGroup;
use crate::error::{LogsError, Result};

/// Position of an event: its timestamp (ms) and ingestion time (ns, unique per event).
pub type EventKey = (i64, i64);

/// One stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Unix ms.
    pub timestamp: i64,
    /// Unix ns; unique per event.
    pub ingestion_nanos: i64,
    /// Its stream.
    pub stream: String,
    /// The line.
    pub message: String,
}

impl StoredEvent {
    /// Sort key.
    pub fn key(&self) -> EventKey {
        (self.timestamp, self.ingestion_nanos)
    }

    /// Ingestion time, unix ms.
    pub fn ingestion_time(&self) -> i64 {
        self.ingestion_nanos.div_euclid(1_000_000)
    }

    /// CloudWatch's `eventId`: a string of digits, unique per event.
    pub fn event_id(&self) -> String {
        format!("{:020}{:020}", self.timestamp.max(0), self.ingestion_nanos.max(0))
    }

    /// The bytes CloudWatch counts for the event.
    pub fn size(&self) -> usize {
        self.message.len() + crate::put::EVENT_OVERHEAD
    }
}

/// Which events to read.
pub struct EventQuery<'a> {
    /// The group's name (its dataset).
    pub group_name: &'a str,
    /// The group (its live streams and retention).
    pub group: &'a LogGroup,
    /// Only these streams; `None` for all.
    pub streams: Option<&'a [String]>,
    /// Only streams with this prefix.
    pub stream_prefix: Option<&'a str>,
    /// Timestamps at or after this (ms).
    pub start_ms: i64,
    /// Timestamps before this (ms).
    pub end_ms: i64,
    /// Now (for retention), ms.
    pub now_ms: i64,
}

/// Creation times (ns) of the streams a read visits.
fn live_streams(query: &EventQuery<'_>) -> BTreeMap<String, i64> {
    query
        .group
        .streams
        .iter()
        .filter(|(name, _)| query.streams.is_none_or(|wanted| wanted.iter().any(|wanted| wanted == *name)))
        .filter(|(name, _)| query.stream_prefix.is_none_or(|prefix| name.starts_with(prefix)))
        .map(|(name, stream)| (name.clone(), stream.creation_time_nanos))
        .collect()
}

/// Visits the visible events of a query, in no particular order; `visit` breaks to stop.
pub fn scan_events(
    store: &dyn Store,
    query: &EventQuery<'_>,
    visit: &mut dyn FnMut(StoredEvent) -> ControlFlow<()>,
) -> Result<Vec<String>> {
    let streams = live_streams(query);
    let mut start_ms = query.start_ms;
    if let Some(cutoff) = query.group.retention_cutoff_ms(query.now_ms) {
        start_ms = start_ms.max(cutoff);
    }
    if streams.is_empty() || start_ms >= query.end_ms {
        return Ok(streams.into_keys().collect());
    }
    let request = ScanRequest {
        datasets: Some(vec![query.group_name.to_owned()]),
        start_unix_nano: start_ms.saturating_mul(1_000_000),
        end_unix_nano: query.end_ms.saturating_mul(1_000_000),
        columns: Some(vec![names::BODY.into(), names::LOG_STREAM.into(), names::OBSERVED_TIME.into()]),
        ..ScanRequest::all(waggle_model::SignalTable::Logs)
    };
    store
        .scan(&request, &mut |event| {
            let Some(Value::Str(stream)) = event.field(names::LOG_STREAM) else { return ControlFlow::Continue(()) };
            let Some(&created) = streams.get(stream.as_str()) else { return ControlFlow::Continue(()) };
            let ingestion_nanos = match event.field(names::OBSERVED_TIME) {
                Some(Value::Int(nanos)) => *nanos,
                _ => return ControlFlow::Continue(()),
            };
            if ingestion_nanos < created {
                // An event of an earlier stream (or group) of the same name, deleted since.
                return ControlFlow::Continue(());
            }
            let stream = stream.clone();
            let message = event.str_field(names::BODY).to_owned();
            let timestamp = event.time_unix_nano.div_euclid(1_000_000);
            visit(StoredEvent { timestamp, ingestion_nanos, stream, message })
        })
        .map_err(LogsError::Store)?;
    Ok(streams.into_keys().collect())
}

/// Keeps the `limit` smallest (or largest) keys seen, with memory bounded by twice the limit.
pub struct Selection {
    events: Vec<StoredEvent>,
    limit: usize,
    largest: bool,
    /// More matching events were seen than kept.
    pub more: bool,
}

impl Selection {
    /// Keeps the smallest keys (`largest` false) or the largest.
    pub fn new(limit: usize, largest: bool) -> Self {
        Self { events: Vec::new(), limit, largest, more: false }
    }

    /// Offers an event.
    pub fn push(&mut self, event: StoredEvent) {
        self.events.push(event);
        if self.events.len() >= 2 * self.limit.max(512) {
            self.trim();
        }
    }

    fn trim(&mut self) {
        if self.largest {
            self.events.sort_unstable_by_key(|event| std::cmp::Reverse(event.key()));
        } else {
            self.events.sort_unstable_by_key(StoredEvent::key);
        }
        if self.events.len() > self.limit {
            self.more = true;
            self.events.truncate(self.limit);
        }
    }

    /// The kept events, in ascending key order.
    pub fn finish(mut self) -> (Vec<StoredEvent>, bool) {
        self.trim();
        self.events.sort_unstable_by_key(StoredEvent::key);
        (self.events, self.more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(timestamp: i64, ingestion_nanos: i64) -> StoredEvent {
        StoredEvent { timestamp, ingestion_nanos, stream: "s".into(), message: "m".into() }
    }

    #[test]
    fn test_selection_keeps_smallest_or_largest() {
        let mut smallest = Selection::new(3, false);
        let mut largest = Selection::new(3, true);
        for time in (0..2000).rev() {
            smallest.push(event(time % 1000, time));
            largest.push(event(time % 1000, time));
        }
        let (events, more) = smallest.finish();
        assert!(more);
        assert_eq!(events.iter().map(StoredEvent::key).collect::<Vec<_>>(), vec![(0, 0), (0, 1000), (1, 1)]);
        let (events, _) = largest.finish();
        assert_eq!(events.iter().map(StoredEvent::key).collect::<Vec<_>>(), vec![(998, 1998), (999, 999), (999, 1999)]);
        let (events, more) = Selection::new(5, false).finish();
        assert!(events.is_empty() && !more);
    }

    #[test]
    fn test_event_id_is_digits() {
        let id = event(1_700_000_000_000, 1_700_000_000_000_000_123).event_id();
        assert_eq!(id.len(), 40);
        assert!(id.chars().all(|c| c.is_ascii_digit()));
    }
}
