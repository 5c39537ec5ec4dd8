//! Values as groups compare them and results show them.

use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::Value as Json;

/// One breakdown value: hashable, totally ordered, cheap to clone (strings are shared with the
/// part dictionaries they came from).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum KeyValue {
    /// The row has no value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float, by bits (`-0.0` normalized to `0.0`).
    Float(u64),
    /// A string; arrays, maps and bytes show as their JSON text.
    Str(Arc<str>),
}

/// The values of a group, one per breakdown.
pub(crate) type GroupKey = Box<[KeyValue]>;

impl KeyValue {
    /// A float key.
    pub(crate) fn float(number: f64) -> Self {
        Self::Float(if number == 0.0 { 0.0f64.to_bits() } else { number.to_bits() })
    }

    /// As JSON for results.
    pub(crate) fn to_json(&self) -> Json {
        match self {
            Self::Null => Json::Null,
            Self::Bool(flag) => Json::Bool(*flag),
            Self::Int(number) => Json::from(*number),
            Self::Float(bits) => match f64::from_bits(*bits) {
                // JSON has no infinities: a group of them is named as JavaScript prints them.
                number if number.is_infinite() => {
                    Json::String(if number > 0.0 { "Infinity" } else { "-Infinity" }.into())
                }
                number => float_json(number),
            },
            Self::Str(text) => Json::String(text.to_string()),
        }
    }

    /// From JSON as results show it (for selecting a result row again): numbers that are integers
    /// are ints, other numbers floats.
    pub(crate) fn from_json(value: &Json) -> Option<Self> {
        Some(match value {
            Json::Null => Self::Null,
            Json::Bool(flag) => Self::Bool(*flag),
            Json::Number(number) => match number.as_i64() {
                Some(int) => Self::Int(int),
                None => Self::float(number.as_f64()?),
            },
            Json::String(text) => Self::Str(Arc::from(text.as_str())),
            _ => return None,
        })
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Null => 0,
            Self::Bool(_) => 1,
            Self::Int(_) | Self::Float(_) => 2,
            Self::Str(_) => 3,
        }
    }

    /// Result ordering: null, booleans, numbers (ints and floats compared as numbers), strings.
    pub(crate) fn order(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => a.cmp(b),
            (Self::Int(a), Self::Int(b)) => a.cmp(b),
            (Self::Str(a), Self::Str(b)) => a.cmp(b),
            (Self::Int(_) | Self::Float(_), Self::Int(_) | Self::Float(_)) => self.number().total_cmp(&other.number()),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    fn number(&self) -> f64 {
        match self {
            Self::Int(number) => *number as f64,
            Self::Float(bits) => f64::from_bits(*bits),
            _ => 0.0,
        }
    }
}

/// JSON has no NaN or infinity: those show as null.
pub(crate) fn float_json(number: f64) -> Json {
    serde_json::Number::from_f64(number).map_or(Json::Null, Json::Number)
}

/// Orders group keys value by value.
pub(crate) fn order_keys(a: &[KeyValue], b: &[KeyValue]) -> Ordering {
    a.iter().zip(b).map(|(a, b)| a.order(b)).find(|ordering| ordering.is_ne()).unwrap_or(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn test_key_value_order_and_json() {
        let mut values = [
            KeyValue::Str("b".into()),
            KeyValue::float(1.5),
            KeyValue::Int(2),
            KeyValue::Null,
            KeyValue::Bool(true),
            KeyValue::Int(1),
            KeyValue::Str("a".into()),
        ];
        values.sort_by(KeyValue::order);
        let shown: Vec<Json> = values.iter().map(KeyValue::to_json).collect();
        assert_eq!(shown, vec![json!(null), json!(true), json!(1), json!(1.5), json!(2), json!("a"), json!("b")]);
        assert_eq!(KeyValue::from_json(&json!(3)), Some(KeyValue::Int(3)));
        assert_eq!(KeyValue::from_json(&json!(-0.0)), Some(KeyValue::float(0.0)));
        assert_eq!(KeyValue::float(-0.0), KeyValue::float(0.0));
        assert_eq!(KeyValue::from_json(&json!([1])), None);
    }
}
