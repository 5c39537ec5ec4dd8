//! Pass 1: which columns the file has and their Parquet types.
//!
//! The fixed columns come first, in [`FIXED_COLUMNS`] order; then one column per field key, sorted
//! by name, typed from the set of value types seen for the key across the whole export. Parquet
//! needs the schema before the first row, hence a separate pass over the store.

use std::collections::BTreeMap;
use std::sync::Arc;

use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as PhysicalType};
use parquet::errors::Result as ParquetResult;
use parquet::schema::types::{Type, TypePtr};
use waggle_model::{Event, Value, names};

/// The event's dataset, a fixed column.
pub(crate) const DATASET: &str = "dataset";

/// The fixed columns, in file order. Field keys with these names are not exported.
pub(crate) const FIXED_COLUMNS: [&str; 8] = [
    names::TIMESTAMP,
    DATASET,
    names::SIGNAL_TYPE,
    names::ANNOTATION_TYPE,
    names::TRACE_ID,
    names::SPAN_ID,
    names::PARENT_ID,
    names::DURATION_MS,
];

/// How a column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnType {
    /// INT64, nanoseconds since the epoch, UTC.
    Timestamp,
    /// INT64.
    Int64,
    /// DOUBLE; ints are widened.
    Double,
    /// BOOLEAN.
    Boolean,
    /// UTF-8 string. Values whose JSON form is a string (text, bytes as base64) are written as that
    /// string; anything else (numbers, bools, arrays, maps) as JSON text.
    Text,
}

/// One column of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnSpec {
    /// Column name.
    pub(crate) name: String,
    /// Physical and logical type.
    pub(crate) column_type: ColumnType,
    /// REQUIRED rather than OPTIONAL.
    pub(crate) required: bool,
}

impl ColumnSpec {
    fn new(name: &str, column_type: ColumnType, required: bool) -> Self {
        Self { name: name.to_owned(), column_type, required }
    }
}

/// The value types seen for one key, one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct SeenTypes(u8);

impl SeenTypes {
    const STR: u8 = 1;
    const BOOL: u8 = 1 << 1;
    const INT: u8 = 1 << 2;
    const FLOAT: u8 = 1 << 3;
    /// Bytes, arrays and maps: always exported as JSON text.
    const NESTED: u8 = 1 << 4;

    fn add(&mut self, value: &Value) {
        self.0 |= match value {
            Value::Str(_) => Self::STR,
            Value::Bool(_) => Self::BOOL,
            Value::Int(_) => Self::INT,
            Value::Float(_) => Self::FLOAT,
            Value::Bytes(_) | Value::Array(_) | Value::Map(_) => Self::NESTED,
        };
    }

    fn column_type(self) -> ColumnType {
        const NUMBERS: u8 = SeenTypes::INT | SeenTypes::FLOAT;
        match self.0 {
            Self::INT => ColumnType::Int64,
            bits if bits & Self::FLOAT != 0 && bits & !NUMBERS == 0 => ColumnType::Double,
            Self::BOOL => ColumnType::Boolean,
            _ => ColumnType::Text,
        }
    }
}

/// Pass 1's tally: every field key and the value types seen for it.
#[derive(Debug, Default)]
pub(crate) struct KeyCensus {
    keys: BTreeMap<String, SeenTypes>,
}

impl KeyCensus {
    /// Counts one event's fields.
    pub(crate) fn observe(&mut self, event: &Event) {
        for field in &event.fields {
            if let Some(seen) = self.keys.get_mut(field.key.as_str()) {
                seen.add(&field.value);
            } else if !FIXED_COLUMNS.contains(&field.key.as_str()) {
                self.keys.entry(field.key.clone()).or_default().add(&field.value);
            }
        }
    }

    /// The file's columns: the fixed ones, then the field keys sorted by name.
    pub(crate) fn into_columns(self) -> Vec<ColumnSpec> {
        let mut columns = vec![
            ColumnSpec::new(names::TIMESTAMP, ColumnType::Timestamp, true),
            ColumnSpec::new(DATASET, ColumnType::Text, true),
            ColumnSpec::new(names::SIGNAL_TYPE, ColumnType::Text, false),
            ColumnSpec::new(names::ANNOTATION_TYPE, ColumnType::Text, false),
            ColumnSpec::new(names::TRACE_ID, ColumnType::Text, false),
            ColumnSpec::new(names::SPAN_ID, ColumnType::Text, false),
            ColumnSpec::new(names::PARENT_ID, ColumnType::Text, false),
            ColumnSpec::new(names::DURATION_MS, ColumnType::Double, false),
        ];
        columns.extend(self.keys.into_iter().map(|(name, seen)| ColumnSpec {
            name,
            column_type: seen.column_type(),
            required: false,
        }));
        columns
    }
}

/// The Parquet message type for `columns`.
pub(crate) fn parquet_schema(columns: &[ColumnSpec]) -> ParquetResult<TypePtr> {
    let mut fields = Vec::with_capacity(columns.len());
    for column in columns {
        let (physical_type, logical_type) = match column.column_type {
            ColumnType::Timestamp => (PhysicalType::INT64, Some(LogicalType::timestamp(true, TimeUnit::NANOS))),
            ColumnType::Int64 => (PhysicalType::INT64, None),
            ColumnType::Double => (PhysicalType::DOUBLE, None),
            ColumnType::Boolean => (PhysicalType::BOOLEAN, None),
            ColumnType::Text => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
        };
        let repetition = if column.required { Repetition::REQUIRED } else { Repetition::OPTIONAL };
        let field = Type::primitive_type_builder(&column.name, physical_type)
            .with_repetition(repetition)
            .with_logical_type(logical_type)
            .build()?;
        fields.push(Arc::new(field));
    }
    Ok(Arc::new(Type::group_type_builder("waggle").with_fields(fields).build()?))
}

#[cfg(test)]
mod tests {
    use waggle_model::{EventKind, Field, Origin};

    use super::*;

    fn seen(values: &[Value]) -> ColumnType {
        let mut seen = SeenTypes::default();
        for value in values {
            seen.add(value);
        }
        seen.column_type()
    }

    #[test]
    fn test_seen_types_column_type() {
        assert_eq!(seen(&[Value::Int(1), Value::Int(2)]), ColumnType::Int64);
        assert_eq!(seen(&[Value::Int(1), Value::Float(2.5)]), ColumnType::Double);
        assert_eq!(seen(&[Value::Float(2.5)]), ColumnType::Double);
        assert_eq!(seen(&[Value::Bool(true)]), ColumnType::Boolean);
        assert_eq!(seen(&[Value::Str("a".into())]), ColumnType::Text);
        assert_eq!(seen(&[Value::Str("a".into()), Value::Int(1)]), ColumnType::Text);
        assert_eq!(seen(&[Value::Bool(true), Value::Int(1)]), ColumnType::Text);
        assert_eq!(seen(&[Value::Float(1.0), Value::Bytes(vec![1])]), ColumnType::Text);
        assert_eq!(seen(&[Value::Map(Vec::new())]), ColumnType::Text);
    }

    #[test]
    fn test_key_census_sorts_keys_and_skips_fixed_names() {
        let event = Event {
            kind: EventKind::Span,
            dataset: "api".into(),
            time_unix_nano: 1,
            duration_nano: 0,
            trace_id: None,
            span_id: None,
            parent_id: None,
            fields: vec![
                Field::new("zeta", 1, Origin::Attribute),
                Field::new(names::DURATION_MS, 2.0, Origin::Attribute),
                Field::new("alpha", true, Origin::Attribute),
                Field::new(DATASET, "shadow", Origin::Attribute),
            ],
        };
        let mut census = KeyCensus::default();
        census.observe(&event);
        let columns = census.into_columns();
        let names: Vec<&str> = columns.iter().map(|column| column.name.as_str()).collect();
        assert_eq!(&names[..FIXED_COLUMNS.len()], FIXED_COLUMNS);
        assert_eq!(&names[FIXED_COLUMNS.len()..], ["alpha", "zeta"]);
        assert_eq!(columns[FIXED_COLUMNS.len()].column_type, ColumnType::Boolean);
        assert!(parquet_schema(&columns).is_ok());
    }
}
