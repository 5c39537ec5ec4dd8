//! The operations over a real DiskStore: segments in, summaries, traces and graphs out; groups
//! and rules kept across a restart; sampling targets.

use std::sync::Arc;

use serde_json::{Value as Json, json};
use waggle_store::{DiskStore, Store, StoreConfig};

use super::*;

const T0: f64 = 1_700_000_000.0;

fn open_store(dir: &std::path::Path) -> Arc<dyn Store> {
    let mut config = StoreConfig::new(dir);
    config.retention_max_age = std::time::Duration::from_secs(u32::MAX as u64);
    Arc::new(DiskStore::open(config).unwrap())
}

fn put(xray: &Xray, documents: &[Json]) -> Json {
    let texts: Vec<Json> = documents.iter().map(|document| Json::from(document.to_string())).collect();
    let (batch, response) = xray.put_trace_segments(&json!({"TraceSegmentDocuments": texts}), Some("AKID")).unwrap();
    if !batch.is_empty() {
        xray.store().append(batch).unwrap().wait_blocking().unwrap();
    }
    response
}

fn segment(trace: u8, id: u64, name: &str, start: f64, end: Option<f64>, extra: Json) -> Json {
    let mut document = json!({"id": format!("{id:016x}"), "name": name, "trace_id": format!("1-65000000-{trace:024x}"),
                              "start_time": start});
    match end {
        Some(end) => document["end_time"] = json!(end),
        None => document["in_progress"] = json!(true),
    }
    for (key, value) in extra.as_object().unwrap() {
        document[key] = value.clone();
    }
    document
}

fn range() -> Json {
    json!({"StartTime": T0 - 60.0, "EndTime": T0 + 60.0})
}

#[test]
fn test_segments_in_summaries_traces_and_graphs_out() {
    let dir = tempfile::tempdir().unwrap();
    let xray = Xray::open(open_store(dir.path()), dir.path()).unwrap();
    // Trace 1: in progress first, then complete (with a subsegment sent on its own in between).
    put(&xray, &[segment(1, 1, "Cruddur", T0, None, json!({"annotations": {"version": "early"}}))]);
    let loose = json!({"type": "subsegment", "id": format!("{:016x}", 2), "name": "mock-data", "parent_id": format!("{:016x}", 1),
                       "trace_id": "1-65000000-000000000000000000000001", "start_time": T0 + 0.1, "end_time": T0 + 0.2,
                       "metadata": {"default": {"results-size": 3}}});
    put(&xray, &[loose]);
    let complete = segment(
        1,
        1,
        "Cruddur",
        T0,
        Some(T0 + 0.5),
        json!({
        "http": {"request": {"method": "GET", "url": "http://localhost/api/activities/home"}, "response": {"status": 200}},
        "annotations": {"version": "final"},
        "subsegments": [{"id": format!("{:016x}", 3), "name": "backend-api", "start_time": T0 + 0.2, "end_time": T0 + 0.4, "namespace": "remote"}]}),
    );
    put(&xray, &[complete]);
    // backend-api's own segment, a child of Cruddur's remote subsegment: an edge.
    put(
        &xray,
        &[segment(
            1,
            4,
            "backend-api",
            T0 + 0.25,
            Some(T0 + 0.35),
            json!({"parent_id": format!("{:016x}", 3), "fault": true}),
        )],
    );
    // Trace 2: a 404 somewhere else.
    put(
        &xray,
        &[segment(
            2,
            5,
            "Cruddur",
            T0 + 10.0,
            Some(T0 + 10.1),
            json!({"error": true, "http": {"response": {"status": 404}}}),
        )],
    );

    let all = xray.call(Operation::GetTraceSummaries, &range()).unwrap();
    let summaries = all["TraceSummaries"].as_array().unwrap();
    assert_eq!(summaries.len(), 2);
    assert_eq!(summaries[0]["Id"], "1-65000000-000000000000000000000002", "newest first");
    let first = &summaries[1];
    assert_eq!(first["Duration"], 0.5);
    assert_eq!(first["ResponseTime"], 0.5);
    assert_eq!(first["HasFault"], true);
    assert_eq!(first["IsPartial"], false, "the complete segment replaced the in-progress one");
    assert_eq!(first["Annotations"]["version"][0]["AnnotationValue"]["StringValue"], "final");
    assert_eq!(first["Http"]["HttpStatus"], 200);
    assert_eq!(first["EntryPoint"]["Name"], "Cruddur");

    let filtered = |expression: &str| {
        let mut body = range();
        body["FilterExpression"] = json!(expression);
        let response = xray.call(Operation::GetTraceSummaries, &body).unwrap();
        response["TraceSummaries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|summary| summary["Id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(filtered("service(\"backend-api\") { fault }"), ["1-65000000-000000000000000000000001"]);
    assert_eq!(filtered("http.status = 404"), ["1-65000000-000000000000000000000002"]);
    assert_eq!(filtered("annotation.version = \"early\""), Vec::<String>::new());
    let err = xray.call(
        Operation::GetTraceSummaries,
        &json!({"StartTime": T0, "EndTime": T0 + 1.0, "FilterExpression": "rootcause.fault.service {}"}),
    );
    assert!(matches!(err, Err(XrayError::InvalidRequest(message)) if message.contains("rootcause")));

    let traces = xray
        .call(
            Operation::BatchGetTraces,
            &json!({"TraceIds": ["1-65000000-000000000000000000000001", "1-65000000-0000000000000000000000ff"]}),
        )
        .unwrap();
    assert_eq!(traces["UnprocessedTraceIds"], json!(["1-65000000-0000000000000000000000ff"]));
    let segments = traces["Traces"][0]["Segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2, "{segments:?}");
    let cruddur: Json = serde_json::from_str(segments[0]["Document"].as_str().unwrap()).unwrap();
    assert_eq!(cruddur["annotations"]["version"], "final");
    let names: Vec<&str> =
        cruddur["subsegments"].as_array().unwrap().iter().map(|sub| sub["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["backend-api", "mock-data"], "the loose subsegment is put back under its segment");

    let graph = xray.call(Operation::GetServiceGraph, &range()).unwrap();
    let services = graph["Services"].as_array().unwrap();
    let cruddur = services.iter().find(|service| service["Name"] == "Cruddur").unwrap();
    let backend = services.iter().find(|service| service["Name"] == "backend-api").unwrap();
    assert_eq!(cruddur["Root"], true);
    assert_eq!(cruddur["SummaryStatistics"]["TotalCount"], 2);
    assert_eq!(cruddur["SummaryStatistics"]["OkCount"], 1);
    assert_eq!(cruddur["SummaryStatistics"]["ErrorStatistics"]["OtherCount"], 1);
    assert_eq!(cruddur["Edges"][0]["ReferenceId"], backend["ReferenceId"]);
    assert_eq!(cruddur["Edges"][0]["SummaryStatistics"]["FaultStatistics"]["TotalCount"], 1);
    assert_eq!(backend["ResponseTimeHistogram"], json!([{"Value": 0.1, "Count": 1}]));
    let trace_graph =
        xray.call(Operation::GetTraceGraph, &json!({"TraceIds": ["1-65000000-000000000000000000000002"]})).unwrap();
    assert_eq!(trace_graph["Services"].as_array().unwrap().len(), 1);

    // A group's filter applies when the service graph names it.
    xray.call(
        Operation::CreateGroup,
        &json!({"GroupName": "Faults", "FilterExpression": "fault OR service() { fault }"}),
    )
    .unwrap();
    let mut body = range();
    body["GroupName"] = json!("Faults");
    let faults = xray.call(Operation::GetServiceGraph, &body).unwrap();
    let cruddur =
        faults["Services"].as_array().unwrap().iter().find(|service| service["Name"] == "Cruddur").cloned().unwrap();
    assert_eq!(cruddur["SummaryStatistics"]["TotalCount"], 1);
    assert_eq!(filtered("group.name = \"Faults\""), ["1-65000000-000000000000000000000001"]);
}

#[test]
fn test_groups_and_rules_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    {
        let xray = Xray::open(store.clone(), dir.path()).unwrap();
        let created = xray
            .call(Operation::CreateGroup, &json!({"GroupName": "Cruddur", "FilterExpression": "service(\"Cruddur\")"}))
            .unwrap();
        assert!(created["Group"]["GroupARN"].as_str().unwrap().starts_with("arn:aws:xray:"));
        let duplicate = xray.call(Operation::CreateGroup, &json!({"GroupName": "Cruddur"}));
        assert!(matches!(duplicate, Err(XrayError::InvalidRequest(_))));
        let bad = xray.call(Operation::CreateGroup, &json!({"GroupName": "Bad", "FilterExpression": "bogus = 1"}));
        assert!(matches!(bad, Err(XrayError::InvalidRequest(message)) if message.contains("bogus")));
        xray.call(
            Operation::UpdateGroup,
            &json!({"GroupName": "Cruddur", "FilterExpression": "service(\"Cruddur\") { fault }"}),
        )
        .unwrap();
        let rule = json!({"SamplingRule": {"RuleName": "Cruddur", "ResourceARN": "*", "Priority": 9000, "FixedRate": 0.1,
                          "ReservoirSize": 5, "ServiceName": "Cruddur", "ServiceType": "*", "Host": "*", "HTTPMethod": "*",
                          "URLPath": "*", "Version": 1}});
        let record = xray.call(Operation::CreateSamplingRule, &rule).unwrap();
        assert_eq!(
            record["SamplingRuleRecord"]["SamplingRule"]["RuleARN"],
            "arn:aws:xray:us-east-1:000000000000:sampling-rule/Cruddur"
        );
        let invalid =
            xray.call(Operation::CreateSamplingRule, &json!({"SamplingRule": {"RuleName": "x", "FixedRate": 2}}));
        assert!(matches!(invalid, Err(XrayError::InvalidRequest(_))));
        xray.call(
            Operation::UpdateSamplingRule,
            &json!({"SamplingRuleUpdate": {"RuleName": "Cruddur", "FixedRate": 0.2}}),
        )
        .unwrap();
    }
    let xray = Xray::open(store, dir.path()).unwrap();
    let group = xray.call(Operation::GetGroup, &json!({"GroupName": "Cruddur"})).unwrap();
    assert_eq!(group["Group"]["FilterExpression"], "service(\"Cruddur\") { fault }");
    let groups = xray.call(Operation::GetGroups, &json!({})).unwrap();
    assert_eq!(groups["Groups"][0]["GroupName"], "Default");
    let rules = xray.call(Operation::GetSamplingRules, &json!({})).unwrap();
    let rules = rules["SamplingRuleRecords"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0]["SamplingRule"]["FixedRate"], 0.2);
    assert_eq!(rules[1]["SamplingRule"]["RuleName"], "Default");
    let targets = xray
        .call(Operation::GetSamplingTargets, &json!({"SamplingStatisticsDocuments": [
            {"RuleName": "Cruddur", "ClientID": "a".repeat(24), "Timestamp": T0, "RequestCount": 4, "SampledCount": 2, "BorrowCount": 0}]}))
        .unwrap();
    assert_eq!(targets["SamplingTargetDocuments"][0]["ReservoirQuota"], 5);
    assert!(targets["LastRuleModification"].as_f64().unwrap() > 0.0);
    let summaries = xray.call(Operation::GetSamplingStatisticSummaries, &json!({})).unwrap();
    assert_eq!(summaries["SamplingStatisticSummaries"][0]["RequestCount"], 4);
    assert!(matches!(
        xray.call(Operation::DeleteSamplingRule, &json!({"RuleName": "Default"})),
        Err(XrayError::InvalidRequest(_))
    ));
    xray.call(Operation::DeleteSamplingRule, &json!({"RuleName": "Cruddur"})).unwrap();
    xray.call(Operation::DeleteGroup, &json!({"GroupName": "Cruddur"})).unwrap();
    assert!(matches!(xray.call(Operation::GetGroup, &json!({"GroupName": "Cruddur"})), Err(XrayError::NotFound(_))));
}

#[test]
fn test_summaries_paginate_with_next_token() {
    let dir = tempfile::tempdir().unwrap();
    let xray = Xray::in_memory(open_store(dir.path()));
    let documents: Vec<Json> = (1..=150u8)
        .map(|n| segment(n, u64::from(n), "s", T0 + f64::from(n), Some(T0 + f64::from(n) + 0.1), json!({})))
        .collect();
    put(&xray, &documents);
    let mut body = json!({"StartTime": T0, "EndTime": T0 + 1000.0});
    let first = xray.call(Operation::GetTraceSummaries, &body).unwrap();
    assert_eq!(first["TraceSummaries"].as_array().unwrap().len(), 100);
    body["NextToken"] = first["NextToken"].clone();
    let second = xray.call(Operation::GetTraceSummaries, &body).unwrap();
    assert_eq!(second["TraceSummaries"].as_array().unwrap().len(), 50);
    assert!(second.get("NextToken").is_none());
    body["NextToken"] = json!("forged");
    assert!(matches!(xray.call(Operation::GetTraceSummaries, &body), Err(XrayError::InvalidRequest(_))));
}
