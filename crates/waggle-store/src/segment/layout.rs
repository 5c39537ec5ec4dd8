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
use waggle_model::{Origin, Value};

use crate::codec::{Reader, decode_uvarints, put_bytes, put_uvarint, tag, unzigzag};
use crate::columns::{CellType, Column};
use crate::error::{Result, StoreError};
use crate::rows::split_header;

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

/// The sections of a column of `rows` rows, checked to fill it exactly.
fn split_sections(raw: &[u8], rows: usize) -> Result<[&[u8]; SECTIONS]> {
    let mut reader = Reader::new(raw);
    let mut lens = [0usize; SECTIONS];
    for len in &mut lens {
        *len = reader.len()?;
    }
    let mut sections = [&[][..]; SECTIONS];
    for (section, len) in sections.iter_mut().zip(lens) {
        *section = reader.take(len)?;
    }
    if sections[0].len() != rows || !reader.is_empty() {
        return Err(corrupt("wrong row count"));
    }
    Ok(sections)
}

/// Decodes a column of `rows` rows; also returns the header bytes (they carry each cell's origin).
pub(crate) fn decode(raw: &[u8], rows: usize) -> Result<(Column, Vec<u8>)> {
    let [headers, ints, floats, bools, dict, codes, others] = split_sections(raw, rows)?;
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

/// The cells of the `wanted` rows (ascending) of a column of `rows` rows, with their origins, for a
/// read of a few rows (one trace): no per-row vectors are built. Each wanted row's cell is found by
/// counting the headers of its type before it, varints are stepped over by their terminators and
/// the dictionary is walked only up to the largest code asked for. Section lengths, row count, tags
/// and varint counts are checked as [`decode`] checks them, and so is every cell returned; other
/// rows' values are stepped over, not decoded (the column's CRC already vouches for them).
pub(crate) fn decode_rows(raw: &[u8], rows: usize, wanted: &[usize]) -> Result<Vec<Option<(Origin, Value)>>> {
    let [headers, ints, floats, bools, dict, codes, others] = split_sections(raw, rows)?;
    // Tags above 7 do not exist (see TAG_TYPES).
    if headers.iter().fold(0, |acc, header| acc | header) & 0x08 != 0 {
        return Err(corrupt("bad value tag"));
    }
    if wanted.windows(2).any(|pair| pair[0] > pair[1]) || wanted.last().is_some_and(|&row| row >= rows) {
        return Err(corrupt("rows asked for out of order or range"));
    }
    // Bytes, arrays and maps share the others section: one class for the three tags.
    let class = |header: u8| (header & 0x0f).min(tag::BYTES);
    let classes: Vec<u8> = wanted.iter().map(|&row| class(headers[row])).collect();
    // Per wanted row, its cell's index in its section; per class, the cells in the column. One pass
    // over the headers per class asked for, in loops the compiler vectorizes.
    let mut ordinals = vec![0; wanted.len()];
    let mut totals = [0; tag::BYTES as usize + 1];
    for cell_class in [tag::STR, tag::INT, tag::FLOAT, tag::BOOL, tag::BYTES] {
        if !classes.contains(&cell_class) {
            continue;
        }
        let count = |from: usize, to: usize| count_bytes(&headers[from..to], |header| class(header) == cell_class);
        let (mut before, mut from) = (0, 0);
        for ((ordinal, &row), _) in ordinals.iter_mut().zip(wanted).zip(&classes).filter(|(_, c)| **c == cell_class) {
            before += count(from, row);
            *ordinal = before;
            from = row;
        }
        totals[cell_class as usize] = before + count(from, rows);
    }
    let picked = |cell_class: u8| -> (Vec<usize>, Vec<usize>) {
        (0..wanted.len()).filter(|&index| classes[index] == cell_class).map(|index| (index, ordinals[index])).unzip()
    };
    let mut values: Vec<Option<Value>> = vec![None; wanted.len()];

    let (indexes, positions) = picked(tag::INT);
    if !indexes.is_empty() {
        for (index, offset) in indexes.into_iter().zip(varint_offsets(ints, totals[tag::INT as usize], &positions)?) {
            values[index] = Some(Value::Int(Reader::new(&ints[offset..]).ivarint()?));
        }
    }
    let (indexes, positions) = picked(tag::FLOAT);
    for (index, position) in indexes.into_iter().zip(positions) {
        let bytes = floats.get(position * 8..position * 8 + 8).ok_or_else(|| corrupt("floats section"))?;
        values[index] = Some(Value::Float(f64::from_le_bytes(bytes.try_into().expect("8 bytes"))));
    }
    let (indexes, positions) = picked(tag::BOOL);
    for (index, position) in indexes.into_iter().zip(positions) {
        values[index] = Some(Value::Bool(*bools.get(position).ok_or_else(|| corrupt("bools section"))? != 0));
    }
    let (indexes, positions) = picked(tag::STR);
    if !indexes.is_empty() {
        let string_codes = varint_offsets(codes, totals[tag::STR as usize], &positions)?
            .into_iter()
            .map(|offset| Reader::new(&codes[offset..]).uvarint())
            .collect::<Result<Vec<u64>>>()?;
        let mut reader = Reader::new(dict);
        let count = reader.len()? as u64;
        let largest = string_codes.iter().copied().max().unwrap_or(0);
        if largest >= count {
            return Err(corrupt("string code out of range"));
        }
        let strings = (0..=largest).map(|_| reader.bytes()).collect::<Result<Vec<&[u8]>>>()?;
        for (index, code) in indexes.into_iter().zip(string_codes) {
            let text = std::str::from_utf8(strings[code as usize]).map_err(|_| corrupt("utf-8"))?;
            values[index] = Some(Value::Str(text.to_owned()));
        }
    }
    let (indexes, positions) = picked(tag::BYTES);
    if let Some(&last) = positions.last() {
        let mut reader = Reader::new(others);
        let mut next = indexes.iter().zip(&positions).peekable();
        let other_tags = headers.iter().map(|&header| header & 0x0f).filter(|&tag| tag >= tag::BYTES);
        for (position, tag) in other_tags.take(last + 1).enumerate() {
            if next.peek().is_none_or(|(_, wanted)| **wanted != position) {
                reader.skip_value_payload(tag)?;
                continue;
            }
            let value = reader.value_payload(tag)?;
            // A row asked for twice.
            while let Some((&index, _)) = next.next_if(|(_, wanted)| **wanted == position) {
                values[index] = Some(value.clone());
            }
        }
    }
    wanted
        .iter()
        .zip(values)
        .map(|(&row, value)| value.map(|value| Ok((split_header(headers[row])?.0, value))).transpose())
        .collect()
}

/// Where each varint numbered in `wanted` (ascending) starts in a section that must hold exactly
/// `count` of them. Varints are stepped over by counting their terminators (bytes below 0x80),
/// not decoded; the varints asked for are checked when read, the others are not.
fn varint_offsets(section: &[u8], count: usize, wanted: &[usize]) -> Result<Vec<usize>> {
    let terminators = |bytes: &[u8]| count_bytes(bytes, |byte| byte < 0x80);
    let mut offsets = Vec::with_capacity(wanted.len());
    // Varints ended before `pos`.
    let (mut pos, mut ended) = (0, 0);
    for &number in wanted {
        // Varint k starts after the k-th terminator: whole blocks, then byte by byte.
        while let Some(block) = section.get(pos..pos + COUNT_BLOCK) {
            let found = terminators(block);
            if ended + found >= number {
                break;
            }
            (pos, ended) = (pos + COUNT_BLOCK, ended + found);
        }
        while ended < number {
            ended += usize::from(*section.get(pos).ok_or_else(|| corrupt("varint section"))? < 0x80);
            pos += 1;
        }
        offsets.push(pos);
    }
    if ended + terminators(&section[pos..]) != count || section.last().is_some_and(|&byte| byte >= 0x80) {
        return Err(corrupt("varint section does not match its rows"));
    }
    Ok(offsets)
}

/// Bytes per block of [`count_bytes`]: its per-block count fits a byte.
const COUNT_BLOCK: usize = 255;

/// How many bytes match, summed in byte-wide lanes that the compiler vectorizes.
fn count_bytes(bytes: &[u8], matches: impl Fn(u8) -> bool) -> usize {
    bytes.chunks(COUNT_BLOCK).map(|block| block.iter().map(|&byte| u8::from(matches(byte))).sum::<u8>() as usize).sum()
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
    use proptest::prelude::RngExt;
    use proptest::test_runner::{RngAlgorithm, TestRng};

    use crate::codec::put_value_payload;

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

    fn random_value(rng: &mut TestRng, types: &[u8], strings: u64, depth: u32) -> Value {
        let small = |rng: &mut TestRng| rng.random_range(0..4usize);
        match types[rng.random_range(0..types.len())] {
            tag::STR => {
                // Repeats, some long: `strings` distinct values.
                let number = rng.random_range(0..strings);
                Value::Str(format!("{}é{number}", "s".repeat(number as usize % 7 * 30)))
            }
            tag::INT => Value::Int(match rng.random_range(0..4) {
                0 => rng.random_range(-70..70),
                1 => rng.random_range(-100_000..100_000),
                2 => rng.random(),
                _ => [i64::MIN, i64::MAX, -1, 0][small(rng)],
            }),
            tag::FLOAT => Value::Float(rng.random::<f64>() * 1e9 - 5e8),
            tag::BOOL => Value::Bool(rng.random()),
            tag::BYTES => Value::Bytes((0..small(rng)).map(|_| rng.random()).collect()),
            tag_value => {
                let inner = if depth < 2 { &[tag::STR, tag::INT, tag::ARRAY, tag::MAP][..] } else { &[tag::INT] };
                let items = (0..small(rng)).map(|_| random_value(rng, inner, strings, depth + 1));
                if tag_value == tag::ARRAY {
                    Value::Array(items.collect())
                } else {
                    Value::Map(items.enumerate().map(|(index, item)| (format!("k{index}"), item)).collect())
                }
            }
        }
    }

    /// A random column: the cells, null or not, and its raw bytes.
    fn random_column(rng: &mut TestRng) -> (Vec<Option<Value>>, Vec<u8>) {
        let all = [tag::STR, tag::INT, tag::FLOAT, tag::BOOL, tag::BYTES, tag::ARRAY, tag::MAP];
        let types: Vec<u8> = match rng.random_range(0..3) {
            0 => vec![all[rng.random_range(0..all.len())]],
            1 => all.iter().copied().filter(|_| rng.random_bool(0.4)).chain([tag::STR]).collect(),
            _ => all.to_vec(),
        };
        let nulls = [0.0, 0.3, 0.95][rng.random_range(0..3)];
        let strings = [1, 5, 1000][rng.random_range(0..3)];
        let rows = rng.random_range(1..700);
        let mut writer = ColumnWriter::default();
        let cells: Vec<Option<Value>> =
            (0..rows).map(|_| (!rng.random_bool(nulls)).then(|| random_value(rng, &types, strings, 0))).collect();
        for cell in &cells {
            match cell {
                None => writer.push_null(),
                Some(value) => {
                    let mut payload = Vec::new();
                    put_value_payload(&mut payload, value);
                    let header = (rng.random_range(0..4) << 4) | crate::codec::tag_of(value);
                    writer.push(header, &payload).unwrap();
                }
            }
        }
        (cells, writer.finish())
    }

    #[test]
    fn test_layout_rows_match_the_full_decode() {
        let mut rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
        for round in 0..300 {
            let (cells, raw) = random_column(&mut rng);
            let rows = cells.len();
            let (column, headers) = decode(&raw, rows).unwrap();
            for density in [0.0, 0.01, 0.1, 0.5, 1.0] {
                let mut wanted: Vec<usize> = (0..rows).filter(|_| rng.random_bool(density)).collect();
                if rng.random_bool(0.2) && !wanted.is_empty() {
                    // A row asked for twice.
                    wanted.insert(rng.random_range(0..wanted.len()), wanted[0]);
                    wanted.sort_unstable();
                }
                let expected: Vec<Option<(Origin, Value)>> = wanted
                    .iter()
                    .map(|&row| column.value(row).map(|value| (split_header(headers[row]).unwrap().0, value)))
                    .collect();
                assert_eq!(decode_rows(&raw, rows, &wanted).unwrap(), expected, "round {round}, rows {wanted:?}");
                for (&row, cell) in wanted.iter().zip(expected) {
                    assert_eq!(cell.map(|(_, value)| value), cells[row], "the layout round-trips");
                }
            }
            let wanted: Vec<usize> = (0..rows).filter(|_| rng.random_bool(0.05)).collect();
            if round % 10 == 0 {
                for cut in 0..raw.len() {
                    assert!(decode_rows(&raw[..cut], rows, &wanted).is_err(), "round {round}, cut at {cut}");
                }
            }
            assert!(decode_rows(&raw, rows + 1, &wanted).is_err());
            assert!(decode_rows(&raw, rows, &[rows]).is_err(), "a row past the end");
            if rows > 1 {
                assert!(decode_rows(&raw, rows, &[1, 0]).is_err(), "rows out of order");
            }
            // Flipped bytes: an error or cells, never a panic.
            for _ in 0..20 {
                let mut flipped = raw.clone();
                let position = rng.random_range(0..flipped.len());
                flipped[position] ^= rng.random_range(1..=255u8);
                let _ = decode_rows(&flipped, rows, &wanted);
            }
        }
    }

    #[test]
    fn test_layout_rows_refuse_malformed_varint_sections() {
        let mut writer = ColumnWriter::default();
        writer.push(tag::INT, &[0x80; 10].into_iter().chain([0]).collect::<Vec<u8>>()).unwrap();
        writer.push(tag::INT, &[1]).unwrap();
        let raw = writer.finish();
        assert!(decode(&raw, 2).is_err());
        assert!(decode_rows(&raw, 2, &[0]).is_err(), "an overlong varint asked for");
        // One varint more than the headers have int rows.
        let mut writer = ColumnWriter::default();
        writer.push(tag::INT, &[1, 2]).unwrap();
        writer.push(tag::INT, &[3]).unwrap();
        let raw = writer.finish();
        assert!(decode(&raw, 2).is_err());
        assert!(decode_rows(&raw, 2, &[0]).is_err(), "a varint too many");
    }
}
