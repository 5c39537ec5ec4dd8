//! The operations against a real store in a temporary directory.

use std::sync::Arc;

use serde_json::{Value as Json, json};
use waggle_store::{DiskStore, StoreConfig};

use super::*;

fn exception(class: &str, line: u64, trace_id: Option<&str>) -> Json {
    let mut item = json!({"data": {"environment": "production", "level": "error", "platform": "linux",
        "person": {"id": "42"}, "timestamp": now_seconds(),
        "body": {"trace": {"frames": [{"filename": "/app/app.py", "lineno": line, "method": "home"}],
                           "exception": {"class": class, "message": format!("failed at {line}")}}}}});
    if let Some(trace_id) = trace_id {
        item["data"]["request"] =
            json!({"url": "http://x/api", "headers": {"traceparent": format!("00-{trace_id}-eee19b7ec3c1b174-01")}});
    }
    item
}

async fn post(service: &RollbarService, token: &str, item: &Json) -> Result<Json> {
    service.post_item(item.to_string().as_bytes(), false, Some(token)).await
}

#[tokio::test]
async fn test_rollbar_groups_counts_and_reactivates() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DiskStore::open(StoreConfig::new(dir.path())).unwrap());
    let service = RollbarService::open(store.clone(), dir.path()).unwrap();
    let token = service.tokens()[0].access_token.clone();
    assert_eq!(token.len(), 32);
    let trace = "5b8efff798038103d269b633813fc60c";
    let answer = post(&service, &token, &exception("ValueError", 10, Some(trace))).await.unwrap();
    assert_eq!(answer["err"], 0);
    assert!(answer["result"]["id"].is_null() && answer["result"]["uuid"].is_string());
    post(&service, &token, &exception("ValueError", 20, None)).await.unwrap();
    post(&service, &token, &exception("KeyError", 10, None)).await.unwrap();

    let items = service.list_items(Some(&token), &ItemFilters::default()).unwrap();
    let listed = items["result"]["items"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    let value_error = listed.iter().find(|item| item["exception_class"] == "ValueError").unwrap();
    assert_eq!(value_error["total_occurrences"], 2);
    assert_eq!(value_error["title"], "ValueError: failed at 10");
    let id = value_error["id"].as_u64().unwrap();
    let instances = service.instances(Some(&token), id, None).unwrap();
    assert_eq!(instances["result"]["instances"].as_array().unwrap().len(), 2);
    assert_eq!(instances["result"]["instances"][0]["data"]["body"]["trace"]["frames"][0]["lineno"], 20);

    let trace_view = waggle_query_get(store.as_ref(), trace);
    assert_eq!(trace_view, 1, "the occurrence with a traceparent is in its trace");

    service.patch_item(Some(&token), id, br#"{"status": "resolved"}"#).unwrap();
    let resolved = ItemFilters { status: Some("resolved".into()), ..Default::default() };
    assert_eq!(service.list_items(Some(&token), &resolved).unwrap()["result"]["total_count"], 1);
    post(&service, &token, &exception("ValueError", 30, None)).await.unwrap();
    assert_eq!(service.get_item(Some(&token), id).unwrap()["result"]["status"], "active");
    service.patch_item(Some(&token), id, br#"{"status": "muted"}"#).unwrap();
    post(&service, &token, &exception("ValueError", 31, None)).await.unwrap();
    assert_eq!(service.get_item(Some(&token), id).unwrap()["result"]["status"], "muted", "muted stays muted");
    store.close();
    drop(service);
    drop(store);

    // The state survives a restart.
    let store = Arc::new(DiskStore::open(StoreConfig::new(dir.path())).unwrap());
    let service = RollbarService::open(store.clone(), dir.path()).unwrap();
    assert_eq!(service.tokens()[0].access_token, token);
    assert_eq!(service.get_item(Some(&token), id).unwrap()["result"]["total_occurrences"], 4);
    store.close();
}

#[tokio::test]
async fn test_top_active_items_counts_per_hour() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DiskStore::open(StoreConfig::new(dir.path())).unwrap());
    let service = RollbarService::in_memory(store.clone());
    let token = service.tokens()[0].access_token.clone();
    for line in [1, 2, 3] {
        post(&service, &token, &exception("ValueError", line, None)).await.unwrap();
    }
    post(&service, &token, &exception("KeyError", 1, None)).await.unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64 + 1_000_000_000;
    let report = service.top_active_items(Some(&token), &TopActiveParams::default(), now).unwrap();
    let rows = report["result"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["item"]["exception_class"], "ValueError", "most occurrences first");
    assert_eq!(rows[0]["item"]["occurrences"], 3);
    let counts = rows[0]["counts"].as_array().unwrap();
    assert_eq!(counts.len(), 24);
    assert_eq!(counts[23], 3, "this hour is the last bucket: {counts:?}");

    // A window that ends before the occurrences counts none of them.
    let earlier = service.top_active_items(Some(&token), &TopActiveParams::default(), now - 7_200_000_000_000).unwrap();
    assert_eq!(earlier["result"].as_array().unwrap().len(), 0);
    let staging = TopActiveParams { hours: Some(2), environments: Some("staging".into()) };
    assert_eq!(service.top_active_items(Some(&token), &staging, now).unwrap()["result"], json!([]));
    let bad = TopActiveParams { hours: Some(0), ..Default::default() };
    assert_eq!(service.top_active_items(Some(&token), &bad, now).unwrap_err().status(), 400);
    assert_eq!(service.top_active_items(None, &TopActiveParams::default(), now).unwrap_err().status(), 403);
    store.close();
}

fn waggle_query_get(store: &dyn Store, trace: &str) -> usize {
    let request =
        ScanRequest { trace_id: Some(TraceId::from_hex(trace).unwrap()), ..ScanRequest::all(SignalTable::Logs) };
    let mut count = 0;
    store
        .scan(&request, &mut |_| {
            count += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
    count
}

#[tokio::test]
async fn test_rollbar_tokens_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DiskStore::open(StoreConfig::new(dir.path())).unwrap());
    let service = RollbarService::in_memory(store.clone());
    let token = service.tokens()[0].access_token.clone();
    let err = post(&service, "nope", &exception("E", 1, None)).await.unwrap_err();
    assert_eq!((err.status(), err.to_string()), (403, "access token not found: nope".to_owned()));
    let err = service.post_item(exception("E", 1, None).to_string().as_bytes(), false, None).await.unwrap_err();
    assert_eq!(err.status(), 403);
    service.project.lock().state.tokens[0].scopes = vec!["post_client_item".into()];
    let err = post(&service, &token, &exception("E", 1, None)).await.unwrap_err();
    assert!(err.to_string().starts_with("insufficient privileges: post_server_item scope is required"), "{err}");
    let mut browser = exception("E", 1, None);
    browser["data"]["platform"] = json!("browser");
    post(&service, &token, &browser).await.unwrap();
    assert_eq!(service.list_items(Some(&token), &ItemFilters::default()).unwrap_err().status(), 403);
    service.project.lock().state.tokens[0].scopes = vec!["read".into()];
    assert_eq!(service.get_item(Some(&token), 999).unwrap_err().status(), 404);
    assert_eq!(service.patch_item(Some(&token), 1, b"{}").unwrap_err().status(), 403);
    store.close();
}

#[test]
fn test_trace_ids_from_custom_and_headers() {
    let trace = "5b8efff798038103d269b633813fc60c";
    let custom = json!({"custom": {"trace_id": trace, "span_id": "eee19b7ec3c1b174"}});
    let (trace_id, span_id) = trace_ids(custom.as_object().unwrap());
    assert_eq!(
        (trace_id.unwrap().to_hex(), span_id.unwrap().to_hex()),
        (trace.to_owned(), "eee19b7ec3c1b174".to_owned())
    );
    let amzn =
        json!({"request": {"headers": {"X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}}});
    assert_eq!(trace_ids(amzn.as_object().unwrap()).0.unwrap().to_hex(), "5759e988bd862e3fe1be46a994272793");
    assert_eq!(trace_ids(json!({}).as_object().unwrap()), (None, None));
}

#[tokio::test]
async fn test_rollbar_instances_of_a_trace_and_console_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DiskStore::open(StoreConfig::new(dir.path())).unwrap());
    let service = RollbarService::in_memory(store.clone());
    let token = service.tokens()[0].access_token.clone();
    assert_eq!(service.console_token().unwrap().access_token, token);
    let trace = "5b8efff798038103d269b633813fc60c";
    let other = "0af7651916cd43dd8448eb211c80319c";
    post(&service, &token, &exception("ValueError", 10, Some(trace))).await.unwrap();
    post(&service, &token, &exception("KeyError", 11, Some(trace))).await.unwrap();
    post(&service, &token, &exception("ValueError", 12, Some(other))).await.unwrap();
    post(&service, &token, &exception("ValueError", 13, None)).await.unwrap();

    let answer = service.trace_instances(Some(&token), &trace.to_uppercase()).unwrap();
    assert_eq!(answer["result"]["trace_id"], trace);
    let instances = answer["result"]["instances"].as_array().unwrap();
    let classes: Vec<&str> =
        instances.iter().map(|i| i["data"]["body"]["trace"]["exception"]["class"].as_str().unwrap()).collect();
    assert_eq!(classes, ["KeyError", "ValueError"], "this trace's occurrences, latest first");
    assert_eq!(instances[1]["item"]["title"], "ValueError: failed at 10");
    assert_eq!(instances[1]["item"]["total_occurrences"], 3);
    assert_eq!(instances[1]["span_id"], "eee19b7ec3c1b174");
    assert_eq!(instances[0]["item_id"], instances[0]["item"]["id"]);
    let none = service.trace_instances(Some(&token), "00000000000000000000000000000001").unwrap();
    assert_eq!(none["result"]["instances"].as_array().unwrap().len(), 0);

    assert_eq!(service.trace_instances(Some(&token), "xyz").unwrap_err().status(), 400);
    assert_eq!(service.trace_instances(None, trace).unwrap_err().status(), 403);
    // Read-only tokens are handed out when no token also writes; none when no token reads.
    service.project.lock().state.tokens[0].scopes = vec!["read".into()];
    assert_eq!(service.console_token().unwrap().scopes, ["read"]);
    service.project.lock().state.tokens[0].scopes = vec!["post_server_item".into()];
    assert!(service.console_token().is_none());
    store.close();
}
