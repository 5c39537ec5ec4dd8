//! BubbleUp: for every column, how its values are distributed among the selected events versus the
//! rest of the query's events (the baseline), columns ranked by how much the two differ.
//!
//! The difference is the total variation distance, half the sum over values of the absolute
//! difference of the two proportions (absent counts as a value): 0 for identical distributions, 1
//! for disjoint ones. Numeric columns with more than [`MAX_EXACT_NUMBERS`] distinct values are
//! binned by power of two (`[2, 4)`, `[4, 8)`, ..., zero, and negatives mirrored). Ids and
//! timestamps are skipped, and so are string columns with more than [`MAX_DISTINCT_STRINGS`]
//! distinct values (ids, URLs with ids), which say nothing in aggregate.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use waggle_model::{SignalTable, names};
use waggle_store::Store;

use crate::part::{Cell, ColumnRef, PartData};
use crate::plan::Plan;
use crate::scan::scan_parts;
use crate::select::select_rows;
use crate::selection::Selection;
use crate::spec::{MAX_RUN_LIMIT, QuerySpec};
use crate::value::{KeyValue, float_json};
use crate::{Result, roots};

/// Most columns compared.
pub const MAX_COLUMNS: usize = 200;
/// String columns with more distinct values are left out.
pub const MAX_DISTINCT_STRINGS: usize = 10_000;
/// Numeric columns with more distinct values are binned.
pub const MAX_EXACT_NUMBERS: usize = 50;
/// Values shown per column (the score counts them all).
pub const MAX_VALUES_SHOWN: usize = 10;

/// Columns never compared: unique per row or per trace.
const SKIPPED: [&str; 6] =
    [names::TRACE_ID, names::SPAN_ID, names::PARENT_ID, names::TIMESTAMP, names::LINK_TRACE_ID, names::LINK_SPAN_ID];

/// A BubbleUp question: the query's events, and which of them are selected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BubbleUpRequest {
    /// The query (its filters and time range count).
    pub query: QuerySpec,
    /// The selected events.
    pub selection: Selection,
}

/// BubbleUp's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BubbleUpResult {
    /// Events in the selection.
    pub selected_count: u64,
    /// The query's other events.
    pub baseline_count: u64,
    /// Columns, most different first.
    pub columns: Vec<ColumnComparison>,
}

/// One column, selection versus baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnComparison {
    /// Column name.
    pub column: String,
    /// Total variation distance between the two distributions, 0 to 1.
    pub score: f64,
    /// True when `values` are power-of-two bins (`{"lower", "upper"}`) rather than values.
    pub binned: bool,
    /// The values (or bins) that differ most, largest difference first.
    pub values: Vec<ValueComparison>,
}

/// One value of a column, selection versus baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueComparison {
    /// The value (`null`: absent), or a bin `{"lower": 2, "upper": 4}`.
    pub value: Json,
    /// Selected events with it.
    pub selected_count: u64,
    /// Baseline events with it.
    pub baseline_count: u64,
    /// Share of selected events.
    pub selected_fraction: f64,
    /// Share of baseline events.
    pub baseline_fraction: f64,
}

/// A power-of-two bin: sign and exponent (zero is its own bin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Bin {
    negative: bool,
    /// `None` for zero.
    exponent: Option<i32>,
}

impl Bin {
    fn of(number: f64) -> Self {
        let magnitude = number.abs();
        let exponent = (magnitude >= f64::MIN_POSITIVE).then(|| (magnitude.to_bits() >> 52) as i32 - 1023);
        Self { negative: number < 0.0, exponent }
    }

    fn bounds(self) -> (f64, f64) {
        let Some(exponent) = self.exponent else { return (0.0, 0.0) };
        let (low, high) = (2f64.powi(exponent), 2f64.powi(exponent + 1));
        if self.negative { (-high, -low) } else { (low, high) }
    }

    fn to_json(self) -> Json {
        let (lower, upper) = self.bounds();
        json!({"lower": float_json(lower), "upper": float_json(upper)})
    }
}

/// Counts `[selected, baseline]` of one column.
#[derive(Debug, Default)]
struct Tally {
    absent: [u64; 2],
    /// Strings and booleans.
    values: FxHashMap<KeyValue, [u64; 2]>,
    /// Ints and floats, exactly, until there are too many.
    numbers: FxHashMap<KeyValue, [u64; 2]>,
    bins: FxHashMap<Bin, [u64; 2]>,
    too_many_strings: bool,
}

impl Tally {
    fn add_number(&mut self, key: KeyValue, number: f64, side: usize) {
        self.bins.entry(Bin::of(number)).or_default()[side] += 1;
        if self.numbers.len() <= MAX_EXACT_NUMBERS || self.numbers.contains_key(&key) {
            self.numbers.entry(key).or_default()[side] += 1;
        }
    }

    fn merge(&mut self, other: Tally) {
        add_counts(&mut self.absent, other.absent);
        self.too_many_strings |= other.too_many_strings;
        for (key, counts) in other.values {
            add_counts(self.values.entry(key).or_default(), counts);
        }
        for (key, counts) in other.numbers {
            add_counts(self.numbers.entry(key).or_default(), counts);
        }
        for (bin, counts) in other.bins {
            add_counts(self.bins.entry(bin).or_default(), counts);
        }
        self.too_many_strings |= self.values.len() > MAX_DISTINCT_STRINGS;
    }
}

fn add_counts(total: &mut [u64; 2], counts: [u64; 2]) {
    total[0] += counts[0];
    total[1] += counts[1];
}

/// One worker's counts.
#[derive(Default)]
struct Counts {
    sides: [u64; 2],
    tallies: Vec<Tally>,
}

/// The columns to compare: the table's fields and `duration_ms`, ids and timestamps left out.
fn candidate_columns(store: &dyn Store, plan: &Plan) -> Result<Vec<ColumnRef>> {
    let mut columns = vec![names::DURATION_MS.to_owned(), names::ANNOTATION_TYPE.to_owned()];
    for info in store.columns(plan.table, plan.datasets.as_deref())? {
        if !SKIPPED.contains(&info.name.as_str()) && !columns.contains(&info.name) {
            columns.push(info.name);
        }
    }
    columns.truncate(MAX_COLUMNS);
    Ok(columns.into_iter().map(|name| ColumnRef { name, root: false }).collect())
}

/// Compares a query's selected events with the rest of its events, column by column.
pub fn bubble_up(
    store: &dyn Store,
    dataset: &str,
    request: &BubbleUpRequest,
    now_unix_nano: i64,
) -> Result<BubbleUpResult> {
    request.selection.validate(&request.query)?;
    let plan = Plan::new(&request.query, SignalTable::Traces, dataset, now_unix_nano, MAX_RUN_LIMIT)?;
    let (selection_start, selection_end) = request.selection.time_range(&plan);
    let selection = request.selection.predicates(&request.query);
    let mut roots_plan = plan.clone();
    roots_plan.filter.required = selection.clone();
    let roots = roots::roots_for(store, &roots_plan)?;
    let columns = candidate_columns(store, &plan)?;
    let parts = store.parts(&plan.parts_request())?;
    let workers = scan_parts(&parts, Counts::default, |counts: &mut Counts, part| {
        let mut data = PartData::open(part, roots.as_ref())?;
        let Some(rows) = select_rows(&mut data, part.info(), &plan.filter, plan.start, plan.end)? else {
            return Ok(());
        };
        for predicate in &selection {
            data.load(&predicate.column)?;
        }
        data.times()?;
        if data.rows() == 0 {
            return Ok(());
        }
        let prepared: Vec<_> =
            selection.iter().map(|predicate| predicate.prepare(data.view(&predicate.column))).collect();
        let times = data.loaded_times();
        // Side 0: selected, side 1: baseline.
        let sides: Vec<u8> = rows
            .iter()
            .map(|&row| {
                let row = row as usize;
                let inside = (selection_start..selection_end).contains(&times[row])
                    && prepared.iter().all(|each| each.matches(row));
                u8::from(!inside)
            })
            .collect();
        drop(prepared);
        for side in &sides {
            counts.sides[*side as usize] += 1;
        }
        counts.tallies.resize_with(columns.len(), Tally::default);
        for (column, tally) in columns.iter().zip(&mut counts.tallies) {
            if tally.too_many_strings {
                continue;
            }
            data.load(column)?;
            tally_part(tally, &data, column, &rows, &sides);
        }
        Ok(())
    })?;
    let mut total = Counts { sides: [0, 0], tallies: columns.iter().map(|_| Tally::default()).collect() };
    for worker in workers {
        add_counts(&mut total.sides, worker.sides);
        for (mine, theirs) in total.tallies.iter_mut().zip(worker.tallies) {
            mine.merge(theirs);
        }
    }
    let mut compared: Vec<ColumnComparison> = columns
        .iter()
        .zip(total.tallies)
        .filter_map(|(column, tally)| compare(&column.name, tally, total.sides))
        .collect();
    compared.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.column.cmp(&b.column)));
    Ok(BubbleUpResult { selected_count: total.sides[0], baseline_count: total.sides[1], columns: compared })
}

/// Counts one part's values of a column, strings by dictionary code.
fn tally_part(tally: &mut Tally, data: &PartData<'_>, column: &ColumnRef, rows: &[u32], sides: &[u8]) {
    let view = data.view(column);
    let dict = view.dict();
    let mut strings: Vec<[u64; 2]> = vec![[0, 0]; dict.len()];
    for (&row, &side) in rows.iter().zip(sides) {
        let side = side as usize;
        match view.cell(row as usize) {
            Cell::Null => tally.absent[side] += 1,
            Cell::Str(code) => strings[code as usize][side] += 1,
            Cell::Int(number) => tally.add_number(KeyValue::Int(number), number as f64, side),
            Cell::Float(number) if number.is_nan() => tally.absent[side] += 1,
            Cell::Float(number) => tally.add_number(KeyValue::float(number), number, side),
            Cell::Bool(flag) => tally.values.entry(KeyValue::Bool(flag)).or_default()[side] += 1,
            Cell::Other(value) => {
                let text = value.map_or_else(String::new, |value| value.to_json().to_string());
                tally.values.entry(KeyValue::Str(text.into())).or_default()[side] += 1;
            }
        }
    }
    for (text, counts) in dict.iter().zip(strings) {
        if counts != [0, 0] {
            add_counts(tally.values.entry(KeyValue::Str(text.clone())).or_default(), counts);
        }
    }
    tally.too_many_strings |= tally.values.len() > MAX_DISTINCT_STRINGS;
}

/// Scores a column; `None` when it says nothing (never present, or too many distinct strings).
fn compare(name: &str, tally: Tally, sides: [u64; 2]) -> Option<ColumnComparison> {
    if tally.too_many_strings || sides == [0, 0] {
        return None;
    }
    let binned = tally.numbers.len() > MAX_EXACT_NUMBERS;
    let mut entries: Vec<(Json, [u64; 2])> =
        tally.values.into_iter().map(|(key, counts)| (key.to_json(), counts)).collect();
    if binned {
        entries.extend(tally.bins.into_iter().map(|(bin, counts)| (bin.to_json(), counts)));
    } else {
        entries.extend(tally.numbers.into_iter().map(|(key, counts)| (key.to_json(), counts)));
    }
    if entries.is_empty() {
        return None;
    }
    entries.push((Json::Null, tally.absent));
    let share = |count: u64, side: usize| if sides[side] == 0 { 0.0 } else { count as f64 / sides[side] as f64 };
    let mut values: Vec<ValueComparison> = entries
        .into_iter()
        .filter(|(_, counts)| *counts != [0, 0])
        .map(|(value, counts)| ValueComparison {
            value,
            selected_count: counts[0],
            baseline_count: counts[1],
            selected_fraction: share(counts[0], 0),
            baseline_fraction: share(counts[1], 1),
        })
        .collect();
    let difference = |value: &ValueComparison| (value.selected_fraction - value.baseline_fraction).abs();
    // Total variation distance, summed in integers (|c0·n1 − c1·n0| over n0·n1): exact, so the
    // score does not depend on the order values were tallied in.
    let (n0, n1) = (sides[0].max(1) as u128, sides[1].max(1) as u128);
    let scaled = |count: u64, side: usize| if sides[side] == 0 { 0 } else { count as u128 * [n1, n0][side] };
    let total: u128 =
        values.iter().map(|value| scaled(value.selected_count, 0).abs_diff(scaled(value.baseline_count, 1))).sum();
    let score = total as f64 / (2 * n0 * n1) as f64;
    values
        .sort_by(|a, b| difference(b).total_cmp(&difference(a)).then_with(|| b.selected_count.cmp(&a.selected_count)));
    values.truncate(MAX_VALUES_SHOWN);
    Some(ColumnComparison { column: name.to_owned(), score, binned, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_bins_and_score() {
        assert_eq!(Bin::of(3.0).bounds(), (2.0, 4.0));
        assert_eq!(Bin::of(-0.75).bounds(), (-1.0, -0.5));
        assert_eq!(Bin::of(0.0).bounds(), (0.0, 0.0));
        let mut tally = Tally::default();
        tally.values.insert(KeyValue::Str("a".into()), [3, 0]);
        tally.values.insert(KeyValue::Str("b".into()), [1, 4]);
        let compared = compare("c", tally, [4, 4]).unwrap();
        assert_eq!(compared.score, 0.75);
        assert_eq!(compared.values[0].value, json!("a"));
        assert_eq!((compared.values[0].selected_fraction, compared.values[0].baseline_fraction), (0.75, 0.0));
    }
}
