//! Which rows of a part a query keeps: its filters, then its time range. Filters ANDed together
//! run one at a time on the rows still selected, decoding each column only if rows remain, so a
//! part whose dictionary rules a filter out costs one column and no time decoding.

use waggle_store::PartInfo;

use crate::Result;
use crate::filter::PreparedPredicate;
use crate::part::PartData;
use crate::plan::FilterPlan;

/// The selected rows (ascending), or `None` when none is.
pub(crate) fn select_rows(
    data: &mut PartData<'_>,
    info: &PartInfo,
    filter: &FilterPlan,
    start: i64,
    end: i64,
) -> Result<Option<Vec<u32>>> {
    let mut selected: Option<Vec<u32>> = None;
    let conjunctive = filter.predicates.iter().filter(|_| !filter.any).chain(&filter.required);
    for predicate in conjunctive {
        data.load(&predicate.column)?;
        if data.rows() == 0 {
            return Ok(None);
        }
        let view = data.view(&predicate.column);
        let rows = match predicate.select_ints(view, selected.as_deref(), data.rows()) {
            Some(rows) => rows,
            None => {
                let prepared = predicate.prepare(view);
                if prepared.excludes_missing_column() {
                    return Ok(None);
                }
                refine(selected.as_deref(), data.rows(), |row| prepared.matches(row))
            }
        };
        if rows.is_empty() {
            return Ok(None);
        }
        selected = Some(rows);
    }
    if filter.any && !filter.predicates.is_empty() {
        for predicate in &filter.predicates {
            data.load(&predicate.column)?;
        }
        if data.rows() == 0 {
            return Ok(None);
        }
        let prepared: Vec<PreparedPredicate<'_>> =
            filter.predicates.iter().map(|predicate| predicate.prepare(data.view(&predicate.column))).collect();
        let rows = refine(selected.as_deref(), data.rows(), |row| prepared.iter().any(|each| each.matches(row)));
        if rows.is_empty() {
            return Ok(None);
        }
        selected = Some(rows);
    }
    let inside = info.min_time_unix_nano >= start && info.max_time_unix_nano < end;
    if !inside {
        let times = data.times()?;
        if times.is_empty() {
            return Ok(None);
        }
        let rows = refine(selected.as_deref(), times.len(), |row| (start..end).contains(&times[row]));
        selected = Some(rows);
    }
    let rows = selected.unwrap_or_else(|| (0..data.rows() as u32).collect());
    Ok((!rows.is_empty()).then_some(rows))
}

/// The rows of `selected` (all `num_rows` when `None`) that pass.
fn refine(selected: Option<&[u32]>, num_rows: usize, passes: impl Fn(usize) -> bool) -> Vec<u32> {
    match selected {
        Some(rows) => rows.iter().copied().filter(|&row| passes(row as usize)).collect(),
        None => (0..num_rows).filter(|&row| passes(row)).map(|row| row as u32).collect(),
    }
}
