//! The operations against a real store in a temporary directory.

use std::sync::Arc;

use serde_json::{Value as Json, json};
use waggle_store::{DiskStore, StoreConfig};

use super::*;

struct Fixture {
    service: Arc<LogsService>,
    store: Arc<DiskStore>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = StoreConfig::new(dir.path());
        config.retention_max_age = std::time::Duration::from_secs(30 * 86_400);
        let store = Arc::new(DiskStore::open(config).unwrap());
        let service = Arc::new(LogsService::open(store.clone(), dir.path()).unwrap());
        Self { service, store, _dir: dir }
    }

    async fn call(&self, operation: &str, body: Json) -> Result<Json> {
        let context = CallContext { access_key_id: Some("AKIDEXAMPLE".into()), region: Some("eu-west-1".into()) };
        self.service.call(operation, body.to_string().as_bytes(), &context).await
    }

    async fn ok(&self, operation: &str, body: Json) -> Json {
        self.call(operation, body).await.unwrap_or_else(|err| panic!("{operation}: {err}"))
    }

    async fn setup(&self, group: &str, streams: &[&str]) {
        self.ok("CreateLogGroup", json!({"logGroupName": group})).await;
        for stream in streams {
            self.ok("CreateLogStream", json!({"logGroupName": group, "logStreamName": stream})).await;
        }
    }

    async fn put(&self, group: &str, stream: &str, events: &[(i64, &str)]) -> Json {
        let events: Vec<Json> =
            events.iter().map(|(timestamp, message)| json!({"timestamp": timestamp, "message": message})).collect();
        self.ok("PutLogEvents", json!({"logGroupName": group, "logStreamName": stream, "logEvents": events})).await
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.store.close();
    }
}

fn messages(response: &Json) -> Vec<String> {
    response["events"].as_array().unwrap().iter().map(|event| event["message"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn test_service_put_get_with_tokens() {
    let fixture = Fixture::new();
    fixture.setup("app", &["s1"]).await;
    let now = now_ms();
    let events: Vec<(i64, String)> = (0..5).map(|index| (now - 5000 + index * 1000, format!("line {index}"))).collect();
    let borrowed: Vec<(i64, &str)> = events.iter().map(|(time, text)| (*time, text.as_str())).collect();
    let put = fixture.put("app", "s1", &borrowed).await;
    assert!(put["nextSequenceToken"].is_string());
    assert!(put.get("rejectedLogEventsInfo").is_none());

    let all = fixture.ok("GetLogEvents", json!({"logGroupName": "app", "logStreamName": "s1"})).await;
    assert_eq!(messages(&all), ["line 0", "line 1", "line 2", "line 3", "line 4"]);
    // The default reads from the end; a backward token walks towards the head.
    let tail = fixture.ok("GetLogEvents", json!({"logGroupName": "app", "logStreamName": "s1", "limit": 2})).await;
    assert_eq!(messages(&tail), ["line 3", "line 4"]);
    let back = tail["nextBackwardToken"].clone();
    let before = fixture
        .ok("GetLogEvents", json!({"logGroupName": "app", "logStreamName": "s1", "limit": 2, "nextToken": back}))
        .await;
    assert_eq!(messages(&before), ["line 1", "line 2"]);
    let head = fixture
        .ok("GetLogEvents", json!({"logGroupName": "app", "logStreamName": "s1", "limit": 2, "startFromHead": true}))
        .await;
    assert_eq!(messages(&head), ["line 0", "line 1"]);
    let forward = head["nextForwardToken"].clone();
    let next = fixture
        .ok("GetLogEvents", json!({"logGroupName": "app", "logStreamName": "s1", "limit": 3, "nextToken": forward}))
        .await;
    assert_eq!(messages(&next), ["line 2", "line 3", "line 4"]);
    // At the end the forward token repeats: that is how clients know to stop.
    let end_token = next["nextForwardToken"].clone();
    let end = fixture
        .ok("GetLogEvents", json!({"logGroupName": "app", "logStreamName": "s1", "nextToken": end_token.clone()}))
        .await;
    assert!(messages(&end).is_empty());
    assert_eq!(end["nextForwardToken"], end_token);
    // Time range: start inclusive, end exclusive.
    let range = fixture
        .ok(
            "GetLogEvents",
            json!({"logGroupName": "app", "logStreamName": "s1", "startTime": now - 4000, "endTime": now - 2000}),
        )
        .await;
    assert_eq!(messages(&range), ["line 1", "line 2"]);
    let bad =
        fixture.call("GetLogEvents", json!({"logGroupName": "app", "logStreamName": "s1", "nextToken": "zzz"})).await;
    assert!(matches!(bad, Err(LogsError::InvalidParameter(_))));
}

#[tokio::test]
async fn test_service_resource_errors() {
    let fixture = Fixture::new();
    let put =
        json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": now_ms(), "message": "m"}]});
    let err = fixture.call("PutLogEvents", put.clone()).await.unwrap_err();
    assert_eq!(
        (err.type_name(), err.to_string().as_str()),
        ("ResourceNotFoundException", "The specified log group does not exist.")
    );
    fixture.setup("g", &[]).await;
    let err = fixture.call("PutLogEvents", put.clone()).await.unwrap_err();
    assert_eq!(err.to_string(), "The specified log stream does not exist.");
    let err = fixture.call("CreateLogGroup", json!({"logGroupName": "g"})).await.unwrap_err();
    assert_eq!(err.type_name(), "ResourceAlreadyExistsException");
    let err = fixture.call("CreateLogGroup", json!({"logGroupName": "bad name"})).await.unwrap_err();
    assert_eq!(err.type_name(), "InvalidParameterException");
    let err = fixture.call("CreateLogStream", json!({"logGroupName": "g", "logStreamName": "a:b"})).await.unwrap_err();
    assert_eq!(err.type_name(), "InvalidParameterException");
    let err = fixture.call("CreateLogStream", json!({"logGroupName": "nope", "logStreamName": "s"})).await.unwrap_err();
    assert_eq!(err.type_name(), "ResourceNotFoundException");
    let err = fixture.call("PutMetricFilter", json!({})).await.unwrap_err();
    assert_eq!(err.type_name(), "UnknownOperationException");
    let err = fixture.service.call("CreateLogGroup", b"{not json", &CallContext::default()).await.unwrap_err();
    assert_eq!(err.type_name(), "SerializationException");
    let err = fixture.call("PutRetentionPolicy", json!({"logGroupName": "g", "retentionInDays": 2})).await.unwrap_err();
    assert_eq!(err.type_name(), "InvalidParameterException");
}

#[tokio::test]
async fn test_service_rejections_and_stream_statistics() {
    let fixture = Fixture::new();
    fixture.setup("g", &["s"]).await;
    let now = now_ms();
    let day = 86_400_000;
    let put = fixture
        .put(
            "g",
            "s",
            &[
                (now - 14 * day - 7_200_000, "old"),
                (now - 14 * day - 7_199_999, "old too"),
                (now - 14 * day + 3_600_000, "kept"),
            ],
        )
        .await;
    assert_eq!(put["rejectedLogEventsInfo"], json!({"tooOldLogEventEndIndex": 2}));
    let put = fixture.put("g", "s", &[(now, "now"), (now + 3 * 3_600_000, "future")]).await;
    assert_eq!(put["rejectedLogEventsInfo"], json!({"tooNewLogEventStartIndex": 1}));
    let all =
        fixture.ok("GetLogEvents", json!({"logGroupName": "g", "logStreamName": "s", "startFromHead": true})).await;
    assert_eq!(messages(&all), ["kept", "now"]);
    let streams = fixture.ok("DescribeLogStreams", json!({"logGroupName": "g"})).await;
    let stream = &streams["logStreams"][0];
    assert_eq!(stream["logStreamName"], "s");
    assert_eq!(stream["firstEventTimestamp"], json!(now - 14 * day + 3_600_000));
    assert_eq!(stream["lastEventTimestamp"], json!(now));
    assert_eq!(stream["storedBytes"], json!(4 + 3 + 2 * 26));
    assert_eq!(stream["arn"], "arn:aws:logs:eu-west-1:000000000000:log-group:g:log-stream:s");
    // Retention: expired on the way in, hidden on the way out.
    fixture.ok("PutRetentionPolicy", json!({"logGroupName": "g", "retentionInDays": 1})).await;
    let all =
        fixture.ok("GetLogEvents", json!({"logGroupName": "g", "logStreamName": "s", "startFromHead": true})).await;
    assert_eq!(messages(&all), ["now"]);
    let put = fixture.put("g", "s", &[(now - day - 60_000, "expired"), (now - 3_600_000, "fresh")]).await;
    assert_eq!(put["rejectedLogEventsInfo"], json!({"expiredLogEventEndIndex": 1}));
    let groups = fixture.ok("DescribeLogGroups", json!({"logGroupNamePrefix": "g"})).await;
    assert_eq!(groups["logGroups"][0]["retentionInDays"], 1);
    fixture.ok("DeleteRetentionPolicy", json!({"logGroupName": "g"})).await;
    let all =
        fixture.ok("GetLogEvents", json!({"logGroupName": "g", "logStreamName": "s", "startFromHead": true})).await;
    assert_eq!(messages(&all), ["kept", "fresh", "now"]);
}

#[tokio::test]
async fn test_service_delete_hides_events_of_recreated_resources() {
    let fixture = Fixture::new();
    fixture.setup("g", &["s", "t"]).await;
    let now = now_ms();
    fixture.put("g", "s", &[(now, "first life")]).await;
    fixture.put("g", "t", &[(now, "other stream")]).await;
    fixture.ok("DeleteLogStream", json!({"logGroupName": "g", "logStreamName": "s"})).await;
    let err = fixture.call("GetLogEvents", json!({"logGroupName": "g", "logStreamName": "s"})).await.unwrap_err();
    assert_eq!(err.type_name(), "ResourceNotFoundException");
    fixture.ok("CreateLogStream", json!({"logGroupName": "g", "logStreamName": "s"})).await;
    let again = fixture.ok("GetLogEvents", json!({"logGroupName": "g", "logStreamName": "s"})).await;
    assert!(messages(&again).is_empty());
    let filtered = fixture.ok("FilterLogEvents", json!({"logGroupName": "g"})).await;
    assert_eq!(messages(&filtered), ["other stream"]);
    fixture.ok("DeleteLogGroup", json!({"logGroupName": "g"})).await;
    fixture.setup("g", &["t"]).await;
    let filtered = fixture.ok("FilterLogEvents", json!({"logGroupName": "g"})).await;
    assert!(messages(&filtered).is_empty());
    let err = fixture.call("DeleteLogGroup", json!({"logGroupName": "nope"})).await.unwrap_err();
    assert_eq!(err.type_name(), "ResourceNotFoundException");
}

#[tokio::test]
async fn test_service_filter_patterns_and_pages() {
    let fixture = Fixture::new();
    fixture.setup("g", &["a", "b"]).await;
    let now = now_ms();
    fixture
        .put(
            "g",
            "a",
            &[(now - 3, r#"{"level":"ERROR","latency":150}"#), (now - 2, "ERROR disk full"), (now - 1, "INFO ok")],
        )
        .await;
    fixture.put("g", "b", &[(now - 2, r#"{"level":"INFO","latency":20}"#), (now, "WARN slow")]).await;
    let filter = |pattern: &str| json!({"logGroupName": "g", "filterPattern": pattern});
    assert_eq!(messages(&fixture.ok("FilterLogEvents", filter("ERROR")).await).len(), 2);
    let either = messages(&fixture.ok("FilterLogEvents", filter("?WARN ?INFO")).await);
    assert_eq!(either, [r#"{"level":"INFO","latency":20}"#, "INFO ok", "WARN slow"]);
    assert_eq!(
        messages(&fixture.ok("FilterLogEvents", filter(r#"{ $.level = "ERROR" && $.latency > 100 }"#)).await),
        [r#"{"level":"ERROR","latency":150}"#]
    );
    assert_eq!(messages(&fixture.ok("FilterLogEvents", filter("[level = ERROR, ...]")).await), ["ERROR disk full"]);
    let delimited = messages(&fixture.ok("FilterLogEvents", filter("[level = INFO || level = WARN, state]")).await);
    assert_eq!(delimited, ["INFO ok", "WARN slow"]);
    let by_stream = fixture.ok("FilterLogEvents", json!({"logGroupName": "g", "logStreamNames": ["b"]})).await;
    assert_eq!(by_stream["events"][0]["logStreamName"], "b");
    assert_eq!(by_stream["searchedLogStreams"], json!([{"logStreamName": "b", "searchedCompletely": true}]));
    let err = fixture.call("FilterLogEvents", filter("{ $.level = ")).await.unwrap_err();
    assert_eq!(err.type_name(), "InvalidParameterException");
    // Pages of two, until no token.
    let mut seen = Vec::new();
    let mut token: Option<Json> = None;
    loop {
        let mut request = json!({"logGroupName": "g", "limit": 2});
        if let Some(token) = token.take() {
            request["nextToken"] = token;
        }
        let page = fixture.ok("FilterLogEvents", request).await;
        seen.extend(messages(&page));
        match page.get("nextToken") {
            Some(next) => token = Some(next.clone()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    assert_eq!(seen[4], "WARN slow");
}

#[tokio::test]
async fn test_service_events_link_to_traces_and_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let trace = "5b8efff798038103d269b633813fc60c";
    {
        let store = Arc::new(DiskStore::open(StoreConfig::new(dir.path())).unwrap());
        let service = Arc::new(LogsService::open(store.clone(), dir.path()).unwrap());
        let context = CallContext::default();
        for (operation, body) in [
            ("CreateLogGroup", json!({"logGroupName": "cruddur"})),
            ("CreateLogStream", json!({"logGroupName": "cruddur", "logStreamName": "s"})),
            (
                "PutLogEvents",
                json!({"logGroupName": "cruddur", "logStreamName": "s",
                       "logEvents": [{"timestamp": now_ms(), "message": format!("{{\"trace_id\":\"{trace}\",\"level\":\"INFO\"}}")}]}),
            ),
        ] {
            service.call(operation, body.to_string().as_bytes(), &context).await.unwrap();
        }
        store.close();
    }
    let store = Arc::new(DiskStore::open(StoreConfig::new(dir.path())).unwrap());
    let trace_view =
        waggle_query::get_trace(store.as_ref(), waggle_model::TraceId::from_hex(trace).unwrap()).unwrap().unwrap();
    assert_eq!(trace_view.logs.len(), 1);
    assert_eq!(trace_view.logs[0].dataset, "cruddur");
    assert_eq!(trace_view.logs[0].severity_text, "INFO");
    let service = Arc::new(LogsService::open(store.clone(), dir.path()).unwrap());
    let got = service
        .call(
            "GetLogEvents",
            json!({"logGroupName": "cruddur", "logStreamName": "s"}).to_string().as_bytes(),
            &CallContext::default(),
        )
        .await
        .unwrap();
    assert_eq!(got["events"].as_array().unwrap().len(), 1);
    store.close();
}

#[tokio::test]
async fn test_service_describe_pages() {
    let fixture = Fixture::new();
    for name in ["a1", "a2", "a3", "b1"] {
        fixture.setup(name, &[]).await;
    }
    let first = fixture.ok("DescribeLogGroups", json!({"logGroupNamePrefix": "a", "limit": 2})).await;
    let names: Vec<&str> =
        first["logGroups"].as_array().unwrap().iter().map(|group| group["logGroupName"].as_str().unwrap()).collect();
    assert_eq!(names, ["a1", "a2"]);
    let second = fixture
        .ok("DescribeLogGroups", json!({"logGroupNamePrefix": "a", "limit": 2, "nextToken": first["nextToken"]}))
        .await;
    assert_eq!(second["logGroups"][0]["logGroupName"], "a3");
    assert!(second.get("nextToken").is_none());
    let pattern = fixture.ok("DescribeLogGroups", json!({"logGroupNamePattern": "B"})).await;
    assert_eq!(pattern["logGroups"][0]["logGroupName"], "b1");
    for stream in ["x", "y", "z"] {
        fixture.ok("CreateLogStream", json!({"logGroupName": "a1", "logStreamName": stream})).await;
    }
    let now = now_ms();
    fixture.put("a1", "x", &[(now, "late")]).await;
    fixture.put("a1", "z", &[(now - 10, "early")]).await;
    let by_time = fixture
        .ok("DescribeLogStreams", json!({"logGroupName": "a1", "orderBy": "LastEventTime", "descending": true}))
        .await;
    let order: Vec<&str> =
        by_time["logStreams"].as_array().unwrap().iter().map(|s| s["logStreamName"].as_str().unwrap()).collect();
    assert_eq!(order, ["x", "z", "y"]);
    let page = fixture.ok("DescribeLogStreams", json!({"logGroupName": "a1", "limit": 2})).await;
    let rest = fixture
        .ok("DescribeLogStreams", json!({"logGroupName": "a1", "limit": 2, "nextToken": page["nextToken"]}))
        .await;
    assert_eq!(rest["logStreams"][0]["logStreamName"], "z");
}

/// Every operation, fed arbitrary bytes or JSON of the wrong shapes: never a panic, never a 5xx,
/// and the service keeps answering afterwards.
#[test]
fn test_service_survives_arbitrary_request_bodies() {
    use proptest::prelude::*;

    const OPERATIONS: [&str; 16] = [
        "CreateLogGroup",
        "CreateLogStream",
        "DeleteLogGroup",
        "DeleteLogStream",
        "PutRetentionPolicy",
        "DeleteRetentionPolicy",
        "DescribeLogGroups",
        "DescribeLogStreams",
        "ListTagsLogGroup",
        "PutLogEvents",
        "GetLogEvents",
        "FilterLogEvents",
        "StartQuery",
        "GetQueryResults",
        "StopQuery",
        "NoSuchOperation",
    ];
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let fixture = Fixture::new();
    runtime.block_on(fixture.setup("g", &["s"]));
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        "[a-z/{}$. =\"]{0,12}".prop_map(Json::from),
        Just(json!("g")),
        Just(json!("s")),
    ];
    let value = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Json::from),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("logGroupName".to_owned()),
                        Just("logStreamName".to_owned()),
                        Just("logEvents".to_owned()),
                        Just("timestamp".to_owned()),
                        Just("message".to_owned()),
                        Just("filterPattern".to_owned()),
                        Just("nextToken".to_owned()),
                        Just("limit".to_owned()),
                        Just("queryString".to_owned()),
                        Just("startTime".to_owned()),
                        Just("endTime".to_owned()),
                        Just("retentionInDays".to_owned()),
                    ],
                    inner,
                ),
                0..5,
            )
            .prop_map(|entries| Json::Object(entries.into_iter().collect())),
        ]
    });
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        value.prop_map(|value| value.to_string().into_bytes()),
    ];
    let context = CallContext { access_key_id: None, region: None };
    proptest!(ProptestConfig::with_cases(600), |(operation in 0..OPERATIONS.len(), body in body)| {
        let answer = runtime.block_on(fixture.service.call(OPERATIONS[operation], &body, &context));
        if let Err(err) = answer {
            prop_assert!(err.status() < 500, "{} answered {}: {err}", OPERATIONS[operation], err.status());
        }
    });
    let described = runtime.block_on(fixture.ok("DescribeLogGroups", json!({})));
    assert!(described["logGroups"].is_array(), "{described}");
}
