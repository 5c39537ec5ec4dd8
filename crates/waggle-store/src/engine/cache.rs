//! Decoded columns of immutable parts, kept between queries: a console refreshing its charts, or a
//! user refining a query, reads the same columns of the same segments again and again, and
//! decoding (zstd, then the typed layout) is most of what an aggregation costs. Segments never
//! change once written, so an entry is never stale; it only goes when the least recently used
//! entries make room, or when its segment is merged or deleted (nothing asks for it again).
//!
//! Bounded by bytes ([`crate::StoreConfig::column_cache_bytes`]); 0 turns it off.

use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;
use waggle_model::EventKind;

use crate::columns::{Column, Ids};

/// What a part decodes: its fixed columns and its field columns by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ColumnKey {
    Times,
    Durations,
    Kinds,
    Ids,
    Field(String),
}

/// One decoded column, shared with every query reading it.
#[derive(Debug, Clone)]
pub(crate) enum Decoded {
    Ints(Arc<[i64]>),
    Kinds(Arc<[EventKind]>),
    Ids(Arc<Ids>),
    /// `None`: no row of the part has the field (worth remembering too).
    Field(Option<Arc<Column>>),
}

impl Decoded {
    /// Bytes held, roughly: what eviction counts.
    fn size(&self) -> usize {
        const ENTRY: usize = 64;
        ENTRY
            + match self {
                Self::Ints(values) => values.len() * size_of::<i64>(),
                Self::Kinds(kinds) => kinds.len() * size_of::<EventKind>(),
                Self::Ids(ids) => {
                    ids.trace_ids.len() * size_of::<Option<waggle_model::TraceId>>()
                        + (ids.span_ids.len() + ids.parent_ids.len()) * size_of::<Option<waggle_model::SpanId>>()
                }
                Self::Field(None) => 0,
                Self::Field(Some(column)) => column_size(column),
            }
    }
}

fn column_size(column: &Column) -> usize {
    column.types.len()
        + column.ints.len() * size_of::<i64>()
        + column.floats.len() * size_of::<f64>()
        + column.bools.len()
        + column.codes.len() * size_of::<u32>()
        + column.dict.iter().map(|text| text.len() + 2 * size_of::<usize>() + 16).sum::<usize>()
        + column.others.len() * (size_of::<Option<waggle_model::Value>>() + 32)
}

struct Entry {
    value: Decoded,
    size: usize,
    last_used: u64,
}

#[derive(Default)]
struct Inner {
    entries: FxHashMap<(u64, ColumnKey), Entry>,
    bytes: usize,
    clock: u64,
}

/// The cache, shared by every reader of a store.
pub(crate) struct ColumnCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl ColumnCache {
    /// A cache holding at most `capacity` bytes of decoded columns.
    pub(crate) fn new(capacity: usize) -> Self {
        Self { capacity, inner: Mutex::new(Inner::default()) }
    }

    /// The column of part `part` (a [`crate::segment::Segment`]'s id), decoding it with `decode`
    /// on a miss. Decoding runs outside the lock, so readers on other cores are not held up; two
    /// readers missing the same column at once both decode it, and the second insert wins.
    pub(crate) fn get_or_decode<E>(
        &self,
        part: u64,
        key: ColumnKey,
        decode: impl FnOnce() -> Result<Decoded, E>,
    ) -> Result<Decoded, E> {
        if self.capacity == 0 {
            return decode();
        }
        let key = (part, key);
        {
            let mut inner = self.lock();
            inner.clock += 1;
            let now = inner.clock;
            if let Some(entry) = inner.entries.get_mut(&key) {
                entry.last_used = now;
                return Ok(entry.value.clone());
            }
        }
        let value = decode()?;
        let size = value.size();
        if size <= self.capacity / 4 {
            self.insert(key, value.clone(), size);
        }
        Ok(value)
    }

    fn insert(&self, key: (u64, ColumnKey), value: Decoded, size: usize) {
        let mut inner = self.lock();
        inner.clock += 1;
        let last_used = inner.clock;
        if let Some(old) = inner.entries.insert(key, Entry { value, size, last_used }) {
            inner.bytes -= old.size;
        }
        inner.bytes += size;
        if inner.bytes > self.capacity {
            evict(&mut inner, self.capacity);
        }
    }

    /// Bytes held now.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent counters: no update spans an unwind.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Drops the least recently used entries until the cache is down to 7/8 of its capacity, so a
/// full cache does not evict on every insert.
fn evict(inner: &mut Inner, capacity: usize) {
    let target = capacity / 8 * 7;
    let mut by_age: Vec<(u64, (u64, ColumnKey))> =
        inner.entries.iter().map(|(key, entry)| (entry.last_used, key.clone())).collect();
    by_age.sort_unstable_by_key(|(last_used, _)| *last_used);
    for (_, key) in by_age {
        if inner.bytes <= target {
            break;
        }
        if let Some(entry) = inner.entries.remove(&key) {
            inner.bytes -= entry.size;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(len: usize) -> Decoded {
        Decoded::Ints(vec![7; len].into())
    }

    fn get(cache: &ColumnCache, part: u64, decodes: &mut usize) -> Decoded {
        cache
            .get_or_decode(part, ColumnKey::Times, || {
                *decodes += 1;
                Ok::<_, ()>(ints(1000))
            })
            .unwrap()
    }

    #[test]
    fn test_cache_hits_after_the_first_decode_and_stays_within_capacity() {
        let cache = ColumnCache::new(40_000);
        let mut decodes = 0;
        get(&cache, 1, &mut decodes);
        get(&cache, 1, &mut decodes);
        assert_eq!(decodes, 1);
        // Each entry is ~8 KB: ten of them do not fit in 40 KB; the oldest go first.
        for part in 2..=10 {
            get(&cache, part, &mut decodes);
            get(&cache, 2, &mut decodes); // keeps part 2 recent
        }
        assert!(cache.bytes() <= 40_000, "{} bytes held", cache.bytes());
        let before = decodes;
        get(&cache, 2, &mut decodes);
        get(&cache, 10, &mut decodes);
        assert_eq!(decodes, before, "recent entries stay");
        get(&cache, 1, &mut decodes);
        assert_eq!(decodes, before + 1, "the least recently used went");
    }

    #[test]
    fn test_cache_off_and_errors_are_not_cached() {
        let off = ColumnCache::new(0);
        let mut decodes = 0;
        get(&off, 1, &mut decodes);
        get(&off, 1, &mut decodes);
        assert_eq!((decodes, off.bytes()), (2, 0));

        let cache = ColumnCache::new(1 << 20);
        let failed = cache.get_or_decode(1, ColumnKey::Kinds, || Err::<Decoded, _>("corrupt"));
        assert_eq!(failed.unwrap_err(), "corrupt");
        let mut calls = 0;
        let found = cache.get_or_decode(1, ColumnKey::Kinds, || {
            calls += 1;
            Ok::<_, ()>(Decoded::Field(None))
        });
        assert!(matches!(found, Ok(Decoded::Field(None))) && calls == 1);
    }

    #[test]
    fn test_cache_skips_columns_larger_than_a_quarter_of_it() {
        let cache = ColumnCache::new(10_000);
        let mut decodes = 0;
        for _ in 0..2 {
            cache
                .get_or_decode(1, ColumnKey::Durations, || {
                    decodes += 1;
                    Ok::<_, ()>(ints(1000))
                })
                .unwrap();
        }
        assert_eq!((decodes, cache.bytes()), (2, 0));
    }
}
