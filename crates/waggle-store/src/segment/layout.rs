//! The layout of one field column inside a segment, built for fast column-wise reads: a header
//! byte per row (`origin<<4 | tag`, 0 = absent), then one section per value type, so a reader
//! decodes ints, floats and strings in tight loops. Strings are dictionary-encoded: each distinct
//! string is stored once and rows hold its code, so filters and group-bys touch small integers.
//!
//! ```text
//! len(headers) len(ints) len(floats) len(bools) len(dict) len(codes) len(others)   (uvarints)
//! headers: u8 per row | ints: zigzag varint per int row | floats: f64 LE per float row
//! bools: u8 per bool row | dict: count, then (len, utf-8) per string | codes: uvarint per string row
//! others: value payload per bytes/array/map row
//! ```

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::codec::{Reader, decode_uvarints, put_bytes, put_uvarint, tag, unzigzag};
use crate::columns::{CellType, Column};
use crate::error::{Result, StoreError};

const SECTIONS: usize = 7;

/// The cell type of each value tag; `None` for tags that do not exist.
const TAG_TYPES: [Option<CellType>; 16] = {
    let mut table = [None; 16];
    table[tag::NULL as usize] = Some(CellType::Null);
    table[tag::STR as usize] = Some(CellType::Str);
    table[tag::INT as usize] = Some(CellType::Int);
    table[tag::FLOAT as usize] = Some(CellType::Float);
    table[tag::BOOL as usize] = Some(CellType::Bool);
    table[tag::BYTES as usize] = Some(CellType::Other);
    table[tag::ARRAY as usize] = Some(CellType::Other);
    table[tag::MAP as usize] = Some(CellType::Other);
    table
};

/// One column being written.
#[derive(Debug, Default)]
pub(crate) struct ColumnWriter {
    headers: Vec<u8>,
    ints: Vec<u8>,
    floats: Vec<u8>,
    bools: Vec<u8>,
    dict: FxHashMap<Box<[u8]>, u32>,
    dict_bytes: Vec<u8>,
    codes: Vec<u8>,
    others: Vec<u8>,
}

impl ColumnWriter {
    /// A column whose first `rows` rows are absent.
    pub(crate) fn with_nulls(rows: usize) -> Self {
        Self { headers: vec![tag::NULL; rows], ..Self::default() }
    }

    pub(crate) fn push_null(&mut self) {
        self.headers.push(tag::NULL);
    }

    /// Appends a cell as the row encoding holds it: its header and its value payload.
    pub(crate) fn push(&mut self, header: u8, payload: &[u8]) -> Result<()> {
        self.headers.push(header);
        match header & 0x0f {
            tag::INT => self.ints.extend_from_slice(payload),
            tag::FLOAT => self.floats.extend_from_slice(payload),
            tag::BOOL => self.bools.extend_from_slice(payload),
            tag::STR => {
                let text = Reader::new(payload).bytes()?;
                let next = self.dict.len() as u32;
                let code = *self.dict.entry(text.into()).or_insert_with(|| {
                    put_bytes(&mut self.dict_bytes, text);
                    next
                });
                put_uvarint(&mut self.codes, code as u64);
            }
            _ => self.others.extend_from_slice(payload),
        }
        Ok(())
    }

    /// Raw bytes of the column, ready to compress.
    pub(crate) fn finish(self) -> Vec<u8> {
        let mut dict = Vec::with_capacity(self.dict_bytes.len() + 5);
        put_uvarint(&mut dict, self.dict.len() as u64);
        dict.extend_from_slice(&self.dict_bytes);
        let sections = [&self.headers, &self.ints, &self.floats, &self.bools, &dict, &self.codes, &self.others];
        let mut out = Vec::with_capacity(sections.iter().map(|section| section.len()).sum::<usize>() + 40);
        for section in sections {
            put_uvarint(&mut out, section.len() as u64);
        }
        for section in sections {
            out.extend_from_slice(section);
        }
        out
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("segment column: {what}"))
}

/// Decodes a column of `rows` rows; also returns the header bytes (they carry each cell's origin).
pub(crate) fn decode(raw: &[u8], rows: usize) -> Result<(Column, Vec<u8>)> {
    let mut reader = Reader::new(raw);
    let mut lens = [0usize; SECTIONS];
    for len in &mut lens {
        *len = reader.len()?;
    }
    let mut sections = [&[][..]; SECTIONS];
    for (section, len) in sections.iter_mut().zip(lens) {
        *section = reader.take(len)?;
    }
    let [headers, ints, floats, bools, dict, codes, others] = sections;
    if headers.len() != rows || !reader.is_empty() {
        return Err(corrupt("wrong row count"));
    }
    // A table from header byte to cell type keeps the per-row loop free of branches.
    let mut column = Column { types: Vec::with_capacity(rows), ..Column::default() };
    let mut present = 0u16;
    let mut bad = false;
    for &header in headers {
        let cell = TAG_TYPES[(header & 0x0f) as usize];
        bad |= cell.is_none();
        let cell = cell.unwrap_or(CellType::Null);
        present |= 1 << (cell as u16);
        column.types.push(cell);
    }
    if bad {
        return Err(corrupt("bad value tag"));
    }
    let has = |cell: CellType| present & (1 << (cell as u16)) != 0;
    if has(CellType::Int) {
        let ints = dense_varints(&column.types, CellType::Int, ints)?;
        column.ints = ints.into_iter().map(unzigzag).collect();
    }
    if has(CellType::Float) {
        let mut reader = Reader::new(floats);
        column.floats = fill_rows(&column.types, CellType::Float, || Ok(f64::from_le_bytes(reader.array()?)))?;
    }
    if has(CellType::Bool) {
        let mut reader = Reader::new(bools);
        column.bools = fill_rows(&column.types, CellType::Bool, || Ok(reader.u8()? != 0))?;
    }
    if has(CellType::Str) {
        let mut reader = Reader::new(dict);
        let count = reader.len()?;
        column.dict = (0..count)
            .map(|_| Ok(Arc::from(std::str::from_utf8(reader.bytes()?).map_err(|_| corrupt("utf-8"))?)))
            .collect::<Result<_>>()?;
        let codes = dense_varints(&column.types, CellType::Str, codes)?;
        if codes.iter().any(|code| *code >= count as u64) {
            return Err(corrupt("string code out of range"));
        }
        column.codes = codes.into_iter().map(|code| code as u32).collect();
    }
    if has(CellType::Other) {
        let mut reader = Reader::new(others);
        let mut values = vec![None; rows];
        for (row, &header) in headers.iter().enumerate() {
            if column.types[row] == CellType::Other {
                values[row] = Some(reader.value_payload(header & 0x0f)?);
            }
        }
        column.others = values;
    }
    Ok((column, headers.to_vec()))
}

/// A section of one varint per row of type `cell`, spread to one entry per row (0 elsewhere).
fn dense_varints(types: &[CellType], cell: CellType, section: &[u8]) -> Result<Vec<u64>> {
    let count = types.iter().filter(|row_type| **row_type == cell).count();
    let (values, used) = decode_uvarints(section, count)?;
    if used != section.len() {
        return Err(corrupt("trailing bytes in a varint section"));
    }
    if count == types.len() {
        return Ok(values);
    }
    let mut values = values.into_iter();
    Ok(types.iter().map(|row_type| if *row_type == cell { values.next().unwrap_or(0) } else { 0 }).collect())
}

/// A dense per-row vector: `next` for each row of type `cell`, the default elsewhere.
fn fill_rows<T: Default + Copy>(
    types: &[CellType],
    cell: CellType,
    mut next: impl FnMut() -> Result<T>,
) -> Result<Vec<T>> {
    let mut values = vec![T::default(); types.len()];
    for (value, &row_type) in values.iter_mut().zip(types) {
        if row_type == cell {
            *value = next()?;
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::put_value_payload;
    use waggle_model::Value;

    #[test]
    fn test_layout_round_trips_mixed_types_with_a_dictionary() {
        let values = [
            Some(Value::Str("a".into())),
            None,
            Some(Value::Int(-3)),
            Some(Value::Str("b".into())),
            Some(Value::Float(2.5)),
            Some(Value::Str("a".into())),
            Some(Value::Bool(true)),
            Some(Value::Map(vec![("k".into(), Value::Int(1))])),
        ];
        let mut writer = ColumnWriter::with_nulls(1);
        for value in &values {
            match value {
                None => writer.push_null(),
                Some(value) => {
                    let mut payload = Vec::new();
                    put_value_payload(&mut payload, value);
                    let header = (2 << 4) | crate::codec::tag_of(value);
                    writer.push(header, &payload).unwrap();
                }
            }
        }
        let raw = writer.finish();
        let (column, headers) = decode(&raw, values.len() + 1).unwrap();
        assert_eq!(column.value(0), None);
        for (row, value) in values.iter().enumerate() {
            assert_eq!(column.value(row + 1), value.clone(), "row {row}");
        }
        assert_eq!(column.dict.len(), 2);
        assert_eq!(headers[1] >> 4, 2);
        for cut in 0..raw.len() {
            assert!(decode(&raw[..cut], values.len() + 1).is_err());
        }
        assert!(decode(&raw, values.len()).is_err());
    }
}
