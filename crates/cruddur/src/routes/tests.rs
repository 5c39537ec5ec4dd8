//! Handlers through the real router on a seeded in-memory SQLite, without a socket.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt as _;

use super::*;
use crate::db::Db;

async fn test_app() -> Router {
    let db = Db::connect("sqlite::memory:").await.unwrap();
    crate::schema::migrate(&db).await.unwrap();
    assert!(crate::seed::seed_if_empty(&db).await.unwrap());
    assert!(!crate::seed::seed_if_empty(&db).await.unwrap(), "seeding twice adds nothing");
    app(AppState { db }, vec![HeaderValue::from_static("http://localhost:3000")], false)
}

async fn call(app: &Router, method: &str, uri: &str, user: Option<&str>, body: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(user) = user {
        request = request.header(USER_HEADER, user);
    }
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let request = request.body(Body::from(body.unwrap_or_default().to_owned())).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn test_home_returns_seed_with_nested_reply() {
    let app = test_app().await;
    let (status, body) = call(&app, "GET", "/api/activities/home", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let feed = body.as_array().unwrap();
    assert_eq!(feed.len(), 5);
    assert_eq!(feed[0]["handle"], "garek", "newest first");
    let cloud = feed.iter().find(|activity| activity["message"] == "Cloud is fun!").unwrap();
    assert_eq!(cloud["display_name"], "Andrew Brown");
    assert_eq!(cloud["replies_count"], 1);
    assert_eq!(cloud["replies"][0]["message"], "This post has no honor!");
}

#[tokio::test]
async fn test_post_activity_then_it_is_in_the_feeds() {
    let app = test_app().await;
    let (status, created) = call(
        &app,
        "POST",
        "/api/activities",
        Some("worf"),
        Some(r#"{"message": "Today is a good day", "ttl": "1-day"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["handle"], "worf");
    let (_, feed) = call(&app, "GET", "/api/activities/@worf", None, None).await;
    assert_eq!(feed[0]["uuid"], created["uuid"]);
    let (_, found) = call(&app, "GET", "/api/activities/search?term=GOOD%20DAY", None, None).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn test_reply_and_show() {
    let app = test_app().await;
    let uri = "/api/activities/248959df-3079-4947-b847-9e0892d1bab4/reply";
    let (status, reply) = call(&app, "POST", uri, Some("andrewbrown"), Some(r#"{"message": "Simple tailor?"}"#)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let (_, shown) = call(&app, "GET", "/api/activities/248959df-3079-4947-b847-9e0892d1bab4", None, None).await;
    assert_eq!(shown["replies_count"], 1);
    assert_eq!(shown["replies"][0]["uuid"], reply["uuid"]);
    let (status, _) = call(
        &app,
        "POST",
        "/api/activities/00000000-0000-4000-8000-000000000000/reply",
        Some("worf"),
        Some(r#"{"message": "x"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn test_notifications_and_messages_for_the_caller() {
    let app = test_app().await;
    let (_, notifications) = call(&app, "GET", "/api/activities/notifications", Some("andrewbrown"), None).await;
    assert_eq!(notifications[0]["message"], "This post has no honor!");
    let (_, groups) = call(&app, "GET", "/api/message_groups", Some("andrewbrown"), None).await;
    let handles: Vec<&str> = groups.as_array().unwrap().iter().map(|group| group["handle"].as_str().unwrap()).collect();
    assert_eq!(handles, ["bayko", "worf"]);
    assert_eq!(groups[1]["message"], "This platform is great!");
    let (status, _) = call(
        &app,
        "POST",
        "/api/messages",
        Some("worf"),
        Some(r#"{"message": "Qapla'", "user_receiver_handle": "andrewbrown"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, conversation) = call(&app, "GET", "/api/messages/@worf", Some("andrewbrown"), None).await;
    let texts: Vec<&str> =
        conversation.as_array().unwrap().iter().map(|message| message["message"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Cloud is fun!", "This platform is great!", "Qapla'"]);
}

#[tokio::test]
async fn test_bad_input_is_422_with_errors() {
    let app = test_app().await;
    let (status, body) = call(&app, "POST", "/api/activities", Some("worf"), Some("{}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"], serde_json::json!(["message_blank", "ttl_blank"]));
    let long = format!(r#"{{"message": "{}", "ttl": "1-day"}}"#, "a".repeat(281));
    let (_, body) = call(&app, "POST", "/api/activities", Some("worf"), Some(&long)).await;
    assert_eq!(body["errors"], serde_json::json!(["message_exceed_max_chars"]));
    let (status, body) = call(&app, "POST", "/api/activities", None, Some(r#"{"message": "x", "ttl": "1-day"}"#)).await;
    assert_eq!((status, &body["errors"][0]), (StatusCode::UNPROCESSABLE_ENTITY, &Value::from("user_handle_blank")));
    let (_, body) = call(&app, "GET", "/api/activities/notifications", Some("nobody"), None).await;
    assert_eq!(body["errors"][0], "user_handle_unknown");
    let (status, body) = call(&app, "POST", "/api/activities", Some("worf"), Some("not json")).await;
    assert_eq!((status, &body["errors"][0]), (StatusCode::BAD_REQUEST, &Value::from("invalid_json_body")));
    let (_, body) = call(&app, "GET", "/api/activities/search", None, None).await;
    assert_eq!(body["errors"][0], "search_term_blank");
    let (_, body) = call(&app, "GET", "/api/activities/not-a-uuid", None, None).await;
    assert_eq!(body["errors"][0], "activity_uuid_invalid");
}

#[tokio::test]
async fn test_unknown_route_and_method_are_json() {
    let app = test_app().await;
    let (status, body) = call(&app, "GET", "/api/nope", None, None).await;
    assert_eq!((status, &body["errors"][0]), (StatusCode::NOT_FOUND, &Value::from("route_not_found")));
    let (status, body) = call(&app, "DELETE", "/api/activities/home", None, None).await;
    assert_eq!((status, &body["errors"][0]), (StatusCode::METHOD_NOT_ALLOWED, &Value::from("method_not_allowed")));
    let (status, _) = call(&app, "GET", "/api/activities/@nobody", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn test_health_check_and_rollbar_stub() {
    let app = test_app().await;
    let (_, health) = call(&app, "GET", "/api/health-check", None, None).await;
    assert_eq!(health, serde_json::json!({"success": true, "ver": 1}));
    let (_, rollbar) = call(&app, "GET", "/rollbar/test", None, None).await;
    assert_eq!(rollbar["reported"], false);
}
