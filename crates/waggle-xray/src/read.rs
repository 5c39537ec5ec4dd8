//! Traces back from the store, as the X-Ray reads need them: one version of each segment (a
//! complete segment replaces its in-progress version; an X-Ray row wins over an OTLP row of the
//! same span id, for services that export both), each span's service, and which spans are
//! segments (an X-Ray segment, or for OpenTelemetry spans: a root, a server or consumer span, or a
//! span whose parent is in another service).

use std::collections::HashMap;
use std::ops::ControlFlow;

use waggle_model::{Event, EventKind, SignalTable, SpanId, TraceId, Value, names as model_names};
use waggle_store::{ScanRequest, Store};

use crate::error::Result;
use crate::names;

/// A trace's spans may start this long before its first span, or end this long after the range.
const SLACK_NANOS: i64 = 10 * 60 * 1_000_000_000;

/// One span of a trace.
#[derive(Debug, Clone)]
pub(crate) struct Span {
    /// The stored row.
    pub event: Event,
    /// Its `exception` span events.
    pub exceptions: Vec<Event>,
    /// Its service: a segment's name, `service.name` of an OpenTelemetry span.
    pub service: String,
    /// True for segments (requests a service served); false for subsegments.
    pub segment: bool,
}

impl Span {
    pub fn id(&self) -> SpanId {
        self.event.span_id.unwrap_or_default()
    }

    pub fn is_xray(&self) -> bool {
        self.event.field(names::TYPE).is_some()
    }

    pub fn in_progress(&self) -> bool {
        matches!(self.event.field(names::IN_PROGRESS), Some(Value::Bool(true)))
    }

    pub fn start_seconds(&self) -> f64 {
        self.event.time_unix_nano as f64 / 1e9
    }

    pub fn end_seconds(&self) -> f64 {
        self.event.end_unix_nano() as f64 / 1e9
    }

    pub fn duration_seconds(&self) -> f64 {
        self.event.duration_nano as f64 / 1e9
    }

    fn bool_field(&self, key: &str) -> bool {
        matches!(self.event.field(key), Some(Value::Bool(true)))
    }

    /// The response status of the span's HTTP request.
    pub fn http_status(&self) -> Option<i64> {
        ["http.response.status_code", "http.status_code"].iter().find_map(|key| match self.event.field(key) {
            Some(Value::Int(status)) => Some(*status),
            Some(Value::Str(text)) => text.parse().ok(),
            _ => None,
        })
    }

    /// `(fault, error, throttle)`: X-Ray's flags, or for OpenTelemetry spans from the HTTP status
    /// (5xx fault, 4xx error, 429 throttle and error) and the span status (error: fault).
    pub fn flags(&self) -> (bool, bool, bool) {
        if self.is_xray() {
            return (self.bool_field(names::FAULT), self.bool_field(names::ERROR), self.bool_field(names::THROTTLE));
        }
        let status = self.http_status().unwrap_or(0);
        let throttle = status == 429;
        let error = (400..500).contains(&status);
        let fault = status >= 500 || (!error && self.event.is_error());
        (fault, error, throttle)
    }

    /// The first of `keys` that is a string field.
    pub fn text(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|key| self.event.field(key).and_then(Value::as_str))
    }

    pub fn http_method(&self) -> Option<&str> {
        self.text(&["http.request.method", "http.method"])
    }

    pub fn http_url(&self) -> Option<String> {
        if let Some(url) = self.text(&["url.full", "http.url"]) {
            return Some(url.to_owned());
        }
        let path = self.text(&["url.path", "http.target"])?;
        match (self.text(&["url.scheme", "http.scheme"]), self.text(&["server.address", "http.host"])) {
            (Some(scheme), Some(host)) => Some(format!("{scheme}://{host}{path}")),
            _ => Some(path.to_owned()),
        }
    }

    pub fn user_agent(&self) -> Option<&str> {
        self.text(&["user_agent.original", "http.user_agent"])
    }

    pub fn client_ip(&self) -> Option<&str> {
        self.text(&["client.address", "http.client_ip", "net.peer.ip"])
    }

    pub fn user(&self) -> Option<&str> {
        self.text(&[names::USER])
    }

    /// `annotation.*` fields, without the prefix.
    pub fn annotations(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.event
            .fields
            .iter()
            .filter_map(|field| field.key.strip_prefix(names::ANNOTATION_PREFIX).map(|key| (key, &field.value)))
    }

    /// The node type in the service graph: the segment's origin, or what OpenTelemetry's
    /// `cloud.platform` says.
    pub fn origin(&self) -> Option<String> {
        if let Some(origin) = self.text(&[names::ORIGIN]) {
            return Some(origin.to_owned());
        }
        let origin = match self.text(&["cloud.platform"])? {
            "aws_ec2" => "AWS::EC2::Instance",
            "aws_ecs" => "AWS::ECS::Container",
            "aws_eks" => "AWS::EKS::Container",
            "aws_lambda" => "AWS::Lambda::Function",
            "aws_elastic_beanstalk" => "AWS::ElasticBeanstalk::Environment",
            _ => return None,
        };
        Some(origin.to_owned())
    }

    /// True for spans calling out of their service: X-Ray's `aws` and `remote` subsegments,
    /// OpenTelemetry's client and producer spans.
    pub fn calls_out(&self) -> bool {
        match self.text(&[names::NAMESPACE]) {
            Some(namespace) => matches!(namespace, "aws" | "remote"),
            None => !self.is_xray() && matches!(self.event.str_field(model_names::SPAN_KIND), "client" | "producer"),
        }
    }
}

/// A trace: its spans by start time.
#[derive(Debug, Clone)]
pub(crate) struct Trace {
    pub id: TraceId,
    pub spans: Vec<Span>,
}

impl Trace {
    pub fn span(&self, id: SpanId) -> Option<&Span> {
        self.spans.iter().find(|span| span.id() == id)
    }

    pub fn start_seconds(&self) -> f64 {
        self.spans.iter().map(Span::start_seconds).fold(f64::INFINITY, f64::min)
    }

    pub fn end_seconds(&self) -> f64 {
        self.spans.iter().map(Span::end_seconds).fold(f64::NEG_INFINITY, f64::max)
    }

    /// Trace duration: first start to last end, in seconds.
    pub fn duration_seconds(&self) -> f64 {
        (self.end_seconds() - self.start_seconds()).max(0.0)
    }
}

/// One trace by id; `None` when no span has it.
pub(crate) fn load_trace(store: &dyn Store, id: TraceId) -> Result<Option<Trace>> {
    let request = ScanRequest { trace_id: Some(id), ..ScanRequest::all(SignalTable::Traces) };
    let mut rows = Vec::new();
    store.scan(&request, &mut |event| {
        rows.push(event);
        ControlFlow::Continue(())
    })?;
    Ok(assemble(id, rows))
}

/// Every trace whose first span starts in `[start, end)` (unix ns), oldest first.
pub(crate) fn load_traces(store: &dyn Store, start_unix_nano: i64, end_unix_nano: i64) -> Result<Vec<Trace>> {
    let request = ScanRequest {
        start_unix_nano: start_unix_nano.saturating_sub(SLACK_NANOS),
        end_unix_nano: end_unix_nano.saturating_add(SLACK_NANOS),
        ..ScanRequest::all(SignalTable::Traces)
    };
    let mut rows: HashMap<TraceId, Vec<Event>> = HashMap::new();
    store.scan(&request, &mut |event| {
        if let Some(trace_id) = event.trace_id {
            rows.entry(trace_id).or_default().push(event);
        }
        ControlFlow::Continue(())
    })?;
    let mut traces: Vec<Trace> = rows
        .into_iter()
        .filter_map(|(id, rows)| assemble(id, rows))
        .filter(|trace| {
            let start = trace.spans.first().map_or(i64::MIN, |span| span.event.time_unix_nano);
            (start_unix_nano..end_unix_nano).contains(&start)
        })
        .collect();
    traces.sort_by(|a, b| {
        let key = |trace: &Trace| (trace.spans[0].event.time_unix_nano, trace.id);
        key(a).cmp(&key(b))
    });
    Ok(traces)
}

/// Which of two rows of one span id is its latest version.
fn version_rank(event: &Event) -> (bool, bool, i64) {
    let complete = !matches!(event.field(names::IN_PROGRESS), Some(Value::Bool(true)));
    (complete, event.field(names::TYPE).is_some(), event.end_unix_nano())
}

/// Builds a trace from its rows; `None` when it has no span.
pub(crate) fn assemble(id: TraceId, rows: Vec<Event>) -> Option<Trace> {
    let mut latest: HashMap<SpanId, Event> = HashMap::new();
    let mut exceptions: HashMap<SpanId, Vec<Event>> = HashMap::new();
    for row in rows {
        match (row.kind, row.span_id, row.parent_id) {
            (EventKind::Span, Some(span_id), _) => match latest.get(&span_id) {
                Some(kept) if version_rank(kept) >= version_rank(&row) => {}
                _ => {
                    latest.insert(span_id, row);
                }
            },
            (EventKind::SpanEvent, _, Some(parent)) if row.name() == "exception" => {
                exceptions.entry(parent).or_default().push(row);
            }
            _ => {}
        }
    }
    if latest.is_empty() {
        return None;
    }
    let mut spans: Vec<Span> = latest
        .into_values()
        .map(|event| {
            let service = match event.str_field(model_names::SERVICE_NAME) {
                "" => event.dataset.clone(),
                name => name.to_owned(),
            };
            let mut exceptions = event.span_id.and_then(|id| exceptions.remove(&id)).unwrap_or_default();
            // Exceptions come with their span: those of an OTLP version beside the segment are the
            // same ones again, and a segment sent in progress and complete has them twice.
            exceptions.retain(|exception| exception.dataset == event.dataset);
            exceptions.sort_by_key(|exception| exception.time_unix_nano);
            exceptions.dedup_by(|a, b| a.fields == b.fields);
            Span { event, exceptions, service, segment: false }
        })
        .collect();
    spans.sort_by_key(|span| (span.event.time_unix_nano, span.id()));
    classify(&mut spans);
    Some(Trace { id, spans })
}

/// Sets each span's `segment` flag, and the service of X-Ray subsegments from their segment.
fn classify(spans: &mut [Span]) {
    let index: HashMap<SpanId, usize> =
        spans.iter().enumerate().map(|(position, span)| (span.id(), position)).collect();
    for position in 0..spans.len() {
        let span = &spans[position];
        let parent = span.event.parent_id.and_then(|parent| index.get(&parent)).map(|parent| &spans[*parent]);
        let segment = match span.event.str_field(names::TYPE) {
            "segment" => true,
            "subsegment" => false,
            _ => match parent {
                None => true,
                Some(parent) => {
                    matches!(span.event.str_field(model_names::SPAN_KIND), "server" | "consumer")
                        || parent.service != span.service
                }
            },
        };
        spans[position].segment = segment;
    }
    // X-Ray subsegments belong to the service of their nearest segment (one sent on its own may
    // have been stored before its segment was seen).
    for position in 0..spans.len() {
        if spans[position].segment || !spans[position].is_xray() {
            continue;
        }
        let mut current = spans[position].event.parent_id;
        let mut steps = 0;
        while let Some(parent) = current.and_then(|id| index.get(&id)).copied() {
            if spans[parent].segment {
                spans[position].service = spans[parent].service.clone();
                break;
            }
            current = spans[parent].event.parent_id;
            steps += 1;
            if steps > spans.len() {
                break;
            }
        }
    }
}

/// The segment a span belongs to: itself for a segment, else its nearest segment ancestor.
pub(crate) fn owning_segment(trace: &Trace, span: &Span) -> Option<SpanId> {
    let mut current = Some(span);
    let mut steps = 0;
    while let Some(span) = current {
        if span.segment {
            return Some(span.id());
        }
        current = span.event.parent_id.and_then(|parent| trace.span(parent));
        steps += 1;
        if steps > trace.spans.len() {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use waggle_model::{Field, Origin};

    use super::*;
    use crate::convert::{ConvertContext, document_to_events};

    /// Regression: a request Cruddur traced over OTLP and, under the same span id, to X-Ray reads
    /// back as the segment with its own exception, not also the OTLP span's.
    #[test]
    fn test_a_span_sent_both_ways_keeps_the_segment_and_its_exceptions_only() {
        let segment = json!({"id": "a000000000000001", "name": "backend-flask", "trace_id": "1-65000000-000000000000000000000001",
            "start_time": 1_700_000_000.0, "end_time": 1_700_000_000.5, "fault": true,
            "cause": {"exceptions": [{"id": "e000000000000001", "type": "UpstreamError", "message": "reset"}]}});
        let context = ConvertContext { access_key_id: None, service_of: &|_| None };
        let mut rows = document_to_events(&segment.to_string(), &context).unwrap().events;
        let (trace_id, span_id) = (rows[0].trace_id, rows[0].span_id);
        let otlp = |kind, span, parent, name: &str| Event {
            kind,
            dataset: "cruddur-backend".into(),
            time_unix_nano: 1_700_000_000_000_000_000,
            duration_nano: 500_000_000,
            trace_id,
            span_id: span,
            parent_id: parent,
            fields: vec![Field::new("name", name, Origin::Derived)],
        };
        rows.push(otlp(EventKind::Span, span_id, None, "GET /api/activities/home"));
        rows.push(otlp(EventKind::SpanEvent, None, span_id, "exception"));
        let trace = assemble(trace_id.unwrap(), rows).unwrap();
        assert_eq!(trace.spans.len(), 1);
        let span = &trace.spans[0];
        assert!(span.is_xray());
        let datasets: Vec<_> = span.exceptions.iter().map(|exception| exception.dataset.as_str()).collect();
        assert_eq!(datasets, ["backend-flask"]);
    }
}
