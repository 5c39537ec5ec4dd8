//! The query library: every query spec created (so ids stay valid), named queries (Honeycomb's
//! query annotations) and the history of runs. Kept in one JSON file in the data directory,
//! rewritten atomically on every change, so saved queries survive restarts. Query results are
//! kept in memory only: they are recomputed on demand.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Runs remembered in the history.
const MAX_HISTORY: usize = 200;
/// Query specs kept beyond those named or in the history.
const MAX_UNREFERENCED_QUERIES: usize = 500;
/// Results kept for `GET /1/query_results/{dataset}/{id}`.
const MAX_RESULTS: usize = 256;

/// A query spec as created, in its dataset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredQuery {
    /// The dataset it was created in (`__all__` for the environment).
    pub dataset: String,
    /// The spec, as the query engine normalized it.
    pub spec: Json,
    /// Unix seconds.
    pub created_at: i64,
}

/// A named query: Honeycomb's query annotation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Annotation {
    /// Annotation id.
    pub id: String,
    /// Unique name, used by `waggle query --saved NAME`.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The query it names.
    pub query_id: String,
    /// The dataset of the query.
    #[serde(default)]
    pub dataset: String,
    /// RFC 3339.
    #[serde(rename = "created-at", default)]
    pub created_at: String,
    /// RFC 3339.
    #[serde(rename = "updated-at", default)]
    pub updated_at: String,
}

/// One run of a query.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HistoryEntry {
    /// The query run.
    pub query_id: String,
    /// Its dataset.
    pub dataset: String,
    /// When it ran, RFC 3339.
    pub ran_at: String,
    /// How long it took, ms.
    pub duration_ms: f64,
    /// Result rows.
    pub results: usize,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Data {
    queries: BTreeMap<String, StoredQuery>,
    annotations: Vec<Annotation>,
    history: VecDeque<HistoryEntry>,
}

/// Saved queries and history; results in memory.
#[derive(Debug)]
pub struct QueryLibrary {
    path: Option<PathBuf>,
    data: Mutex<Data>,
    /// Recent results, as the JSON bodies served (serialized once, shared by every read).
    results: Mutex<VecDeque<(String, Bytes)>>,
}

/// Why a library change failed.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// No such object.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what is stored.
    #[error("{0}")]
    Invalid(String),
    /// The file could not be written.
    #[error("cannot save the query library to {path}: {source}")]
    Io {
        /// The library file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl QueryLibrary {
    /// A library kept in `<dir>/queries.json` (read now if it exists).
    pub fn open(dir: &Path) -> Result<Self, LibraryError> {
        let path = dir.join("queries.json");
        let io = |source| LibraryError::Io { path: path.display().to_string(), source };
        let data = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|err| io(std::io::Error::other(err)))?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Data::default(),
            Err(err) => return Err(io(err)),
        };
        Ok(Self { path: Some(path), data: Mutex::new(data), results: Mutex::default() })
    }

    /// A library that forgets everything on exit (tests).
    pub fn in_memory() -> Self {
        Self { path: None, data: Mutex::default(), results: Mutex::default() }
    }

    /// Stores a spec; the id is derived from dataset and spec, so the same query keeps its id.
    pub fn create_query(&self, dataset: &str, spec: Json) -> Result<String, LibraryError> {
        let id = query_id(dataset, &spec);
        let mut data = self.data.lock();
        if !data.queries.contains_key(&id) {
            let stored = StoredQuery { dataset: dataset.to_owned(), spec, created_at: now_seconds() };
            data.queries.insert(id.clone(), stored);
            prune(&mut data);
            self.save(&data)?;
        }
        Ok(id)
    }

    /// A stored spec.
    pub fn query(&self, id: &str) -> Option<StoredQuery> {
        self.data.lock().queries.get(id).cloned()
    }

    /// Records a run in the history; returns an id for its result.
    pub fn record_run(&self, entry: HistoryEntry) -> Result<String, LibraryError> {
        let result_id = Self::result_id(&entry.query_id);
        let mut data = self.data.lock();
        data.history.push_front(entry);
        data.history.truncate(MAX_HISTORY);
        prune(&mut data);
        self.save(&data)?;
        Ok(result_id)
    }

    /// A new result id for a run of `query_id` (what [`Self::record_run`] answers).
    pub fn result_id(query_id: &str) -> String {
        format!("{query_id}-{}", unique_suffix())
    }

    /// Keeps a result for later reads (the latest [`MAX_RESULTS`]).
    pub fn store_result(&self, id: &str, result: Bytes) {
        let mut results = self.results.lock();
        results.push_back((id.to_owned(), result));
        while results.len() > MAX_RESULTS {
            results.pop_front();
        }
    }

    /// A kept result.
    pub fn result(&self, id: &str) -> Option<Bytes> {
        self.results.lock().iter().find(|(result_id, _)| result_id == id).map(|(_, result)| result.clone())
    }

    /// The runs, newest first.
    pub fn history(&self) -> Vec<HistoryEntry> {
        self.data.lock().history.iter().cloned().collect()
    }

    /// Named queries of a dataset (`None`: of every dataset).
    pub fn annotations(&self, dataset: Option<&str>) -> Vec<Annotation> {
        let data = self.data.lock();
        data.annotations
            .iter()
            .filter(|annotation| dataset.is_none_or(|name| annotation.dataset == name))
            .cloned()
            .collect()
    }

    /// A named query by id or by name.
    pub fn annotation(&self, id_or_name: &str) -> Option<Annotation> {
        let data = self.data.lock();
        data.annotations.iter().find(|annotation| annotation.id == id_or_name || annotation.name == id_or_name).cloned()
    }

    /// Names a query; names are unique.
    pub fn create_annotation(
        &self,
        dataset: &str,
        name: &str,
        description: &str,
        query_id: &str,
    ) -> Result<Annotation, LibraryError> {
        let mut data = self.data.lock();
        check_annotation(&data, dataset, name, query_id, None)?;
        let now = rfc3339_now();
        let annotation = Annotation {
            id: format!("qa-{}", unique_suffix()),
            name: name.to_owned(),
            description: description.to_owned(),
            query_id: query_id.to_owned(),
            dataset: dataset.to_owned(),
            created_at: now.clone(),
            updated_at: now,
        };
        data.annotations.push(annotation.clone());
        self.save(&data)?;
        Ok(annotation)
    }

    /// Renames or repoints a named query.
    pub fn update_annotation(
        &self,
        id: &str,
        name: &str,
        description: &str,
        query_id: &str,
    ) -> Result<Annotation, LibraryError> {
        let mut data = self.data.lock();
        let dataset = data
            .annotations
            .iter()
            .find(|annotation| annotation.id == id)
            .map(|annotation| annotation.dataset.clone())
            .ok_or_else(|| LibraryError::NotFound(format!("no saved query with id {id}")))?;
        check_annotation(&data, &dataset, name, query_id, Some(id))?;
        let annotation = data.annotations.iter_mut().find(|annotation| annotation.id == id).expect("found above");
        annotation.name = name.to_owned();
        annotation.description = description.to_owned();
        annotation.query_id = query_id.to_owned();
        annotation.updated_at = rfc3339_now();
        let updated = annotation.clone();
        self.save(&data)?;
        Ok(updated)
    }

    /// Forgets a named query (the spec stays while the history refers to it).
    pub fn delete_annotation(&self, id: &str) -> Result<(), LibraryError> {
        let mut data = self.data.lock();
        let before = data.annotations.len();
        data.annotations.retain(|annotation| annotation.id != id);
        if data.annotations.len() == before {
            return Err(LibraryError::NotFound(format!("no saved query with id {id}")));
        }
        self.save(&data)
    }

    fn save(&self, data: &Data) -> Result<(), LibraryError> {
        let Some(path) = &self.path else { return Ok(()) };
        let io = |source| LibraryError::Io { path: path.display().to_string(), source };
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(data).expect("library serializes");
        let mut file = File::create(&tmp).map_err(io)?;
        file.write_all(&bytes).and_then(|()| file.sync_all()).map_err(io)?;
        fs::rename(&tmp, path).map_err(io)
    }
}

fn check_annotation(
    data: &Data,
    dataset: &str,
    name: &str,
    query_id: &str,
    except: Option<&str>,
) -> Result<(), LibraryError> {
    if name.trim().is_empty() {
        return Err(LibraryError::Invalid("name: a saved query needs a name".into()));
    }
    match data.queries.get(query_id) {
        None => return Err(LibraryError::Invalid(format!("query_id: no query with id {query_id}; create it first"))),
        Some(query) if query.dataset != dataset => {
            return Err(LibraryError::Invalid(format!(
                "query_id: query {query_id} belongs to dataset {}, not {dataset}",
                query.dataset
            )));
        }
        Some(_) => {}
    }
    if data.annotations.iter().any(|annotation| annotation.name == name && Some(annotation.id.as_str()) != except) {
        return Err(LibraryError::Invalid(format!("name: a saved query is already called {name:?}")));
    }
    Ok(())
}

/// Drops the oldest specs no named query or history entry refers to.
fn prune(data: &mut Data) {
    let referenced = |id: &String, data: &Data| {
        data.annotations.iter().any(|annotation| &annotation.query_id == id)
            || data.history.iter().any(|entry| &entry.query_id == id)
    };
    let mut loose: Vec<(i64, String)> = data
        .queries
        .iter()
        .filter(|(id, _)| !referenced(id, data))
        .map(|(id, query)| (query.created_at, id.clone()))
        .collect();
    if loose.len() > MAX_UNREFERENCED_QUERIES {
        loose.sort();
        for (_, id) in &loose[..loose.len() - MAX_UNREFERENCED_QUERIES] {
            data.queries.remove(id);
        }
    }
}

/// A stable id for a spec in a dataset (FNV-1a over both, base 36).
fn query_id(dataset: &str, spec: &Json) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in dataset.bytes().chain([0]).chain(spec.to_string().into_bytes()) {
        hash = (hash ^ byte as u64).wrapping_mul(0x0100_0000_01b3);
    }
    base36(hash)
}

fn base36(mut value: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(value % 36) as usize]);
        value /= 36;
        if value == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

fn unique_suffix() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos() as u64);
    base36(nanos ^ count.rotate_left(48))
}

fn now_seconds() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// Now as RFC 3339 (UTC, seconds).
pub(crate) fn rfc3339_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(query_id: &str) -> HistoryEntry {
        HistoryEntry {
            query_id: query_id.into(),
            dataset: "svc".into(),
            ran_at: rfc3339_now(),
            duration_ms: 1.0,
            results: 3,
        }
    }

    #[test]
    fn test_library_keeps_named_queries_and_history_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let library = QueryLibrary::open(dir.path()).unwrap();
        let spec = json!({"calculations": [{"op": "COUNT"}]});
        let id = library.create_query("svc", spec.clone()).unwrap();
        assert_eq!(library.create_query("svc", spec.clone()).unwrap(), id, "same spec, same id");
        assert_ne!(library.create_query("other", spec.clone()).unwrap(), id, "ids are per dataset");
        let saved = library.create_annotation("svc", "requests", "all of them", &id).unwrap();
        let result_id = library.record_run(entry(&id)).unwrap();
        library.store_result(&result_id, Bytes::from_static(br#"{"results":[]}"#));
        assert_eq!(library.result(&result_id).as_deref(), Some(&br#"{"results":[]}"#[..]));
        assert!(matches!(library.create_annotation("svc", "requests", "", &id), Err(LibraryError::Invalid(_))));
        assert!(matches!(library.create_annotation("other", "x", "", &id), Err(LibraryError::Invalid(_))));
        assert!(matches!(library.create_annotation("svc", "x", "", "nope"), Err(LibraryError::Invalid(_))));
        drop(library);

        let library = QueryLibrary::open(dir.path()).unwrap();
        assert_eq!(library.annotation("requests"), Some(saved.clone()));
        assert_eq!(library.query(&id).unwrap().spec, spec);
        assert_eq!(library.history().len(), 1);
        assert_eq!(library.result(&result_id), None, "results are not kept across restarts");
        let renamed = library.update_annotation(&saved.id, "all requests", "", &id).unwrap();
        assert_eq!(renamed.name, "all requests");
        library.delete_annotation(&saved.id).unwrap();
        assert!(library.annotations(Some("svc")).is_empty());
        assert!(matches!(library.delete_annotation(&saved.id), Err(LibraryError::NotFound(_))));
    }
}
