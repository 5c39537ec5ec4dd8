//! Breakdown groups of a part's rows without hashing strings per row: each breakdown column gives
//! every selected row a small code (its dictionary code for strings), a tuple of codes maps to a
//! part-local slot (direct indexing when the product of the columns' cardinalities is small, else
//! a hash map on the combined code), and only a slot's first row builds the group's key to look up
//! the worker's group id.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use waggle_store::{CellType, Column};

use crate::Result;
use crate::part::{Cell, ColumnRef, ColumnView, PartData};
use crate::value::{GroupKey, KeyValue};

/// Products of cardinalities up to this use a direct table.
const DIRECT_LIMIT: u128 = 1 << 18;
const UNSET: u32 = u32::MAX - 1;

/// The key of a cell that is not a string (strings use their dictionary code).
fn cell_key(cell: Cell<'_>) -> KeyValue {
    match cell {
        Cell::Null | Cell::Str(_) => KeyValue::Null,
        Cell::Int(number) => KeyValue::Int(number),
        // NaN is ignored everywhere (docs/QUERY.md): its rows join the group without a value.
        Cell::Float(number) if number.is_nan() => KeyValue::Null,
        Cell::Float(number) => KeyValue::float(number),
        Cell::Bool(flag) => KeyValue::Bool(flag),
        Cell::Other(value) => KeyValue::Str(value.map_or_else(String::new, |value| value.to_json().to_string()).into()),
    }
}

/// One breakdown's codes for the selected rows: 0 is null, `1..=dict.len()` strings, then the
/// other values met, interned.
struct KeyCodes<'a> {
    view: ColumnView<'a>,
    codes: Vec<u32>,
    others: Vec<KeyValue>,
}

impl<'a> KeyCodes<'a> {
    fn new(view: ColumnView<'a>, selected: &[u32]) -> Self {
        match (view.only_type(), view) {
            // Strings (or nothing) only: the dictionary code is the key, no dispatch per row.
            (Some(CellType::Null), _) => return Self { view, codes: vec![0; selected.len()], others: Vec::new() },
            (Some(CellType::Str), ColumnView::Column(column)) => {
                let codes =
                    selected
                        .iter()
                        .map(|&row| {
                            if column.types[row as usize] == CellType::Str { 1 + column.codes[row as usize] } else { 0 }
                        })
                        .collect();
                return Self { view, codes, others: Vec::new() };
            }
            _ => {}
        }
        let dict_len = view.dict().len() as u32;
        let mut others = Vec::new();
        let mut interned: FxHashMap<KeyValue, u32> = FxHashMap::default();
        let codes = selected
            .iter()
            .map(|&row| match view.cell(row as usize) {
                Cell::Null => 0,
                Cell::Str(code) => 1 + code,
                cell => {
                    let key = cell_key(cell);
                    1 + dict_len
                        + *interned.entry(key).or_insert_with_key(|key| {
                            others.push(key.clone());
                            others.len() as u32 - 1
                        })
                }
            })
            .collect();
        Self { view, codes, others }
    }

    fn cardinality(&self) -> u32 {
        1 + self.view.dict().len() as u32 + self.others.len() as u32
    }

    fn value(&self, code: u32) -> KeyValue {
        let dict = self.view.dict();
        match code {
            0 => KeyValue::Null,
            code if (code as usize) <= dict.len() => KeyValue::Str(dict[code as usize - 1].clone()),
            code => self.others[code as usize - 1 - dict.len()].clone(),
        }
    }
}

/// Part-local slots of code tuples.
enum Slots {
    Direct(Vec<u32>),
    Combined(FxHashMap<u128, u32>),
    /// Cardinalities whose product overflows `u128`: keyed by the tuple itself.
    Tuples(FxHashMap<Box<[u32]>, u32>),
}

/// Turns a new group's key into its id (any id, including one meaning "skip").
pub(crate) trait Resolve {
    fn group(&mut self, key: &[KeyValue]) -> u32;

    /// The group of a one-string key, the common breakdown: by reference, as a part has a
    /// thousand users and a query hundreds of parts.
    fn string_group(&mut self, text: &Arc<str>) -> u32;
}

/// The group id of every selected row.
pub(crate) fn group_rows(
    data: &mut PartData<'_>,
    breakdowns: &[ColumnRef],
    selected: &[u32],
    resolver: &mut impl Resolve,
) -> Result<Vec<u32>> {
    let mut resolve = |key: &[KeyValue]| resolver.group(key);
    if breakdowns.is_empty() {
        let group = resolve(&[]);
        return Ok(vec![group; selected.len()]);
    }
    for column in breakdowns {
        data.load(column)?;
    }
    if let [breakdown] = breakdowns
        && let ColumnView::Column(column) = data.view(breakdown)
        && data.view(breakdown).only_type() == Some(CellType::Str)
    {
        return Ok(string_groups(column, selected, resolver));
    }
    let columns: Vec<KeyCodes<'_>> =
        breakdowns.iter().map(|column| KeyCodes::new(data.view(column), selected)).collect();
    let product = columns.iter().try_fold(1u128, |product, column| product.checked_mul(column.cardinality() as u128));
    let mut slots = match product {
        Some(product) if product <= DIRECT_LIMIT => Slots::Direct(vec![UNSET; product as usize]),
        Some(_) => Slots::Combined(FxHashMap::default()),
        None => Slots::Tuples(FxHashMap::default()),
    };
    let strides: Vec<u128> = columns
        .iter()
        .scan(1u128, |stride, column| {
            let current = *stride;
            *stride = stride.saturating_mul(column.cardinality() as u128);
            Some(current)
        })
        .collect();
    let key_of =
        |position: usize| -> GroupKey { columns.iter().map(|column| column.value(column.codes[position])).collect() };
    if let [column] = columns.as_slice() {
        // One breakdown: the code is the slot.
        let mut table = vec![UNSET; column.cardinality() as usize];
        let groups = column
            .codes
            .iter()
            .map(|&code| {
                let slot = &mut table[code as usize];
                if *slot == UNSET {
                    *slot = resolve(&[column.value(code)]);
                }
                *slot
            })
            .collect();
        return Ok(groups);
    }
    let mut tuple: Vec<u32> = vec![0; columns.len()];
    let mut groups = Vec::with_capacity(selected.len());
    for position in 0..selected.len() {
        let group = match &mut slots {
            Slots::Direct(table) => {
                let combined: u128 =
                    columns.iter().zip(&strides).map(|(column, stride)| column.codes[position] as u128 * stride).sum();
                let slot = &mut table[combined as usize];
                if *slot == UNSET {
                    *slot = resolve(&key_of(position));
                }
                *slot
            }
            Slots::Combined(map) => {
                let combined: u128 =
                    columns.iter().zip(&strides).map(|(column, stride)| column.codes[position] as u128 * stride).sum();
                *map.entry(combined).or_insert_with(|| resolve(&key_of(position)))
            }
            Slots::Tuples(map) => {
                for (code, column) in tuple.iter_mut().zip(&columns) {
                    *code = column.codes[position];
                }
                match map.get(tuple.as_slice()) {
                    Some(group) => *group,
                    None => {
                        let group = resolve(&key_of(position));
                        map.insert(tuple.clone().into_boxed_slice(), group);
                        group
                    }
                }
            }
        };
        groups.push(group);
    }
    Ok(groups)
}

/// One breakdown on a column of strings (and nulls): a row's dictionary code picks its group, in
/// one pass without intermediate codes.
fn string_groups(column: &Column, selected: &[u32], resolver: &mut impl Resolve) -> Vec<u32> {
    // Slot 0 is null, slot `1 + code` the string of `code`.
    let mut table = vec![UNSET; column.dict.len() + 1];
    if selected.len() == column.len() {
        // Every row (ascending, so row = position): read the column straight through.
        string_groups_of(column, 0..column.len(), &mut table, resolver)
    } else {
        string_groups_of(column, selected.iter().map(|&row| row as usize), &mut table, resolver)
    }
}

#[inline(always)]
fn string_groups_of(
    column: &Column,
    rows: impl Iterator<Item = usize>,
    table: &mut [u32],
    resolver: &mut impl Resolve,
) -> Vec<u32> {
    rows.map(|row| {
        let slot = if column.types[row] == CellType::Str { 1 + column.codes[row] as usize } else { 0 };
        let group = &mut table[slot];
        if *group == UNSET {
            *group = match slot {
                0 => resolver.group(&[KeyValue::Null]),
                slot => resolver.string_group(&column.dict[slot - 1]),
            };
        }
        *group
    })
    .collect()
}
