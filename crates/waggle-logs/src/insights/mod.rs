//! Logs Insights: StartQuery runs a query on the blocking pool and answers its id at once;
//! GetQueryResults answers `Running` until it is `Complete`; StopQuery cancels a running one.
//! The latest [`KEPT_QUERIES`] queries are kept, in memory.

mod exec;
mod parse;

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use serde_json::{Value as Json, json};

pub use exec::{Record, Val, format_time};
pub use parse::{Query, QueryParseError, parse_query};

use crate::error::{LogsError, Result};
use crate::models::{QueryIdRequest, StartQueryRequest};
use crate::read::{EventQuery, scan_events};
use crate::service::{ACCOUNT_ID, LogsService, now_ms};

/// Queries kept for GetQueryResults.
pub const KEPT_QUERIES: usize = 100;
/// Rows a query returns unless it says `limit`.
const DEFAULT_LIMIT: usize = 1000;
/// Most rows a query returns.
const MAX_LIMIT: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Status {
    Running,
    Complete,
    Failed,
    Cancelled,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Complete => "Complete",
            Self::Failed => "Failed",
            Self::Cancelled => "Cancelled",
        }
    }
}

struct QueryState {
    id: String,
    query_string: String,
    log_group: String,
    create_time: i64,
    status: Status,
    rows: Vec<Vec<(String, String)>>,
    records_matched: u64,
    records_scanned: u64,
    bytes_scanned: u64,
    cancel: Arc<AtomicBool>,
}

/// The queries of a service.
#[derive(Default)]
pub struct Queries {
    states: Mutex<VecDeque<QueryState>>,
}

impl Queries {
    fn with<T>(&self, id: &str, change: impl FnOnce(&mut QueryState) -> T) -> Result<T> {
        let mut states = self.states.lock();
        let state = states
            .iter_mut()
            .find(|state| state.id == id)
            .ok_or_else(|| LogsError::ResourceNotFound(format!("Query {id} does not exist")))?;
        Ok(change(state))
    }
}

impl LogsService {
    pub(crate) fn start_query(self: &Arc<Self>, request: StartQueryRequest) -> Result<Json> {
        let query_string = request.query_string.unwrap_or_default();
        let query = parse_query(&query_string).map_err(|err| LogsError::MalformedQuery(err.to_string()))?;
        let (Some(start), Some(end)) = (request.start_time, request.end_time) else {
            return Err(LogsError::InvalidParameter("startTime and endTime (unix seconds) are required".into()));
        };
        if end < start {
            return Err(LogsError::InvalidParameter("endTime must not be before startTime".into()));
        }
        let limit = match request.limit {
            None => DEFAULT_LIMIT,
            Some(limit) if (1..=MAX_LIMIT as i64).contains(&limit) => limit as usize,
            Some(limit) => {
                return Err(LogsError::InvalidParameter(format!("limit must be 1 to {MAX_LIMIT}, not {limit}")));
            }
        };
        let mut names: Vec<String> = request.log_group_name.into_iter().collect();
        names.extend(request.log_group_names.unwrap_or_default());
        names.extend(request.log_group_identifiers.unwrap_or_default().iter().map(|identifier| {
            let name = identifier.split_once(":log-group:").map_or(identifier.as_str(), |(_, name)| name);
            name.strip_suffix(":*").unwrap_or(name).to_owned()
        }));
        if names.is_empty() {
            return Err(LogsError::InvalidParameter("name at least one log group to query".into()));
        }
        let groups =
            names.iter().map(|name| Ok((name.clone(), self.group_snapshot(name)?))).collect::<Result<Vec<_>>>()?;
        let id = uuid::Uuid::new_v4().to_string();
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let mut states = self.queries.states.lock();
            states.push_back(QueryState {
                id: id.clone(),
                query_string,
                log_group: names.join(","),
                create_time: now_ms(),
                status: Status::Running,
                rows: Vec::new(),
                records_matched: 0,
                records_scanned: 0,
                bytes_scanned: 0,
                cancel: cancel.clone(),
            });
            while states.len() > KEPT_QUERIES {
                states.pop_front();
            }
        }
        let this = self.clone();
        let query_id = id.clone();
        tokio::task::spawn_blocking(move || {
            let (start_ms, end_ms) = (start.saturating_mul(1000), end.saturating_mul(1000).saturating_add(1000));
            let mut records = Vec::new();
            let (mut scanned, mut bytes) = (0u64, 0u64);
            let mut outcome = Ok(());
            for (name, group) in &groups {
                let query = EventQuery {
                    group_name: name,
                    group,
                    streams: None,
                    stream_prefix: None,
                    start_ms,
                    end_ms,
                    now_ms: now_ms(),
                };
                let result = scan_events(this.store.as_ref(), &query, &mut |event| {
                    if cancel.load(Ordering::Relaxed) {
                        return ControlFlow::Break(());
                    }
                    scanned += 1;
                    bytes += event.message.len() as u64;
                    let mut record = Record::new();
                    exec::discover_json(&event.message, &mut record);
                    record.insert("@ptr".into(), Val::Str(event.event_id()));
                    record.insert("@timestamp".into(), Val::Time(event.timestamp));
                    record.insert("@ingestionTime".into(), Val::Time(event.ingestion_time()));
                    record.insert("@logStream".into(), Val::Str(event.stream));
                    record.insert("@log".into(), Val::Str(format!("{ACCOUNT_ID}:{name}")));
                    record.insert("@message".into(), Val::Str(event.message));
                    records.push(record);
                    ControlFlow::Continue(())
                });
                if let Err(err) = result {
                    outcome = Err(err);
                    break;
                }
            }
            let output = outcome.map(|()| exec::run(&query, records, limit));
            let _ = this.queries.with(&query_id, |state| {
                if state.status != Status::Running {
                    return;
                }
                match output {
                    Ok(output) => {
                        state.status = Status::Complete;
                        state.rows = output.rows;
                        state.records_matched = output.records_matched;
                    }
                    Err(err) => {
                        tracing::warn!(%err, "logs insights query failed");
                        state.status = Status::Failed;
                    }
                }
                state.records_scanned = scanned;
                state.bytes_scanned = bytes;
            });
        });
        Ok(json!({ "queryId": id }))
    }

    pub(crate) fn get_query_results(&self, request: QueryIdRequest) -> Result<Json> {
        let id = request.query_id.ok_or_else(|| LogsError::InvalidParameter("queryId is required".into()))?;
        self.queries.with(&id, |state| {
            let results: Vec<Json> = state
                .rows
                .iter()
                .map(|row| {
                    Json::Array(row.iter().map(|(field, value)| json!({"field": field, "value": value})).collect())
                })
                .collect();
            json!({
                "status": state.status.as_str(),
                "results": results,
                "statistics": {
                    "recordsMatched": state.records_matched as f64,
                    "recordsScanned": state.records_scanned as f64,
                    "bytesScanned": state.bytes_scanned as f64,
                },
            })
        })
    }

    pub(crate) fn stop_query(&self, request: QueryIdRequest) -> Result<Json> {
        let id = request.query_id.ok_or_else(|| LogsError::InvalidParameter("queryId is required".into()))?;
        let stopped = self.queries.with(&id, |state| {
            if state.status != Status::Running {
                return false;
            }
            state.cancel.store(true, Ordering::Relaxed);
            state.status = Status::Cancelled;
            true
        })?;
        Ok(json!({ "success": stopped }))
    }

    pub(crate) fn describe_queries(&self) -> Json {
        let states = self.queries.states.lock();
        let queries: Vec<Json> = states
            .iter()
            .rev()
            .map(|state| {
                json!({"queryId": state.id, "queryString": state.query_string, "status": state.status.as_str(),
                       "createTime": state.create_time, "logGroupName": state.log_group})
            })
            .collect();
        json!({ "queries": queries })
    }
}

#[cfg(test)]
mod tests;
