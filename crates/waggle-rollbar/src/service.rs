//! The Rollbar operations: report an occurrence, and read and change items. The HTTP glue is the
//! server's; this answers with Rollbar's JSON.
//!
//! ```text
//!  POST /api/1/item/ ─decode─> token + scope ─> group (fingerprint) ─> item id
//!        ─> occurrence row (logs table, dataset `rollbar`) ─> Store::append ─fsync─> item counts saved ─> 200
//! ```

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde_json::{Map, Value as Json, json};
use waggle_model::{Batch, Event, EventKind, Field, Origin, SignalTable, SpanId, TraceId, Value, names};
use waggle_store::{ScanRequest, Store};

use crate::decode::{ItemPost, decode_item};
use crate::error::{Result, RollbarError};
use crate::grouping::{Grouping, group};
use crate::items::{AccessToken, Item, ProjectFile};

/// The dataset (in the logs table) occurrences are stored in.
pub const OCCURRENCES_DATASET: &str = "rollbar";
/// Items per page of `GET /api/1/items`.
const ITEMS_PAGE: usize = 100;
/// Occurrences per page of `GET /api/1/item/{id}/instances`.
const INSTANCES_PAGE: usize = 20;
/// Occurrences `GET /api/1/instances?trace_id=` answers at most.
const TRACE_INSTANCES: usize = 100;

/// Filters of `GET /api/1/items`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ItemFilters {
    /// `active`, `resolved`, `muted` (comma-separated for several).
    pub status: Option<String>,
    /// Levels, comma-separated.
    pub level: Option<String>,
    /// Environments, comma-separated.
    pub environment: Option<String>,
    /// Page, from 1.
    pub page: Option<usize>,
}

/// Parameters of `GET /api/1/reports/top_active_items`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TopActiveParams {
    /// The window, in hours back from now (1 to 720; default 24): one count per hour.
    pub hours: Option<u32>,
    /// Environments, comma-separated; all when absent.
    pub environments: Option<String>,
}

/// The longest window of `top_active_items`, in hours (30 days).
const MAX_REPORT_HOURS: u32 = 720;

fn now_seconds() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// Rollbar over a store.
pub struct RollbarService {
    /// Where occurrences go.
    store: Arc<dyn Store>,
    /// Tokens and items.
    project: Mutex<ProjectFile>,
}

impl RollbarService {
    /// Opens (or starts) the project in `data_dir`.
    pub fn open(store: Arc<dyn Store>, data_dir: &Path) -> std::io::Result<Self> {
        Ok(Self { store, project: Mutex::new(ProjectFile::open(data_dir, now_seconds())?) })
    }

    /// A project kept in memory, for tests.
    pub fn in_memory(store: Arc<dyn Store>) -> Self {
        Self { store, project: Mutex::new(ProjectFile::in_memory(now_seconds())) }
    }

    /// The project's access tokens (the first is created on first start, with every scope).
    pub fn tokens(&self) -> Vec<AccessToken> {
        self.project.lock().state.tokens.clone()
    }

    /// The token the local console reads with: the first with the `read` scope, preferring one
    /// that also has `write`; `None` when no token can read.
    pub fn console_token(&self) -> Option<AccessToken> {
        let tokens = self.tokens();
        let has = |token: &AccessToken, scope: &str| token.scopes.iter().any(|has| has == scope);
        let readers = || tokens.iter().filter(|token| has(token, "read"));
        readers().find(|token| has(token, "write")).or_else(|| readers().next()).cloned()
    }

    fn check_token(&self, token: Option<&str>, needed: &[&'static str]) -> Result<()> {
        let token = token.filter(|token| !token.is_empty()).ok_or(RollbarError::TokenMissing)?;
        let project = self.project.lock();
        let found = project
            .state
            .tokens
            .iter()
            .find(|known| known.access_token == token)
            .ok_or_else(|| RollbarError::TokenNotFound(token.to_owned()))?;
        if needed.iter().any(|scope| found.scopes.iter().any(|has| has == scope)) {
            Ok(())
        } else {
            Err(RollbarError::InsufficientScope { needed: needed[0], has: found.scopes.join(", ") })
        }
    }

    /// `POST /api/1/item/`: stores one occurrence and answers `{"err": 0, "result": {"id": null, "uuid"}}`.
    pub async fn post_item(&self, body: &[u8], form: bool, header_token: Option<&str>) -> Result<Json> {
        let ItemPost { access_token, data, body_kind, level } = decode_item(body, form, header_token)?;
        let client = matches!(data.get("platform").and_then(Json::as_str), Some("browser" | "client"));
        let needed: &[&'static str] =
            if client { &["post_client_item", "post_server_item"] } else { &["post_server_item"] };
        self.check_token(access_token.as_deref(), needed)?;
        let grouping = group(&data, body_kind);
        let uuid =
            data.get("uuid").and_then(Json::as_str).map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        let timestamp = data.get("timestamp").and_then(Json::as_f64).map_or_else(now_seconds, |seconds| seconds as i64);
        let environment = data.get("environment").and_then(Json::as_str).unwrap_or_default().to_owned();
        let (item_id, occurrence_id) = {
            let mut project = self.project.lock();
            let state = &mut project.state;
            let occurrence_id = state.next_occurrence_id;
            state.next_occurrence_id += 1;
            let item_id = match state.fingerprints.get(&grouping.fingerprint) {
                Some(id) => *id,
                None => {
                    let id = state.next_item_id;
                    state.next_item_id += 1;
                    state.fingerprints.insert(grouping.fingerprint.clone(), id);
                    state
                        .items
                        .insert(id, new_item(id, &grouping, level, &environment, &data, timestamp, occurrence_id));
                    id
                }
            };
            (item_id, occurrence_id)
        };
        let event = occurrence_row(&data, &grouping, level, item_id, occurrence_id, &uuid, timestamp);
        self.store.append(Batch { events: vec![event] })?.wait().await?;
        let mut project = self.project.lock();
        if let Some(item) = project.state.items.get_mut(&item_id) {
            item.total_occurrences += 1;
            item.last_occurrence_id = occurrence_id;
            item.last_occurrence_timestamp = item.last_occurrence_timestamp.max(timestamp);
            item.first_occurrence_timestamp = item.first_occurrence_timestamp.min(timestamp);
            if Item::level_rank(level) > Item::level_rank(&item.level) {
                item.level = level.to_owned();
            }
            if item.status == "resolved" {
                // A resolved item reactivates on a new occurrence.
                item.status = "active".into();
                item.last_activated_timestamp = now_seconds();
            }
        }
        project.save().map_err(|err| RollbarError::Save(err.to_string()))?;
        Ok(json!({"err": 0, "result": {"id": null, "uuid": uuid}}))
    }

    /// `GET /api/1/items`: items with occurrences, latest first.
    pub fn list_items(&self, token: Option<&str>, filters: &ItemFilters) -> Result<Json> {
        self.check_token(token, &["read"])?;
        let wanted = |filter: &Option<String>, value: &str| {
            filter.as_deref().is_none_or(|filter| filter.split(',').any(|wanted| wanted.trim() == value))
        };
        let project = self.project.lock();
        let mut items: Vec<&Item> = project
            .state
            .items
            .values()
            .filter(|item| item.total_occurrences > 0)
            .filter(|item| wanted(&filters.status, &item.status))
            .filter(|item| wanted(&filters.level, &item.level))
            .filter(|item| wanted(&filters.environment, &item.environment))
            .collect();
        items.sort_by_key(|item| (std::cmp::Reverse(item.last_occurrence_timestamp), std::cmp::Reverse(item.id)));
        let page = filters.page.unwrap_or(1).max(1);
        let total = items.len();
        let shown: Vec<Json> =
            items.into_iter().skip((page - 1) * ITEMS_PAGE).take(ITEMS_PAGE).map(item_json).collect();
        Ok(json!({"err": 0, "result": {"items": shown, "page": page, "total_count": total}}))
    }

    /// `GET /api/1/reports/top_active_items`: items with occurrences in the last `hours` hours, most
    /// occurrences first, each with `counts`: its occurrences per hour, oldest hour first (the last
    /// hour ends now). Reads only the window's occurrence ids from the store.
    pub fn top_active_items(&self, token: Option<&str>, params: &TopActiveParams, now_unix_nano: i64) -> Result<Json> {
        self.check_token(token, &["read"])?;
        let hours = params.hours.unwrap_or(24);
        if !(1..=MAX_REPORT_HOURS).contains(&hours) {
            return Err(RollbarError::BadRequest(format!("hours must be 1 to {MAX_REPORT_HOURS}, not {hours}")));
        }
        const HOUR: i64 = 3_600_000_000_000;
        let start = now_unix_nano - i64::from(hours) * HOUR;
        let request = ScanRequest {
            datasets: Some(vec![OCCURRENCES_DATASET.to_owned()]),
            start_unix_nano: start,
            end_unix_nano: now_unix_nano.saturating_add(1),
            columns: Some(vec![names::ROLLBAR_ITEM_ID.into()]),
            ..ScanRequest::all(SignalTable::Logs)
        };
        let mut counts: std::collections::HashMap<u64, Vec<u64>> = std::collections::HashMap::new();
        self.store.scan(&request, &mut |event| {
            if let Some(Value::Int(id)) = event.field(names::ROLLBAR_ITEM_ID) {
                let bucket = ((event.time_unix_nano - start) / HOUR).clamp(0, i64::from(hours) - 1) as usize;
                counts.entry(*id as u64).or_insert_with(|| vec![0; hours as usize])[bucket] += 1;
            }
            ControlFlow::Continue(())
        })?;
        let wanted = |item: &Item| {
            params.environments.as_deref().is_none_or(|list| list.split(',').any(|env| env.trim() == item.environment))
        };
        let project = self.project.lock();
        let mut rows: Vec<(&Item, Vec<u64>)> = counts
            .into_iter()
            .filter_map(|(id, counts)| project.state.items.get(&id).map(|item| (item, counts)))
            .filter(|(item, _)| item.total_occurrences > 0 && wanted(item))
            .collect();
        rows.sort_by_key(|(item, counts)| {
            (std::cmp::Reverse(counts.iter().sum::<u64>()), std::cmp::Reverse(item.last_occurrence_timestamp), item.id)
        });
        let result: Vec<Json> = rows
            .into_iter()
            .map(|(item, counts)| {
                let mut summary = item_json(item);
                summary["occurrences"] = json!(counts.iter().sum::<u64>());
                json!({"item": summary, "counts": counts})
            })
            .collect();
        Ok(json!({"err": 0, "result": result}))
    }

    /// `GET /api/1/item/{id}`.
    pub fn get_item(&self, token: Option<&str>, id: u64) -> Result<Json> {
        self.check_token(token, &["read"])?;
        let project = self.project.lock();
        let item =
            project.state.items.get(&id).filter(|item| item.total_occurrences > 0).ok_or_else(|| not_found(id))?;
        Ok(json!({"err": 0, "result": item_json(item)}))
    }

    /// `PATCH /api/1/item/{id}`: `status` (active, resolved, muted), `level`, `title`.
    pub fn patch_item(&self, token: Option<&str>, id: u64, body: &[u8]) -> Result<Json> {
        self.check_token(token, &["write"])?;
        let patch: Map<String, Json> = serde_json::from_slice(body)
            .map_err(|err| RollbarError::BadRequest(format!("Invalid JSON in request body: {err}")))?;
        let mut project = self.project.lock();
        let item =
            project.state.items.get_mut(&id).filter(|item| item.total_occurrences > 0).ok_or_else(|| not_found(id))?;
        if let Some(status) = patch.get("status") {
            let status = status.as_str().filter(|status| ["active", "resolved", "muted"].contains(status));
            let status =
                status.ok_or_else(|| RollbarError::Invalid("status is one of active, resolved, muted".into()))?;
            if status != item.status {
                match status {
                    "resolved" => item.last_resolved_timestamp = Some(now_seconds()),
                    "active" => item.last_activated_timestamp = now_seconds(),
                    _ => {}
                }
                item.status = status.to_owned();
            }
        }
        if let Some(level) = patch.get("level") {
            let level = level.as_str().and_then(|level| crate::decode::LEVELS.iter().find(|known| **known == level));
            item.level = level
                .ok_or_else(|| RollbarError::Invalid("level is one of debug, info, warning, error, critical".into()))?
                .to_string();
        }
        if let Some(title) = patch.get("title") {
            item.title = title.as_str().ok_or_else(|| RollbarError::Invalid("title is a string".into()))?.to_owned();
        }
        let answer = json!({"err": 0, "result": item_json(item)});
        project.save().map_err(|err| RollbarError::Save(err.to_string()))?;
        Ok(answer)
    }

    /// `GET /api/1/item/{id}/instances`: its occurrences, latest first, read from the store.
    pub fn instances(&self, token: Option<&str>, id: u64, page: Option<usize>) -> Result<Json> {
        self.check_token(token, &["read"])?;
        if self.project.lock().state.items.get(&id).is_none_or(|item| item.total_occurrences == 0) {
            return Err(not_found(id));
        }
        let request = ScanRequest {
            datasets: Some(vec![OCCURRENCES_DATASET.to_owned()]),
            columns: Some(vec![
                names::ROLLBAR_ITEM_ID.into(),
                names::ROLLBAR_OCCURRENCE_ID.into(),
                names::ROLLBAR_PAYLOAD.into(),
            ]),
            ..ScanRequest::all(SignalTable::Logs)
        };
        let mut found = Vec::new();
        self.store.scan(&request, &mut |event| {
            if event.field(names::ROLLBAR_ITEM_ID) == Some(&Value::Int(id as i64)) {
                found.push(event);
            }
            ControlFlow::Continue(())
        })?;
        let occurrence_id = |event: &Event| match event.field(names::ROLLBAR_OCCURRENCE_ID) {
            Some(Value::Int(id)) => *id,
            _ => 0,
        };
        found.sort_by_key(|event| std::cmp::Reverse(occurrence_id(event)));
        let page = page.unwrap_or(1).max(1);
        let instances: Vec<Json> = found
            .iter()
            .skip((page - 1) * INSTANCES_PAGE)
            .take(INSTANCES_PAGE)
            .map(|event| {
                let data: Json = serde_json::from_str(event.str_field(names::ROLLBAR_PAYLOAD)).unwrap_or(Json::Null);
                json!({"id": occurrence_id(event), "item_id": id, "project_id": 1, "timestamp": event.time_unix_nano / 1_000_000_000,
                       "version": 2, "billable": 1, "data": data})
            })
            .collect();
        Ok(json!({"err": 0, "result": {"instances": instances, "page": page}}))
    }

    /// `GET /api/1/instances?trace_id=` (waggle's addition): the occurrences linked to one trace,
    /// latest first, each with a summary of its item. Read through the store's trace-id index.
    pub fn trace_instances(&self, token: Option<&str>, trace_id: &str) -> Result<Json> {
        self.check_token(token, &["read"])?;
        let trace = TraceId::from_hex(trace_id)
            .map_err(|err| RollbarError::BadRequest(format!("trace_id: {err}: a trace id is 32 hex characters")))?;
        let request = ScanRequest {
            datasets: Some(vec![OCCURRENCES_DATASET.to_owned()]),
            trace_id: Some(trace),
            ..ScanRequest::all(SignalTable::Logs)
        };
        let mut found = Vec::new();
        self.store.scan(&request, &mut |event| {
            if event.trace_id == Some(trace) {
                found.push(event);
            }
            ControlFlow::Continue(())
        })?;
        let int = |event: &Event, key: &str| match event.field(key) {
            Some(Value::Int(id)) => *id,
            _ => 0,
        };
        found.sort_by_key(|event| std::cmp::Reverse(int(event, names::ROLLBAR_OCCURRENCE_ID)));
        let project = self.project.lock();
        let instances: Vec<Json> = found
            .iter()
            .take(TRACE_INSTANCES)
            .map(|event| {
                let item_id = int(event, names::ROLLBAR_ITEM_ID) as u64;
                let item = project.state.items.get(&item_id).map_or(Json::Null, |item| {
                    json!({"id": item.id, "counter": item.counter, "title": item.title, "level": item.level,
                           "status": item.status, "environment": item.environment,
                           "total_occurrences": item.total_occurrences})
                });
                let data: Json = serde_json::from_str(event.str_field(names::ROLLBAR_PAYLOAD)).unwrap_or(Json::Null);
                json!({"id": int(event, names::ROLLBAR_OCCURRENCE_ID), "item_id": item_id, "project_id": 1,
                       "timestamp": event.time_unix_nano / 1_000_000_000, "span_id": event.span_id.map(|id| id.to_hex()),
                       "data": data, "item": item})
            })
            .collect();
        Ok(json!({"err": 0, "result": {"instances": instances, "trace_id": trace.to_hex()}}))
    }
}

fn not_found(id: u64) -> RollbarError {
    RollbarError::NotFound(format!("item {id} not found"))
}

fn item_json(item: &Item) -> Json {
    let mut value = serde_json::to_value(item).unwrap_or(Json::Null);
    value["project_id"] = json!(1);
    value
}

fn text(data: &Map<String, Json>, key: &str) -> String {
    data.get(key).and_then(Json::as_str).unwrap_or_default().to_owned()
}

fn new_item(
    id: u64,
    grouping: &Grouping,
    level: &str,
    environment: &str,
    data: &Map<String, Json>,
    timestamp: i64,
    occurrence_id: u64,
) -> Item {
    Item {
        id,
        counter: id,
        hash: grouping.fingerprint.clone(),
        title: grouping.title.clone(),
        level: level.to_owned(),
        environment: environment.to_owned(),
        status: "active".into(),
        framework: text(data, "framework"),
        platform: text(data, "platform"),
        language: text(data, "language"),
        total_occurrences: 0,
        first_occurrence_timestamp: timestamp,
        last_occurrence_timestamp: timestamp,
        first_occurrence_id: occurrence_id,
        last_occurrence_id: occurrence_id,
        last_activated_timestamp: timestamp,
        last_resolved_timestamp: None,
        exception_class: grouping.exception_class.clone(),
    }
}

/// OpenTelemetry's severity number of a Rollbar level.
fn severity_number(level: &str) -> i64 {
    match level {
        "debug" => 5,
        "info" => 9,
        "warning" => 13,
        "critical" => 21,
        _ => 17,
    }
}

/// The trace an occurrence belongs to: `data.custom.trace_id` / `span_id`, `data.trace_id`, or the
/// request's `traceparent` or `X-Amzn-Trace-Id` header.
pub(crate) fn trace_ids(data: &Map<String, Json>) -> (Option<TraceId>, Option<SpanId>) {
    let custom = data.get("custom").and_then(Json::as_object);
    let lookup = |key: &str| custom.and_then(|custom| custom.get(key)).or_else(|| data.get(key)).and_then(Json::as_str);
    if let Some(trace_id) = lookup("trace_id").and_then(|hex| TraceId::from_hex(hex).ok()) {
        return (Some(trace_id), lookup("span_id").and_then(|hex| SpanId::from_hex(hex).ok()));
    }
    let headers = data.get("request").and_then(|request| request.get("headers")).and_then(Json::as_object);
    let header = |name: &str| {
        headers
            .and_then(|headers| headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)))
            .and_then(|(_, value)| value.as_str())
    };
    if let Some(traceparent) = header("traceparent") {
        let parts: Vec<&str> = traceparent.split('-').collect();
        if let [_, trace, span, _] = parts.as_slice() {
            return (TraceId::from_hex(trace).ok(), SpanId::from_hex(span).ok());
        }
    }
    if let Some(amzn) = header("x-amzn-trace-id") {
        let root = amzn.split(';').find_map(|part| part.trim().strip_prefix("Root=1-"));
        if let Some((epoch, unique)) = root.and_then(|root| root.split_once('-')) {
            return (TraceId::from_hex(&format!("{epoch}{unique}")).ok(), None);
        }
    }
    (None, None)
}

fn occurrence_row(
    data: &Map<String, Json>,
    grouping: &Grouping,
    level: &str,
    item_id: u64,
    occurrence_id: u64,
    uuid: &str,
    timestamp: i64,
) -> Event {
    let (trace_id, span_id) = trace_ids(data);
    let mut fields = vec![
        Field::new(names::BODY, grouping.title.as_str(), Origin::Derived),
        Field::new(names::SEVERITY, level, Origin::Derived),
        Field::new(names::SEVERITY_CODE, severity_number(level), Origin::Derived),
        Field::new(names::ROLLBAR_ITEM_ID, item_id as i64, Origin::Derived),
        Field::new(names::ROLLBAR_OCCURRENCE_ID, occurrence_id as i64, Origin::Derived),
        Field::new(names::ROLLBAR_UUID, uuid, Origin::Derived),
        Field::new(names::DEPLOYMENT_ENVIRONMENT, text(data, "environment"), Origin::Attribute),
        Field::new(names::ROLLBAR_PAYLOAD, Json::Object(data.clone()).to_string(), Origin::Derived),
    ];
    if let Some(class) = &grouping.exception_class {
        fields.push(Field::new(names::EXCEPTION_TYPE, class.as_str(), Origin::Attribute));
    }
    if let Some(message) = grouping.exception_message.as_ref().filter(|message| !message.is_empty()) {
        fields.push(Field::new(names::EXCEPTION_MESSAGE, message.as_str(), Origin::Attribute));
    }
    if let Some(person) = data.get("person").and_then(|person| person.get("id")) {
        let id = person.as_str().map_or_else(|| person.to_string(), str::to_owned);
        fields.push(Field::new("user.id", id, Origin::Attribute));
    }
    for (key, field) in
        [("framework", "rollbar.framework"), ("context", "rollbar.context"), ("code_version", "service.version")]
    {
        let value = text(data, key);
        if !value.is_empty() {
            fields.push(Field::new(field, value, Origin::Attribute));
        }
    }
    Event {
        kind: EventKind::Log,
        dataset: OCCURRENCES_DATASET.to_owned(),
        time_unix_nano: timestamp.saturating_mul(1_000_000_000),
        duration_nano: 0,
        trace_id,
        span_id,
        parent_id: None,
        fields,
    }
}

#[cfg(test)]
mod tests;
