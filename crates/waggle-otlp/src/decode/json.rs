//! OTLP/JSON decoding. opentelemetry-proto's serde derives do most of the work (hex ids, 64-bit
//! integers as strings or numbers, camelCase, unknown fields ignored), but they are stricter than the
//! proto3 JSON mapping OTLP/JSON is defined by. When the straight decode fails, the JSON is
//! normalised into what the derives accept and decoded again:
//!
//! | proto3 JSON allows                                  | derives refuse         | normalised to         |
//! |-----------------------------------------------------|------------------------|-----------------------|
//! | `null` for any field (= default)                    | `"name": null`         | field removed         |
//! | empty repeated fields omitted                       | `"arrayValue": {}`     | `{"values": []}`      |
//! | default `key` omitted                               | `{"value": ...}`       | `"key": ""` added     |
//! | 32-bit ints as strings                              | `"flags": "1"`         | number                |
//! | integers written with exponent or `.0`              | `"intValue": 5.0`      | integer               |
//! | doubles as strings, `"NaN"`, `"Infinity"`           | `"doubleValue": "NaN"` | number, or see below  |
//! | URL-safe or unpadded base64                         | `"bytesValue": "aGk"`  | standard, padded      |
//! | (not proto3, but old opentelemetry-js sent it)      | `{"low":1,"high":2}`   | the 64-bit number     |
//! | (not proto3, but many parsers take it)              | duplicate keys         | last kept             |
//!
//! `serde_json::Value` cannot hold NaN or infinities, so such a double travels as a marker string
//! and is turned back into a `DoubleValue` after decoding.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value as Json};

use crate::error::{OtlpError, Result};

/// Stands for a non-finite double while the JSON is a `serde_json::Value`.
const SPECIAL_DOUBLE_MARKER: &str = "\u{0}waggle-special-double:";

/// Integer-typed OTLP fields the derives only take as JSON numbers (or only as integers).
const INTEGER_KEYS: &[&str] = &[
    "intValue",
    "timeUnixNano",
    "startTimeUnixNano",
    "endTimeUnixNano",
    "observedTimeUnixNano",
    "flags",
    "droppedAttributesCount",
    "droppedEventsCount",
    "droppedLinksCount",
    "kind",
    "code",
    "severityNumber",
];

/// Requests whose `AnyValue`s can be walked to restore non-finite doubles.
pub(super) trait AnyValues {
    /// Calls `visit` on every top-level `AnyValue` of the request.
    fn for_each_any_value(&mut self, visit: &mut dyn FnMut(&mut AnyValue));
}

/// Decodes OTLP/JSON: straight serde first (one pass, the common case), then normalised. Reports the
/// straight decode's error, since it points at the sender's own text.
pub(super) fn decode_json<T>(bytes: &[u8]) -> Result<T>
where
    T: DeserializeOwned + Default + AnyValues,
{
    let invalid = |error: &dyn std::fmt::Display| OtlpError::Decode(format!("invalid otlp/json: {error}"));
    match bytes.iter().find(|byte| !byte.is_ascii_whitespace()) {
        // An empty body is an empty, valid export.
        None => return Ok(T::default()),
        Some(b'{') => {}
        Some(_) => return Err(invalid(&"the body must be a json object")),
    }
    let first_error = match serde_json::from_slice::<T>(bytes) {
        Ok(message) => return Ok(message),
        Err(error) => error,
    };
    let mut json: Json = serde_json::from_slice(bytes).map_err(|error| invalid(&error))?;
    let mut found_special_double = false;
    normalize(&mut json, &mut found_special_double);
    let mut message: T = serde_json::from_value(json).map_err(|_| invalid(&first_error))?;
    if found_special_double {
        message.for_each_any_value(&mut restore_special_doubles);
    }
    Ok(message)
}

fn normalize(json: &mut Json, found_special_double: &mut bool) {
    match json {
        Json::Object(map) => normalize_object(map, found_special_double),
        Json::Array(items) => {
            for item in items {
                normalize(item, found_special_double);
            }
        }
        _ => {}
    }
}

fn normalize_object(map: &mut Map<String, Json>, found_special_double: &mut bool) {
    map.retain(|_, value| !value.is_null());
    let mut special_double = None;
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "arrayValue" | "kvlistValue" => {
                if let Json::Object(inner) = value {
                    inner.entry("values").or_insert_with(|| Json::Array(Vec::new()));
                }
            }
            "bytesValue" => {
                if let Json::String(text) = value {
                    *text = standard_base64(text);
                }
            }
            "doubleValue" => special_double = normalize_double(value),
            key if INTEGER_KEYS.contains(&key) => normalize_integer(value),
            _ => {}
        }
        if key == "attributes" || key == "kvlistValue" {
            add_missing_keys(value);
        }
        normalize(value, found_special_double);
    }
    if let Some(name) = special_double {
        map.remove("doubleValue");
        map.insert("stringValue".into(), Json::String(format!("{SPECIAL_DOUBLE_MARKER}{name}")));
        *found_special_double = true;
    }
}

/// `KeyValue.key` is required by the derives; proto3 JSON omits an empty one.
fn add_missing_keys(value: &mut Json) {
    let list = match value {
        Json::Object(kvlist) => kvlist.get_mut("values"),
        list => Some(list),
    };
    if let Some(Json::Array(items)) = list {
        for item in items {
            if let Json::Object(entry) = item {
                entry.entry("key").or_insert_with(|| Json::String(String::new()));
            }
        }
    }
}

/// Integers as strings, as integral floats, or as protobuf.js `LongBits` (`{"low": .., "high": ..}`,
/// 32 bits each) become JSON integers.
fn normalize_integer(value: &mut Json) {
    let number = match value {
        Json::Object(long_bits) => {
            let half = |key: &str| long_bits.get(key).and_then(Json::as_i64).map(|half| half as u64 & 0xffff_ffff);
            match (half("low"), half("high")) {
                (Some(low), Some(high)) => Some(Number::from(high << 32 | low)),
                _ => None,
            }
        }
        Json::String(text) => {
            let text = text.trim();
            text.parse::<i64>().map(Number::from).or_else(|_| text.parse::<u64>().map(Number::from)).ok()
        }
        Json::Number(number) if number.is_f64() => number.as_f64().and_then(integral_number),
        _ => None,
    };
    if let Some(number) = number {
        *value = Json::Number(number);
    }
}

fn integral_number(float: f64) -> Option<Number> {
    // 2^63 and 2^64 are exact in f64; the casts below cannot saturate inside these bounds.
    if float.fract() != 0.0 {
        None
    } else if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&float) {
        Some(Number::from(float as i64))
    } else if (0.0..18_446_744_073_709_551_616.0).contains(&float) {
        Some(Number::from(float as u64))
    } else {
        None
    }
}

/// A double given as a string: finite ones become numbers; `NaN` and `±Infinity` are returned so the
/// caller swaps in a marker.
fn normalize_double(value: &mut Json) -> Option<&'static str> {
    let Json::String(text) = value else {
        return None;
    };
    match text.trim() {
        "NaN" => Some("NaN"),
        "Infinity" => Some("Infinity"),
        "-Infinity" => Some("-Infinity"),
        text => {
            if let Some(number) = text.parse::<f64>().ok().and_then(Number::from_f64) {
                *value = Json::Number(number);
            }
            None
        }
    }
}

fn restore_special_doubles(value: &mut AnyValue) {
    match &mut value.value {
        Some(any_value::Value::StringValue(text)) => {
            let double = match text.strip_prefix(SPECIAL_DOUBLE_MARKER) {
                Some("NaN") => f64::NAN,
                Some("Infinity") => f64::INFINITY,
                Some("-Infinity") => f64::NEG_INFINITY,
                _ => return,
            };
            value.value = Some(any_value::Value::DoubleValue(double));
        }
        Some(any_value::Value::ArrayValue(array)) => {
            array.values.iter_mut().for_each(restore_special_doubles);
        }
        Some(any_value::Value::KvlistValue(list)) => visit_attributes(&mut list.values, &mut restore_special_doubles),
        _ => {}
    }
}

/// URL-safe and unpadded base64 as the standard, padded alphabet the derives decode.
fn standard_base64(text: &str) -> String {
    let mut standard: String = text
        .chars()
        .filter(|char| !char.is_ascii_whitespace())
        .map(|char| match char {
            '-' => '+',
            '_' => '/',
            other => other,
        })
        .collect();
    let padding = (4 - standard.len() % 4) % 4;
    standard.extend(std::iter::repeat_n('=', padding));
    standard
}

fn visit_attributes(attributes: &mut [KeyValue], visit: &mut dyn FnMut(&mut AnyValue)) {
    for value in attributes.iter_mut().filter_map(|attribute| attribute.value.as_mut()) {
        visit(value);
    }
}

impl AnyValues for ExportTraceServiceRequest {
    fn for_each_any_value(&mut self, visit: &mut dyn FnMut(&mut AnyValue)) {
        for resource_spans in &mut self.resource_spans {
            if let Some(resource) = &mut resource_spans.resource {
                visit_attributes(&mut resource.attributes, visit);
            }
            for scope_spans in &mut resource_spans.scope_spans {
                if let Some(scope) = &mut scope_spans.scope {
                    visit_attributes(&mut scope.attributes, visit);
                }
                for span in &mut scope_spans.spans {
                    visit_attributes(&mut span.attributes, visit);
                    for event in &mut span.events {
                        visit_attributes(&mut event.attributes, visit);
                    }
                    for link in &mut span.links {
                        visit_attributes(&mut link.attributes, visit);
                    }
                }
            }
        }
    }
}

impl AnyValues for ExportLogsServiceRequest {
    fn for_each_any_value(&mut self, visit: &mut dyn FnMut(&mut AnyValue)) {
        for resource_logs in &mut self.resource_logs {
            if let Some(resource) = &mut resource_logs.resource {
                visit_attributes(&mut resource.attributes, visit);
            }
            for scope_logs in &mut resource_logs.scope_logs {
                if let Some(scope) = &mut scope_logs.scope {
                    visit_attributes(&mut scope.attributes, visit);
                }
                for record in &mut scope_logs.log_records {
                    if let Some(body) = &mut record.body {
                        visit(body);
                    }
                    visit_attributes(&mut record.attributes, visit);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
