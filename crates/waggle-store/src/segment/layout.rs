//! The layout of one field column inside a segment, built for fast column-wise reads: a header
//! byte per row (`origin<<4 | tag`, 0 = absent), then one section per value type, so a reader
//! decodes ints, floats and strings in tight loops. Strings are dictionary-encoded: each distinct
//! string is stored once and rows hold its code, so filters and group-bys touch small integers.
//!
//! Format 4 cuts the rows into blocks (one zstd frame each, see `super`); the column's one
//! dictionary has a frame of its own, before the blocks:
//!
//! ```text
//! dictionary: count, then (len, utf-8) per string
//! block:      len(headers) len(ints) len(floats) len(bools) len(codes) len(others)   (uvarints)
//!             headers: u8 per row | ints: zigzag varint per int row | floats: f64 LE per float row
//!             bools: u8 per bool row | codes: uvarint per string row | others: value payload per
//!             bytes/array/map row
//! ```
//!
//! Format 3 stored a column as one block of all its rows with the dictionary embedded: a
//! `len(dict)` between `len(bools)` and `len(codes)`, and the dictionary between bools and codes.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use waggle_model::{Origin, Value};

use crate::codec::{Reader, decode_uvarints, put_bytes, put_uvarint, tag, unzigzag};
use crate::columns::{CellType, Column};
use crate::error::{Result, StoreError};
use crate::rows::split_header;

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

/// One column being written, cut into blocks of `block_rows` rows.
#[derive(Debug)]
pub(crate) struct ColumnWriter {
    block_rows: usize,
    headers: Vec<u8>,
    ints: Vec<u8>,
    floats: Vec<u8>,
    bools: Vec<u8>,
    dict: FxHashMap<Box<[u8]>, u32>,
    dict_bytes: Vec<u8>,
    codes: Vec<u8>,
    others: Vec<u8>,
    /// Where each full block ends in each section but the headers (ints, floats, bools, codes,
    /// others), noted as rows come so that `finish` cuts the sections without parsing them.
    block_ends: Vec<[usize; 5]>,
}

impl ColumnWriter {
    /// A column whose first `rows` rows are absent.
    pub(crate) fn with_nulls(block_rows: usize, rows: usize) -> Self {
        Self {
            block_rows,
            headers: vec![tag::NULL; rows],
            ints: Vec::new(),
            floats: Vec::new(),
            bools: Vec::new(),
            dict: FxHashMap::default(),
            dict_bytes: Vec::new(),
            codes: Vec::new(),
            others: Vec::new(),
            block_ends: vec![[0; 5]; rows / block_rows],
        }
    }

    pub(crate) fn push_null(&mut self) {
        self.headers.push(tag::NULL);
        self.end_row();
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
        self.end_row();
        Ok(())
    }

    fn end_row(&mut self) {
        if self.headers.len() == (self.block_ends.len() + 1) * self.block_rows {
            self.block_ends.push([
                self.ints.len(),
                self.floats.len(),
                self.bools.len(),
                self.codes.len(),
                self.others.len(),
            ]);
        }
    }

    fn dictionary(&self) -> Vec<u8> {
        let mut dict = Vec::with_capacity(self.dict_bytes.len() + 5);
        put_uvarint(&mut dict, self.dict.len() as u64);
        dict.extend_from_slice(&self.dict_bytes);
        dict
    }

    /// Raw bytes of the column, ready to compress: its dictionary, then one buffer per block.
    pub(crate) fn finish(self) -> (Vec<u8>, Vec<Vec<u8>>) {
        let rows = self.headers.len();
        let sections = [&self.ints, &self.floats, &self.bools, &self.codes, &self.others];
        let mut ends = self.block_ends.clone();
        if !rows.is_multiple_of(self.block_rows) {
            ends.push(sections.map(|section| section.len()));
        }
        let mut start = [0; 5];
        let blocks = ends
            .iter()
            .enumerate()
            .map(|(block, end)| {
                let mut parts = vec![&self.headers[block * self.block_rows..rows.min((block + 1) * self.block_rows)]];
                parts.extend(
                    sections.iter().zip(start.iter().zip(end)).map(|(section, (&from, &to))| &section[from..to]),
                );
                start = *end;
                concat_sections(&parts)
            })
            .collect();
        (self.dictionary(), blocks)
    }

    /// The format 3 layout of the whole column, for reading tests.
    #[cfg(test)]
    pub(crate) fn finish_v3(self) -> Vec<u8> {
        let dict = self.dictionary();
        concat_sections(&[&self.headers, &self.ints, &self.floats, &self.bools, &dict, &self.codes, &self.others])
    }
}

/// The lengths of the sections, then the sections.
fn concat_sections(sections: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(sections.iter().map(|section| section.len()).sum::<usize>() + 40);
    for section in sections {
        put_uvarint(&mut out, section.len() as u64);
    }
    for section in sections {
        out.extend_from_slice(section);
    }
    out
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("segment column: {what}"))
}

/// The sections of one block.
struct Sections<'a> {
    headers: &'a [u8],
    ints: &'a [u8],
    floats: &'a [u8],
    bools: &'a [u8],
    codes: &'a [u8],
    others: &'a [u8],
    /// Format 3 only: the column's dictionary.
    dict: Option<&'a [u8]>,
}

/// The sections of a block of `rows` rows, checked to fill it exactly; `embedded_dict` for a
/// format 3 column (one block holding its dictionary).
fn split_sections(raw: &[u8], rows: usize, embedded_dict: bool) -> Result<Sections<'_>> {
    let mut reader = Reader::new(raw);
    let used = if embedded_dict { 7 } else { 6 };
    let mut lens = [0usize; 7];
    for len in &mut lens[..used] {
        *len = reader.len()?;
    }
    let mut sections = [&[][..]; 7];
    for (section, &len) in sections.iter_mut().zip(&lens[..used]) {
        *section = reader.take(len)?;
    }
    if sections[0].len() != rows || !reader.is_empty() {
        return Err(corrupt("wrong row count"));
    }
    let [headers, ints, floats, bools, rest @ ..] = sections;
    let (dict, [codes, others]) = match embedded_dict {
        true => (Some(rest[0]), [rest[1], rest[2]]),
        false => (None, [rest[0], rest[1]]),
    };
    Ok(Sections { headers, ints, floats, bools, codes, others, dict })
}

/// The strings of a dictionary.
fn decode_dict(raw: &[u8]) -> Result<Vec<Arc<str>>> {
    let mut reader = Reader::new(raw);
    let count = reader.len()?;
    let dict = (0..count)
        .map(|_| Ok(Arc::from(std::str::from_utf8(reader.bytes()?).map_err(|_| corrupt("utf-8"))?)))
        .collect::<Result<_>>()?;
    if !reader.is_empty() {
        return Err(corrupt("trailing bytes after the dictionary"));
    }
    Ok(dict)
}

/// Decodes a column block after block into one [`Column`]: one dictionary, and typed vectors
/// either empty or dense over all rows, as if the column were one block. Also keeps the header
/// bytes (they carry each cell's origin).
pub(crate) struct ColumnDecoder {
    column: Column,
    headers: Vec<u8>,
    rows: usize,
    /// The varints of a block's section, reused from block to block.
    varints: Vec<u64>,
}

impl ColumnDecoder {
    /// A decoder for a column of `rows` rows.
    pub(crate) fn new(rows: usize) -> Self {
        Self {
            column: Column { types: Vec::with_capacity(rows), ..Column::default() },
            headers: Vec::with_capacity(rows),
            rows,
            varints: Vec::new(),
        }
    }

    /// Format 4: the column's dictionary frame, before its blocks.
    pub(crate) fn set_dict(&mut self, raw: &[u8]) -> Result<()> {
        self.column.dict = decode_dict(raw)?;
        Ok(())
    }

    /// Appends the next block, of `rows` rows (a format 3 column: the whole column, with its
    /// dictionary embedded).
    pub(crate) fn push_block(&mut self, raw: &[u8], rows: usize, embedded_dict: bool) -> Result<()> {
        let sections = split_sections(raw, rows, embedded_dict)?;
        let start = self.column.types.len();
        if start + rows > self.rows {
            return Err(corrupt("more rows than the column"));
        }
        // Which tags occur, then a table from header byte to cell type: loops without branches.
        let tags = sections.headers.iter().fold(0u32, |tags, &header| tags | 1 << (header & 0x0f));
        if (0..16).any(|tag| tags & (1 << tag) != 0 && TAG_TYPES[tag].is_none()) {
            return Err(corrupt("bad value tag"));
        }
        let has = |cell: CellType| (0..16).any(|tag| tags & (1 << tag) != 0 && TAG_TYPES[tag] == Some(cell));
        let types =
            sections.headers.iter().map(|&header| TAG_TYPES[(header & 0x0f) as usize].unwrap_or(CellType::Null));
        self.column.types.extend(types);
        self.headers.extend_from_slice(sections.headers);
        let (column, total, varints) = (&mut self.column, self.rows, &mut self.varints);
        let types = &column.types[start..];
        if has(CellType::Int) {
            let count = decode_varints(types, CellType::Int, sections.ints, varints)?;
            let ints: &[u64] = varints;
            extend_at(&mut column.ints, start, total, types, CellType::Int, count, |index| unzigzag(ints[index]));
        }
        if has(CellType::Float) {
            let count = count(types, CellType::Float);
            if sections.floats.len() != count * 8 {
                return Err(corrupt("floats section does not match its rows"));
            }
            let float =
                |index: usize| f64::from_le_bytes(sections.floats[index * 8..][..8].try_into().expect("8 bytes"));
            extend_at(&mut column.floats, start, total, types, CellType::Float, count, float);
        }
        if has(CellType::Bool) {
            let count = count(types, CellType::Bool);
            if sections.bools.len() != count {
                return Err(corrupt("bools section does not match its rows"));
            }
            extend_at(&mut column.bools, start, total, types, CellType::Bool, count, |index| {
                sections.bools[index] != 0
            });
        }
        if has(CellType::Str) {
            if let Some(dict) = sections.dict {
                column.dict = decode_dict(dict)?;
            }
            let count = decode_varints(types, CellType::Str, sections.codes, varints)?;
            let codes: &[u64] = varints;
            if codes.iter().any(|&code| code >= column.dict.len() as u64) {
                return Err(corrupt("string code out of range"));
            }
            extend_at(&mut column.codes, start, total, types, CellType::Str, count, |index| codes[index] as u32);
        }
        if has(CellType::Other) {
            let mut reader = Reader::new(sections.others);
            if column.others.is_empty() {
                column.others.reserve_exact(total);
            }
            column.others.resize(start, None);
            for (&header, &cell) in sections.headers.iter().zip(types) {
                column.others.push(if cell == CellType::Other {
                    Some(reader.value_payload(header & 0x0f)?)
                } else {
                    None
                });
            }
            if !reader.is_empty() {
                return Err(corrupt("trailing bytes in the others section"));
            }
        }
        Ok(())
    }

    /// The column, once every block is in.
    pub(crate) fn finish(mut self) -> Result<(Column, Vec<u8>)> {
        if self.column.types.len() != self.rows {
            return Err(corrupt("wrong row count"));
        }
        let (column, rows) = (&mut self.column, self.rows);
        pad(&mut column.ints, rows);
        pad(&mut column.floats, rows);
        pad(&mut column.bools, rows);
        pad(&mut column.codes, rows);
        pad(&mut column.others, rows);
        Ok((self.column, self.headers))
    }
}

/// Rows of type `cell`.
fn count(types: &[CellType], cell: CellType) -> usize {
    types.iter().filter(|row_type| **row_type == cell).count()
}

/// Decodes a section holding one varint per row of type `cell` into `out`, checked to fill it
/// exactly; returns how many.
fn decode_varints(types: &[CellType], cell: CellType, section: &[u8], out: &mut Vec<u64>) -> Result<usize> {
    let count = count(types, cell);
    if decode_uvarints(section, count, out)? != section.len() {
        return Err(corrupt("trailing bytes in a varint section"));
    }
    Ok(count)
}

/// Appends the values of a block's rows (`types`, from row `start` on) to a typed vector: value
/// `value(n)` for the n-th row of type `cell` (`count` of them, at least one), the default
/// elsewhere. The vector stays empty until a row of its type appears; then it gets room for all
/// `total` rows, and defaults for the rows before.
fn extend_at<T: Default + Clone>(
    out: &mut Vec<T>,
    start: usize,
    total: usize,
    types: &[CellType],
    cell: CellType,
    count: usize,
    value: impl Fn(usize) -> T,
) {
    if out.is_empty() {
        out.reserve_exact(total);
    }
    out.resize(start, T::default());
    if count == types.len() {
        out.extend((0..count).map(value));
        return;
    }
    out.resize(start + types.len(), T::default());
    // Without branches: every row reads the next value (the last again past it), and keeps it when
    // of the type. A plain loop over slices keeps the counters in registers.
    let (mut next, last) = (0, count - 1);
    for (slot, &row_type) in out[start..].iter_mut().zip(types) {
        let (found, hit) = (value(next.min(last)), row_type == cell);
        next += usize::from(hit);
        *slot = std::hint::select_unpredictable(hit, found, T::default());
    }
}

/// Pads a typed vector in use to every row.
fn pad<T: Default + Clone>(values: &mut Vec<T>, rows: usize) {
    if !values.is_empty() {
        values.resize(rows, T::default());
    }
}

/// Decodes a format 3 column of `rows` rows; also returns the header bytes.
#[cfg(test)]
pub(crate) fn decode(raw: &[u8], rows: usize) -> Result<(Column, Vec<u8>)> {
    let mut decoder = ColumnDecoder::new(rows);
    decoder.push_block(raw, rows, true)?;
    decoder.finish()
}

/// Whether any of the `wanted` rows (block-relative) of a block holds a string: a format 4 read
/// of a few rows fetches the column's dictionary only then.
pub(crate) fn wants_strings(raw: &[u8], rows: usize, wanted: &[usize]) -> Result<bool> {
    let headers = split_sections(raw, rows, false)?.headers;
    Ok(wanted.iter().any(|&row| headers.get(row).is_some_and(|header| header & 0x0f == tag::STR)))
}

/// The cells of the `wanted` rows (ascending) of a block of `rows` rows, with their origins, for a
/// read of a few rows (one trace): no per-row vectors are built. Each wanted row's cell is found by
/// counting the headers of its type before it, varints are stepped over by their terminators and
/// the dictionary is walked only up to the largest code asked for. Section lengths, row count, tags
/// and varint counts are checked as [`ColumnDecoder`] checks them, and so is every cell returned;
/// other rows' values are stepped over, not decoded (the frame's CRC already vouches for them).
/// `embedded_dict` for a format 3 column; a format 4 block takes the column's dictionary frame,
/// needed when [`wants_strings`].
pub(crate) fn decode_rows(
    raw: &[u8],
    rows: usize,
    wanted: &[usize],
    embedded_dict: bool,
    dict: Option<&[u8]>,
) -> Result<Vec<Option<(Origin, Value)>>> {
    let Sections { headers, ints, floats, bools, codes, others, dict: embedded } =
        split_sections(raw, rows, embedded_dict)?;
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
        let mut reader = Reader::new(embedded.or(dict).ok_or_else(|| corrupt("no dictionary"))?);
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::RngExt;
    use proptest::test_runner::{RngAlgorithm, TestRng};

    use crate::codec::put_value_payload;

    /// A cell as the row encoding holds it: its header and value (`None`: absent).
    type Cell = Option<(u8, Value)>;

    fn writer_of(cells: &[Cell], block_rows: usize, leading_nulls: usize) -> ColumnWriter {
        let mut writer = ColumnWriter::with_nulls(block_rows, leading_nulls);
        for cell in cells {
            match cell {
                None => writer.push_null(),
                Some((header, value)) => {
                    let mut payload = Vec::new();
                    put_value_payload(&mut payload, value);
                    writer.push(*header, &payload).unwrap();
                }
            }
        }
        writer
    }

    /// A format 4 column decoded whole, as a segment does.
    fn decode_blocks(dict: &[u8], blocks: &[Vec<u8>], block_rows: usize, rows: usize) -> Result<(Column, Vec<u8>)> {
        let mut decoder = ColumnDecoder::new(rows);
        decoder.set_dict(dict)?;
        for (block, raw) in blocks.iter().enumerate() {
            decoder.push_block(raw, block_rows.min(rows - block * block_rows), false)?;
        }
        decoder.finish()
    }

    /// The `wanted` rows of a format 4 column, read block by block as a segment does.
    fn decode_rows_of_blocks(
        dict: &[u8],
        blocks: &[Vec<u8>],
        block_rows: usize,
        rows: usize,
        wanted: &[usize],
    ) -> Result<Vec<Option<(Origin, Value)>>> {
        let mut cells = Vec::new();
        for (block, raw) in blocks.iter().enumerate() {
            let start = block * block_rows;
            let local: Vec<usize> =
                wanted.iter().filter(|row| (start..start + block_rows).contains(*row)).map(|row| row - start).collect();
            if local.is_empty() {
                continue;
            }
            let count = block_rows.min(rows - start);
            let dict = wants_strings(raw, count, &local)?.then_some(dict);
            cells.extend(decode_rows(raw, count, &local, false, dict)?);
        }
        Ok(cells)
    }

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
        let cells: Vec<Cell> = values
            .iter()
            .map(|value| value.clone().map(|value| ((2 << 4) | crate::codec::tag_of(&value), value)))
            .collect();
        let rows = values.len() + 1;
        let check = |(column, headers): (Column, Vec<u8>)| {
            assert_eq!(column.value(0), None);
            for (row, value) in values.iter().enumerate() {
                assert_eq!(column.value(row + 1), value.clone(), "row {row}");
            }
            assert_eq!(column.dict.len(), 2);
            assert_eq!(headers[1] >> 4, 2);
        };
        let raw = writer_of(&cells, 4, 1).finish_v3();
        check(decode(&raw, rows).unwrap());
        for cut in 0..raw.len() {
            assert!(decode(&raw[..cut], rows).is_err());
        }
        assert!(decode(&raw, values.len()).is_err());

        // Blocks of 4 rows: strings of one dictionary in blocks 0 and 1, ints only in block 0.
        let (dict, blocks) = writer_of(&cells, 4, 1).finish();
        assert_eq!(blocks.len(), 3);
        let (column, headers) = decode_blocks(&dict, &blocks, 4, rows).unwrap();
        assert_eq!((column.ints.len(), column.floats.len(), column.codes.len()), (rows, rows, rows), "dense");
        check((column, headers));
        assert!(decode_blocks(&dict, &blocks[..2], 4, rows).is_err(), "a block missing");
        assert!(decode_blocks(&dict, &blocks, 4, rows - 1).is_err(), "a row too many");
        assert!(decode_blocks(&[0], &blocks, 4, rows).is_err(), "codes past an empty dictionary");
        for cut in 0..blocks[1].len() {
            let mut cut_blocks = blocks.clone();
            cut_blocks[1].truncate(cut);
            assert!(decode_blocks(&dict, &cut_blocks, 4, rows).is_err(), "block cut at {cut}");
        }
        for cut in 0..dict.len() {
            assert!(decode_blocks(&dict[..cut], &blocks, 4, rows).is_err(), "dictionary cut at {cut}");
        }
    }

    #[test]
    fn test_layout_blocks_decode_as_one_column() {
        let mut rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
        for round in 0..200 {
            let cells = random_column(&mut rng);
            let leading_nulls = [0, 1, 63][round % 3];
            let rows = cells.len() + leading_nulls;
            let expected = decode(&writer_of(&cells, 1, leading_nulls).finish_v3(), rows).unwrap();
            for block_rows in [1, 7, 64, 4096] {
                let (dict, blocks) = writer_of(&cells, block_rows, leading_nulls).finish();
                assert_eq!(blocks.len(), rows.div_ceil(block_rows));
                let decoded = decode_blocks(&dict, &blocks, block_rows, rows).unwrap();
                assert_eq!(decoded, expected, "round {round}, blocks of {block_rows}");
            }
        }
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

    /// A random column's cells.
    fn random_column(rng: &mut TestRng) -> Vec<Cell> {
        let all = [tag::STR, tag::INT, tag::FLOAT, tag::BOOL, tag::BYTES, tag::ARRAY, tag::MAP];
        let types: Vec<u8> = match rng.random_range(0..3) {
            0 => vec![all[rng.random_range(0..all.len())]],
            1 => all.iter().copied().filter(|_| rng.random_bool(0.4)).chain([tag::STR]).collect(),
            _ => all.to_vec(),
        };
        let nulls = [0.0, 0.3, 0.95][rng.random_range(0..3)];
        let strings = [1, 5, 1000][rng.random_range(0..3)];
        let rows = rng.random_range(1..700);
        (0..rows)
            .map(|_| {
                (!rng.random_bool(nulls)).then(|| {
                    let value = random_value(rng, &types, strings, 0);
                    ((rng.random_range(0..4) << 4) | crate::codec::tag_of(&value), value)
                })
            })
            .collect()
    }

    #[test]
    fn test_layout_rows_match_the_full_decode() {
        let mut rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
        for round in 0..300 {
            let cells = random_column(&mut rng);
            let rows = cells.len();
            let raw = writer_of(&cells, 1, 0).finish_v3();
            let (column, headers) = decode(&raw, rows).unwrap();
            let block_rows = [1, 5, 64, 4096][round % 4];
            let (dict, blocks) = writer_of(&cells, block_rows, 0).finish();
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
                let context = format!("round {round}, rows {wanted:?}");
                assert_eq!(decode_rows(&raw, rows, &wanted, true, None).unwrap(), expected, "{context}");
                let from_blocks = decode_rows_of_blocks(&dict, &blocks, block_rows, rows, &wanted).unwrap();
                assert_eq!(from_blocks, expected, "{context}, blocks of {block_rows}");
                for (&row, cell) in wanted.iter().zip(expected) {
                    assert_eq!(cell.map(|(_, value)| value), cells[row].clone().map(|(_, value)| value), "round-trips");
                }
            }
            let wanted: Vec<usize> = (0..rows).filter(|_| rng.random_bool(0.05)).collect();
            if round % 10 == 0 {
                for cut in 0..raw.len() {
                    assert!(
                        decode_rows(&raw[..cut], rows, &wanted, true, None).is_err(),
                        "round {round}, cut at {cut}"
                    );
                }
                for cut in 0..blocks[0].len() {
                    let count = block_rows.min(rows);
                    let all: Vec<usize> = (0..count).collect();
                    assert!(
                        decode_rows(&blocks[0][..cut], count, &all, false, Some(&dict)).is_err(),
                        "block cut at {cut}"
                    );
                }
            }
            assert!(decode_rows(&raw, rows + 1, &wanted, true, None).is_err());
            assert!(decode_rows(&raw, rows, &[rows], true, None).is_err(), "a row past the end");
            if rows > 1 {
                assert!(decode_rows(&raw, rows, &[1, 0], true, None).is_err(), "rows out of order");
            }
            if cells.iter().any(|cell| cell.as_ref().is_some_and(|(header, _)| header & 0x0f == tag::STR)) {
                let strings: Vec<usize> = (0..rows).filter(|&row| headers[row] & 0x0f == tag::STR).collect();
                assert!(decode_rows(&raw, rows, &strings, false, None).is_err(), "format 3 read as format 4");
                let (block, local) = (strings[0] / block_rows, strings[0] % block_rows);
                let count = block_rows.min(rows - block * block_rows);
                assert!(wants_strings(&blocks[block], count, &[local]).unwrap());
                assert!(decode_rows(&blocks[block], count, &[local], false, None).is_err(), "no dictionary");
                assert!(decode_rows(&blocks[block], count, &[local], false, Some(&[0])).is_err(), "empty dictionary");
            }
            // Flipped bytes: an error or cells, never a panic.
            for _ in 0..20 {
                let mut flipped = raw.clone();
                let position = rng.random_range(0..flipped.len());
                flipped[position] ^= rng.random_range(1..=255u8);
                let _ = decode_rows(&flipped, rows, &wanted, true, None);
                let mut flipped = blocks[0].clone();
                let position = rng.random_range(0..flipped.len());
                flipped[position] ^= rng.random_range(1..=255u8);
                let count = block_rows.min(rows);
                let local: Vec<usize> = wanted.iter().copied().filter(|&row| row < count).collect();
                let _ = wants_strings(&flipped, count, &local);
                let _ = decode_rows(&flipped, count, &local, false, Some(&dict));
                let _ = decode_blocks(&dict, &[flipped], count, count);
            }
        }
    }

    #[test]
    fn test_layout_rows_refuse_malformed_varint_sections() {
        let overlong: Vec<u8> = [0x80; 10].into_iter().chain([0]).collect();
        let mut writer = ColumnWriter::with_nulls(2, 0);
        writer.push(tag::INT, &overlong).unwrap();
        writer.push(tag::INT, &[1]).unwrap();
        let raw = writer.finish_v3();
        assert!(decode(&raw, 2).is_err());
        assert!(decode_rows(&raw, 2, &[0], true, None).is_err(), "an overlong varint asked for");
        // One varint more than the headers have int rows.
        let mut writer = ColumnWriter::with_nulls(2, 0);
        writer.push(tag::INT, &[1, 2]).unwrap();
        writer.push(tag::INT, &[3]).unwrap();
        let (dict, blocks) = writer.finish();
        assert!(decode_blocks(&dict, &blocks, 2, 2).is_err());
        assert!(decode_rows(&blocks[0], 2, &[0], false, None).is_err(), "a varint too many");
    }
}
