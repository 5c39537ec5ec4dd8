//! The operations: one JSON body in, one JSON body out, as `Logs_20140328.<Operation>` takes and
//! answers them. The HTTP envelope (target header, error body, SigV4) is the server's.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde_json::{Value as Json, json};
use waggle_model::Batch;
use waggle_store::Store;

use crate::catalog::{Catalog, LogGroup, LogStream, RETENTION_DAYS};
use crate::convert::{RowContext, event_row};
use crate::error::{LogsError, Result};
use crate::insights::Queries;
use crate::models::{
    DescribeLogGroupsRequest, DescribeLogStreamsRequest, FilterLogEventsRequest, GetLogEventsRequest, GroupRequest,
    PutLogEventsRequest, QueryIdRequest, StartQueryRequest, StreamRequest,
};
use crate::pattern::FilterPattern;
use crate::put::check_batch;
use crate::read::{EventKey, EventQuery, Selection, StoredEvent, scan_events};

/// The account id in ARNs (LocalStack's).
pub const ACCOUNT_ID: &str = "000000000000";
/// Region when the request names none.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Most events GetLogEvents and FilterLogEvents return at once.
const MAX_EVENTS: usize = 10_000;
/// Most message bytes in one GetLogEvents or FilterLogEvents answer.
const MAX_RESPONSE_BYTES: usize = 1_048_576;

/// Who called: from the SigV4 `Authorization` header.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// The access key id of the signature, when signed.
    pub access_key_id: Option<String>,
    /// The region of the signature's scope.
    pub region: Option<String>,
}

impl CallContext {
    fn region(&self) -> &str {
        self.region.as_deref().unwrap_or(DEFAULT_REGION)
    }
}

/// CloudWatch Logs over a store: groups and streams in a catalog, events in the logs table.
pub struct LogsService {
    /// Where events are written and read.
    pub(crate) store: Arc<dyn Store>,
    /// Groups and streams.
    catalog: Mutex<Catalog>,
    /// The latest ingestion time handed out (ns): each event gets its own.
    last_ingestion_nanos: AtomicI64,
    /// Logs Insights queries.
    pub(crate) queries: Queries,
    /// Events older than this (ms) are refused as too old: CloudWatch's 14 days, or less when the
    /// store keeps data for less time (an accepted event must stay readable).
    max_age_ms: i64,
}

pub(crate) fn now_ms() -> i64 {
    now_nanos().div_euclid(1_000_000)
}

fn now_nanos() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos() as i64)
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    serde_json::from_slice(body).map_err(|err| LogsError::Serialization(format!("the request body is invalid: {err}")))
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str> {
    match value.as_deref() {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(LogsError::InvalidParameter(format!("{name} is required"))),
    }
}

/// `logGroupName`, or the name inside `logGroupIdentifier` (a name or an ARN).
fn group_name<'a>(name: &'a Option<String>, identifier: &'a Option<String>) -> Result<&'a str> {
    match (name.as_deref(), identifier.as_deref()) {
        (Some(name), None) if !name.is_empty() => Ok(name),
        (None, Some(identifier)) if !identifier.is_empty() => Ok(group_from_identifier(identifier)),
        (Some(_), Some(_)) => {
            Err(LogsError::InvalidParameter("LogGroupName and LogGroupIdentifier are mutually exclusive".into()))
        }
        _ => Err(LogsError::InvalidParameter("logGroupName or logGroupIdentifier is required".into())),
    }
}

fn group_from_identifier(identifier: &str) -> &str {
    match identifier.split_once(":log-group:") {
        Some((_, rest)) => rest.strip_suffix(":*").unwrap_or(rest),
        None => identifier,
    }
}

fn limit(value: Option<i64>, default: usize, max: usize) -> Result<usize> {
    match value {
        None => Ok(default),
        Some(value) if value >= 1 && value as u64 <= max as u64 => Ok(value as usize),
        Some(value) => Err(LogsError::InvalidParameter(format!("limit must be between 1 and {max}, not {value}"))),
    }
}

fn check_group_name(name: &str) -> Result<()> {
    let valid =
        (1..=512).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c));
    if valid {
        Ok(())
    } else {
        Err(LogsError::InvalidParameter(format!(
            "1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must \
             satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+ and have length between 1 and 512"
        )))
    }
}

fn check_stream_name(name: &str) -> Result<()> {
    if (1..=512).contains(&name.len()) && !name.contains([':', '*']) {
        Ok(())
    } else {
        Err(LogsError::InvalidParameter(format!(
            "1 validation error detected: Value '{name}' at 'logStreamName' failed to satisfy constraint: Member must \
             satisfy regular expression pattern: [^:*]* and have length between 1 and 512"
        )))
    }
}

fn bad_token() -> LogsError {
    LogsError::InvalidParameter("The specified nextToken is invalid.".into())
}

/// `<prefix>/<timestamp>/<ingestion ns>`.
fn key_token(prefix: char, key: EventKey) -> String {
    format!("{prefix}/{}/{}", key.0, key.1)
}

fn parse_key_token(token: &str) -> Option<(char, EventKey)> {
    let mut parts = token.splitn(3, '/');
    let prefix = parts.next()?.chars().next()?;
    let timestamp = parts.next()?.parse().ok()?;
    let nanos = parts.next()?.parse().ok()?;
    Some((prefix, (timestamp, nanos)))
}

impl LogsService {
    /// Opens the catalog in `data_dir`.
    pub fn open(store: Arc<dyn Store>, data_dir: &Path) -> std::io::Result<Self> {
        Ok(Self::with_catalog(store, Catalog::open(data_dir)?))
    }

    /// A service whose catalog is never saved, for tests.
    pub fn in_memory(store: Arc<dyn Store>) -> Self {
        Self::with_catalog(store, Catalog::in_memory())
    }

    fn with_catalog(store: Arc<dyn Store>, catalog: Catalog) -> Self {
        Self {
            store,
            catalog: Mutex::new(catalog),
            last_ingestion_nanos: AtomicI64::new(0),
            queries: Queries::default(),
            max_age_ms: crate::put::MAX_AGE_MS,
        }
    }

    /// Refuses events older than `max_age` (the store's retention) as too old, when it is under
    /// CloudWatch's 14 days.
    pub fn with_max_event_age(mut self, max_age: std::time::Duration) -> Self {
        self.max_age_ms = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX).min(crate::put::MAX_AGE_MS);
        self
    }

    fn arn(&self, context: &CallContext, group: &str) -> String {
        format!("arn:aws:logs:{}:{ACCOUNT_ID}:log-group:{group}", context.region())
    }

    /// Answers one operation (`PutLogEvents`, ...) with its JSON body.
    pub async fn call(self: &Arc<Self>, operation: &str, body: &[u8], context: &CallContext) -> Result<Json> {
        match operation {
            "CreateLogGroup" => self.create_log_group(parse(body)?),
            "CreateLogStream" => self.create_log_stream(parse(body)?),
            "DeleteLogGroup" => self.delete_log_group(parse(body)?),
            "DeleteLogStream" => self.delete_log_stream(parse(body)?),
            "PutRetentionPolicy" => self.put_retention_policy(parse(body)?),
            "DeleteRetentionPolicy" => self.delete_retention_policy(parse(body)?),
            "DescribeLogGroups" => self.describe_log_groups(parse(body)?, context),
            "DescribeLogStreams" => self.describe_log_streams(parse(body)?, context),
            "ListTagsLogGroup" => self.list_tags(parse(body)?),
            "PutLogEvents" => self.put_log_events(parse(body)?, context).await,
            "GetLogEvents" => self.blocking(parse(body)?, Self::get_log_events).await,
            "FilterLogEvents" => self.blocking(parse(body)?, Self::filter_log_events).await,
            "StartQuery" => self.start_query(parse::<StartQueryRequest>(body)?),
            "GetQueryResults" => self.get_query_results(parse::<QueryIdRequest>(body)?),
            "StopQuery" => self.stop_query(parse::<QueryIdRequest>(body)?),
            "DescribeQueries" => Ok(self.describe_queries()),
            other => Err(LogsError::UnknownOperation(format!(
                "waggle does not implement the CloudWatch Logs operation {other}"
            ))),
        }
    }

    async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        request: T,
        work: fn(&Self, T) -> Result<Json>,
    ) -> Result<Json> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || work(&this, request)).await.map_err(|err| {
            LogsError::Store(waggle_store::StoreError::Unavailable(format!("read task failed: {err}")))
        })?
    }

    /// Saves the catalog after a change; the change stands in memory either way.
    fn save(&self, catalog: &Catalog) -> Result<()> {
        catalog.save().map_err(|err| {
            tracing::error!(%err, "cannot save the log group catalog");
            LogsError::Store(waggle_store::StoreError::Unavailable(format!("cannot save the log group catalog: {err}")))
        })
    }

    fn create_log_group(&self, request: GroupRequest) -> Result<Json> {
        let name = required(&request.log_group_name, "logGroupName")?;
        check_group_name(name)?;
        let class = request.log_group_class.unwrap_or_else(|| "STANDARD".into());
        if !["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"].contains(&class.as_str()) {
            return Err(LogsError::InvalidParameter(format!("logGroupClass {class} is not a log group class")));
        }
        let group =
            LogGroup { creation_time: now_ms(), log_group_class: class, tags: request.tags, ..Default::default() };
        let mut catalog = self.catalog.lock();
        catalog.create_group(name, group)?;
        self.save(&catalog)?;
        Ok(json!({}))
    }

    fn create_log_stream(&self, request: StreamRequest) -> Result<Json> {
        let group = required(&request.log_group_name, "logGroupName")?;
        let name = required(&request.log_stream_name, "logStreamName")?;
        check_stream_name(name)?;
        let mut catalog = self.catalog.lock();
        let streams = &mut catalog.group_mut(group)?.streams;
        if streams.contains_key(name) {
            return Err(LogsError::ResourceAlreadyExists("The specified log stream already exists".into()));
        }
        let nanos = now_nanos();
        let stream =
            LogStream { creation_time: nanos.div_euclid(1_000_000), creation_time_nanos: nanos, ..Default::default() };
        streams.insert(name.to_owned(), stream);
        self.save(&catalog)?;
        Ok(json!({}))
    }

    fn delete_log_group(&self, request: GroupRequest) -> Result<Json> {
        let name = group_name(&request.log_group_name, &request.log_group_identifier)?;
        let mut catalog = self.catalog.lock();
        catalog.delete_group(name)?;
        self.save(&catalog)?;
        Ok(json!({}))
    }

    fn delete_log_stream(&self, request: StreamRequest) -> Result<Json> {
        let group = required(&request.log_group_name, "logGroupName")?;
        let name = required(&request.log_stream_name, "logStreamName")?;
        let mut catalog = self.catalog.lock();
        catalog.group_mut(group)?.streams.remove(name).ok_or_else(LogsError::stream_not_found)?;
        self.save(&catalog)?;
        Ok(json!({}))
    }

    fn put_retention_policy(&self, request: GroupRequest) -> Result<Json> {
        let name = required(&request.log_group_name, "logGroupName")?;
        let days = request
            .retention_in_days
            .ok_or_else(|| LogsError::InvalidParameter("retentionInDays is required".into()))?;
        let days = u32::try_from(days).ok().filter(|days| RETENTION_DAYS.contains(days)).ok_or_else(|| {
            LogsError::InvalidParameter(format!(
                "1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member \
                 must satisfy enum value set: {RETENTION_DAYS:?}"
            ))
        })?;
        let mut catalog = self.catalog.lock();
        catalog.group_mut(name)?.retention_in_days = Some(days);
        self.save(&catalog)?;
        Ok(json!({}))
    }

    fn delete_retention_policy(&self, request: GroupRequest) -> Result<Json> {
        let name = required(&request.log_group_name, "logGroupName")?;
        let mut catalog = self.catalog.lock();
        catalog.group_mut(name)?.retention_in_days = None;
        self.save(&catalog)?;
        Ok(json!({}))
    }

    fn list_tags(&self, request: GroupRequest) -> Result<Json> {
        let name = required(&request.log_group_name, "logGroupName")?;
        Ok(json!({ "tags": self.catalog.lock().group(name)?.tags }))
    }

    fn describe_log_groups(&self, request: DescribeLogGroupsRequest, context: &CallContext) -> Result<Json> {
        let limit = limit(request.limit, 50, 50)?;
        if request.log_group_name_prefix.is_some() && request.log_group_name_pattern.is_some() {
            return Err(LogsError::InvalidParameter(
                "logGroupNamePrefix and logGroupNamePattern are mutually exclusive".into(),
            ));
        }
        let pattern = request.log_group_name_pattern.map(|pattern| pattern.to_lowercase());
        let catalog = self.catalog.lock();
        let matching = catalog.groups().iter().filter(|(name, _)| {
            request.log_group_name_prefix.as_deref().is_none_or(|prefix| name.starts_with(prefix))
                && pattern.as_deref().is_none_or(|pattern| name.to_lowercase().contains(pattern))
                && request.next_token.as_deref().is_none_or(|after| name.as_str() > after)
        });
        let mut groups = Vec::new();
        let mut next_token = None;
        for (name, group) in matching {
            if groups.len() == limit {
                next_token = groups.last().and_then(|last: &Json| last["logGroupName"].as_str().map(str::to_owned));
                break;
            }
            let arn = self.arn(context, name);
            let mut entry = json!({
                "logGroupName": name,
                "creationTime": group.creation_time,
                "metricFilterCount": 0,
                "arn": format!("{arn}:*"),
                "logGroupArn": arn,
                "storedBytes": group.stored_bytes(),
                "logGroupClass": group.log_group_class,
            });
            if let Some(days) = group.retention_in_days {
                entry["retentionInDays"] = json!(days);
            }
            groups.push(entry);
        }
        let mut response = json!({ "logGroups": groups });
        if let Some(token) = next_token {
            response["nextToken"] = json!(token);
        }
        Ok(response)
    }

    fn describe_log_streams(&self, request: DescribeLogStreamsRequest, context: &CallContext) -> Result<Json> {
        let group_name = group_name(&request.log_group_name, &request.log_group_identifier)?;
        let limit = limit(request.limit, 50, 50)?;
        let by_time = match request.order_by.as_deref() {
            None | Some("LogStreamName") => false,
            Some("LastEventTime") => true,
            Some(other) => {
                return Err(LogsError::InvalidParameter(format!(
                    "orderBy {other} is not LogStreamName or LastEventTime"
                )));
            }
        };
        if by_time && request.log_stream_name_prefix.is_some() {
            return Err(LogsError::InvalidParameter(
                "Cannot order by LastEventTime with a logStreamNamePrefix.".into(),
            ));
        }
        let offset = match request.next_token.as_deref() {
            None => 0,
            Some(token) => token.strip_prefix("o/").and_then(|offset| offset.parse().ok()).ok_or_else(bad_token)?,
        };
        let catalog = self.catalog.lock();
        let group = catalog.group(group_name)?;
        let mut streams: Vec<(&String, &LogStream)> = group
            .streams
            .iter()
            .filter(|(name, _)| request.log_stream_name_prefix.as_deref().is_none_or(|prefix| name.starts_with(prefix)))
            .collect();
        if by_time {
            streams.sort_by_key(|(name, stream)| (stream.last_event_timestamp.unwrap_or(0), *name));
        }
        if request.descending.unwrap_or(false) {
            streams.reverse();
        }
        let arn = self.arn(context, group_name);
        let page: Vec<Json> = streams
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(name, stream)| {
                let mut entry = json!({
                    "logStreamName": name,
                    "creationTime": stream.creation_time,
                    "arn": format!("{arn}:log-stream:{name}"),
                    "storedBytes": stream.stored_bytes,
                    "uploadSequenceToken": stream.upload_sequence.to_string(),
                });
                for (key, value) in [
                    ("firstEventTimestamp", stream.first_event_timestamp),
                    ("lastEventTimestamp", stream.last_event_timestamp),
                    ("lastIngestionTime", stream.last_ingestion_time),
                ] {
                    if let Some(value) = value {
                        entry[key] = json!(value);
                    }
                }
                entry
            })
            .collect();
        let mut response = json!({ "logStreams": page });
        if offset + limit < streams.len() {
            response["nextToken"] = json!(format!("o/{}", offset + limit));
        }
        Ok(response)
    }

    /// Unique, increasing ingestion times for `count` events.
    fn ingestion_times(&self, count: usize) -> i64 {
        let count = count as i64;
        let mut last = self.last_ingestion_nanos.load(Ordering::Relaxed);
        loop {
            let first = now_nanos().max(last + 1);
            match self.last_ingestion_nanos.compare_exchange(
                last,
                first + count - 1,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => return first,
                Err(current) => last = current,
            }
        }
    }

    async fn put_log_events(&self, request: PutLogEventsRequest, context: &CallContext) -> Result<Json> {
        let group_name = required(&request.log_group_name, "logGroupName")?.to_owned();
        let stream_name = required(&request.log_stream_name, "logStreamName")?.to_owned();
        let now = now_ms();
        let (checked, first_ingestion) = {
            let catalog = self.catalog.lock();
            catalog.stream(&group_name, &stream_name)?;
            let group = catalog.group(&group_name)?;
            let checked = check_batch(&request.log_events, now, self.max_age_ms, group.retention_cutoff_ms(now))?;
            (checked, self.ingestion_times(request.log_events.len()))
        };
        let accepted = &request.log_events[checked.accepted.clone()];
        if !accepted.is_empty() {
            let row_context = RowContext {
                group: &group_name,
                stream: &stream_name,
                access_key_id: context.access_key_id.as_deref(),
            };
            let events = accepted
                .iter()
                .enumerate()
                .map(|(index, event)| {
                    event_row(&row_context, event.timestamp, &event.message, first_ingestion + index as i64)
                })
                .collect();
            let ticket = self.store.append(Batch { events })?;
            ticket.wait().await?;
        }
        let mut catalog = self.catalog.lock();
        let sequence = match catalog.group_mut(&group_name).ok().and_then(|group| group.streams.get_mut(&stream_name)) {
            Some(stream) if stream.creation_time_nanos <= first_ingestion => {
                if let (Some(first), Some(last)) = (accepted.first(), accepted.last()) {
                    stream.first_event_timestamp =
                        Some(stream.first_event_timestamp.map_or(first.timestamp, |t| t.min(first.timestamp)));
                    stream.last_event_timestamp =
                        Some(stream.last_event_timestamp.map_or(last.timestamp, |t| t.max(last.timestamp)));
                    stream.last_ingestion_time = Some(now);
                    stream.stored_bytes += accepted
                        .iter()
                        .map(|event| (event.message.len() + crate::put::EVENT_OVERHEAD) as u64)
                        .sum::<u64>();
                }
                stream.upload_sequence += 1;
                stream.upload_sequence
            }
            // Deleted (or deleted and created again) while the batch was written: its events are hidden.
            _ => return Err(LogsError::stream_not_found()),
        };
        self.save(&catalog)?;
        let mut response = json!({ "nextSequenceToken": format!("{sequence:056}") });
        if !checked.rejected.is_empty() {
            tracing::debug!(group = %group_name, stream = %stream_name, rejected = ?checked.rejected, "log events rejected");
            response["rejectedLogEventsInfo"] = serde_json::to_value(&checked.rejected).unwrap_or_default();
        }
        Ok(response)
    }

    fn get_log_events(&self, request: GetLogEventsRequest) -> Result<Json> {
        let group_name = group_name(&request.log_group_name, &request.log_group_identifier)?;
        let stream_name = required(&request.log_stream_name, "logStreamName")?;
        let limit = limit(request.limit, MAX_EVENTS, MAX_EVENTS)?;
        let token = request
            .next_token
            .as_deref()
            .map(|token| {
                parse_key_token(token).filter(|(prefix, _)| *prefix == 'f' || *prefix == 'b').ok_or_else(bad_token)
            })
            .transpose()?;
        let start_ms = request.start_time.unwrap_or(i64::MIN / 2);
        let end_ms = request.end_time.unwrap_or(i64::MAX / 2);
        // Forward reads take the first events after the token (or of the range, from the head); backward
        // reads the last ones before it (or of the range: the default, as in CloudWatch).
        let forward = match token {
            Some((prefix, _)) => prefix == 'f',
            None => request.start_from_head.unwrap_or(false),
        };
        let group = self.catalog.lock().group(group_name)?.clone();
        group.streams.get(stream_name).ok_or_else(LogsError::stream_not_found)?;
        let streams = [stream_name.to_owned()];
        let query = EventQuery {
            group_name,
            group: &group,
            streams: Some(&streams),
            stream_prefix: None,
            start_ms,
            end_ms,
            now_ms: now_ms(),
        };
        let mut selection = Selection::new(limit, !forward);
        scan_events(self.store.as_ref(), &query, &mut |event| {
            let after_token = match token {
                Some(('f', key)) => event.key() > key,
                Some((_, key)) => event.key() < key,
                None => true,
            };
            if after_token {
                selection.push(event);
            }
            ControlFlow::Continue(())
        })?;
        let (mut events, _) = selection.finish();
        trim_to_bytes(&mut events, forward);
        let (forward_token, backward_token) = match (events.first(), events.last()) {
            (Some(first), Some(last)) => (key_token('f', last.key()), key_token('b', first.key())),
            _ => match token {
                Some((_, key)) => (key_token('f', key), key_token('b', key)),
                None => (key_token('f', (end_ms.min(now_ms() + 1), 0)), key_token('b', (start_ms.max(0), 0))),
            },
        };
        let events: Vec<Json> = events
            .iter()
            .map(|event| json!({"timestamp": event.timestamp, "message": event.message, "ingestionTime": event.ingestion_time()}))
            .collect();
        Ok(json!({ "events": events, "nextForwardToken": forward_token, "nextBackwardToken": backward_token }))
    }

    fn filter_log_events(&self, request: FilterLogEventsRequest) -> Result<Json> {
        let group_name = group_name(&request.log_group_name, &request.log_group_identifier)?;
        if request.log_stream_names.is_some() && request.log_stream_name_prefix.is_some() {
            return Err(LogsError::InvalidParameter(
                "logStreamNames and logStreamNamePrefix are mutually exclusive".into(),
            ));
        }
        if request.log_stream_names.as_ref().is_some_and(|names| names.is_empty() || names.len() > 100) {
            return Err(LogsError::InvalidParameter("logStreamNames holds 1 to 100 names".into()));
        }
        let limit = limit(request.limit, MAX_EVENTS, MAX_EVENTS)?;
        let pattern = FilterPattern::parse(request.filter_pattern.as_deref().unwrap_or(""))
            .map_err(|err| LogsError::InvalidParameter(err.to_string()))?;
        let after = request
            .next_token
            .as_deref()
            .map(|token| {
                parse_key_token(token).filter(|(prefix, _)| *prefix == 'n').map(|(_, key)| key).ok_or_else(bad_token)
            })
            .transpose()?;
        let group = self.catalog.lock().group(group_name)?.clone();
        let query = EventQuery {
            group_name,
            group: &group,
            streams: request.log_stream_names.as_deref(),
            stream_prefix: request.log_stream_name_prefix.as_deref(),
            start_ms: request.start_time.unwrap_or(i64::MIN / 2),
            // FilterLogEvents' end time is inclusive.
            end_ms: request.end_time.map_or(i64::MAX / 2, |end| end.saturating_add(1)),
            now_ms: now_ms(),
        };
        let mut selection = Selection::new(limit, false);
        let searched = scan_events(self.store.as_ref(), &query, &mut |event| {
            if after.is_none_or(|key| event.key() > key) && pattern.matches(&event.message) {
                selection.push(event);
            }
            ControlFlow::Continue(())
        })?;
        let (mut events, mut more) = selection.finish();
        more |= trim_to_bytes(&mut events, true);
        let mut response = json!({
            "events": events.iter().map(|event| json!({
                "logStreamName": event.stream,
                "timestamp": event.timestamp,
                "message": event.message,
                "ingestionTime": event.ingestion_time(),
                "eventId": event.event_id(),
            })).collect::<Vec<_>>(),
            "searchedLogStreams": searched.iter().map(|name| json!({"logStreamName": name, "searchedCompletely": true})).collect::<Vec<_>>(),
        });
        if more && let Some(last) = events.last() {
            response["nextToken"] = json!(key_token('n', last.key()));
        }
        Ok(response)
    }

    /// The group (cloned) and its name, for Insights.
    pub(crate) fn group_snapshot(&self, name: &str) -> Result<LogGroup> {
        Ok(self.catalog.lock().group(name)?.clone())
    }
}

/// Keeps at most [`MAX_RESPONSE_BYTES`] of events, from the start (`forward`) or the end. True when
/// some were cut.
fn trim_to_bytes(events: &mut Vec<StoredEvent>, forward: bool) -> bool {
    let mut total = 0;
    let fits = |event: &StoredEvent, total: &mut usize| {
        *total += event.size();
        *total <= MAX_RESPONSE_BYTES
    };
    let keep = if forward {
        events.iter().take_while(|event| fits(event, &mut total)).count()
    } else {
        events.iter().rev().take_while(|event| fits(event, &mut total)).count()
    };
    let cut = keep < events.len();
    if forward {
        events.truncate(keep);
    } else {
        events.drain(..events.len() - keep);
    }
    cut
}

#[cfg(test)]
mod tests;
