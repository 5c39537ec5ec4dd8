//! The service graph of one trace: which nodes served which calls, and who called whom.
//!
//! A node is X-Ray's (name, type): a segment's service and origin, or an inferred node for a call
//! out of a service that nothing downstream reported (an `aws` or `remote` subsegment, an
//! OpenTelemetry client span without a child in another service). Every segment is a call of its
//! node; a call's caller is the node of the segment its parent belongs to (the edge's source).

use std::collections::{BTreeSet, HashMap};

use waggle_model::SpanId;

use crate::names;
use crate::read::{Span, Trace, owning_segment};

/// A node of the service graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NodeId {
    /// The service name.
    pub name: String,
    /// X-Ray's type (`AWS::EC2::Instance`, `remote`, ...), when known.
    pub kind: Option<String>,
}

/// One request a node served.
#[derive(Debug)]
pub(crate) struct Call<'t> {
    pub node: NodeId,
    /// The segment (or, for an inferred node, the subsegment that called it).
    pub span: &'t Span,
    /// The call's spans: the segment and its subsegments.
    pub spans: Vec<&'t Span>,
    pub inferred: bool,
    /// The calling node, when another node made the call.
    pub caller: Option<NodeId>,
}

impl Call<'_> {
    /// `(fault, error, throttle)` of the call.
    pub fn flags(&self) -> (bool, bool, bool) {
        self.span.flags()
    }
}

/// The nodes and calls of one trace.
#[derive(Debug)]
pub(crate) struct TraceGraph<'t> {
    pub trace: &'t Trace,
    pub calls: Vec<Call<'t>>,
    /// The entry point: the call of the trace's root segment.
    pub entry: Option<usize>,
}

impl<'t> TraceGraph<'t> {
    pub fn new(trace: &'t Trace) -> Self {
        let mut calls = Vec::new();
        let mut segment_nodes: HashMap<SpanId, NodeId> = HashMap::new();
        for span in trace.spans.iter().filter(|span| span.segment) {
            segment_nodes.insert(span.id(), NodeId { name: span.service.clone(), kind: span.origin() });
        }
        let mut members: HashMap<SpanId, Vec<&Span>> = HashMap::new();
        for span in &trace.spans {
            if let Some(segment) = owning_segment(trace, span) {
                members.entry(segment).or_default().push(span);
            }
        }
        let caller_of = |span: &Span| -> Option<NodeId> {
            let parent = trace.span(span.event.parent_id?)?;
            segment_nodes.get(&owning_segment(trace, parent)?).cloned()
        };
        let mut entry = None;
        for span in trace.spans.iter().filter(|span| span.segment) {
            let node = segment_nodes[&span.id()].clone();
            let caller = caller_of(span).filter(|caller| *caller != node);
            let is_root = span.event.parent_id.and_then(|parent| trace.span(parent)).is_none();
            if is_root && entry.is_none() {
                entry = Some(calls.len());
            }
            let inferred = matches!(span.event.field(names::INFERRED), Some(waggle_model::Value::Bool(true)));
            let spans = members.remove(&span.id()).unwrap_or_default();
            calls.push(Call { node, span, spans, inferred, caller });
        }
        let has_child_segment: BTreeSet<SpanId> =
            trace.spans.iter().filter(|span| span.segment).filter_map(|span| span.event.parent_id).collect();
        for span in trace.spans.iter().filter(|span| !span.segment && span.calls_out()) {
            if has_child_segment.contains(&span.id()) {
                continue;
            }
            let Some(caller) = owning_segment(trace, span).and_then(|segment| segment_nodes.get(&segment)) else {
                continue;
            };
            let node = inferred_node(span);
            calls.push(Call { node, span, spans: vec![span], inferred: true, caller: Some(caller.clone()) });
        }
        Self { trace, calls, entry }
    }

    pub fn entry_node(&self) -> Option<&NodeId> {
        self.entry.map(|entry| &self.calls[entry].node)
    }

    /// True when `node` called another node in this trace.
    pub fn calls_others(&self, node: &NodeId) -> bool {
        self.calls.iter().any(|call| call.caller.as_ref() == Some(node))
    }

    /// Every node, sorted.
    pub fn nodes(&self) -> BTreeSet<&NodeId> {
        self.calls.iter().map(|call| &call.node).collect()
    }
}

/// The node a call out of a service goes to when nothing downstream reported it.
fn inferred_node(span: &Span) -> NodeId {
    if span.is_xray() {
        let kind = if span.event.field("db.query.text").is_some() || span.event.field("db.system").is_some() {
            "Database::SQL".to_owned()
        } else if span.text(&[names::NAMESPACE]) == Some("aws") {
            format!("AWS::{}", span.event.name())
        } else {
            "remote".to_owned()
        };
        return NodeId { name: span.event.name().to_owned(), kind: Some(kind) };
    }
    let name = span
        .text(&["peer.service", "server.address", "net.peer.name", "db.namespace", "db.name", "db.system"])
        .unwrap_or_else(|| span.event.name())
        .to_owned();
    let kind = if span.text(&["rpc.system"]) == Some("aws-api") {
        format!("AWS::{}", span.text(&["rpc.service"]).unwrap_or("Service"))
    } else if span.event.field("db.system").is_some() {
        "Database::SQL".to_owned()
    } else {
        "remote".to_owned()
    };
    NodeId { name, kind: Some(kind) }
}
