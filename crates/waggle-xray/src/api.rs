//! The X-Ray operations, request JSON in and response JSON out, as botocore shapes them. The
//! HTTP layer (waggle-server) maps paths to [`Operation`]s, errors to status codes, and waits for
//! PutTraceSegments' batch to be durable.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde_json::{Value as Json, json};
use waggle_model::{Batch, SpanId};
use waggle_store::Store;

use crate::config::{ARN_PREFIX, GroupRecord, XrayConfig, check_filter};
use crate::convert::{ConvertContext, document_to_events};
use crate::error::{Result, XrayError};
use crate::filter::{self, Expr, GroupFilters};
use crate::graph::TraceGraph;
use crate::ids::{format_trace_id, parse_trace_id};
use crate::read::{load_trace, load_traces};
use crate::sampling::SamplingState;
use crate::{documents, service_graph, summaries};

/// Trace summaries per page of GetTraceSummaries.
const SUMMARIES_PAGE: usize = 100;
/// Remembered segment ids (for subsegments sent on their own); forgotten all at once beyond.
const MAX_REMEMBERED_SEGMENTS: usize = 100_000;
/// At most this many statistics documents per GetSamplingTargets call.
const MAX_STATISTICS_DOCUMENTS: usize = 25;

/// The X-Ray API operations waggle serves, each `POST <path>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `POST /TraceSegments`.
    PutTraceSegments,
    /// `POST /TraceSummaries`.
    GetTraceSummaries,
    /// `POST /Traces`.
    BatchGetTraces,
    /// `POST /TraceGraph`.
    GetTraceGraph,
    /// `POST /ServiceGraph`.
    GetServiceGraph,
    /// `POST /CreateGroup`.
    CreateGroup,
    /// `POST /GetGroup`.
    GetGroup,
    /// `POST /Groups`.
    GetGroups,
    /// `POST /UpdateGroup`.
    UpdateGroup,
    /// `POST /DeleteGroup`.
    DeleteGroup,
    /// `POST /CreateSamplingRule`.
    CreateSamplingRule,
    /// `POST /GetSamplingRules`.
    GetSamplingRules,
    /// `POST /UpdateSamplingRule`.
    UpdateSamplingRule,
    /// `POST /DeleteSamplingRule`.
    DeleteSamplingRule,
    /// `POST /SamplingTargets`.
    GetSamplingTargets,
    /// `POST /SamplingStatisticSummaries`.
    GetSamplingStatisticSummaries,
    /// `POST /TelemetryRecords`.
    PutTelemetryRecords,
}

impl Operation {
    /// Every operation with its path.
    pub const ALL: [(Operation, &'static str); 17] = [
        (Self::PutTraceSegments, "/TraceSegments"),
        (Self::GetTraceSummaries, "/TraceSummaries"),
        (Self::BatchGetTraces, "/Traces"),
        (Self::GetTraceGraph, "/TraceGraph"),
        (Self::GetServiceGraph, "/ServiceGraph"),
        (Self::CreateGroup, "/CreateGroup"),
        (Self::GetGroup, "/GetGroup"),
        (Self::GetGroups, "/Groups"),
        (Self::UpdateGroup, "/UpdateGroup"),
        (Self::DeleteGroup, "/DeleteGroup"),
        (Self::CreateSamplingRule, "/CreateSamplingRule"),
        (Self::GetSamplingRules, "/GetSamplingRules"),
        (Self::UpdateSamplingRule, "/UpdateSamplingRule"),
        (Self::DeleteSamplingRule, "/DeleteSamplingRule"),
        (Self::GetSamplingTargets, "/SamplingTargets"),
        (Self::GetSamplingStatisticSummaries, "/SamplingStatisticSummaries"),
        (Self::PutTelemetryRecords, "/TelemetryRecords"),
    ];
}

/// Counters of the daemon and the API, for logs.
#[derive(Debug, Default)]
pub struct XrayCounters {
    /// UDP datagrams received.
    pub datagrams: AtomicU64,
    /// Datagrams dropped: bad header, not a valid segment document.
    pub malformed: AtomicU64,
    /// Segment documents stored.
    pub documents: AtomicU64,
    /// Telemetry records received (PutTelemetryRecords).
    pub telemetry_records: AtomicU64,
}

/// X-Ray over one store: the operations, groups, sampling rules and targets.
pub struct Xray {
    store: Arc<dyn Store>,
    config: Mutex<XrayConfig>,
    sampling: Mutex<SamplingState>,
    /// Segment id -> service, for subsegments sent on their own.
    segment_services: Mutex<HashMap<SpanId, String>>,
    /// Counters.
    pub counters: XrayCounters,
}

/// Seconds since the epoch.
pub fn now_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

fn required_f64(body: &Json, key: &str) -> Result<f64> {
    body.get(key).and_then(Json::as_f64).ok_or_else(|| XrayError::invalid(format!("{key} is required (epoch seconds)")))
}

fn optional_str<'a>(body: &'a Json, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Json::as_str)
}

/// Offset of a page token this server gave out.
fn page_offset(body: &Json) -> Result<usize> {
    match optional_str(body, "NextToken") {
        None | Some("") => Ok(0),
        Some(token) => token
            .strip_prefix("waggle-")
            .and_then(|offset| offset.parse().ok())
            .ok_or_else(|| XrayError::invalid(format!("NextToken {token:?} is not one this server gave out"))),
    }
}

fn trace_ids(body: &Json) -> Result<Vec<String>> {
    let ids =
        body.get("TraceIds").and_then(Json::as_array).ok_or_else(|| XrayError::invalid("TraceIds is required"))?;
    Ok(ids.iter().filter_map(Json::as_str).map(str::to_owned).collect())
}

impl Xray {
    /// X-Ray over `store`, with groups and rules in `<data_dir>/xray.json`.
    pub fn open(store: Arc<dyn Store>, data_dir: &std::path::Path) -> Result<Self> {
        Ok(Self::with_config(store, XrayConfig::open(data_dir, now_seconds())?))
    }

    /// Groups and rules in memory only (tests).
    pub fn in_memory(store: Arc<dyn Store>) -> Self {
        Self::with_config(store, XrayConfig::in_memory(now_seconds()))
    }

    fn with_config(store: Arc<dyn Store>, config: XrayConfig) -> Self {
        Self {
            store,
            config: Mutex::new(config),
            sampling: Mutex::new(SamplingState::default()),
            segment_services: Mutex::new(HashMap::new()),
            counters: XrayCounters::default(),
        }
    }

    /// The store X-Ray writes to and reads from.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Converts segment documents. Returns the rows to store and, per refused document,
    /// `{"Id", "ErrorCode", "Message"}` (PutTraceSegments' UnprocessedTraceSegments).
    pub fn convert_documents<'a>(
        &self,
        documents: impl IntoIterator<Item = &'a str>,
        access_key_id: Option<&str>,
    ) -> (Batch, Vec<Json>) {
        let mut batch = Batch::default();
        let mut unprocessed = Vec::new();
        for text in documents {
            let service_of = |id: SpanId| self.segment_services.lock().get(&id).cloned();
            match document_to_events(text, &ConvertContext { access_key_id, service_of: &service_of }) {
                Ok(converted) => {
                    let mut services = self.segment_services.lock();
                    if services.len() >= MAX_REMEMBERED_SEGMENTS {
                        services.clear();
                    }
                    for event in converted.events.iter().filter(|event| event.kind == waggle_model::EventKind::Span) {
                        if let Some(id) = event.span_id {
                            services.insert(id, event.dataset.clone());
                        }
                    }
                    batch.events.extend(converted.events);
                    self.counters.documents.fetch_add(1, Ordering::Relaxed);
                }
                Err(err) => {
                    unprocessed.push(json!({"Id": err.id, "ErrorCode": "InvalidSegment", "Message": err.message}));
                }
            }
        }
        (batch, unprocessed)
    }

    /// PutTraceSegments: the rows to append and the response to send once they are durable.
    pub fn put_trace_segments(&self, body: &Json, access_key_id: Option<&str>) -> Result<(Batch, Json)> {
        let documents = body
            .get("TraceSegmentDocuments")
            .and_then(Json::as_array)
            .ok_or_else(|| XrayError::invalid("TraceSegmentDocuments is required (a list of JSON strings)"))?;
        let texts: Vec<&str> = documents.iter().filter_map(Json::as_str).collect();
        if texts.len() != documents.len() {
            return Err(XrayError::invalid("TraceSegmentDocuments must be strings (each a JSON segment document)"));
        }
        let (batch, unprocessed) = self.convert_documents(texts, access_key_id);
        Ok((batch, json!({ "UnprocessedTraceSegments": unprocessed })))
    }

    /// Runs an operation other than PutTraceSegments (blocking: it may read the store).
    pub fn call(&self, operation: Operation, body: &Json) -> Result<Json> {
        let now = now_seconds();
        match operation {
            Operation::PutTraceSegments => {
                Err(XrayError::Internal("PutTraceSegments goes through put_trace_segments".into()))
            }
            Operation::GetTraceSummaries => self.trace_summaries(body, now),
            Operation::BatchGetTraces => self.batch_get_traces(body),
            Operation::GetTraceGraph => self.trace_graph(body),
            Operation::GetServiceGraph => self.service_graph(body),
            Operation::CreateGroup => self.create_group(body, now),
            Operation::GetGroup => {
                let group =
                    self.config.lock().group(optional_str(body, "GroupName"), optional_str(body, "GroupARN"))?;
                Ok(json!({ "Group": group.to_json() }))
            }
            Operation::GetGroups => {
                page_offset(body)?;
                let groups: Vec<Json> = self.config.lock().groups().iter().map(GroupRecord::to_json).collect();
                Ok(json!({ "Groups": groups }))
            }
            Operation::UpdateGroup => self.update_group(body),
            Operation::DeleteGroup => {
                self.config.lock().delete_group(optional_str(body, "GroupName"), optional_str(body, "GroupARN"))?;
                Ok(json!({}))
            }
            Operation::CreateSamplingRule => {
                let rule = body.get("SamplingRule").and_then(Json::as_object).cloned();
                let rule = rule.ok_or_else(|| XrayError::invalid("SamplingRule is required"))?;
                let record = self.config.lock().create_rule(rule, now)?;
                Ok(json!({ "SamplingRuleRecord": record.to_json() }))
            }
            Operation::GetSamplingRules => {
                page_offset(body)?;
                let records: Vec<Json> = self.config.lock().rules().iter().map(|rule| rule.to_json()).collect();
                Ok(json!({ "SamplingRuleRecords": records }))
            }
            Operation::UpdateSamplingRule => {
                let update = body.get("SamplingRuleUpdate").and_then(Json::as_object);
                let update = update.ok_or_else(|| XrayError::invalid("SamplingRuleUpdate is required"))?;
                let record = self.config.lock().update_rule(update, now)?;
                Ok(json!({ "SamplingRuleRecord": record.to_json() }))
            }
            Operation::DeleteSamplingRule => {
                let record =
                    self.config.lock().delete_rule(optional_str(body, "RuleName"), optional_str(body, "RuleARN"))?;
                Ok(json!({ "SamplingRuleRecord": record.to_json() }))
            }
            Operation::GetSamplingTargets => self.sampling_targets(body, now),
            Operation::GetSamplingStatisticSummaries => {
                let summaries: Vec<Json> = self
                    .sampling
                    .lock()
                    .statistics
                    .iter()
                    .map(|(rule, statistics)| {
                        json!({"RuleName": rule, "Timestamp": statistics.last_report, "RequestCount": statistics.request_count,
                               "BorrowCount": statistics.borrow_count, "SampledCount": statistics.sampled_count})
                    })
                    .collect();
                Ok(json!({ "SamplingStatisticSummaries": summaries }))
            }
            Operation::PutTelemetryRecords => {
                let records = body.get("TelemetryRecords").and_then(Json::as_array);
                let records = records.ok_or_else(|| XrayError::invalid("TelemetryRecords is required"))?;
                self.counters.telemetry_records.fetch_add(records.len() as u64, Ordering::Relaxed);
                Ok(json!({}))
            }
        }
    }

    /// The filters of every group, by name and by ARN.
    fn group_filters(&self) -> Result<GroupFilters> {
        let mut filters = GroupFilters::default();
        for group in self.config.lock().groups() {
            let parsed = match &group.filter_expression {
                Some(expression) => Some(filter::parse(expression).map_err(|err| {
                    XrayError::invalid(format!("the filter expression of group {} is invalid: {err}", group.name))
                })?),
                None => None,
            };
            filters.filters.insert(group.arn.clone(), parsed.clone());
            filters.filters.insert(group.name.clone(), parsed);
        }
        Ok(filters)
    }

    fn parse_filter(&self, expression: &str, groups: &GroupFilters) -> Result<Expr> {
        let expr =
            filter::parse(expression).map_err(|err| XrayError::invalid(format!("invalid filter expression: {err}")))?;
        for group in expr.group_refs() {
            if !groups.filters.contains_key(group) {
                return Err(XrayError::invalid(format!("invalid filter expression: group {group:?} does not exist")));
            }
        }
        Ok(expr)
    }

    fn time_range(body: &Json) -> Result<(f64, f64)> {
        let (start, end) = (required_f64(body, "StartTime")?, required_f64(body, "EndTime")?);
        if end <= start {
            return Err(XrayError::invalid("EndTime must be after StartTime"));
        }
        Ok((start, end))
    }

    fn trace_summaries(&self, body: &Json, now: f64) -> Result<Json> {
        let (start, end) = Self::time_range(body)?;
        if let Some(kind) =
            optional_str(body, "TimeRangeType").filter(|kind| !matches!(*kind, "TraceId" | "Event" | "Service"))
        {
            return Err(XrayError::invalid(format!("TimeRangeType {kind:?} is not TraceId, Event or Service")));
        }
        let offset = page_offset(body)?;
        let groups = self.group_filters()?;
        let filter = match optional_str(body, "FilterExpression").filter(|text| !text.trim().is_empty()) {
            Some(expression) => Some(self.parse_filter(expression, &groups)?),
            None => None,
        };
        let traces = load_traces(self.store.as_ref(), (start * 1e9) as i64, (end * 1e9) as i64)?;
        let processed = traces.len();
        let mut summaries: Vec<Json> = traces
            .iter()
            .map(TraceGraph::new)
            .filter(|graph| filter.as_ref().is_none_or(|filter| filter::matches(filter, graph, &groups)))
            .map(|graph| summaries::trace_summary(&graph))
            .collect();
        // Newest first, as the console lists them.
        summaries.reverse();
        let page: Vec<Json> = summaries.iter().skip(offset).take(SUMMARIES_PAGE).cloned().collect();
        let mut response = json!({
            "TraceSummaries": page,
            "ApproximateTime": end.min(now).floor(),
            "TracesProcessedCount": processed,
        });
        if offset + SUMMARIES_PAGE < summaries.len() {
            response["NextToken"] = Json::from(format!("waggle-{}", offset + SUMMARIES_PAGE));
        }
        Ok(response)
    }

    fn batch_get_traces(&self, body: &Json) -> Result<Json> {
        page_offset(body)?;
        let mut traces = Vec::new();
        let mut unprocessed = Vec::new();
        for id in trace_ids(body)? {
            let trace = match parse_trace_id(&id) {
                Ok(trace_id) => load_trace(self.store.as_ref(), trace_id)?,
                Err(_) => None,
            };
            match trace {
                Some(trace) => traces.push(json!({
                    "Id": format_trace_id(trace.id),
                    "Duration": summaries::round_micros(trace.duration_seconds()),
                    "LimitExceeded": false,
                    "Segments": documents::trace_segments(&trace),
                })),
                None => unprocessed.push(Json::from(id)),
            }
        }
        Ok(json!({ "Traces": traces, "UnprocessedTraceIds": unprocessed }))
    }

    fn trace_graph(&self, body: &Json) -> Result<Json> {
        page_offset(body)?;
        let mut traces = Vec::new();
        for id in trace_ids(body)? {
            let trace_id = parse_trace_id(&id).map_err(XrayError::invalid)?;
            traces.extend(load_trace(self.store.as_ref(), trace_id)?);
        }
        let graphs: Vec<TraceGraph<'_>> = traces.iter().map(TraceGraph::new).collect();
        Ok(json!({ "Services": service_graph::services(&graphs) }))
    }

    fn service_graph(&self, body: &Json) -> Result<Json> {
        let (start, end) = Self::time_range(body)?;
        page_offset(body)?;
        let groups = self.group_filters()?;
        let group_filter = match (optional_str(body, "GroupName"), optional_str(body, "GroupARN")) {
            (None, None) => None,
            (name, arn) => self.config.lock().group(name, arn)?.filter_expression,
        };
        let filter = group_filter.map(|expression| self.parse_filter(&expression, &groups)).transpose()?;
        let traces = load_traces(self.store.as_ref(), (start * 1e9) as i64, (end * 1e9) as i64)?;
        let graphs: Vec<TraceGraph<'_>> = traces
            .iter()
            .map(TraceGraph::new)
            .filter(|graph| filter.as_ref().is_none_or(|filter| filter::matches(filter, graph, &groups)))
            .collect();
        Ok(json!({
            "StartTime": start,
            "EndTime": end,
            "Services": service_graph::services(&graphs),
            "ContainsOldGroupVersions": false,
        }))
    }

    fn insights(body: &Json) -> (bool, bool) {
        let insights = body.get("InsightsConfiguration");
        let flag = |key: &str| insights.and_then(|insights| insights.get(key)).and_then(Json::as_bool).unwrap_or(false);
        (flag("InsightsEnabled"), flag("NotificationsEnabled"))
    }

    fn create_group(&self, body: &Json, now: f64) -> Result<Json> {
        let name = optional_str(body, "GroupName").ok_or_else(|| XrayError::invalid("GroupName is required"))?;
        let filter_expression = optional_str(body, "FilterExpression").map(str::to_owned);
        if let Some(expression) = &filter_expression {
            check_filter(expression)?;
        }
        let (insights_enabled, notifications_enabled) = Self::insights(body);
        let group = GroupRecord {
            name: name.to_owned(),
            arn: format!("{ARN_PREFIX}:group/{name}/{:X}", (now * 1e6) as u64),
            filter_expression,
            insights_enabled,
            notifications_enabled,
        };
        let group = self.config.lock().create_group(group)?;
        Ok(json!({ "Group": group.to_json() }))
    }

    fn update_group(&self, body: &Json) -> Result<Json> {
        let filter_expression = optional_str(body, "FilterExpression").map(str::to_owned);
        if let Some(expression) = &filter_expression {
            check_filter(expression)?;
        }
        let insights = body.get("InsightsConfiguration").is_some().then(|| Self::insights(body));
        let group = self.config.lock().update_group(
            optional_str(body, "GroupName"),
            optional_str(body, "GroupARN"),
            |group| {
                if let Some(expression) = filter_expression {
                    group.filter_expression = Some(expression);
                }
                if let Some((insights, notifications)) = insights {
                    group.insights_enabled = insights;
                    group.notifications_enabled = notifications;
                }
            },
        )?;
        Ok(json!({ "Group": group.to_json() }))
    }

    fn sampling_targets(&self, body: &Json, now: f64) -> Result<Json> {
        let documents = body.get("SamplingStatisticsDocuments").and_then(Json::as_array);
        let documents = documents.ok_or_else(|| XrayError::invalid("SamplingStatisticsDocuments is required"))?;
        if documents.len() > MAX_STATISTICS_DOCUMENTS {
            return Err(XrayError::invalid(format!("at most {MAX_STATISTICS_DOCUMENTS} SamplingStatisticsDocuments")));
        }
        let (rules, last_modification) = {
            let config = self.config.lock();
            (config.rules(), config.last_rule_modification())
        };
        let (targets, unprocessed) = self.sampling.lock().targets(&rules, documents, now);
        Ok(json!({
            "SamplingTargetDocuments": targets,
            "LastRuleModification": last_modification.floor(),
            "UnprocessedStatistics": unprocessed,
        }))
    }
}

#[cfg(test)]
mod tests;
