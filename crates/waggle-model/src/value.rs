//! Attribute values: the OpenTelemetry `AnyValue` types, kept exactly (ints stay ints, arrays and
//! maps stay nested) so a span read back equals the span sent.

use serde_json::Value as Json;

/// One typed attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// UTF-8 text.
    Str(String),
    /// Boolean.
    Bool(bool),
    /// 64-bit signed integer.
    Int(i64),
    /// 64-bit float.
    Float(f64),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A list of values (may mix types, as OTLP allows).
    Array(Vec<Value>),
    /// An ordered list of key/value pairs (OTLP `kvlist`).
    Map(Vec<(String, Value)>),
}

impl Value {
    /// The value as text, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    /// The value as a number, if it is an int or a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(number) => Some(*number as f64),
            Value::Float(number) => Some(*number),
            _ => None,
        }
    }

    /// Plain JSON: ints as integers, floats as floats, bytes as base64, maps as objects.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Str(text) => Json::String(text.clone()),
            Value::Bool(flag) => Json::Bool(*flag),
            Value::Int(number) => Json::from(*number),
            Value::Float(number) => serde_json::Number::from_f64(*number)
                .map(Json::Number)
                // JSON has no NaN or infinity: show them as text rather than lose the field.
                .unwrap_or_else(|| Json::String(number.to_string())),
            Value::Bytes(bytes) => Json::String(base64_encode(bytes)),
            Value::Array(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(entries) => {
                Json::Object(entries.iter().map(|(key, value)| (key.clone(), value.to_json())).collect())
            }
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Str(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Str(text)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Self {
        Value::Int(number)
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Self {
        Value::Bool(flag)
    }
}

impl From<f64> for Value {
    fn from(number: f64) -> Self {
        Value::Float(number)
    }
}

/// Standard base64 with padding, as OTLP/JSON encodes bytes.
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let triple =
            (chunk[0] as u32) << 16 | (*chunk.get(1).unwrap_or(&0) as u32) << 8 | *chunk.get(2).unwrap_or(&0) as u32;
        for (index, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if index <= chunk.len() {
                out.push(ALPHABET[(triple >> shift & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_value_to_json_keeps_types() {
        let value = Value::Map(vec![
            ("i".into(), Value::Int(3)),
            ("f".into(), Value::Float(1.0)),
            ("b".into(), Value::Bytes(b"hi!?".to_vec())),
        ]);
        assert_eq!(value.to_json(), serde_json::json!({"i": 3, "f": 1.0, "b": "aGkhPw=="}));
        assert!(value.to_json()["i"].is_i64());
        assert!(value.to_json()["f"].is_f64());
    }
}
