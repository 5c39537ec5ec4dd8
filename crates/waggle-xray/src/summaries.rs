//! TraceSummary, as GetTraceSummaries returns it, from a trace's service graph.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use waggle_model::Value;

use crate::graph::{NodeId, TraceGraph};
use crate::ids::format_trace_id;
use crate::read::Span;

/// X-Ray's ServiceId of a node.
pub(crate) fn service_id(node: &NodeId) -> Json {
    let mut id = json!({"Name": node.name, "Names": [node.name]});
    if let Some(kind) = &node.kind {
        id["Type"] = Json::from(kind.as_str());
    }
    id
}

fn annotation_value(value: &Value) -> Option<Json> {
    Some(match value {
        Value::Bool(flag) => json!({"BooleanValue": flag}),
        Value::Int(_) | Value::Float(_) => json!({"NumberValue": value.as_f64()?}),
        Value::Str(text) => json!({"StringValue": text}),
        _ => return None,
    })
}

/// The response's `Http` of a span.
fn http(span: &Span) -> Json {
    let mut http = serde_json::Map::new();
    let mut put = |key: &str, value: Option<Json>| {
        if let Some(value) = value {
            http.insert(key.to_owned(), value);
        }
    };
    put("HttpURL", span.http_url().map(Json::from));
    put("HttpStatus", span.http_status().map(Json::from));
    put("HttpMethod", span.http_method().map(Json::from));
    put("UserAgent", span.user_agent().map(Json::from));
    put("ClientIp", span.client_ip().map(Json::from));
    Json::Object(http)
}

/// One TraceSummary.
pub(crate) fn trace_summary(graph: &TraceGraph<'_>) -> Json {
    let trace = graph.trace;
    let entry = graph.entry.map(|entry| &graph.calls[entry]);
    let (mut has_fault, mut has_error, mut has_throttle) = (false, false, false);
    for span in &trace.spans {
        let (fault, error, throttle) = span.flags();
        has_fault |= fault;
        has_error |= error;
        has_throttle |= throttle;
    }
    // The node of every span: its call's node.
    let mut node_of_span = BTreeMap::new();
    for call in &graph.calls {
        for span in &call.spans {
            node_of_span.entry(span.id()).or_insert(&call.node);
        }
    }
    let mut annotations: BTreeMap<String, Vec<(Json, Vec<&NodeId>)>> = BTreeMap::new();
    let mut users: BTreeMap<String, Vec<&NodeId>> = BTreeMap::new();
    let (mut zones, mut instances, mut arns) = (Vec::new(), Vec::new(), Vec::new());
    for span in &trace.spans {
        let node = node_of_span.get(&span.id()).copied();
        for (key, value) in span.annotations() {
            let Some(value) = annotation_value(value) else { continue };
            let values = annotations.entry(key.to_owned()).or_default();
            match values.iter_mut().find(|(existing, _)| *existing == value) {
                Some((_, nodes)) => nodes.extend(node),
                None => values.push((value, node.into_iter().collect())),
            }
        }
        if let Some(user) = span.user() {
            users.entry(user.to_owned()).or_default().extend(node);
        }
        for (key, out, member) in [
            ("cloud.availability_zone", &mut zones, "Name"),
            ("host.id", &mut instances, "Id"),
            ("cloud.resource_id", &mut arns, "ARN"),
        ] {
            if let Some(value) = span.text(&[key]) {
                let item = json!({ member: value });
                if !out.contains(&item) {
                    out.push(item);
                }
            }
        }
    }
    let service_ids = |nodes: &[&NodeId]| {
        let mut nodes: Vec<&NodeId> = nodes.to_vec();
        nodes.sort();
        nodes.dedup();
        Json::Array(nodes.into_iter().map(service_id).collect())
    };
    let annotations: serde_json::Map<String, Json> = annotations
        .into_iter()
        .map(|(key, values)| {
            let values = values
                .into_iter()
                .map(|(value, nodes)| json!({"AnnotationValue": value, "ServiceIds": service_ids(&nodes)}))
                .collect();
            (key, Json::Array(values))
        })
        .collect();
    let users: Vec<Json> =
        users.into_iter().map(|(user, nodes)| json!({"UserName": user, "ServiceIds": service_ids(&nodes)})).collect();
    let nodes: Vec<&NodeId> = graph.nodes().into_iter().collect();
    let start = trace.start_seconds();
    let mut summary = json!({
        "Id": format_trace_id(trace.id),
        "StartTime": start,
        "Duration": round_micros(trace.duration_seconds()),
        "HasFault": has_fault,
        "HasError": has_error,
        "HasThrottle": has_throttle,
        "IsPartial": trace.spans.iter().any(Span::in_progress),
        "Annotations": annotations,
        "Users": users,
        "ServiceIds": service_ids(&nodes),
        "ResourceARNs": arns,
        "InstanceIds": instances,
        "AvailabilityZones": zones,
        "FaultRootCauses": [],
        "ErrorRootCauses": [],
        "ResponseTimeRootCauses": [],
        "Revision": 1,
        "MatchedEventTime": start,
    });
    if let Some(entry) = entry {
        summary["ResponseTime"] = Json::from(round_micros(entry.span.duration_seconds()));
        summary["Http"] = http(entry.span);
        summary["EntryPoint"] = service_id(&entry.node);
    }
    summary
}

/// Seconds rounded to the microsecond, as X-Ray shows durations.
pub(crate) fn round_micros(seconds: f64) -> f64 {
    (seconds * 1e6).round() / 1e6
}
