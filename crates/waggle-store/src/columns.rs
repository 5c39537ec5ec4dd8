//! Column-wise reads, for queries that aggregate millions of rows: the store hands out [`Part`]s
//! (a segment, or one dataset's rows of a head chunk), each decoded a column at a time into typed
//! vectors. Strings come dictionary-encoded, so filters and group-bys work on small integer codes.
//! Parts are independent: callers read them on as many threads as they like.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use waggle_model::{EventKind, SignalTable, SpanId, TraceId, Value};

use crate::error::Result;

/// Which parts a column-wise read wants.
#[derive(Debug, Clone)]
pub struct PartsRequest {
    /// Table to read.
    pub table: SignalTable,
    /// Only these datasets; `None` for all.
    pub datasets: Option<Vec<String>>,
    /// Parts with rows at or after this (unix ns).
    pub start_unix_nano: i64,
    /// Parts with rows before this (unix ns).
    pub end_unix_nano: i64,
    /// Only parts that may hold this trace.
    pub trace_id: Option<TraceId>,
}

impl PartsRequest {
    /// Every part of a table.
    pub fn all(table: SignalTable) -> Self {
        Self { table, datasets: None, start_unix_nano: i64::MIN, end_unix_nano: i64::MAX, trace_id: None }
    }
}

/// What a part holds, known without reading it.
#[derive(Debug, Clone, PartialEq)]
pub struct PartInfo {
    /// The dataset of every row in the part.
    pub dataset: String,
    /// Rows in the part.
    pub rows: u64,
    /// Earliest row time, unix ns.
    pub min_time_unix_nano: i64,
    /// Latest row time, unix ns.
    pub max_time_unix_nano: i64,
}

/// A unit of column-wise reading. Rows may lie outside the requested time range: callers check
/// [`PartReader::times`].
pub trait Part: Send + Sync {
    /// What the part holds.
    fn info(&self) -> &PartInfo;
    /// Starts reading; columns are decoded on demand.
    fn open(&self) -> Result<Box<dyn PartReader + '_>>;
}

/// Decodes a part's columns, each on demand. Every vector has one entry per row, in one row order.
/// Columns come shared: the store may keep them decoded for the next query.
pub trait PartReader {
    /// Row start times, unix ns.
    fn times(&mut self) -> Result<Arc<[i64]>>;
    /// Row durations, ns.
    fn durations(&mut self) -> Result<Arc<[i64]>>;
    /// Row kinds.
    fn kinds(&mut self) -> Result<Arc<[EventKind]>>;
    /// Trace, span and parent ids.
    fn ids(&mut self) -> Result<Arc<Ids>>;
    /// A field column; `None` when no row of the part has the field.
    fn column(&mut self, name: &str) -> Result<Option<Arc<Column>>>;
}

/// The id columns of a part.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ids {
    /// Per row.
    pub trace_ids: Vec<Option<TraceId>>,
    /// Per row.
    pub span_ids: Vec<Option<SpanId>>,
    /// Per row.
    pub parent_ids: Vec<Option<SpanId>>,
}

/// The type of one cell of a [`Column`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CellType {
    /// The row has no value for the field.
    Null,
    /// A string: see [`Column::codes`].
    Str,
    /// An integer: see [`Column::ints`].
    Int,
    /// A float: see [`Column::floats`].
    Float,
    /// A boolean: see [`Column::bools`].
    Bool,
    /// Bytes, an array or a map: see [`Column::others`].
    Other,
}

/// One field decoded for every row of a part. A column may mix types (a field that is an int in
/// some rows and a string in others); each typed vector is either empty (no row of that type) or
/// has one entry per row, meaningful where [`Column::types`] says so.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Column {
    /// Per row.
    pub types: Vec<CellType>,
    /// Per row where `Int`.
    pub ints: Vec<i64>,
    /// Per row where `Float`.
    pub floats: Vec<f64>,
    /// Per row where `Bool`.
    pub bools: Vec<bool>,
    /// Per row where `Str`: an index into [`Column::dict`].
    pub codes: Vec<u32>,
    /// The distinct strings of the column, each once.
    pub dict: Vec<Arc<str>>,
    /// Per row where `Other`.
    pub others: Vec<Option<Value>>,
}

impl Column {
    /// Rows in the column.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// The value of a row.
    pub fn value(&self, row: usize) -> Option<Value> {
        Some(match self.types[row] {
            CellType::Null => return None,
            CellType::Str => Value::Str(self.dict[self.codes[row] as usize].to_string()),
            CellType::Int => Value::Int(self.ints[row]),
            CellType::Float => Value::Float(self.floats[row]),
            CellType::Bool => Value::Bool(self.bools[row]),
            CellType::Other => self.others[row].clone()?,
        })
    }

    /// The string of a row, if it is one.
    pub fn str(&self, row: usize) -> Option<&str> {
        (self.types[row] == CellType::Str).then(|| &*self.dict[self.codes[row] as usize])
    }

    /// The number of a row, if it is an int or a float.
    pub fn number(&self, row: usize) -> Option<f64> {
        match self.types[row] {
            CellType::Int => Some(self.ints[row] as f64),
            CellType::Float => Some(self.floats[row]),
            _ => None,
        }
    }
}

/// Builds a [`Column`] a row at a time.
#[derive(Debug, Default)]
pub struct ColumnBuilder {
    column: Column,
    lookup: FxHashMap<Arc<str>, u32>,
}

impl ColumnBuilder {
    /// An empty builder for about `rows` rows.
    pub fn with_capacity(rows: usize) -> Self {
        let column = Column { types: Vec::with_capacity(rows), ..Column::default() };
        Self { column, lookup: FxHashMap::default() }
    }

    /// Appends a row without a value.
    pub fn push_null(&mut self) {
        self.push_type(CellType::Null);
    }

    /// Appends a string.
    pub fn push_str(&mut self, text: &str) {
        let code = match self.lookup.get(text) {
            Some(&code) => code,
            None => {
                let code = self.column.dict.len() as u32;
                let shared: Arc<str> = Arc::from(text);
                self.column.dict.push(shared.clone());
                self.lookup.insert(shared, code);
                code
            }
        };
        let row = self.push_type(CellType::Str);
        fill(&mut self.column.codes, row, code);
    }

    /// Appends an integer.
    pub fn push_int(&mut self, number: i64) {
        let row = self.push_type(CellType::Int);
        fill(&mut self.column.ints, row, number);
    }

    /// Appends a float.
    pub fn push_float(&mut self, number: f64) {
        let row = self.push_type(CellType::Float);
        fill(&mut self.column.floats, row, number);
    }

    /// Appends a boolean.
    pub fn push_bool(&mut self, flag: bool) {
        let row = self.push_type(CellType::Bool);
        fill(&mut self.column.bools, row, flag);
    }

    /// Appends any value (or none).
    pub fn push(&mut self, value: Option<&Value>) {
        match value {
            None => self.push_null(),
            Some(Value::Str(text)) => self.push_str(text),
            Some(Value::Int(number)) => self.push_int(*number),
            Some(Value::Float(number)) => self.push_float(*number),
            Some(Value::Bool(flag)) => self.push_bool(*flag),
            Some(other) => {
                let row = self.push_type(CellType::Other);
                fill(&mut self.column.others, row, Some(other.clone()));
            }
        }
    }

    fn push_type(&mut self, cell: CellType) -> usize {
        self.column.types.push(cell);
        self.column.types.len() - 1
    }

    /// The column, with every typed vector that is used padded to the row count.
    pub fn finish(mut self) -> Column {
        let rows = self.column.types.len();
        let column = &mut self.column;
        pad(&mut column.ints, rows);
        pad(&mut column.floats, rows);
        pad(&mut column.bools, rows);
        pad(&mut column.codes, rows);
        pad(&mut column.others, rows);
        self.column
    }
}

/// Sets `values[row]`, padding earlier rows with defaults: typed vectors are only allocated once a
/// row of their type appears.
fn fill<T: Default + Clone>(values: &mut Vec<T>, row: usize, value: T) {
    if values.len() < row {
        values.resize(row, T::default());
    }
    values.push(value);
}

fn pad<T: Default + Clone>(values: &mut Vec<T>, rows: usize) {
    if !values.is_empty() && values.len() < rows {
        values.resize(rows, T::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_builder_mixed_types_dictionary_and_padding() {
        let mut builder = ColumnBuilder::with_capacity(5);
        builder.push_null();
        builder.push(Some(&Value::Str("a".into())));
        builder.push(Some(&Value::Int(7)));
        builder.push(Some(&Value::Str("a".into())));
        builder.push(Some(&Value::Array(vec![Value::Bool(true)])));
        builder.push_null();
        let column = builder.finish();
        assert_eq!(column.len(), 6);
        assert_eq!(column.dict.len(), 1);
        assert_eq!((column.codes.len(), column.ints.len(), column.others.len()), (6, 6, 6));
        assert!(column.floats.is_empty() && column.bools.is_empty());
        let values: Vec<Option<Value>> = (0..6).map(|row| column.value(row)).collect();
        assert_eq!(
            values,
            vec![
                None,
                Some(Value::Str("a".into())),
                Some(Value::Int(7)),
                Some(Value::Str("a".into())),
                Some(Value::Array(vec![Value::Bool(true)])),
                None
            ]
        );
        assert_eq!((column.str(3), column.number(2), column.number(1)), (Some("a"), Some(7.0), None));
    }
}
