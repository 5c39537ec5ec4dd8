//! The first pass of a query naming `root.` columns: each trace's root span (a span without a
//! parent), with the values of the columns the query needs, by trace id. The main pass then gives
//! every row its root's value, whatever part or dataset the root was stored in.
//!
//! Roots are looked up in every dataset of the table, from [`ROOT_MARGIN_BEFORE_NANOS`] before the
//! query's range to [`ROOT_MARGIN_AFTER_NANOS`] after it: a root starts before its children, but a
//! trace lasting longer than the margin, or clocks skewed beyond it, leave children without a root
//! (their `root.` columns read as absent).

use std::sync::Arc;

use rustc_hash::FxHashMap;
use waggle_model::{EventKind, SignalTable, TraceId};
use waggle_store::{CellType, Column, PartsRequest, Store};

use crate::Result;
use crate::part::{ColumnRef, PartData, gather_view};
use crate::scan::scan_parts;

/// How long before the query range roots are looked for.
pub(crate) const ROOT_MARGIN_BEFORE_NANOS: i64 = 3600 * 1_000_000_000;
/// How long after the query range roots are looked for.
pub(crate) const ROOT_MARGIN_AFTER_NANOS: i64 = 600 * 1_000_000_000;

/// Root spans by trace id, with the columns asked for.
#[derive(Debug, Default)]
pub(crate) struct RootTable {
    rows: FxHashMap<TraceId, u32>,
    columns: FxHashMap<ColumnRef, Column>,
}

impl RootTable {
    /// The row of a trace's root.
    pub(crate) fn row_of(&self, trace_id: &TraceId) -> Option<u32> {
        self.rows.get(trace_id).copied()
    }

    /// A column over root rows; `None` when no root has it.
    pub(crate) fn column(&self, column: &ColumnRef) -> Option<&Column> {
        self.columns.get(column)
    }
}

/// One part's roots.
struct PartRoots {
    trace_ids: Vec<TraceId>,
    columns: Vec<Column>,
}

/// Collects the roots of the traces of `[start, end)` with `columns` (given without `root.`).
pub(crate) fn collect_roots(
    store: &dyn Store,
    table: SignalTable,
    start: i64,
    end: i64,
    columns: &[ColumnRef],
) -> Result<RootTable> {
    let request = PartsRequest {
        start_unix_nano: start.saturating_sub(ROOT_MARGIN_BEFORE_NANOS),
        end_unix_nano: end.saturating_add(ROOT_MARGIN_AFTER_NANOS),
        ..PartsRequest::all(table)
    };
    let parts = store.parts(&request)?;
    let partials = scan_parts(&parts, Vec::new, |found: &mut Vec<PartRoots>, part| {
        let mut data = PartData::open(part, None)?;
        data.kinds()?;
        data.ids()?;
        let (kinds, ids) = (data.loaded_kinds(), data.loaded_ids().expect("loaded"));
        let root_rows: Vec<Option<u32>> = (0..kinds.len())
            .filter(|&row| {
                kinds[row] == EventKind::Span && ids.parent_ids[row].is_none() && ids.trace_ids[row].is_some()
            })
            .map(|row| Some(row as u32))
            .collect();
        if root_rows.is_empty() {
            return Ok(());
        }
        let trace_ids = root_rows.iter().flatten().filter_map(|&row| ids.trace_ids[row as usize]).collect();
        let mut gathered = Vec::with_capacity(columns.len());
        for column in columns {
            data.load(column)?;
            gathered.push(gather_view(data.view(column), &root_rows));
        }
        found.push(PartRoots { trace_ids, columns: gathered });
        Ok(())
    })?;
    let mut table = RootTable::default();
    let mut appenders: Vec<Appender> = columns.iter().map(|_| Appender::default()).collect();
    for part in partials.into_iter().flatten() {
        for (index, trace_id) in part.trace_ids.iter().enumerate() {
            let next = table.rows.len() as u32;
            if *table.rows.entry(*trace_id).or_insert(next) != next {
                continue; // a duplicate root: the first one found wins
            }
            for (appender, column) in appenders.iter_mut().zip(&part.columns) {
                appender.push(column, index);
            }
        }
    }
    for (column, appender) in columns.iter().zip(appenders) {
        if appender.column.types.iter().any(|cell| *cell != CellType::Null) {
            table.columns.insert(column.clone(), appender.column);
        }
    }
    Ok(table)
}

/// Concatenates rows of columns, merging their dictionaries.
#[derive(Default)]
struct Appender {
    column: Column,
    lookup: FxHashMap<Arc<str>, u32>,
}

impl Appender {
    fn push(&mut self, source: &Column, row: usize) {
        let column = &mut self.column;
        let cell = source.types[row];
        column.types.push(cell);
        column.ints.push(if cell == CellType::Int { source.ints[row] } else { 0 });
        column.floats.push(if cell == CellType::Float { source.floats[row] } else { 0.0 });
        column.bools.push(cell == CellType::Bool && source.bools[row]);
        let code = if cell == CellType::Str {
            let text = &source.dict[source.codes[row] as usize];
            *self.lookup.entry(text.clone()).or_insert_with(|| {
                column.dict.push(text.clone());
                column.dict.len() as u32 - 1
            })
        } else {
            0
        };
        column.codes.push(code);
        if cell == CellType::Other || !column.others.is_empty() {
            column.others.resize(column.types.len() - 1, None);
            column.others.push(if cell == CellType::Other { source.others[row].clone() } else { None });
        }
    }
}

/// The root table a plan needs, if it names `root.` columns.
pub(crate) fn roots_for(store: &dyn Store, plan: &crate::plan::Plan) -> Result<Option<RootTable>> {
    let columns = plan.root_columns();
    if columns.is_empty() {
        return Ok(None);
    }
    collect_roots(store, plan.table, plan.start, plan.end, &columns).map(Some)
}
