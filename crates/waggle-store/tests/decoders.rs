//! Property tests: the store's decoders never panic on arbitrary bytes, and never return data from
//! a damaged file. (Row and value round trips are unit tests inside the crate.)

use std::ops::ControlFlow;

use proptest::prelude::*;
use waggle_model::SignalTable;
use waggle_store::{DiskStore, ScanRequest, Store, StoreConfig};

fn scan_all(store: &DiskStore) -> usize {
    let mut rows = 0;
    for table in [SignalTable::Traces, SignalTable::Logs] {
        // An error is fine (the data is garbage); a panic is not.
        let _ = store.scan(&ScanRequest::all(table), &mut |_| {
            rows += 1;
            ControlFlow::Continue(())
        });
    }
    rows
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Garbage WAL files: recovery never panics, and the store still opens and accepts writes.
    #[test]
    fn test_wal_replay_survives_arbitrary_files(header in any::<bool>(), body in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("wal")).unwrap();
        let mut bytes = if header { b"WGLWAL01".to_vec() } else { Vec::new() };
        bytes.extend_from_slice(&body);
        std::fs::write(dir.path().join("wal").join("00000000000000000001.wal"), &bytes).unwrap();
        let store = DiskStore::open(StoreConfig::new(dir.path())).unwrap();
        scan_all(&store);
        let ticket = store.append(waggle_model::Batch::default()).unwrap();
        prop_assert!(ticket.wait_blocking().is_ok());
    }

    /// Garbage segment files: never served, never a panic.
    #[test]
    fn test_segment_open_survives_arbitrary_files(body in proptest::collection::vec(any::<u8>(), 0..4096), with_trailer in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let partition = dir.path().join("segments").join("traces").join("svc");
        std::fs::create_dir_all(&partition).unwrap();
        let mut bytes = b"WGLSEG01".to_vec();
        bytes.extend_from_slice(&body);
        if with_trailer {
            // A plausible trailer pointing at garbage.
            let footer_len = (body.len() as u32).min(100);
            bytes.extend_from_slice(&footer_len.to_le_bytes());
            bytes.extend_from_slice(&crc32fast::hash(&body[body.len() - footer_len as usize..]).to_le_bytes());
            bytes.extend_from_slice(b"WGLSEGND");
        }
        std::fs::write(partition.join("0-00000000000000000001.seg"), &bytes).unwrap();
        let store = DiskStore::open(StoreConfig::new(dir.path())).unwrap();
        prop_assert_eq!(store.stats().segments, 0);
        prop_assert_eq!(scan_all(&store), 0);
    }
}
