//! The write-ahead log: what makes a 2xx durable.
//!
//! Files `wal/<first seq>.wal` hold records `len u32 | crc32 u32 | seq u64 | payload`, the CRC
//! covering seq and payload. The writer appends a group of records, then fsyncs once (group commit),
//! and only then are their senders acknowledged. On start every file is replayed in order; a record
//! that is short or fails its CRC marks a torn tail, and the file is cut there: the sender of that
//! record was never acknowledged.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Result, StoreError};

const MAGIC: &[u8; 8] = b"WGLWAL01";
/// `len u32 | crc u32`; `len` counts the seq and the payload that follow.
const HEADER: usize = 8;
/// A record larger than this is treated as corruption rather than allocated.
const MAX_RECORD: u32 = 1 << 30;

/// One replayed record.
pub(crate) struct WalRecord {
    pub(crate) seq: u64,
    pub(crate) payload: Vec<u8>,
}

/// The WAL file currently appended to.
pub(crate) struct WalWriter {
    dir: PathBuf,
    file: File,
    path: PathBuf,
    /// Sequence number the file's first record gets (its name).
    first_seq: u64,
    pending: Vec<u8>,
}

pub(crate) fn file_name(first_seq: u64) -> String {
    format!("{first_seq:020}.wal")
}

/// WAL files in the directory, sorted by first sequence number.
pub(crate) fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(StoreError::io(format!("reading {}", dir.display())))? {
        let path = entry.map_err(StoreError::io("listing wal"))?.path();
        let Some(stem) = path.file_name().and_then(|name| name.to_str()).and_then(|name| name.strip_suffix(".wal"))
        else {
            continue;
        };
        if let Ok(first_seq) = stem.parse::<u64>() {
            files.push((first_seq, path));
        }
    }
    files.sort();
    Ok(files)
}

/// Reads every intact record of one file; `truncate` cuts a torn tail off the file.
pub(crate) fn replay_file(path: &Path, truncate: bool) -> Result<Vec<WalRecord>> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut file| file.read_to_end(&mut bytes))
        .map_err(StoreError::io(format!("reading {}", path.display())))?;
    let mut records = Vec::new();
    let mut pos = if bytes.starts_with(MAGIC) { MAGIC.len() } else { 0 };
    let valid_header = pos == MAGIC.len();
    while valid_header && pos + HEADER <= bytes.len() {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes"));
        let crc = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().expect("4 bytes"));
        if !(8..=MAX_RECORD).contains(&len) || pos + HEADER + len as usize > bytes.len() {
            break;
        }
        let body = &bytes[pos + HEADER..pos + HEADER + len as usize];
        if crc32fast::hash(body) != crc {
            break;
        }
        let seq = u64::from_le_bytes(body[..8].try_into().expect("8 bytes"));
        records.push(WalRecord { seq, payload: body[8..].to_vec() });
        pos += HEADER + len as usize;
    }
    if pos < bytes.len() {
        tracing::warn!(path = %path.display(), valid_bytes = pos, total_bytes = bytes.len(), "cutting torn tail of write-ahead log");
        if truncate {
            let file = OpenOptions::new().write(true).open(path).map_err(StoreError::io("opening wal to truncate"))?;
            let keep = if valid_header { pos } else { 0 };
            file.set_len(keep as u64).and_then(|()| file.sync_all()).map_err(StoreError::io("truncating wal"))?;
        }
    }
    Ok(records)
}

impl WalWriter {
    /// Starts a new WAL file whose first record will have `first_seq`.
    pub(crate) fn create(dir: &Path, first_seq: u64) -> Result<Self> {
        let path = dir.join(file_name(first_seq));
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(StoreError::io(format!("creating {}", path.display())))?;
        if file.metadata().map_err(StoreError::io("stat wal"))?.len() == 0 {
            file.write_all(MAGIC).and_then(|()| file.sync_all()).map_err(StoreError::io("writing wal header"))?;
        }
        sync_dir(dir)?;
        Ok(Self { dir: dir.to_owned(), file, path, first_seq, pending: Vec::new() })
    }

    /// True while no record has gone into this file: `next_seq` is the writer's next number.
    pub(crate) fn holds_no_records(&self, next_seq: u64) -> bool {
        next_seq == self.first_seq
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Buffers one record; nothing is durable until [`WalWriter::commit`].
    pub(crate) fn push(&mut self, seq: u64, payload: &[u8]) {
        let len = (payload.len() + 8) as u32;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&seq.to_le_bytes());
        hasher.update(payload);
        self.pending.extend_from_slice(&len.to_le_bytes());
        self.pending.extend_from_slice(&hasher.finalize().to_le_bytes());
        self.pending.extend_from_slice(&seq.to_le_bytes());
        self.pending.extend_from_slice(payload);
    }

    /// Writes the buffered records and fsyncs: the group commit.
    pub(crate) fn commit(&mut self) -> Result<()> {
        let result = self.file.write_all(&self.pending).and_then(|()| self.file.sync_data());
        self.pending.clear();
        result.map_err(StoreError::io(format!("writing {}", self.path.display())))
    }

    /// Closes this file and starts the next one at `next_seq`; returns the closed file's path.
    pub(crate) fn rotate(&mut self, next_seq: u64) -> Result<PathBuf> {
        let next = Self::create(&self.dir, next_seq)?;
        let old = std::mem::replace(self, next);
        Ok(old.path)
    }
}

/// Makes a directory's entries (new, renamed or removed files) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|dir| dir.sync_all()).map_err(StoreError::io(format!("syncing {}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_wal_replays_committed_records_and_cuts_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = WalWriter::create(dir.path(), 1).unwrap();
        writer.push(1, b"one");
        writer.push(2, b"two");
        writer.commit().unwrap();
        let path = writer.path().to_owned();
        drop(writer);
        // A torn write: half a record header.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&[9, 0, 0]).unwrap();
        let records = replay_file(&path, true).unwrap();
        assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(records[1].payload, b"two");
        // Appending after the cut keeps the file readable.
        let mut writer = WalWriter::create(dir.path(), 1).unwrap();
        writer.push(3, b"three");
        writer.commit().unwrap();
        assert_eq!(replay_file(&path, true).unwrap().len(), 3);
    }

    #[test]
    fn test_wal_stops_at_flipped_bit() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = WalWriter::create(dir.path(), 5).unwrap();
        for seq in 5..10 {
            writer.push(seq, &[seq as u8; 100]);
        }
        writer.commit().unwrap();
        let path = writer.path().to_owned();
        let mut bytes = fs::read(&path).unwrap();
        let middle = MAGIC.len() + 2 * (HEADER + 8 + 100) + 50;
        bytes[middle] ^= 1;
        fs::write(&path, &bytes).unwrap();
        let records = replay_file(&path, false).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(list(dir.path()).unwrap(), vec![(5, path)]);
    }
}
