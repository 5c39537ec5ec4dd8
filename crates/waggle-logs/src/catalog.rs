//! Log groups and log streams: names, creation times, retention, per-stream statistics. Kept in
//! memory and written to `<data dir>/cloudwatch-logs.json` (a temporary file, fsync, rename) after
//! every change, so a crash leaves the old or the new file, never half of one.
//!
//! Events themselves live in the store's logs table (dataset = log group name). A deleted group or
//! stream hides its events at once: an event is visible only while its stream exists and was
//! created before the event was ingested, so a group deleted and created again starts empty.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{LogsError, Result};

/// File name of the catalog in the data directory.
pub const CATALOG_FILE: &str = "cloudwatch-logs.json";

/// The retention periods CloudWatch accepts, in days.
pub const RETENTION_DAYS: [u32; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const MILLIS_PER_DAY: i64 = 86_400_000;

/// A log group.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LogGroup {
    /// Creation time, unix ms.
    pub creation_time: i64,
    /// Days events are kept; `None` keeps them as long as the store does.
    pub retention_in_days: Option<u32>,
    /// `STANDARD` or `INFREQUENT_ACCESS`, as created.
    pub log_group_class: String,
    /// Tags given at creation.
    pub tags: BTreeMap<String, String>,
    /// Its streams, by name.
    pub streams: BTreeMap<String, LogStream>,
}

impl LogGroup {
    /// Events with a timestamp before this (unix ms) have expired under the group's retention.
    pub fn retention_cutoff_ms(&self, now_ms: i64) -> Option<i64> {
        self.retention_in_days.map(|days| now_ms - i64::from(days) * MILLIS_PER_DAY)
    }

    /// Stored bytes over all streams.
    pub fn stored_bytes(&self) -> u64 {
        self.streams.values().map(|stream| stream.stored_bytes).sum()
    }
}

/// A log stream.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LogStream {
    /// Creation time, unix ms.
    pub creation_time: i64,
    /// Creation time, unix ns: events ingested before it belong to an older stream of this name.
    pub creation_time_nanos: i64,
    /// Earliest event timestamp, unix ms.
    pub first_event_timestamp: Option<i64>,
    /// Latest event timestamp, unix ms.
    pub last_event_timestamp: Option<i64>,
    /// When events last arrived, unix ms.
    pub last_ingestion_time: Option<i64>,
    /// Message bytes stored (UTF-8, plus 26 per event as CloudWatch counts them).
    pub stored_bytes: u64,
    /// Number of successful PutLogEvents calls: the `uploadSequenceToken`.
    pub upload_sequence: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CatalogFile {
    version: u32,
    groups: BTreeMap<String, LogGroup>,
}

/// The groups and streams, and where they are saved.
#[derive(Debug)]
pub struct Catalog {
    path: Option<PathBuf>,
    groups: BTreeMap<String, LogGroup>,
}

impl Catalog {
    /// Loads `<dir>/cloudwatch-logs.json`, or starts empty when there is none.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        let path = dir.join(CATALOG_FILE);
        let groups = match std::fs::read(&path) {
            Ok(bytes) => {
                let file: CatalogFile = serde_json::from_slice(&bytes).map_err(|err| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{} is not a waggle log catalog ({err}): move it away to start empty", path.display()),
                    )
                })?;
                file.groups
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(err) => return Err(err),
        };
        Ok(Self { path: Some(path), groups })
    }

    /// A catalog that is never saved, for tests.
    pub fn in_memory() -> Self {
        Self { path: None, groups: BTreeMap::new() }
    }

    /// Every group, by name.
    pub fn groups(&self) -> &BTreeMap<String, LogGroup> {
        &self.groups
    }

    /// A group, or ResourceNotFound.
    pub fn group(&self, name: &str) -> Result<&LogGroup> {
        self.groups.get(name).ok_or_else(LogsError::group_not_found)
    }

    /// A group to change, or ResourceNotFound.
    pub fn group_mut(&mut self, name: &str) -> Result<&mut LogGroup> {
        self.groups.get_mut(name).ok_or_else(LogsError::group_not_found)
    }

    /// A stream, or ResourceNotFound (for the group first).
    pub fn stream(&self, group: &str, stream: &str) -> Result<&LogStream> {
        self.group(group)?.streams.get(stream).ok_or_else(LogsError::stream_not_found)
    }

    /// Adds a group.
    pub fn create_group(&mut self, name: &str, group: LogGroup) -> Result<()> {
        if self.groups.contains_key(name) {
            return Err(LogsError::ResourceAlreadyExists("The specified log group already exists".into()));
        }
        self.groups.insert(name.to_owned(), group);
        Ok(())
    }

    /// Removes a group and its streams.
    pub fn delete_group(&mut self, name: &str) -> Result<()> {
        self.groups.remove(name).map(drop).ok_or_else(LogsError::group_not_found)
    }

    /// Saves the catalog: a temporary file, fsync, rename, fsync of the directory.
    pub fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        let file = CatalogFile { version: 1, groups: self.groups.clone() };
        let bytes = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
        write_atomically(path, &bytes)
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new content.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("json.tmp");
    {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_catalog_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = Catalog::open(dir.path()).unwrap();
        let mut group = LogGroup { creation_time: 5, retention_in_days: Some(7), ..Default::default() };
        group.streams.insert("s".into(), LogStream { creation_time: 6, stored_bytes: 30, ..Default::default() });
        catalog.create_group("cruddur", group.clone()).unwrap();
        catalog.save().unwrap();
        let reopened = Catalog::open(dir.path()).unwrap();
        assert_eq!(reopened.group("cruddur").unwrap(), &group);
        assert!(matches!(reopened.stream("cruddur", "t"), Err(LogsError::ResourceNotFound(_))));
        assert!(!dir.path().join("cloudwatch-logs.json.tmp").exists());
    }

    #[test]
    fn test_catalog_refuses_duplicates_and_unknown_groups() {
        let mut catalog = Catalog::in_memory();
        catalog.create_group("a", LogGroup::default()).unwrap();
        assert!(matches!(catalog.create_group("a", LogGroup::default()), Err(LogsError::ResourceAlreadyExists(_))));
        assert!(matches!(catalog.delete_group("b"), Err(LogsError::ResourceNotFound(_))));
        catalog.delete_group("a").unwrap();
        assert!(catalog.groups().is_empty());
    }

    #[test]
    fn test_catalog_retention_cutoff() {
        let group = LogGroup { retention_in_days: Some(1), ..Default::default() };
        assert_eq!(group.retention_cutoff_ms(MILLIS_PER_DAY * 3), Some(MILLIS_PER_DAY * 2));
        assert_eq!(LogGroup::default().retention_cutoff_ms(0), None);
    }
}
