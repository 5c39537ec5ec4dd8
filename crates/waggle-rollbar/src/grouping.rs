//! Grouping occurrences into items, as Rollbar's default fingerprint does: for exceptions the SHA-1
//! of every frame's file and method plus the exception class (line numbers and the message left
//! out, `server.root` cut from file names); for messages the text with numbers, hex and uuids
//! masked. A client's `data.fingerprint` wins. Items are per environment.

use serde_json::{Map, Value as Json};
use sha1::{Digest, Sha1};

/// An occurrence's item key and the title an item gets from its first occurrence.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    /// Hex SHA-1: the item's `hash`.
    pub fingerprint: String,
    /// The item's title.
    pub title: String,
    /// The (last) exception's class, for traces.
    pub exception_class: Option<String>,
    /// The (last) exception's message, for traces.
    pub exception_message: Option<String>,
}

const MAX_TITLE: usize = 255;

/// Groups one validated `data`.
pub fn group(data: &Map<String, Json>, body_kind: &str) -> Grouping {
    let body = &data["body"][body_kind];
    let environment = data.get("environment").and_then(Json::as_str).unwrap_or("");
    let root = data.get("server").and_then(|server| server.get("root")).and_then(Json::as_str).unwrap_or("");
    let mut key = format!("{environment}\n");
    let mut title: String;
    let (mut exception_class, mut exception_message) = (None, None);
    match body_kind {
        "trace" | "trace_chain" => {
            let traces: Vec<&Json> = match body.as_array() {
                Some(chain) => chain.iter().collect(),
                None => vec![body],
            };
            for trace in &traces {
                for frame in trace["frames"].as_array().into_iter().flatten() {
                    let filename = frame.get("filename").and_then(Json::as_str).unwrap_or("");
                    let filename =
                        if root.is_empty() { filename } else { filename.strip_prefix(root).unwrap_or(filename) };
                    let method = frame.get("method").and_then(Json::as_str).unwrap_or("");
                    key += &format!("{filename}\t{method}\n");
                }
                key += &format!("class {}\n", trace["exception"]["class"].as_str().unwrap_or(""));
            }
            // The outermost exception (first of a chain) names the item.
            let exception = &traces[0]["exception"];
            let class = exception["class"].as_str().unwrap_or("").to_owned();
            let message = exception.get("message").and_then(Json::as_str).unwrap_or("").to_owned();
            title = if message.is_empty() { class.clone() } else { format!("{class}: {message}") };
            exception_class = Some(class);
            exception_message = Some(message);
        }
        "message" => {
            let text = body["body"].as_str().unwrap_or("");
            key += &format!("message {}", mask(text));
            title = text.lines().next().unwrap_or("").to_owned();
        }
        _ => {
            let raw = body["raw"].as_str().unwrap_or("");
            key += &format!("crash {}", mask(raw.lines().next().unwrap_or("")));
            title = raw.lines().next().unwrap_or("").to_owned();
        }
    }
    if let Some(custom) = data.get("fingerprint").and_then(Json::as_str).filter(|custom| !custom.is_empty()) {
        key = format!("{environment}\nfingerprint {custom}");
    }
    if let Some(custom) = data.get("title").and_then(Json::as_str).filter(|custom| !custom.is_empty()) {
        title = custom.to_owned();
    }
    if title.chars().count() > MAX_TITLE {
        title = title.chars().take(MAX_TITLE).collect();
    }
    Grouping { fingerprint: hex::encode(Sha1::digest(key.as_bytes())), title, exception_class, exception_message }
}

/// Digits, hex runs and uuids become `#`, so "user 42 failed" and "user 43 failed" group.
fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let core = word.strip_prefix("0x").unwrap_or(word);
        let hexish = core.len() >= 8 && core.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        let numeric = core.chars().any(|c| c.is_ascii_digit())
            && core.chars().all(|c| c.is_ascii_hexdigit() || c == '-' || c == '.');
        if hexish || numeric {
            out.push('#');
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn trace(class: &str, message: &str, line: u64) -> Map<String, Json> {
        let data = json!({"environment": "production", "server": {"root": "/srv/app"}, "body": {"trace": {
            "frames": [{"filename": "/srv/app/app.py", "lineno": line, "method": "home"},
                       {"filename": "/srv/app/services/home.py", "lineno": 12, "method": "run"}],
            "exception": {"class": class, "message": message}}}});
        data.as_object().unwrap().clone()
    }

    #[test]
    fn test_grouping_traces() {
        let first = group(&trace("ValueError", "bad 1", 10), "trace");
        let other_line = group(&trace("ValueError", "bad 2", 99), "trace");
        let other_class = group(&trace("KeyError", "bad 1", 10), "trace");
        assert_eq!(first.fingerprint, other_line.fingerprint, "line and message do not matter");
        assert_ne!(first.fingerprint, other_class.fingerprint);
        assert_eq!(first.title, "ValueError: bad 1");
        let mut moved = trace("ValueError", "bad 1", 10);
        moved["server"] = json!({"root": "/home/me/app"});
        moved["body"]["trace"]["frames"][0]["filename"] = json!("/home/me/app/app.py");
        moved["body"]["trace"]["frames"][1]["filename"] = json!("/home/me/app/services/home.py");
        assert_eq!(group(&moved, "trace").fingerprint, first.fingerprint, "server.root is cut");
        let mut staging = trace("ValueError", "bad 1", 10);
        staging["environment"] = json!("staging");
        assert_ne!(group(&staging, "trace").fingerprint, first.fingerprint);
    }

    #[test]
    fn test_grouping_messages_and_fingerprints() {
        let message =
            |text: &str| json!({"environment": "p", "body": {"message": {"body": text}}}).as_object().unwrap().clone();
        let a = group(&message("user 42 failed at 0xdeadbeef"), "message");
        let b = group(&message("user 7 failed at 0xcafef00d"), "message");
        let c = group(&message("user 7 succeeded"), "message");
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(a.fingerprint, c.fingerprint);
        assert_eq!(a.title, "user 42 failed at 0xdeadbeef");
        let mut custom = message("anything");
        custom.insert("fingerprint".into(), json!("my-key"));
        custom.insert("title".into(), json!("Custom title"));
        let mut custom_too = message("something else");
        custom_too.insert("fingerprint".into(), json!("my-key"));
        assert_eq!(group(&custom, "message").fingerprint, group(&custom_too, "message").fingerprint);
        assert_eq!(group(&custom, "message").title, "Custom title");
    }

    #[test]
    fn test_mask() {
        assert_eq!(mask("id 550e8400-e29b-41d4-a716-446655440000 took 12.5ms"), "id # took 12.5ms");
        assert_eq!(mask("port 8080 ok"), "port # ok");
    }
}
