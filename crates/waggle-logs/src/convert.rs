//! A CloudWatch log event to a store row. The message is the log body; a trace id (and span id)
//! found in it links the row to its trace, and a level found in it becomes the severity.
//!
//! Trace ids are found in a JSON message under `trace_id`, `traceId`, `trace.trace_id`,
//! `otelTraceID` or `xray_trace_id`, in text as `trace_id=<32 hex>` (or those names followed by `=`
//! or `: `), or as an X-Ray trace id `1-<8 hex>-<24 hex>` anywhere, whose 32 hex digits are the
//! OpenTelemetry trace id (X-Ray and OpenTelemetry ids convert that way).

use serde_json::Value as Json;
use waggle_model::{Event, EventKind, Field, Origin, SpanId, TraceId, names};

const TRACE_KEYS: [&str; 6] = ["trace_id", "traceId", "trace.trace_id", "otelTraceID", "xray_trace_id", "traceid"];
const SPAN_KEYS: [&str; 5] = ["span_id", "spanId", "trace.span_id", "otelSpanID", "spanid"];
const LEVEL_KEYS: [&str; 4] = ["level", "levelname", "severity", "log.level"];

/// What a row needs besides the message.
pub(crate) struct RowContext<'a> {
    pub(crate) group: &'a str,
    pub(crate) stream: &'a str,
    pub(crate) access_key_id: Option<&'a str>,
}

/// One row of the logs table for one event; `ingestion_nanos` is unique per event.
pub(crate) fn event_row(context: &RowContext<'_>, timestamp_ms: i64, message: &str, ingestion_nanos: i64) -> Event {
    let ids = find_ids(message);
    let mut fields = vec![
        Field::new(names::BODY, message, Origin::Derived),
        Field::new(names::LOG_GROUP, context.group, Origin::Derived),
        Field::new(names::LOG_STREAM, context.stream, Origin::Derived),
        Field::new(names::OBSERVED_TIME, ingestion_nanos, Origin::Derived),
    ];
    if let Some(level) = ids.level {
        fields.push(Field::new(names::SEVERITY, level, Origin::Derived));
    }
    if let Some(key) = context.access_key_id {
        fields.push(Field::new(names::AWS_ACCESS_KEY_ID, key, Origin::Derived));
    }
    Event {
        kind: EventKind::Log,
        dataset: context.group.to_owned(),
        time_unix_nano: timestamp_ms.saturating_mul(1_000_000),
        duration_nano: 0,
        trace_id: ids.trace_id,
        span_id: ids.span_id,
        parent_id: None,
        fields,
    }
}

/// Ids and level found in a message.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Found {
    pub(crate) trace_id: Option<TraceId>,
    pub(crate) span_id: Option<SpanId>,
    pub(crate) level: Option<String>,
}

pub(crate) fn find_ids(message: &str) -> Found {
    let trimmed = message.trim_start();
    if trimmed.starts_with('{')
        && let Ok(Json::Object(object)) = serde_json::from_str::<Json>(trimmed)
    {
        let text = |keys: &[&str]| keys.iter().find_map(|key| object.get(*key).and_then(Json::as_str));
        let trace_id = text(&TRACE_KEYS).and_then(parse_trace_id);
        let span_id = text(&SPAN_KEYS).and_then(|hex| SpanId::from_hex(hex).ok());
        let level = text(&LEVEL_KEYS).map(str::to_owned);
        if trace_id.is_some() || level.is_some() {
            return Found { trace_id, span_id, level };
        }
    }
    let trace_id = TRACE_KEYS.iter().find_map(|key| value_after(message, key, 35)).and_then(parse_trace_id);
    let trace_id = trace_id.or_else(|| find_xray_id(message));
    let span_id =
        SPAN_KEYS.iter().find_map(|key| value_after(message, key, 16)).and_then(|hex| SpanId::from_hex(hex).ok());
    Found { trace_id, span_id, level: None }
}

/// The `len` characters (at most) after `key=` or `key: ` in text, cut at the first character that
/// cannot be part of an id.
fn value_after<'a>(message: &'a str, key: &str, len: usize) -> Option<&'a str> {
    let mut from = 0;
    while let Some(found) = message[from..].find(key) {
        let after = from + found + key.len();
        let rest = &message[after..];
        let rest = rest.strip_prefix('=').or_else(|| rest.strip_prefix(": ")).or_else(|| rest.strip_prefix(':'));
        if let Some(rest) = rest {
            let rest = rest.trim_start_matches(['"', '\'']);
            let end = rest.find(|c: char| !(c.is_ascii_hexdigit() || c == '-')).unwrap_or(rest.len()).min(len);
            return Some(&rest[..end]);
        }
        from = after;
    }
    None
}

/// 32 hex digits, or an X-Ray id `1-<8 hex>-<24 hex>`.
fn parse_trace_id(text: &str) -> Option<TraceId> {
    if let Some(xray) = text.strip_prefix("1-")
        && let Some((epoch, unique)) = xray.split_once('-')
        && epoch.len() == 8
        && unique.len() == 24
    {
        return TraceId::from_hex(&format!("{epoch}{unique}")).ok();
    }
    TraceId::from_hex(text).ok()
}

fn find_xray_id(message: &str) -> Option<TraceId> {
    let bytes = message.as_bytes();
    let mut from = 0;
    while let Some(found) = message[from..].find("1-") {
        let start = from + found;
        let candidate = message.get(start..start + 35)?;
        let boundary = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        if boundary && let Some(id) = parse_trace_id(candidate) {
            return Some(id);
        }
        from = start + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "5b8efff798038103d269b633813fc60c";

    #[test]
    fn test_find_ids_in_json_and_text() {
        let json = format!(r#"{{"level":"INFO","trace_id":"{TRACE}","span_id":"eee19b7ec3c1b174","msg":"x"}}"#);
        let found = find_ids(&json);
        assert_eq!(found.trace_id.unwrap().to_hex(), TRACE);
        assert_eq!(found.span_id.unwrap().to_hex(), "eee19b7ec3c1b174");
        assert_eq!(found.level.as_deref(), Some("INFO"));
        let text = format!("GET /api 200 otelTraceID={TRACE} otelSpanID=eee19b7ec3c1b174");
        assert_eq!(find_ids(&text).trace_id.unwrap().to_hex(), TRACE);
        assert_eq!(find_ids(&format!("trace_id: \"{TRACE}\"")).trace_id.unwrap().to_hex(), TRACE);
    }

    #[test]
    fn test_find_ids_xray_format() {
        let found = find_ids("handled Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
        assert_eq!(found.trace_id.unwrap().to_hex(), "5759e988bd862e3fe1be46a994272793");
        assert_eq!(find_ids("x11-5759e988-bd862e3fe1be46a994272793").trace_id, None);
    }

    #[test]
    fn test_find_ids_none_and_bad() {
        assert_eq!(find_ids("plain line"), Found::default());
        assert_eq!(find_ids("trace_id=xyz").trace_id, None);
        assert_eq!(find_ids("trace_id=00000000000000000000000000000000").trace_id, None);
        assert_eq!(find_ids("ends with 1-").trace_id, None);
    }
}
