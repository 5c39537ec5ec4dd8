//! The trace lookup of a [`Segment`]: a lookup by trace id reads the ids of only the blocks whose
//! bloom filters may hold the trace, and then only the cells of that trace's rows, from the blocks
//! holding them, instead of decoding every column whole.

use waggle_model::{Event, EventKind, Field, SpanId, TraceId};

use super::{ColumnMeta, RowHead, Segment, Source, corrupt, layout};
use crate::codec::{Reader, decode_packed_at};
use crate::error::Result;
use crate::rows::{HAS_PARENT, HAS_SPAN, HAS_TRACE, read_ids, split_header};

impl Segment {
    /// The rows of one trace (ascending) with their span and parent ids, found by comparing trace
    /// ids in place in the raw ids of the blocks whose bloom filter may hold it.
    pub(super) fn trace_rows(&self, file: &Source, wanted: &TraceId) -> Result<Vec<TraceRow>> {
        let column = &self.meta.fixed[3];
        let mut found = Vec::new();
        for block in 0..self.blocks {
            if self.block_blooms.get(block).is_some_and(|bloom| !bloom.may_contain(wanted)) {
                continue;
            }
            let raw = self.read_frame(file, column, block)?;
            self.find_trace(&raw, block * self.block_rows, self.block_len(block), wanted, &mut found)?;
        }
        Ok(found)
    }

    /// The rows of a trace in the raw ids of `rows` rows from `first_row` on: nothing is built for
    /// the other rows.
    fn find_trace(
        &self,
        raw: &[u8],
        first_row: usize,
        rows: usize,
        wanted: &TraceId,
        found: &mut Vec<TraceRow>,
    ) -> Result<()> {
        let truncated = || corrupt(&self.path, "ids column truncated");
        // Plain indexing, not a Reader: this loop runs for every row of every block the bloom
        // filters let through.
        let mut pos = 0;
        for row in first_row..first_row + rows {
            let mask = *raw.get(pos).ok_or_else(truncated)?;
            if mask & !(HAS_TRACE | HAS_SPAN | HAS_PARENT) != 0 {
                return Err(corrupt(&self.path, "bad id mask"));
            }
            // The ids present, as `rows::put_ids` writes them.
            let len: usize = [(HAS_TRACE, 16), (HAS_SPAN, 8), (HAS_PARENT, 8)]
                .into_iter()
                .filter(|(bit, _)| mask & bit != 0)
                .map(|(_, len)| len)
                .sum();
            let ids = raw.get(pos + 1..pos + 1 + len).ok_or_else(truncated)?;
            if mask & HAS_TRACE != 0 && ids[..16] == wanted.0 {
                let (_, span_id, parent_id) = read_ids(&mut Reader::new(&raw[pos..]))?;
                found.push((row, span_id, parent_id));
            }
            pos += 1 + len;
        }
        if pos != raw.len() {
            return Err(corrupt(&self.path, "ids column does not match its rows"));
        }
        Ok(())
    }

    /// [`Self::scan`] of the few rows of one trace, `found` by [`Self::trace_rows`]: each column
    /// yields just their cells, from the blocks holding them, without being decoded whole.
    pub(super) fn scan_rows(
        &self,
        file: &Source,
        columns: Option<&[String]>,
        trace_id: TraceId,
        found: &[TraceRow],
        select: &mut dyn FnMut(&RowHead) -> bool,
        visit: &mut dyn FnMut(Event) -> bool,
    ) -> Result<()> {
        let rows: Vec<usize> = found.iter().map(|(row, ..)| *row).collect();
        let mut kinds = Vec::with_capacity(rows.len());
        self.read_blocks_at(file, &self.meta.fixed[0], &rows, &mut |raw, block_rows, local| {
            if raw.len() != block_rows {
                return Err(corrupt(&self.path, "kind column has the wrong length"));
            }
            for &row in local {
                kinds.push(EventKind::from_code(raw[row]).ok_or_else(|| corrupt(&self.path, "bad kind"))?);
            }
            Ok(())
        })?;
        let times = self.read_packed_at(file, &self.meta.fixed[1], &rows)?;
        let durations = self.read_packed_at(file, &self.meta.fixed[2], &rows)?;
        let mut heads = Vec::with_capacity(found.len());
        for (index, &(row, span_id, parent_id)) in found.iter().enumerate() {
            let head = RowHead {
                kind: kinds[index],
                time_unix_nano: times[index],
                duration_nano: durations[index],
                trace_id: Some(trace_id),
                span_id,
                parent_id,
            };
            if select(&head) {
                heads.push((row, head));
            }
        }
        if heads.is_empty() {
            return Ok(());
        }
        let rows: Vec<usize> = heads.iter().map(|(row, _)| *row).collect();
        let mut fields: Vec<Vec<Field>> = vec![Vec::new(); rows.len()];
        let wanted = |name: &str| columns.is_none_or(|names| names.iter().any(|wanted| wanted == name));
        for column in self.meta.columns.iter().filter(|column| wanted(&column.name)) {
            let mut cells = Vec::with_capacity(rows.len());
            // Format 4 keeps the dictionary in a frame of its own: read only for a string cell.
            let mut dict: Option<Vec<u8>> = None;
            self.read_blocks_at(file, column, &rows, &mut |raw, block_rows, local| {
                let embedded = self.embedded_dict();
                if !embedded
                    && dict.is_none()
                    && layout::wants_strings(raw, block_rows, local).map_err(self.in_column(column))?
                {
                    dict = Some(self.read_frame(file, column, 0)?);
                }
                cells.extend(
                    layout::decode_rows(raw, block_rows, local, embedded, dict.as_deref())
                        .map_err(self.in_column(column))?,
                );
                Ok(())
            })?;
            for (row_fields, cell) in fields.iter_mut().zip(cells) {
                if let Some((origin, value)) = cell {
                    row_fields.push(Field { key: column.name.clone(), value, origin });
                }
            }
        }
        if let Some(column) = self.overflow_for(columns) {
            let mut next = 0;
            self.read_blocks_at(file, column, &rows, &mut |raw, _, local| {
                let mut reader = Reader::new(raw);
                let mut wanted_rows = local.iter().peekable();
                for row in 0..=local[local.len() - 1] {
                    let keep = wanted_rows.next_if_eq(&&row).is_some();
                    for _ in 0..reader.len()? {
                        let key = reader.bytes()?;
                        let (origin, tag) = split_header(reader.u8()?)?;
                        if keep && columns.is_none_or(|names| names.iter().any(|name| name.as_bytes() == key)) {
                            let key = String::from_utf8(key.to_vec()).map_err(|_| corrupt(&self.path, "utf-8 key"))?;
                            fields[next].push(Field { key, value: reader.value_payload(tag)?, origin });
                        } else {
                            reader.skip_value_payload(tag)?;
                        }
                    }
                    next += usize::from(keep);
                }
                Ok(())
            })?;
        }
        for ((_, head), fields) in heads.into_iter().zip(fields) {
            if !visit(head.into_event(self.meta.dataset.clone(), fields)) {
                break;
            }
        }
        Ok(())
    }

    /// The blocks of a column holding some of `rows` (ascending, each below the row count), raw,
    /// each with its row count and those of `rows` in it, counted from its first row.
    fn read_blocks_at(
        &self,
        file: &Source,
        column: &ColumnMeta,
        rows: &[usize],
        visit: &mut RowsVisit<'_>,
    ) -> Result<()> {
        let mut rest = rows;
        while let Some(&row) = rest.first() {
            let block = row / self.block_rows;
            let start = block * self.block_rows;
            let count = rest.partition_point(|&row| row < start + self.block_rows);
            let local: Vec<usize> = rest[..count].iter().map(|row| row - start).collect();
            let raw = self.read_frame(file, column, self.first_block_frame(column) + block)?;
            visit(&raw, self.block_len(block), &local)?;
            rest = &rest[count..];
        }
        Ok(())
    }

    /// The values at `rows` (ascending) of a packed fixed column.
    fn read_packed_at(&self, file: &Source, column: &ColumnMeta, rows: &[usize]) -> Result<Vec<i64>> {
        let mut values = Vec::with_capacity(rows.len());
        self.read_blocks_at(file, column, rows, &mut |raw, block_rows, local| {
            values.extend(decode_packed_at(raw, block_rows, local).map_err(self.in_column(column))?);
            Ok(())
        })?;
        Ok(values)
    }
}

/// Takes a block's raw frame, its row count and the rows asked for in it (block-relative).
type RowsVisit<'a> = dyn FnMut(&[u8], usize, &[usize]) -> Result<()> + 'a;

/// A row of one trace, with its span and parent ids.
type TraceRow = (usize, Option<SpanId>, Option<SpanId>);
