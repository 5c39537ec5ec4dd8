//! GetServiceGraph and GetTraceGraph: the nodes and edges of many traces, with their statistics
//! and response-time histograms.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::graph::{Call, NodeId, TraceGraph};
use crate::summaries::{round_micros, service_id};

/// Counts and response times of calls.
#[derive(Debug, Default)]
struct Statistics {
    ok: u64,
    error_other: u64,
    throttle: u64,
    fault: u64,
    total: u64,
    total_response_time: f64,
    /// Response time in milliseconds -> count.
    histogram: BTreeMap<i64, u64>,
    start: f64,
    end: f64,
}

impl Statistics {
    fn add(&mut self, call: &Call<'_>) {
        let (fault, error, throttle) = call.flags();
        if fault {
            self.fault += 1;
        } else if throttle {
            self.throttle += 1;
        } else if error {
            self.error_other += 1;
        } else {
            self.ok += 1;
        }
        let duration = call.span.duration_seconds();
        self.total += 1;
        self.total_response_time += duration;
        *self.histogram.entry((duration * 1000.0).round() as i64).or_default() += 1;
        let (start, end) = (call.span.start_seconds(), call.span.end_seconds());
        if self.total == 1 || start < self.start {
            self.start = start;
        }
        self.end = self.end.max(end);
    }

    fn summary(&self) -> Json {
        json!({
            "OkCount": self.ok,
            "ErrorStatistics": {"ThrottleCount": self.throttle, "OtherCount": self.error_other,
                                "TotalCount": self.throttle + self.error_other},
            "FaultStatistics": {"OtherCount": self.fault, "TotalCount": self.fault},
            "TotalCount": self.total,
            "TotalResponseTime": round_micros(self.total_response_time),
        })
    }

    fn histogram(&self) -> Json {
        Json::Array(
            self.histogram
                .iter()
                .map(|(millis, count)| json!({"Value": *millis as f64 / 1000.0, "Count": count}))
                .collect(),
        )
    }
}

#[derive(Debug, Default)]
struct Node {
    calls: Statistics,
    root: bool,
    edges: BTreeMap<NodeId, Statistics>,
}

/// The `Services` of a graph over `graphs`.
pub(crate) fn services(graphs: &[TraceGraph<'_>]) -> Vec<Json> {
    let mut nodes: BTreeMap<NodeId, Node> = BTreeMap::new();
    for graph in graphs {
        for (position, call) in graph.calls.iter().enumerate() {
            let node = nodes.entry(call.node.clone()).or_default();
            node.calls.add(call);
            node.root |= graph.entry == Some(position);
            if let Some(caller) = &call.caller {
                nodes.entry(caller.clone()).or_default().edges.entry(call.node.clone()).or_default().add(call);
            }
        }
    }
    let references: BTreeMap<&NodeId, usize> = nodes.keys().enumerate().map(|(index, node)| (node, index)).collect();
    nodes
        .iter()
        .map(|(id, node)| {
            let edges: Vec<Json> = node
                .edges
                .iter()
                .map(|(target, statistics)| {
                    json!({
                        "ReferenceId": references[target],
                        "StartTime": statistics.start,
                        "EndTime": statistics.end,
                        "SummaryStatistics": statistics.summary(),
                        "ResponseTimeHistogram": statistics.histogram(),
                        "Aliases": [],
                        "EdgeType": "REQUEST",
                    })
                })
                .collect();
            let mut service = service_id(id);
            let service_map = service.as_object_mut().expect("service ids are objects");
            service_map.insert("ReferenceId".into(), Json::from(references[id]));
            service_map.insert("Root".into(), Json::from(node.root));
            service_map.insert("State".into(), Json::from("active"));
            service_map.insert("StartTime".into(), Json::from(node.calls.start));
            service_map.insert("EndTime".into(), Json::from(node.calls.end));
            service_map.insert("Edges".into(), Json::Array(edges));
            service_map.insert("SummaryStatistics".into(), node.calls.summary());
            service_map.insert("DurationHistogram".into(), node.calls.histogram());
            service_map.insert("ResponseTimeHistogram".into(), node.calls.histogram());
            service
        })
        .collect()
}
