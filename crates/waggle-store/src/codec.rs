//! Byte-level encoding shared by WAL records and segment columns: LEB128 varints, zigzag, and a
//! tagged encoding of [`Value`]s. Readers never trust lengths: every read is bounds-checked and a
//! short or malformed buffer is an error, never a panic.

use waggle_model::Value;

use crate::error::{Result, StoreError};

/// Value type tags, stored on disk: never renumber.
pub(crate) mod tag {
    pub const NULL: u8 = 0;
    pub const STR: u8 = 1;
    pub const INT: u8 = 2;
    pub const FLOAT: u8 = 3;
    pub const BOOL: u8 = 4;
    pub const BYTES: u8 = 5;
    pub const ARRAY: u8 = 6;
    pub const MAP: u8 = 7;
}

/// The tag of a value.
pub(crate) fn tag_of(value: &Value) -> u8 {
    match value {
        Value::Str(_) => tag::STR,
        Value::Int(_) => tag::INT,
        Value::Float(_) => tag::FLOAT,
        Value::Bool(_) => tag::BOOL,
        Value::Bytes(_) => tag::BYTES,
        Value::Array(_) => tag::ARRAY,
        Value::Map(_) => tag::MAP,
    }
}

pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub(crate) fn put_ivarint(out: &mut Vec<u8>, value: i64) {
    put_uvarint(out, ((value << 1) ^ (value >> 63)) as u64);
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_uvarint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Writes a value's payload (without its tag).
pub(crate) fn put_value_payload(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(text) => put_bytes(out, text.as_bytes()),
        Value::Int(number) => put_ivarint(out, *number),
        Value::Float(number) => out.extend_from_slice(&number.to_le_bytes()),
        Value::Bool(flag) => out.push(*flag as u8),
        Value::Bytes(bytes) => put_bytes(out, bytes),
        Value::Array(items) => {
            put_uvarint(out, items.len() as u64);
            for item in items {
                put_value(out, item);
            }
        }
        Value::Map(entries) => {
            put_uvarint(out, entries.len() as u64);
            for (key, item) in entries {
                put_bytes(out, key.as_bytes());
                put_value(out, item);
            }
        }
    }
}

/// Writes tag then payload.
pub(crate) fn put_value(out: &mut Vec<u8>, value: &Value) {
    out.push(tag_of(value));
    put_value_payload(out, value);
}

/// Decodes `count` LEB128 varints from the start of `bytes` into `out` (replacing what it held, so
/// one buffer serves many calls); returns the bytes consumed. Columns hold millions of them, so the
/// common case reads eight bytes at once and finds the varint's end from the continuation bits
/// instead of looping byte by byte.
pub(crate) fn decode_uvarints(bytes: &[u8], count: usize, out: &mut Vec<u64>) -> Result<usize> {
    const CONTINUATION: u64 = 0x8080_8080_8080_8080;
    out.clear();
    out.reserve(count);
    let mut pos = 0;
    while out.len() < count {
        if let Some(window) = bytes.get(pos..pos + 8) {
            let word = u64::from_le_bytes(window.try_into().expect("8 bytes"));
            let stops = !word & CONTINUATION;
            if stops != 0 {
                let len = (stops.trailing_zeros() / 8 + 1) as usize;
                let used = word & (u64::MAX >> (64 - 8 * len));
                // Squeeze out the continuation bits: seven payload bits per byte, unrolled.
                let value = (used & 0x7f)
                    | ((used >> 1) & (0x7f << 7))
                    | ((used >> 2) & (0x7f << 14))
                    | ((used >> 3) & (0x7f << 21))
                    | ((used >> 4) & (0x7f << 28))
                    | ((used >> 5) & (0x7f << 35))
                    | ((used >> 6) & (0x7f << 42))
                    | ((used >> 7) & (0x7f << 49));
                out.push(value);
                pos += len;
                continue;
            }
        }
        // Near the end, or longer than eight bytes: the checked path.
        let mut reader = Reader::new(&bytes[pos.min(bytes.len())..]);
        out.push(reader.uvarint()?);
        pos += reader.position();
    }
    Ok(pos)
}

/// Values per block of [`put_packed`].
const PACK_BLOCK: usize = 256;

/// Flag of a block's width byte: its offsets are byte planes (see [`put_packed`]).
const PLANES: u8 = 0x80;

/// Writes integers as frame-of-reference blocks: per block of [`PACK_BLOCK`] values, its minimum
/// (8 bytes), a bit width (1 byte), then each value minus the minimum in that many bits. Decoding
/// needs no per-value branches or carried state, unlike varints, so it runs at memory speed; the
/// column ends with 8 zero bytes so every value can be read with one unaligned 8-byte load.
///
/// With `planes` (flagged in the width byte, [`PLANES`]), the offsets are stored as byte planes:
/// the lowest byte of every value, then the next byte of every value, and so on. Where offsets are
/// skewed (durations: mostly short, a few long), the high planes are runs that plain zstd matches
/// compress, and the low bytes need no entropy coding to compress no worse: the segment then
/// compresses such columns at a fast level, which skips zstd's entropy coding of literals (its
/// tables cost about as much to set up for a block's frame as the rest of its decoding). Where
/// offsets spread evenly (times), planes gain nothing.
pub(crate) fn put_packed(out: &mut Vec<u8>, values: &[i64], planes: bool) {
    for block in values.chunks(PACK_BLOCK) {
        let min = *block.iter().min().expect("chunks are not empty");
        let max = *block.iter().max().expect("chunks are not empty");
        // Whole bytes: zstd then still finds the repeats in each value's high bytes.
        let bytes = (64 - (max.wrapping_sub(min) as u64).leading_zeros()).div_ceil(8) as usize;
        out.extend_from_slice(&min.to_le_bytes());
        out.push((bytes as u8 * 8) | if planes { PLANES } else { 0 });
        if planes {
            for byte in 0..bytes {
                out.extend(block.iter().map(|value| (value.wrapping_sub(min) as u64 >> (8 * byte)) as u8));
            }
        } else {
            for value in block {
                out.extend_from_slice(&(value.wrapping_sub(min) as u64).to_le_bytes()[..bytes]);
            }
        }
    }
    out.extend_from_slice(&[0; 8]);
}

/// A block's minimum, width in bits and whether its offsets are byte planes, from its 9-byte
/// header; `None` for a width no writer makes (over 64 bits, or planes not of whole bytes).
fn block_header(header: &[u8]) -> Option<(i64, usize, bool)> {
    let min = i64::from_le_bytes(header[..8].try_into().expect("8 bytes"));
    let (bits, planes) = ((header[8] & !PLANES) as usize, header[8] & PLANES != 0);
    (bits <= 64 && !(planes && bits % 8 != 0)).then_some((min, bits, planes))
}

/// Reads what [`put_packed`] wrote: `count` values, appended to `out` (a segment decodes its
/// blocks of rows into one vector), checking every length.
pub(crate) fn decode_packed(bytes: &[u8], count: usize, out: &mut Vec<i64>) -> Result<()> {
    let corrupt = || StoreError::Corrupt("truncated or malformed packed integers".into());
    let end = out.len() + count;
    out.reserve(count);
    let mut pos = 0;
    while out.len() < end {
        let (min, bits, planes) = bytes.get(pos..pos + 9).and_then(block_header).ok_or_else(corrupt)?;
        let values = PACK_BLOCK.min(end - out.len());
        let payload_len = (values * bits).div_ceil(8);
        // The payload plus the 8 bytes after it that the last loads may touch.
        let payload = bytes.get(pos + 9..pos + 9 + payload_len + 8).ok_or_else(corrupt)?;
        if planes {
            let start = out.len();
            out.resize(start + values, min);
            // A plane at a time: loops of byte loads that the compiler vectorizes.
            for (byte, plane) in payload[..payload_len].chunks_exact(values).enumerate() {
                for (value, &part) in out[start..].iter_mut().zip(plane) {
                    *value = value.wrapping_add(((part as u64) << (8 * byte)) as i64);
                }
            }
            pos += 9 + payload_len;
            continue;
        }
        // `put_packed` writes whole bytes: each width gets a loop of fixed-size loads.
        match bits {
            0 => out.extend(std::iter::repeat_n(min, values)),
            8 => unpack_bytes::<1>(&payload[..payload_len], min, out),
            16 => unpack_bytes::<2>(&payload[..payload_len], min, out),
            24 => unpack_bytes::<3>(&payload[..payload_len], min, out),
            32 => unpack_bytes::<4>(&payload[..payload_len], min, out),
            40 => unpack_bytes::<5>(&payload[..payload_len], min, out),
            48 => unpack_bytes::<6>(&payload[..payload_len], min, out),
            56 => unpack_bytes::<7>(&payload[..payload_len], min, out),
            64 => unpack_bytes::<8>(&payload[..payload_len], min, out),
            _ if bits <= 56 => {
                let mask = (1u64 << bits) - 1;
                out.extend((0..values).map(|index| {
                    let position = index * bits;
                    let word = u64::from_le_bytes(payload[position / 8..position / 8 + 8].try_into().expect("8 bytes"));
                    min.wrapping_add(((word >> (position % 8)) & mask) as i64)
                }));
            }
            _ => out.extend((0..values).map(|index| min.wrapping_add(unpack(payload, bits, index) as i64))),
        }
        pos += 9 + payload_len;
    }
    if bytes.len() != pos + 8 {
        return Err(corrupt());
    }
    Ok(())
}

/// Offsets of `N` bytes each, added to `min`.
fn unpack_bytes<const N: usize>(payload: &[u8], min: i64, out: &mut Vec<i64>) {
    out.extend(payload.chunks_exact(N).map(|chunk| {
        let mut word = [0u8; 8];
        word[..N].copy_from_slice(chunk);
        min.wrapping_add(u64::from_le_bytes(word) as i64)
    }));
}

/// Reads only the values at `rows` (ascending, each below `count`) of what [`put_packed`] wrote for
/// `count` values: a trace's few rows need not unpack the whole column. Block headers are still
/// all walked (one per [`PACK_BLOCK`] values), so the layout is checked as [`decode_packed`] does.
pub(crate) fn decode_packed_at(bytes: &[u8], count: usize, rows: &[usize]) -> Result<Vec<i64>> {
    let corrupt = || StoreError::Corrupt("truncated or malformed packed integers".into());
    let mut out = Vec::with_capacity(rows.len());
    let (mut pos, mut first) = (0, 0);
    while first < count {
        let (min, bits, planes) = bytes.get(pos..pos + 9).and_then(block_header).ok_or_else(corrupt)?;
        let values = PACK_BLOCK.min(count - first);
        let payload_len = (values * bits).div_ceil(8);
        let payload = bytes.get(pos + 9..pos + 9 + payload_len + 8).ok_or_else(corrupt)?;
        while let Some(&row) = rows.get(out.len()).filter(|row| (first..first + values).contains(*row)) {
            let offset = match planes {
                true => (0..bits / 8)
                    .fold(0, |offset, byte| offset | (payload[byte * values + row - first] as u64) << (8 * byte)),
                false => unpack(payload, bits, row - first),
            };
            out.push(min.wrapping_add(offset as i64));
        }
        first += values;
        pos += 9 + payload_len;
    }
    if bytes.len() != pos + 8 || out.len() != rows.len() {
        return Err(corrupt());
    }
    Ok(out)
}

/// Offset `index` of a packed block of `bits`-wide offsets; `payload` has 8 bytes past its end.
fn unpack(payload: &[u8], bits: usize, index: usize) -> u64 {
    let start = index * bits;
    if bits <= 56 {
        let word = u64::from_le_bytes(payload[start / 8..start / 8 + 8].try_into().expect("8 bytes"));
        (word >> (start % 8)) & ((1u64 << bits) - 1)
    } else {
        // Wide blocks (a range beyond 2^56) take the slow path, bit by bit.
        (0..bits).fold(0u64, |offset, bit| {
            let position = start + bit;
            offset | (((payload[position / 8] >> (position % 8)) & 1) as u64) << bit
        })
    }
}

/// Undoes zigzag encoding.
#[inline]
pub(crate) fn unzigzag(raw: u64) -> i64 {
    (raw >> 1) as i64 ^ -((raw & 1) as i64)
}

/// A bounds-checked reader over a byte slice.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// Nested arrays/maps deeper than this are refused: protects the stack from hostile input.
const MAX_DEPTH: u32 = 64;

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn corrupt(what: &str) -> StoreError {
        StoreError::Corrupt(format!("truncated or malformed {what}"))
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        let byte = *self.bytes.get(self.pos).ok_or_else(|| Self::corrupt("byte"))?;
        self.pos += 1;
        Ok(byte)
    }

    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(len).ok_or_else(|| Self::corrupt("length"))?;
        let slice = self.bytes.get(self.pos..end).ok_or_else(|| Self::corrupt("slice"))?;
        self.pos = end;
        Ok(slice)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("take returned N bytes"))
    }

    pub(crate) fn uvarint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            value |= ((byte & 0x7f) as u64) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(Self::corrupt("varint"))
    }

    pub(crate) fn ivarint(&mut self) -> Result<i64> {
        Ok(unzigzag(self.uvarint()?))
    }

    pub(crate) fn len(&mut self) -> Result<usize> {
        let len = self.uvarint()?;
        // A length can never exceed what is left: refuse early instead of allocating for it.
        if len > (self.bytes.len() - self.pos.min(self.bytes.len())) as u64 {
            return Err(Self::corrupt("length prefix"));
        }
        Ok(len as usize)
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8]> {
        let len = self.len()?;
        self.take(len)
    }

    pub(crate) fn string(&mut self) -> Result<String> {
        let bytes = self.bytes()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| Self::corrupt("utf-8 string"))
    }

    /// Bytes consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The bytes between two positions.
    pub(crate) fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        &self.bytes[start..end]
    }

    /// Steps over a value's payload without building it (no allocation). Strings are not checked
    /// for UTF-8 here; whoever decodes them later does.
    pub(crate) fn skip_value_payload(&mut self, tag: u8) -> Result<()> {
        self.skip_at_depth(tag, 0)
    }

    fn skip_at_depth(&mut self, tag: u8, depth: u32) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Self::corrupt("value nesting"));
        }
        match tag {
            tag::STR | tag::BYTES => {
                self.bytes()?;
            }
            tag::INT => {
                self.uvarint()?;
            }
            tag::FLOAT => {
                self.take(8)?;
            }
            tag::BOOL => {
                self.u8()?;
            }
            tag::ARRAY => {
                for _ in 0..self.len()? {
                    let item_tag = self.u8()?;
                    self.skip_at_depth(item_tag, depth + 1)?;
                }
            }
            tag::MAP => {
                for _ in 0..self.len()? {
                    self.bytes()?;
                    let item_tag = self.u8()?;
                    self.skip_at_depth(item_tag, depth + 1)?;
                }
            }
            _ => return Err(Self::corrupt("value tag")),
        }
        Ok(())
    }

    pub(crate) fn value_payload(&mut self, tag: u8) -> Result<Value> {
        self.value_at_depth(tag, 0)
    }

    #[cfg(test)]
    pub(crate) fn value(&mut self) -> Result<Value> {
        let tag = self.u8()?;
        self.value_at_depth(tag, 0)
    }

    fn value_at_depth(&mut self, tag: u8, depth: u32) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(Self::corrupt("value nesting"));
        }
        Ok(match tag {
            tag::STR => Value::Str(self.string()?),
            tag::INT => Value::Int(self.ivarint()?),
            tag::FLOAT => Value::Float(f64::from_le_bytes(self.array()?)),
            tag::BOOL => Value::Bool(self.u8()? != 0),
            tag::BYTES => Value::Bytes(self.bytes()?.to_vec()),
            tag::ARRAY => {
                let count = self.len()?;
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    let item_tag = self.u8()?;
                    items.push(self.value_at_depth(item_tag, depth + 1)?);
                }
                Value::Array(items)
            }
            tag::MAP => {
                let count = self.len()?;
                let mut entries = Vec::with_capacity(count);
                for _ in 0..count {
                    let key = self.string()?;
                    let item_tag = self.u8()?;
                    entries.push((key, self.value_at_depth(item_tag, depth + 1)?));
                }
                Value::Map(entries)
            }
            _ => return Err(Self::corrupt("value tag")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_varints_round_trip_extremes() {
        let mut out = Vec::new();
        for value in [0, 1, -1, i64::MAX, i64::MIN, 300, -300] {
            put_ivarint(&mut out, value);
        }
        put_uvarint(&mut out, u64::MAX);
        let mut reader = Reader::new(&out);
        for value in [0, 1, -1, i64::MAX, i64::MIN, 300, -300] {
            assert_eq!(reader.ivarint().unwrap(), value);
        }
        assert_eq!(reader.uvarint().unwrap(), u64::MAX);
        assert!(reader.is_empty());
    }

    #[test]
    fn test_bulk_varints_match_the_reader() {
        let values: Vec<u64> =
            (0..64).flat_map(|shift| [1u64 << shift, (1u64 << shift) - 1, 0x55 << (shift / 2)]).collect();
        let mut out = Vec::new();
        values.iter().for_each(|value| put_uvarint(&mut out, *value));
        let mut decoded = vec![7];
        let used = decode_uvarints(&out, values.len(), &mut decoded).unwrap();
        assert_eq!((decoded, used), (values.clone(), out.len()));
        for cut in 0..out.len() {
            assert!(decode_uvarints(&out[..cut], values.len(), &mut Vec::new()).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn test_packed_round_trips_every_width() {
        let mut values: Vec<i64> = (0..1000).map(|index| index * 7919 % 1013).collect();
        values.extend([i64::MIN, i64::MAX, 0, -1, 1 << 57, -(1 << 60)]);
        values
            .extend((0..600).map(|index| 1_700_000_000_000_000_000 + index * 3_000_000 - (index % 7) * 1_000_000_000));
        values.extend(std::iter::repeat_n(42, 300));
        for planes in [false, true] {
            let mut out = Vec::new();
            put_packed(&mut out, &values, planes);
            let mut decoded = vec![7];
            decode_packed(&out, values.len(), &mut decoded).unwrap();
            assert_eq!(decoded[1..], values, "appended after what was there");
            for cut in 0..out.len() {
                assert!(decode_packed(&out[..cut], values.len(), &mut Vec::new()).is_err(), "cut at {cut}");
            }
            let mut longer = out.clone();
            longer.push(0);
            assert!(decode_packed(&longer, values.len(), &mut Vec::new()).is_err());
        }
        // Planes of a width that is not whole bytes, and widths over 64 bits.
        for width in [PLANES | 12, 72, PLANES | 72] {
            let mut out = 0i64.to_le_bytes().to_vec();
            out.push(width);
            out.extend(std::iter::repeat_n(0, 20));
            assert!(decode_packed(&out, 1, &mut Vec::new()).is_err(), "width byte {width}");
            assert!(decode_packed_at(&out, 1, &[0]).is_err(), "width byte {width}");
        }
    }

    #[test]
    fn test_packed_reads_widths_of_any_bits() {
        // `put_packed` writes whole bytes; the format allows any width, as here 13 and 60 bits.
        for bits in [13usize, 60] {
            let offsets: Vec<u64> = (0..PACK_BLOCK as u64).map(|index| index * 7919 % (1 << bits)).collect();
            let mut out = (-5i64).to_le_bytes().to_vec();
            out.push(bits as u8);
            let start = out.len();
            out.resize(start + (offsets.len() * bits).div_ceil(8) + 8, 0);
            for (index, offset) in offsets.iter().enumerate() {
                for bit in 0..bits {
                    let position = index * bits + bit;
                    out[start + position / 8] |= (((offset >> bit) & 1) as u8) << (position % 8);
                }
            }
            let expected: Vec<i64> = offsets.iter().map(|&offset| offset as i64 - 5).collect();
            let mut decoded = Vec::new();
            decode_packed(&out, expected.len(), &mut decoded).unwrap();
            assert_eq!(decoded, expected, "{bits} bits");
            let rows = [0, 1, 100, PACK_BLOCK - 1];
            let at: Vec<i64> = rows.iter().map(|&row| expected[row]).collect();
            assert_eq!(decode_packed_at(&out, expected.len(), &rows).unwrap(), at, "{bits} bits");
        }
    }

    #[test]
    fn test_packed_rows_match_the_full_decode() {
        use proptest::prelude::RngExt;
        use proptest::test_runner::{RngAlgorithm, TestRng};
        let mut rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
        for round in 0..300 {
            let count = rng.random_range(1..1200);
            // Shifting random words by 0..=64 bits gives every block width, the wide path included.
            let shift = rng.random_range(0..=64u32);
            let base: i64 = rng.random();
            let values: Vec<i64> = (0..count)
                .map(|_| base.wrapping_add(rng.random::<u64>().checked_shr(shift).unwrap_or(0) as i64))
                .collect();
            let mut out = Vec::new();
            put_packed(&mut out, &values, round % 3 == 0);
            let density = [0.002, 0.05, 0.5, 1.0][round % 4];
            let rows: Vec<usize> = (0..count).filter(|_| rng.random_bool(density)).collect();
            let expected: Vec<i64> = rows.iter().map(|&row| values[row]).collect();
            assert_eq!(decode_packed_at(&out, count, &rows).unwrap(), expected, "round {round}");
            if round % 10 == 0 {
                for cut in 0..out.len() {
                    assert!(decode_packed_at(&out[..cut], count, &rows).is_err(), "round {round}, cut at {cut}");
                }
            }
            let mut longer = out.clone();
            longer.push(0);
            assert!(decode_packed_at(&longer, count, &rows).is_err());
            assert!(decode_packed_at(&out, count, &[count]).is_err(), "a row past the end");
            if count > PACK_BLOCK {
                assert!(decode_packed_at(&out, count, &[count - 1, 0]).is_err(), "rows out of order");
            }
        }
    }

    #[test]
    fn test_value_round_trip_nested() {
        let value = Value::Map(vec![
            ("a".into(), Value::Array(vec![Value::Int(-5), Value::Float(2.5), Value::Bool(true)])),
            ("b".into(), Value::Bytes(vec![0, 255])),
            ("c".into(), Value::Str("é".into())),
        ]);
        let mut out = Vec::new();
        put_value(&mut out, &value);
        assert_eq!(Reader::new(&out).value().unwrap(), value);
    }

    #[test]
    fn test_reader_refuses_truncation_and_huge_lengths() {
        let mut out = Vec::new();
        put_value(&mut out, &Value::Str("hello".into()));
        for cut in 0..out.len() {
            assert!(Reader::new(&out[..cut]).value().is_err());
        }
        let mut huge = vec![tag::STR];
        put_uvarint(&mut huge, u64::MAX / 2);
        assert!(Reader::new(&huge).value().is_err());
    }

    #[test]
    fn test_reader_refuses_deep_nesting() {
        let bytes: Vec<u8> = std::iter::repeat_n([tag::ARRAY, 1], 100).flatten().collect();
        assert!(Reader::new(&bytes).value().is_err());
    }
}
