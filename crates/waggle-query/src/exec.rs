//! The aggregation pass: every worker folds parts into its own [`Accumulator`] (groups by key, and
//! per (group, time bucket) cell the states of the calculations), then the accumulators merge.
//!
//! Cells are dense, `group * buckets + bucket`, so a row costs an index computation per state.
//! Past [`MAX_SERIES_CELLS`] cells a worker collapses its cells to one per group (totals only) and
//! the caller computes the series of the groups it shows in a second, restricted pass.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use waggle_store::{CellType, Part};

use crate::Result;
use crate::calc::{Dist, Distinct, Moments, Number};
use crate::groups::{Resolve, group_rows};
use crate::hll::mix64;
use crate::part::{Cell, ColumnView, PartData};
use crate::plan::Plan;
use crate::roots::RootTable;
use crate::scan::scan_parts;
use crate::select::select_rows;
use crate::value::{GroupKey, KeyValue};

/// A group id meaning "not counted" (outside a restricted pass's groups).
const SKIP: u32 = u32::MAX;
/// Cells (groups x buckets) a worker keeps before collapsing to totals.
pub(crate) const MAX_SERIES_CELLS: usize = 1 << 20;

/// The states of a run of cells, one vector per state kind and input column.
#[derive(Debug, Default)]
pub(crate) struct States {
    pub counts: Vec<u64>,
    pub moments: Vec<Vec<Moments>>,
    pub dists: Vec<Vec<Dist>>,
    pub distincts: Vec<Vec<Distinct>>,
    /// CONCURRENCY: span time (ns) overlapping each cell's bucket.
    pub overlap: Vec<f64>,
}

impl States {
    fn new(plan: &Plan) -> Self {
        Self {
            counts: Vec::new(),
            moments: plan.moments.iter().map(|_| Vec::new()).collect(),
            dists: plan.dists.iter().map(|_| Vec::new()).collect(),
            distincts: plan.distincts.iter().map(|_| Vec::new()).collect(),
            overlap: Vec::new(),
        }
    }

    fn grow(&mut self, cells: usize, concurrency: bool) {
        let total = self.counts.len() + cells;
        self.counts.resize(total, 0);
        self.moments.iter_mut().for_each(|states| states.resize_with(total, Moments::default));
        self.dists.iter_mut().for_each(|states| states.resize_with(total, Dist::default));
        self.distincts.iter_mut().for_each(|states| states.resize_with(total, Distinct::default));
        if concurrency {
            self.overlap.resize(total, 0.0);
        }
    }

    /// Adds cell `from` of `other` into cell `to`.
    pub(crate) fn merge_cell(&mut self, to: usize, other: &States, from: usize) {
        self.counts[to] += other.counts[from];
        for (mine, theirs) in self.moments.iter_mut().zip(&other.moments) {
            mine[to].merge(&theirs[from]);
        }
        for (mine, theirs) in self.dists.iter_mut().zip(&other.dists) {
            mine[to].merge(&theirs[from]);
        }
        for (mine, theirs) in self.distincts.iter_mut().zip(&other.distincts) {
            mine[to].merge(&theirs[from]);
        }
        if !self.overlap.is_empty() {
            self.overlap[to] += other.overlap[from];
        }
    }

    /// One cell per group, each the merge of the group's `buckets` cells.
    pub(crate) fn totals(&self, plan: &Plan, buckets: usize) -> States {
        let groups = self.counts.len() / buckets.max(1);
        let mut totals = States::new(plan);
        totals.grow(groups, plan.concurrency);
        for group in 0..groups {
            for bucket in 0..buckets {
                totals.merge_cell(group, self, group * buckets + bucket);
            }
        }
        totals
    }
}

/// What one worker (or, once merged, the whole query) has aggregated.
pub(crate) struct Accumulator<'p> {
    plan: &'p Plan,
    /// A restricted pass counts only these groups and never collapses.
    allow: Option<Arc<FxHashSet<GroupKey>>>,
    /// Buckets per group: the plan's, or 1 once collapsed.
    pub buckets: usize,
    /// Group keys by id.
    pub keys: Vec<GroupKey>,
    ids: FxHashMap<GroupKey, u32>,
    /// Ids of one-string keys, by the string: see [`Resolve::string_group`].
    str_ids: FxHashMap<Arc<str>, u32>,
    pub states: States,
}

impl<'p> Accumulator<'p> {
    fn new(plan: &'p Plan, allow: Option<Arc<FxHashSet<GroupKey>>>) -> Self {
        Self {
            plan,
            allow,
            buckets: plan.num_buckets,
            keys: Vec::new(),
            ids: FxHashMap::default(),
            str_ids: FxHashMap::default(),
            states: States::new(plan),
        }
    }

    /// True once cells were collapsed to totals.
    pub(crate) fn collapsed(&self) -> bool {
        self.buckets != self.plan.num_buckets
    }

    fn group_id(&mut self, key: &[KeyValue]) -> u32 {
        if let Some(&id) = self.ids.get(key) {
            return id;
        }
        if self.allow.as_ref().is_some_and(|allowed| !allowed.contains(key)) {
            return SKIP;
        }
        let key: GroupKey = key.into();
        if self.allow.is_none() && self.buckets > 1 && (self.keys.len() + 1) * self.buckets > MAX_SERIES_CELLS {
            self.collapse();
        }
        let id = self.keys.len() as u32;
        self.ids.insert(key.clone(), id);
        self.keys.push(key);
        self.states.grow(self.buckets, self.plan.concurrency);
        id
    }

    fn collapse(&mut self) {
        self.states = self.states.totals(self.plan, self.buckets);
        self.buckets = 1;
    }

    /// Adds another worker's groups and cells.
    fn merge(&mut self, mut other: Accumulator<'p>) {
        let new_groups = other.keys.iter().filter(|key| !self.ids.contains_key(*key)).count();
        let would_exceed = (self.keys.len() + new_groups) * self.buckets > MAX_SERIES_CELLS;
        if self.allow.is_none() && (self.collapsed() || other.collapsed() || would_exceed) {
            self.collapse_if_needed();
            other.collapse_if_needed();
        }
        let buckets = self.buckets;
        for (from_group, key) in std::mem::take(&mut other.keys).into_iter().enumerate() {
            let to_group = match self.ids.get(&key) {
                Some(&id) => id as usize,
                None => {
                    let id = self.keys.len();
                    self.ids.insert(key.clone(), id as u32);
                    self.keys.push(key);
                    self.states.grow(buckets, self.plan.concurrency);
                    id
                }
            };
            for bucket in 0..buckets {
                self.states.merge_cell(to_group * buckets + bucket, &other.states, from_group * buckets + bucket);
            }
        }
    }

    fn collapse_if_needed(&mut self) {
        if self.buckets > 1 {
            self.collapse();
        }
    }

    /// Folds one part in.
    fn add_part(&mut self, part: &dyn Part, roots: Option<&RootTable>) -> Result<()> {
        let plan = self.plan;
        let mut data = PartData::open(part, roots)?;
        let Some(mut selected) = select_rows(&mut data, part.info(), &plan.filter, plan.start, plan.end)? else {
            return Ok(());
        };
        let mut groups = group_rows(&mut data, &plan.breakdowns, &selected, self)?;
        if self.allow.is_some() && groups.contains(&SKIP) {
            let kept: Vec<(u32, u32)> = selected
                .iter()
                .zip(&groups)
                .filter(|(_, group)| **group != SKIP)
                .map(|(row, group)| (*row, *group))
                .collect();
            (selected, groups) = kept.into_iter().unzip();
        }
        if buckets_needed(plan, self.buckets) {
            data.times()?;
        }
        if plan.concurrency {
            data.durations()?;
        }
        for column in plan.moments.iter().chain(&plan.dists).chain(&plan.distincts) {
            data.load(column)?;
        }
        if data.rows() == 0 {
            return Ok(());
        }
        let buckets = self.buckets;
        let cells: Vec<u32> = if buckets == 1 {
            // Totals only (no series, or collapsed): a row's cell is its group.
            groups
        } else {
            // Each row's group becomes its cell (group and time bucket) in place.
            let times = data.loaded_times();
            let mut cells = groups;
            for (cell, &row) in cells.iter_mut().zip(&selected) {
                *cell = (*cell as usize * buckets + plan.bucket_of(times[row as usize])) as u32;
            }
            if self.keys.len() > REORDER_MIN_GROUPS {
                reorder_by_bucket(&mut selected, &mut cells, buckets);
            }
            cells
        };
        let group_of_cell = |cell: u32| cell as usize / buckets;
        let states = &mut self.states;
        let counts = states.counts.as_mut_slice();
        // AVG/SUM of duration_ms alone, the most common calculation, shares the count's pass over
        // the cells. A row's duration is read through `selected`, never by position: the rows may
        // have been reordered by time bucket above.
        let mut counted = false;
        if let [column] = plan.moments.as_slice()
            && let ColumnView::DurationsMs(nanos) = data.view(column)
        {
            let moments = &mut states.moments[0];
            for (&row, &cell) in selected.iter().zip(&cells) {
                counts[cell as usize] += 1;
                moments[cell as usize].add_nanos(nanos[row as usize]);
            }
            counted = true;
        } else {
            for &cell in &cells {
                counts[cell as usize] += 1;
            }
        }
        for (column, moments) in plan.moments.iter().zip(&mut states.moments).filter(|_| !counted) {
            if let ColumnView::DurationsMs(nanos) = data.view(column) {
                // Summed in exact integer nanoseconds, shown in milliseconds (see `Moments`).
                for (&row, &cell) in selected.iter().zip(&cells) {
                    moments[cell as usize].add_nanos(nanos[row as usize]);
                }
                continue;
            }
            for_each_number(data.view(column), &selected, &cells, |cell, number| match number {
                Number::Int(number) => moments[cell].add_int(number),
                Number::Float(number) => moments[cell].add_float(number),
            });
        }
        for (column, dists) in plan.dists.iter().zip(&mut states.dists) {
            for_each_number(data.view(column), &selected, &cells, |cell, number| match number {
                Number::Int(number) => dists[cell].add(number as f64),
                Number::Float(number) => dists[cell].add(number),
            });
        }
        for (column, distincts) in plan.distincts.iter().zip(&mut states.distincts) {
            let view = data.view(column);
            // A hash per dictionary entry, unless few rows are selected (a filter kept 2% of them):
            // then only the entries those rows use are hashed.
            let string_hashes: Vec<u64> = if selected.len() < view.dict().len() {
                let mut hashes = vec![0; view.dict().len()];
                for &row in &selected {
                    if let Cell::Str(code) = view.cell(row as usize)
                        && hashes[code as usize] == 0
                    {
                        hashes[code as usize] = hash_str(&view.dict()[code as usize]);
                    }
                }
                hashes
            } else {
                view.dict().iter().map(|text| hash_str(text)).collect()
            };
            match (view, view.only_type()) {
                (ColumnView::Column(column), Some(CellType::Str)) => {
                    // Strings only: the hash is the dictionary entry's, no dispatch per row.
                    for (&row, &cell) in selected.iter().zip(&cells) {
                        if column.types[row as usize] == CellType::Str {
                            distincts[cell as usize].add(string_hashes[column.codes[row as usize] as usize]);
                        }
                    }
                }
                _ => {
                    for (&row, &cell) in selected.iter().zip(&cells) {
                        if let Some(hash) = hash_cell(view.cell(row as usize), &string_hashes) {
                            distincts[cell as usize].add(hash);
                        }
                    }
                }
            }
        }
        if plan.concurrency {
            let (times, durations) = (data.loaded_times(), data.loaded_durations());
            for (&row, &cell) in selected.iter().zip(&cells) {
                let group = group_of_cell(cell);
                let start = times[row as usize];
                let end = start.saturating_add(durations[row as usize].max(0)).min(plan.end);
                spread_overlap(plan, &mut states.overlap, buckets, group, cell as usize, start, end);
            }
        }
        Ok(())
    }
}

impl Resolve for Accumulator<'_> {
    fn group(&mut self, key: &[KeyValue]) -> u32 {
        self.group_id(key)
    }

    fn string_group(&mut self, text: &Arc<str>) -> u32 {
        if let Some(&id) = self.str_ids.get(&**text) {
            return id;
        }
        let id = self.group_id(&[KeyValue::Str(text.clone())]);
        self.str_ids.insert(text.clone(), id);
        id
    }
}

/// Whether rows need their times beyond selection: to find their bucket, or for CONCURRENCY.
fn buckets_needed(plan: &Plan, buckets: usize) -> bool {
    buckets > 1 || plan.concurrency
}

/// With more groups than this, a part's rows are visited bucket by bucket.
const REORDER_MIN_GROUPS: usize = 64;

/// Orders rows by time bucket (stably), the bucket of a cell being `cell % buckets`. Rows of many
/// groups spread over many buckets touch cells all over memory, a cache miss per row; bucket by
/// bucket, the cells in use fit in cache.
fn reorder_by_bucket(selected: &mut Vec<u32>, cells: &mut Vec<u32>, buckets: usize) {
    let bucket_of = |cell: u32| cell as usize % buckets;
    let (Some(low), Some(high)) =
        (cells.iter().map(|&cell| bucket_of(cell)).min(), cells.iter().map(|&cell| bucket_of(cell)).max())
    else {
        return;
    };
    if low == high {
        return;
    }
    let mut starts = vec![0usize; high - low + 2];
    for &cell in cells.iter() {
        starts[bucket_of(cell) - low + 1] += 1;
    }
    for index in 1..starts.len() {
        starts[index] += starts[index - 1];
    }
    let mut order = vec![0u32; cells.len()];
    for (position, &cell) in cells.iter().enumerate() {
        let slot = &mut starts[bucket_of(cell) - low];
        order[*slot] = position as u32;
        *slot += 1;
    }
    for values in [selected, cells] {
        *values = order.iter().map(|&position| values[position as usize]).collect();
    }
}

/// Calls `add(cell, number)` for every selected row holding a number, with a loop per kind of
/// column so the common ones (`duration_ms`, a column of one type) run without a match per row.
#[inline]
fn for_each_number(view: ColumnView<'_>, selected: &[u32], cells: &[u32], mut add: impl FnMut(usize, Number)) {
    let rows = selected.iter().zip(cells).map(|(&row, &cell)| (row as usize, cell as usize));
    match (view, view.only_type()) {
        (ColumnView::Missing, _) => {}
        (ColumnView::DurationsMs(nanos), _) => {
            rows.for_each(|(row, cell)| add(cell, Number::Float(nanos[row] as f64 / 1e6)))
        }
        (ColumnView::Times(times), _) => rows.for_each(|(row, cell)| add(cell, Number::Int(times[row]))),
        (ColumnView::Column(column), Some(CellType::Float)) => rows.for_each(|(row, cell)| {
            if column.types[row] == CellType::Float {
                add(cell, Number::Float(column.floats[row]))
            }
        }),
        (ColumnView::Column(column), Some(CellType::Int)) => rows.for_each(|(row, cell)| {
            if column.types[row] == CellType::Int {
                add(cell, Number::Int(column.ints[row]))
            }
        }),
        (ColumnView::Column(column), _) => rows.for_each(|(row, cell)| match column.types[row] {
            CellType::Int => add(cell, Number::Int(column.ints[row])),
            CellType::Float => add(cell, Number::Float(column.floats[row])),
            _ => {}
        }),
    }
}

/// Adds a span's time `[start, end)` to the buckets it overlaps (from its own, `cell`, rightward).
fn spread_overlap(plan: &Plan, overlap: &mut [f64], buckets: usize, group: usize, cell: usize, start: i64, end: i64) {
    if buckets == 1 {
        overlap[cell] += (end - start) as f64;
        return;
    }
    let mut bucket = plan.bucket_of(start);
    while bucket < buckets {
        let bucket_start = plan.bucket_start(bucket);
        let bucket_end = bucket_start + plan.bucket_width(bucket);
        let covered = end.min(bucket_end) - start.max(bucket_start);
        if covered > 0 {
            overlap[group * buckets + bucket] += covered as f64;
        }
        if bucket_end >= end {
            break;
        }
        bucket += 1;
    }
}

/// Hashes a string for COUNT_DISTINCT (SipHash with fixed keys, then mixed: well spread, and run
/// once per dictionary entry, not per row).
fn hash_str(text: &str) -> u64 {
    #[allow(deprecated)] // SipHasher's fixed keys are what makes the hash the same in every worker.
    let mut hasher = std::hash::SipHasher::new();
    text.hash(&mut hasher);
    mix64(hasher.finish())
}

/// A cell's COUNT_DISTINCT hash; values of different types are different values.
#[inline]
fn hash_cell(cell: Cell<'_>, string_hashes: &[u64]) -> Option<u64> {
    const INT: u64 = 0x243f_6a88_85a3_08d3;
    const FLOAT: u64 = 0x1319_8a2e_0370_7344;
    const BOOL: u64 = 0xa409_3822_299f_31d0;
    Some(match cell {
        Cell::Null => return None,
        Cell::Float(number) if number.is_nan() => return None,
        Cell::Str(code) => string_hashes[code as usize],
        Cell::Int(number) => mix64(number as u64 ^ INT),
        Cell::Float(number) => mix64(if number == 0.0 { 0 } else { number.to_bits() } ^ FLOAT),
        Cell::Bool(flag) => mix64(flag as u64 ^ BOOL),
        Cell::Other(value) => hash_str(&value.map_or_else(String::new, |value| value.to_json().to_string())),
    })
}

/// Runs the aggregation pass over `parts` on every core; `allow` restricts it to these groups.
pub(crate) fn aggregate<'p>(
    plan: &'p Plan,
    parts: &[Arc<dyn Part>],
    roots: Option<&RootTable>,
    allow: Option<Arc<FxHashSet<GroupKey>>>,
) -> Result<Accumulator<'p>> {
    let restricted = allow.is_some();
    let workers = scan_parts(
        parts,
        || Accumulator::new(plan, allow.clone()),
        |accumulator, part| accumulator.add_part(part, roots),
    )?;
    let mut workers = workers.into_iter();
    let mut merged = workers.next().unwrap_or_else(|| Accumulator::new(plan, allow.clone()));
    for worker in workers {
        merged.merge(worker);
    }
    if plan.breakdowns.is_empty() && merged.keys.is_empty() && !restricted {
        // A query without breakdowns always has its one group, even with no events.
        merged.group_id(&[]);
    }
    Ok(merged)
}
