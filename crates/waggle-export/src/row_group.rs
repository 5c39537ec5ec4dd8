//! Pass 2: events are buffered column by column, then written as one Parquet row group.
//!
//! A value that does not fit its column (possible only when rows arrive between the two passes
//! with a type pass 1 did not see) is written as null; keys pass 1 did not see are left out.

use std::collections::HashMap;
use std::fs::File;

use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::errors::{ParquetError, Result as ParquetResult};
use parquet::file::writer::SerializedFileWriter;
use waggle_model::{Event, Value};

use crate::columns::{ColumnSpec, ColumnType, FIXED_COLUMNS};

/// Non-null values of one column, in its physical type.
#[derive(Debug)]
enum ColumnValues {
    Int64(Vec<i64>),
    Double(Vec<f64>),
    Boolean(Vec<bool>),
    Text(Vec<ByteArray>),
}

/// One column of the buffered rows.
#[derive(Debug)]
struct ColumnBuffer {
    name: String,
    column_type: ColumnType,
    values: ColumnValues,
    /// Parquet definition levels (1 present, 0 null); `None` for a REQUIRED column.
    definition_levels: Option<Vec<i16>>,
}

impl ColumnBuffer {
    fn new(spec: &ColumnSpec) -> Self {
        let values = match spec.column_type {
            ColumnType::Timestamp | ColumnType::Int64 => ColumnValues::Int64(Vec::new()),
            ColumnType::Double => ColumnValues::Double(Vec::new()),
            ColumnType::Boolean => ColumnValues::Boolean(Vec::new()),
            ColumnType::Text => ColumnValues::Text(Vec::new()),
        };
        let definition_levels = if spec.required { None } else { Some(Vec::new()) };
        Self { name: spec.name.clone(), column_type: spec.column_type, values, definition_levels }
    }

    /// Appends a row. Only OPTIONAL columns are ever given `None`.
    fn push(&mut self, value: Option<&Value>) {
        let present = match (&mut self.values, value) {
            (ColumnValues::Int64(values), Some(Value::Int(number))) => {
                values.push(*number);
                true
            }
            (ColumnValues::Double(values), Some(Value::Int(number))) => {
                values.push(*number as f64);
                true
            }
            (ColumnValues::Double(values), Some(Value::Float(number))) => {
                values.push(*number);
                true
            }
            (ColumnValues::Boolean(values), Some(Value::Bool(flag))) => {
                values.push(*flag);
                true
            }
            (ColumnValues::Text(values), Some(value)) => {
                values.push(ByteArray::from(text_of(value).into_bytes()));
                true
            }
            _ => false,
        };
        if let Some(levels) = &mut self.definition_levels {
            levels.push(i16::from(present));
        }
    }

    fn write(&self, writer: &mut ColumnWriter<'_>) -> ParquetResult<()> {
        let levels = self.definition_levels.as_deref();
        match (&self.values, writer) {
            (ColumnValues::Int64(values), ColumnWriter::Int64ColumnWriter(typed)) => {
                typed.write_batch(values, levels, None)
            }
            (ColumnValues::Double(values), ColumnWriter::DoubleColumnWriter(typed)) => {
                typed.write_batch(values, levels, None)
            }
            (ColumnValues::Boolean(values), ColumnWriter::BoolColumnWriter(typed)) => {
                typed.write_batch(values, levels, None)
            }
            (ColumnValues::Text(values), ColumnWriter::ByteArrayColumnWriter(typed)) => {
                typed.write_batch(values, levels, None)
            }
            _ => {
                return Err(ParquetError::General(format!(
                    "column {} ({:?}) does not match the file schema",
                    self.name, self.column_type
                )));
            }
        }?;
        Ok(())
    }

    fn clear(&mut self) {
        match &mut self.values {
            ColumnValues::Int64(values) => values.clear(),
            ColumnValues::Double(values) => values.clear(),
            ColumnValues::Boolean(values) => values.clear(),
            ColumnValues::Text(values) => values.clear(),
        }
        if let Some(levels) = &mut self.definition_levels {
            levels.clear();
        }
    }
}

/// A string as itself, bytes as base64 (their JSON form, unquoted), anything else as JSON text.
fn text_of(value: &Value) -> String {
    if let Value::Str(text) = value {
        return text.clone();
    }
    let json = value.to_json();
    match json.as_str() {
        Some(text) => text.to_owned(),
        None => json.to_string(),
    }
}

/// Rows waiting to be written, column by column.
#[derive(Debug)]
pub(crate) struct RowGroupBuffer {
    /// One buffer per file column, fixed columns first.
    columns: Vec<ColumnBuffer>,
    /// Field key to its index among the field columns (after the fixed ones).
    field_columns: HashMap<String, usize>,
    /// Per field column, the position in the current event's fields of its value.
    field_positions: Vec<Option<usize>>,
    num_rows: usize,
}

impl RowGroupBuffer {
    /// An empty buffer for the file's `columns` (fixed columns first, as `columns.rs` lays out).
    pub(crate) fn new(columns: &[ColumnSpec]) -> Self {
        let field_columns: HashMap<String, usize> = columns[FIXED_COLUMNS.len()..]
            .iter()
            .enumerate()
            .map(|(index, column)| (column.name.clone(), index))
            .collect();
        Self {
            columns: columns.iter().map(ColumnBuffer::new).collect(),
            field_positions: vec![None; field_columns.len()],
            field_columns,
            num_rows: 0,
        }
    }

    /// Rows buffered.
    pub(crate) fn num_rows(&self) -> usize {
        self.num_rows
    }

    /// Buffers one event as a row.
    pub(crate) fn push(&mut self, event: &Event) {
        let (fixed, fields) = self.columns.split_at_mut(FIXED_COLUMNS.len());
        fixed[0].push(Some(&Value::Int(event.time_unix_nano)));
        fixed[1].push(Some(&Value::Str(event.dataset.clone())));
        for (column, name) in fixed[2..].iter_mut().zip(&FIXED_COLUMNS[2..]) {
            column.push(event.lookup(name).as_ref());
        }

        self.field_positions.fill(None);
        for (position, field) in event.fields.iter().enumerate() {
            if let Some(&index) = self.field_columns.get(field.key.as_str()) {
                // Keys are unique within an event; should one repeat, the first wins, as in `Event::field`.
                self.field_positions[index].get_or_insert(position);
            }
        }
        for (column, position) in fields.iter_mut().zip(&self.field_positions) {
            column.push(position.map(|position| &event.fields[position].value));
        }
        self.num_rows += 1;
    }

    /// Writes the buffered rows as one row group and empties the buffer. Returns the rows written.
    pub(crate) fn write_row_group(&mut self, file_writer: &mut SerializedFileWriter<File>) -> ParquetResult<u64> {
        let mut row_group = file_writer.next_row_group()?;
        for column in &mut self.columns {
            let Some(mut column_writer) = row_group.next_column()? else {
                return Err(ParquetError::General(format!("the file schema has no column {}", column.name)));
            };
            column.write(column_writer.untyped())?;
            column_writer.close()?;
            column.clear();
        }
        row_group.close()?;
        let num_rows = self.num_rows as u64;
        self.num_rows = 0;
        Ok(num_rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_text_of_keeps_strings_and_writes_json_for_the_rest() {
        assert_eq!(text_of(&Value::Str("plain \"text\"".into())), "plain \"text\"");
        assert_eq!(text_of(&Value::Int(7)), "7");
        assert_eq!(text_of(&Value::Bool(false)), "false");
        assert_eq!(text_of(&Value::Bytes(b"hi!?".to_vec())), "aGkhPw==");
        assert_eq!(text_of(&Value::Array(vec![Value::Int(1), Value::Str("a".into())])), "[1,\"a\"]");
    }

    #[test]
    fn test_column_buffer_writes_null_for_mismatched_value() {
        let spec = ColumnSpec { name: "count".into(), column_type: ColumnType::Int64, required: false };
        let mut buffer = ColumnBuffer::new(&spec);
        buffer.push(Some(&Value::Int(3)));
        buffer.push(Some(&Value::Str("three".into())));
        buffer.push(None);
        assert!(matches!(&buffer.values, ColumnValues::Int64(values) if values == &[3]));
        assert_eq!(buffer.definition_levels.as_deref(), Some(&[1, 0, 0][..]));
    }
}
