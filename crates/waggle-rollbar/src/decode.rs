//! `POST /api/1/item/` bodies: JSON `{"access_token": ..., "data": {...}}`, or a form whose
//! `payload` field holds that JSON. The token may instead come in `X-Rollbar-Access-Token`.

use serde_json::{Map, Value as Json};

use crate::error::{Result, RollbarError};

/// Largest body taken.
pub const MAX_ITEM_BYTES: usize = 1 << 20;
/// Rollbar's levels, least severe first.
pub const LEVELS: [&str; 5] = ["debug", "info", "warning", "error", "critical"];
/// The kinds of `data.body`, exactly one of which an item has.
const BODY_KINDS: [&str; 4] = ["trace", "trace_chain", "message", "crash_report"];

/// A decoded item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemPost {
    /// The token from the body or the header (the header wins).
    pub access_token: Option<String>,
    /// `data`, validated.
    pub data: Map<String, Json>,
    /// Which body kind it has.
    pub body_kind: &'static str,
    /// The level, lowercased (`error` when absent).
    pub level: &'static str,
}

/// Decodes and validates a body. `form` is true for `application/x-www-form-urlencoded`.
pub fn decode_item(body: &[u8], form: bool, header_token: Option<&str>) -> Result<ItemPost> {
    if body.len() > MAX_ITEM_BYTES {
        return Err(RollbarError::TooLarge(MAX_ITEM_BYTES));
    }
    let json: Json = if form {
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|err| RollbarError::BadRequest(format!("invalid form body: {err}")))?;
        let payload =
            fields.into_iter().find(|(name, _)| name == "payload").map(|(_, value)| value).ok_or_else(|| {
                RollbarError::BadRequest("a form body carries the item as JSON in its payload field".into())
            })?;
        serde_json::from_str(&payload)
            .map_err(|err| RollbarError::BadRequest(format!("Invalid JSON in payload: {err}")))?
    } else {
        serde_json::from_slice(body)
            .map_err(|err| RollbarError::BadRequest(format!("Invalid JSON in request body: {err}")))?
    };
    let Json::Object(mut envelope) = json else {
        return Err(RollbarError::Invalid("the body must be a JSON object with data".into()));
    };
    let body_token = envelope.get("access_token").and_then(Json::as_str).map(str::to_owned);
    let access_token = header_token.map(str::to_owned).filter(|token| !token.is_empty()).or(body_token);
    let Some(Json::Object(data)) = envelope.remove("data") else {
        return Err(RollbarError::Invalid("data is required and must be an object".into()));
    };
    match data.get("environment") {
        Some(Json::String(environment)) if !environment.is_empty() && environment.len() <= 255 => {}
        _ => {
            return Err(RollbarError::Invalid("data.environment is required (a string of 1 to 255 characters)".into()));
        }
    }
    let Some(Json::Object(item_body)) = data.get("body") else {
        return Err(RollbarError::Invalid("data.body is required and must be an object".into()));
    };
    let kinds: Vec<&'static str> = BODY_KINDS.into_iter().filter(|kind| item_body.contains_key(*kind)).collect();
    let body_kind = match kinds.as_slice() {
        [kind] => *kind,
        _ => {
            return Err(RollbarError::Invalid(
                "data.body must have exactly one of trace, trace_chain, message or crash_report".into(),
            ));
        }
    };
    check_body(body_kind, &item_body[body_kind])?;
    let level = match data.get("level") {
        None | Some(Json::Null) => "error",
        Some(Json::String(level)) => {
            let lower = level.to_ascii_lowercase();
            LEVELS.into_iter().find(|known| *known == lower).ok_or_else(|| {
                RollbarError::Invalid(format!("data.level {level} is not one of {}", LEVELS.join(", ")))
            })?
        }
        Some(_) => return Err(RollbarError::Invalid("data.level must be a string".into())),
    };
    Ok(ItemPost { access_token, data, body_kind, level })
}

fn check_body(kind: &str, value: &Json) -> Result<()> {
    let check_trace = |trace: &Json, at: &str| -> Result<()> {
        let frames_ok = trace.get("frames").is_some_and(Json::is_array);
        let class_ok = trace.get("exception").and_then(|exception| exception.get("class")).is_some_and(Json::is_string);
        if frames_ok && class_ok {
            Ok(())
        } else {
            Err(RollbarError::Invalid(format!("{at} needs frames (an array) and exception.class (a string)")))
        }
    };
    match kind {
        "trace" => check_trace(value, "data.body.trace"),
        "trace_chain" => match value.as_array() {
            Some(chain) if !chain.is_empty() => {
                for (index, trace) in chain.iter().enumerate() {
                    check_trace(trace, &format!("data.body.trace_chain[{index}]"))?;
                }
                Ok(())
            }
            _ => Err(RollbarError::Invalid("data.body.trace_chain must be a non-empty array".into())),
        },
        "message" => match value.get("body") {
            Some(Json::String(_)) => Ok(()),
            _ => Err(RollbarError::Invalid("data.body.message.body is required (a string)".into())),
        },
        _ => match value.get("raw") {
            Some(Json::String(_)) => Ok(()),
            _ => Err(RollbarError::Invalid("data.body.crash_report.raw is required (a string)".into())),
        },
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn message_item() -> Json {
        json!({"access_token": "tok", "data": {"environment": "production", "level": "WARNING",
               "body": {"message": {"body": "Hello World!"}}}})
    }

    #[test]
    fn test_decode_json_and_form() {
        let item = decode_item(message_item().to_string().as_bytes(), false, None).unwrap();
        assert_eq!((item.access_token.as_deref(), item.body_kind, item.level), (Some("tok"), "message", "warning"));
        let form = serde_urlencoded::to_string([("payload", message_item().to_string())]).unwrap();
        let item = decode_item(form.as_bytes(), true, Some("header-token")).unwrap();
        assert_eq!(item.access_token.as_deref(), Some("header-token"));
    }

    #[test]
    fn test_decode_refusals() {
        let cases: [(&[u8], bool, u16); 7] = [
            (b"{nope", false, 400),
            (b"payload=%7Bnope", true, 400),
            (b"other=1", true, 400),
            (br#"{"data": {"body": {"message": {"body": "x"}}}}"#, false, 422),
            (br#"{"data": {"environment": "p", "body": {}}}"#, false, 422),
            (br#"{"data": {"environment": "p", "body": {"message": {"body": "x"}, "trace": {}}}}"#, false, 422),
            (br#"{"data": {"environment": "p", "level": "loud", "body": {"message": {"body": "x"}}}}"#, false, 422),
        ];
        for (body, form, status) in cases {
            let err = decode_item(body, form, None).unwrap_err();
            assert_eq!(err.status(), status, "{}: {err}", String::from_utf8_lossy(body));
        }
        assert_eq!(decode_item(&vec![b' '; MAX_ITEM_BYTES + 1], false, None).unwrap_err().status(), 413);
    }

    proptest! {
        /// Any bytes decode or are refused with a 4xx; never a panic.
        #[test]
        fn test_decode_never_panics(body in prop::collection::vec(any::<u8>(), 0..200), form in any::<bool>()) {
            if let Err(err) = decode_item(&body, form, None) {
                prop_assert!((400..500).contains(&err.status()));
            }
        }

        /// Valid items with arbitrary extra members and texts decode.
        #[test]
        fn test_decode_valid_items(text in "\\PC{0,40}", level in prop::sample::select(LEVELS.to_vec()), key in "x_[a-z]{1,8}") {
            let item = json!({"data": {"environment": "e", "level": level, key.clone(): text.clone(),
                                        "body": {"message": {"body": text}}}});
            let decoded = decode_item(item.to_string().as_bytes(), false, None).unwrap();
            prop_assert_eq!(decoded.level, level);
        }
    }
}
