//! Filters compiled for column-wise evaluation. A string test runs once per dictionary entry of a
//! part (a table of booleans), so a row costs a type check and a table lookup.
//!
//! Coercion: the filter value is converted to each cell's type, and a cell it cannot be converted
//! to does not match. A number or boolean compared with a string cell is compared as its JSON text
//! (`200` as `"200"`); a string compared with an int or float cell is parsed as a number; `"true"`
//! and `"false"` match booleans. Ints and floats compare as numbers. Ordering operators compare
//! strings bytewise and never match booleans. The string operators match string cells only.
//! Negated operators (`!=`, `does-not-*`, `not-in`, `does-not-exist`) are the exact negation of
//! their positive form, so they also match rows where the column is absent.

use std::cmp::Ordering;

use serde_json::Value as Json;

use waggle_store::{CellType, Column};

use crate::part::{Cell, ColumnRef, ColumnView};
use crate::spec::{Filter, FilterOp};
use crate::value::KeyValue;

/// A filter value in every type a cell may have.
#[derive(Debug, Clone, PartialEq)]
struct Scalar {
    /// Compared with string cells.
    text: String,
    /// True when the value was a JSON string (ordering operators compare strings only then).
    is_string: bool,
    int: Option<i64>,
    float: Option<f64>,
    boolean: Option<bool>,
}

impl Scalar {
    fn from_json(value: &Json) -> Self {
        match value {
            Json::String(text) => Self {
                text: text.clone(),
                is_string: true,
                int: text.trim().parse().ok(),
                float: text.trim().parse::<f64>().ok().filter(|number| number.is_finite()),
                boolean: match text.as_str() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                },
            },
            Json::Number(number) => Self {
                text: number.to_string(),
                is_string: false,
                int: number.as_i64(),
                float: number.as_f64(),
                boolean: None,
            },
            Json::Bool(flag) => {
                Self { text: flag.to_string(), is_string: false, int: None, float: None, boolean: Some(*flag) }
            }
            _ => Self { text: String::new(), is_string: false, int: None, float: None, boolean: None },
        }
    }

    fn compare_int(&self, number: i64) -> Option<Ordering> {
        match (self.int, self.float) {
            (Some(int), _) => Some(number.cmp(&int)),
            (None, Some(float)) => (number as f64).partial_cmp(&float),
            (None, None) => None,
        }
    }

    fn compare_float(&self, number: f64) -> Option<Ordering> {
        self.float.and_then(|float| number.partial_cmp(&float))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Comparison {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Comparison {
    fn holds(self, ordering: Option<Ordering>) -> bool {
        match ordering {
            None => false,
            Some(ordering) => match self {
                Self::Gt => ordering.is_gt(),
                Self::Ge => ordering.is_ge(),
                Self::Lt => ordering.is_lt(),
                Self::Le => ordering.is_le(),
            },
        }
    }
}

/// The positive form of a test.
#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// Equal to any of these (`=` has one, `in` several).
    Equals(Vec<Scalar>),
    Compare(Comparison, Scalar),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    Exists,
    /// Exactly this value, type included (selecting a result row again).
    Is(KeyValue),
}

/// The test of an int-valued filter on int cells, for a loop without per-row dispatch.
#[derive(Debug, Clone, PartialEq)]
enum IntTest {
    Eq(i64),
    In(Vec<i64>),
    Compare(Comparison, i64),
}

impl IntTest {
    /// The same test as `test` on an int cell, when every filter value is an int.
    fn of(test: &Test) -> Option<Self> {
        match test {
            Test::Equals(values) => {
                let ints: Option<Vec<i64>> = values.iter().map(|value| value.int).collect();
                match ints?.as_slice() {
                    [one] => Some(Self::Eq(*one)),
                    many => Some(Self::In(many.to_vec())),
                }
            }
            Test::Compare(comparison, value) => Some(Self::Compare(*comparison, value.int?)),
            Test::Is(KeyValue::Int(number)) => Some(Self::Eq(*number)),
            _ => None,
        }
    }
}

/// One compiled filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Predicate {
    /// What it reads.
    pub column: ColumnRef,
    test: Test,
    negate: bool,
    int_test: Option<IntTest>,
}

impl Predicate {
    /// Compiles a validated filter.
    pub(crate) fn compile(filter: &Filter) -> Self {
        let value = filter.value.as_ref().map(Scalar::from_json);
        let text = || value.as_ref().map(|scalar| scalar.text.clone()).unwrap_or_default();
        let scalar = || value.clone().unwrap_or_else(|| Scalar::from_json(&Json::Null));
        let list = || match &filter.value {
            Some(Json::Array(items)) => items.iter().map(Scalar::from_json).collect(),
            _ => Vec::new(),
        };
        let (test, negate) = match filter.op {
            FilterOp::Eq => (Test::Equals(vec![scalar()]), false),
            FilterOp::Ne => (Test::Equals(vec![scalar()]), true),
            FilterOp::Gt => (Test::Compare(Comparison::Gt, scalar()), false),
            FilterOp::Ge => (Test::Compare(Comparison::Ge, scalar()), false),
            FilterOp::Lt => (Test::Compare(Comparison::Lt, scalar()), false),
            FilterOp::Le => (Test::Compare(Comparison::Le, scalar()), false),
            FilterOp::StartsWith => (Test::StartsWith(text()), false),
            FilterOp::DoesNotStartWith => (Test::StartsWith(text()), true),
            FilterOp::EndsWith => (Test::EndsWith(text()), false),
            FilterOp::DoesNotEndWith => (Test::EndsWith(text()), true),
            FilterOp::Contains => (Test::Contains(text()), false),
            FilterOp::DoesNotContain => (Test::Contains(text()), true),
            FilterOp::Exists => (Test::Exists, false),
            FilterOp::DoesNotExist | FilterOp::Unknown(_) => (Test::Exists, true),
            FilterOp::In => (Test::Equals(list()), false),
            FilterOp::NotIn => (Test::Equals(list()), true),
        };
        let int_test = IntTest::of(&test);
        Self { column: ColumnRef::parse(&filter.column), test, negate, int_test }
    }

    /// Rows whose `column` holds exactly `value` (null: the column is absent).
    pub(crate) fn is(column: ColumnRef, value: KeyValue) -> Self {
        let test = Test::Is(value);
        Self { column, int_test: IntTest::of(&test), test, negate: false }
    }

    /// True when no row without the column can match: a part lacking it is skipped at once.
    pub(crate) fn needs_column(&self) -> bool {
        !self.negate && !matches!(self.test, Test::Is(KeyValue::Null))
    }

    fn test_str(&self, text: &str) -> bool {
        match &self.test {
            Test::Equals(values) => values.iter().any(|value| value.text == text),
            Test::Compare(comparison, value) => value.is_string && comparison.holds(Some(text.cmp(&value.text))),
            Test::StartsWith(prefix) => text.starts_with(prefix.as_str()),
            Test::EndsWith(suffix) => text.ends_with(suffix.as_str()),
            Test::Contains(part) => text.contains(part.as_str()),
            Test::Exists => true,
            Test::Is(value) => matches!(value, KeyValue::Str(expected) if **expected == *text),
        }
    }

    fn test_cell(&self, cell: Cell<'_>) -> bool {
        match (&self.test, cell) {
            (Test::Exists, cell) => !matches!(cell, Cell::Null),
            (Test::Is(expected), cell) => match (expected, cell) {
                (KeyValue::Null, Cell::Null) => true,
                (KeyValue::Int(expected), Cell::Int(number)) => *expected == number,
                (KeyValue::Float(_), Cell::Float(number)) => *expected == KeyValue::float(number),
                (KeyValue::Bool(expected), Cell::Bool(flag)) => *expected == flag,
                _ => false,
            },
            (_, Cell::Null | Cell::Other(_) | Cell::Str(_)) => false,
            (Test::Equals(values), Cell::Int(number)) => {
                values.iter().any(|value| value.compare_int(number).is_some_and(Ordering::is_eq))
            }
            (Test::Equals(values), Cell::Float(number)) => {
                values.iter().any(|value| value.compare_float(number).is_some_and(Ordering::is_eq))
            }
            (Test::Equals(values), Cell::Bool(flag)) => values.iter().any(|value| value.boolean == Some(flag)),
            (Test::Compare(comparison, value), Cell::Int(number)) => comparison.holds(value.compare_int(number)),
            (Test::Compare(comparison, value), Cell::Float(number)) => comparison.holds(value.compare_float(number)),
            _ => false,
        }
    }

    /// Evaluates the filter on a part's column, once per string of its dictionary, and for a
    /// column of one type, once per row in one tight loop.
    pub(crate) fn prepare<'a>(&'a self, view: ColumnView<'a>) -> PreparedPredicate<'a> {
        let strings: Vec<bool> = view.dict().iter().map(|text| self.test_str(text) != self.negate).collect();
        let rows = self.row_outcomes(view, &strings);
        PreparedPredicate { predicate: self, view, strings, rows }
    }

    /// The rows of `selected` (all `num_rows` when `None`) that pass, when the column holds ints
    /// only and the filter value is an int (`status_code = 500`): one loop per operator, no per-row
    /// dispatch and no outcome per row. `None` when that does not apply.
    pub(crate) fn select_ints(
        &self,
        view: ColumnView<'_>,
        selected: Option<&[u32]>,
        num_rows: usize,
    ) -> Option<Vec<u32>> {
        let (ColumnView::Column(column), Some(test)) = (view, &self.int_test) else { return None };
        if view.only_type() != Some(CellType::Int) || column.len() != num_rows {
            return None;
        }
        let null = self.test_cell(Cell::Null) != self.negate;
        let negate = self.negate;
        Some(match test {
            IntTest::Eq(value) => int_rows(column, selected, null, |number| (number == *value) != negate),
            IntTest::In(values) => int_rows(column, selected, null, |number| values.contains(&number) != negate),
            IntTest::Compare(Comparison::Gt, value) => {
                int_rows(column, selected, null, |number| (number > *value) != negate)
            }
            IntTest::Compare(Comparison::Ge, value) => {
                int_rows(column, selected, null, |number| (number >= *value) != negate)
            }
            IntTest::Compare(Comparison::Lt, value) => {
                int_rows(column, selected, null, |number| (number < *value) != negate)
            }
            IntTest::Compare(Comparison::Le, value) => {
                int_rows(column, selected, null, |number| (number <= *value) != negate)
            }
        })
    }

    /// The outcome per row when every non-null cell has one type, computed in one tight loop
    /// instead of a type dispatch per row; `strings` holds the outcome per dictionary entry.
    fn row_outcomes(&self, view: ColumnView<'_>, strings: &[bool]) -> Option<Vec<bool>> {
        let test = |cell: Cell<'_>| self.test_cell(cell) != self.negate;
        let null = test(Cell::Null);
        let column = match view {
            ColumnView::DurationsMs(nanos) => {
                return Some(nanos.iter().map(|&n| test(Cell::Float(n as f64 / 1e6))).collect());
            }
            ColumnView::Times(times) => return Some(times.iter().map(|&time| test(Cell::Int(time))).collect()),
            ColumnView::Missing => return None,
            ColumnView::Column(column) => column,
        };
        let rows = column.types.iter().enumerate();
        Some(match view.only_type()? {
            CellType::Null => vec![null; column.len()],
            CellType::Int => rows
                .map(|(row, &cell)| if cell == CellType::Int { test(Cell::Int(column.ints[row])) } else { null })
                .collect(),
            CellType::Float => rows
                .map(|(row, &cell)| if cell == CellType::Float { test(Cell::Float(column.floats[row])) } else { null })
                .collect(),
            CellType::Str => rows
                .map(|(row, &cell)| if cell == CellType::Str { strings[column.codes[row] as usize] } else { null })
                .collect(),
            CellType::Bool | CellType::Other => return None,
        })
    }
}

/// The rows of an int column (ints and nulls only) that pass: `passes` on ints, `null` elsewhere.
#[inline]
fn int_rows(column: &Column, selected: Option<&[u32]>, null: bool, passes: impl Fn(i64) -> bool) -> Vec<u32> {
    let (types, ints) = (column.types.as_slice(), &column.ints[..column.types.len()]);
    let test = |row: usize| if types[row] == CellType::Int { passes(ints[row]) } else { null };
    match selected {
        Some(rows) => rows.iter().copied().filter(|&row| test(row as usize)).collect(),
        None => (0..types.len()).filter(|&row| test(row)).map(|row| row as u32).collect(),
    }
}

/// A predicate ready for one part's rows.
pub(crate) struct PreparedPredicate<'a> {
    predicate: &'a Predicate,
    view: ColumnView<'a>,
    /// Per dictionary entry, the outcome (negation applied).
    strings: Vec<bool>,
    /// Per row, the outcome, when computed up front (see [`Predicate::prepare`]).
    rows: Option<Vec<bool>>,
}

impl PreparedPredicate<'_> {
    /// True when the row passes.
    #[inline]
    pub(crate) fn matches(&self, row: usize) -> bool {
        if let Some(rows) = &self.rows {
            return rows[row];
        }
        match self.view.cell(row) {
            Cell::Str(code) => self.strings[code as usize],
            cell => self.predicate.test_cell(cell) != self.predicate.negate,
        }
    }

    /// True when the part lacks the column and no row can pass without it.
    pub(crate) fn excludes_missing_column(&self) -> bool {
        matches!(self.view, ColumnView::Missing) && self.predicate.needs_column()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use waggle_model::Value;
    use waggle_store::columns::ColumnBuilder;

    use super::*;

    /// A mixed column: "200", 200, 200.5, true, null, "abc", "Abc", [1], -3.
    fn mixed() -> waggle_store::Column {
        let mut builder = ColumnBuilder::with_capacity(9);
        builder.push_str("200");
        builder.push_int(200);
        builder.push_float(200.5);
        builder.push_bool(true);
        builder.push_null();
        builder.push_str("abc");
        builder.push_str("Abc");
        builder.push(Some(&Value::Array(vec![Value::Int(1)])));
        builder.push_int(-3);
        builder.finish()
    }

    fn rows(op: &str, value: Option<Json>) -> Vec<usize> {
        let column = mixed();
        let filter = Filter { column: "c".into(), op: FilterOp::parse(op), value };
        let predicate = Predicate::compile(&filter);
        let prepared = predicate.prepare(ColumnView::Column(&column));
        (0..column.len()).filter(|&row| prepared.matches(row)).collect()
    }

    #[test]
    fn test_every_operator_with_coercion_on_a_mixed_column() {
        let cases: Vec<(&str, Option<Json>, Vec<usize>)> = vec![
            ("=", Some(json!(200)), vec![0, 1]),
            ("=", Some(json!("200")), vec![0, 1]),
            ("=", Some(json!(200.5)), vec![2]),
            ("=", Some(json!(true)), vec![3]),
            ("=", Some(json!("true")), vec![3]),
            ("!=", Some(json!(200)), vec![2, 3, 4, 5, 6, 7, 8]),
            (">", Some(json!(100)), vec![1, 2]),
            (">=", Some(json!(200)), vec![1, 2]),
            ("<", Some(json!(0)), vec![8]),
            ("<=", Some(json!(-3)), vec![8]),
            (">", Some(json!("ab")), vec![5]),
            ("<", Some(json!("B")), vec![0, 6]),
            (">", Some(json!("150")), vec![0, 1, 2, 5, 6]),
            ("starts-with", Some(json!("ab")), vec![5]),
            ("does-not-start-with", Some(json!("ab")), vec![0, 1, 2, 3, 4, 6, 7, 8]),
            ("ends-with", Some(json!("bc")), vec![5, 6]),
            ("does-not-end-with", Some(json!("bc")), vec![0, 1, 2, 3, 4, 7, 8]),
            ("contains", Some(json!("0")), vec![0]),
            ("does-not-contain", Some(json!("b")), vec![0, 1, 2, 3, 4, 7, 8]),
            ("exists", None, vec![0, 1, 2, 3, 5, 6, 7, 8]),
            ("does-not-exist", None, vec![4]),
            ("in", Some(json!(["abc", -3, false])), vec![5, 8]),
            ("not-in", Some(json!(["abc", -3])), vec![0, 1, 2, 3, 4, 6, 7]),
        ];
        assert_eq!(
            cases.iter().map(|(op, _, _)| *op).collect::<std::collections::BTreeSet<_>>().len(),
            16,
            "every operator is covered"
        );
        for (op, value, expected) in cases {
            assert_eq!(rows(op, value.clone()), expected, "{op} {value:?}");
        }
    }

    #[test]
    fn test_missing_column_and_derived_views() {
        let eq = Predicate::compile(&Filter::new("c", FilterOp::Eq, Some(json!(1))));
        let ne = Predicate::compile(&Filter::new("c", FilterOp::Ne, Some(json!(1))));
        let prepared = eq.prepare(ColumnView::Missing);
        assert!(!prepared.matches(0) && prepared.excludes_missing_column());
        let prepared = ne.prepare(ColumnView::Missing);
        assert!(prepared.matches(0) && !prepared.excludes_missing_column());
        let durations = [1_500_000, 2_000_000];
        let slow = Predicate::compile(&Filter::new("duration_ms", FilterOp::Gt, Some(json!(1.5))));
        let prepared = slow.prepare(ColumnView::DurationsMs(&durations));
        assert_eq!((prepared.matches(0), prepared.matches(1)), (false, true));
        let times = [5, 6];
        let exact = Predicate::compile(&Filter::new("timestamp", FilterOp::Eq, Some(json!(6))));
        assert!(exact.prepare(ColumnView::Times(&times)).matches(1));
    }

    #[test]
    fn test_is_matches_type_exactly() {
        let column = mixed();
        let matching = |value: KeyValue| -> Vec<usize> {
            let predicate = Predicate::is(ColumnRef::parse("c"), value);
            let prepared = predicate.prepare(ColumnView::Column(&column));
            (0..column.len()).filter(|&row| prepared.matches(row)).collect()
        };
        assert_eq!(matching(KeyValue::Int(200)), vec![1]);
        assert_eq!(matching(KeyValue::Str("200".into())), vec![0]);
        assert_eq!(matching(KeyValue::float(200.5)), vec![2]);
        assert_eq!(matching(KeyValue::Null), vec![4]);
    }
}
