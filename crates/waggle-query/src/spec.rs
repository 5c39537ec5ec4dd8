//! Honeycomb's query specification, field for field (docs.honeycomb.io "Query Specification" and the
//! Queries API): what the HTTP API accepts, what saved queries store, what the engine plans from.
//!
//! Operators deserialize from any string so that [`QuerySpec::validate`] can name the bad field
//! (`filters[0].op: unknown operator "=="`) instead of serde's generic message.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value as Json;
use waggle_model::names;

use crate::{QueryError, Result};

/// Default `time_range` in seconds, as Honeycomb's: two hours.
pub const DEFAULT_TIME_RANGE_SECS: i64 = 7200;
/// Default `limit`, as Honeycomb's.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest `limit` a saved query may have (Honeycomb's rule when creating a query).
pub const MAX_LIMIT: usize = 1000;
/// Largest `limit` a run may use (Honeycomb allows it for `disable_series` runs).
pub const MAX_RUN_LIMIT: usize = 10_000;
/// At most this many calculations, filters, breakdowns, orders and havings each (Honeycomb's).
pub const MAX_ITEMS: usize = 100;
/// Granularity may not be finer than the time range divided by this (Honeycomb's).
pub const MAX_BUCKETS: i64 = 1000;

/// A string-valued enum of the wire format that keeps unknown names for validation to report.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)*
            /// A name waggle does not know; [`QuerySpec::validate`] rejects it.
            Unknown(String),
        }

        impl $name {
            /// Every known value, in Honeycomb's documentation order.
            pub const ALL: &[$name] = &[$($name::$variant,)*];

            /// The wire name.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Unknown(text) => text,
                }
            }

            /// From the wire name; anything else is kept as [`Self::Unknown`].
            pub fn parse(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                Ok(Self::parse(&String::deserialize(deserializer)?))
            }
        }
    };
}

wire_enum! {
    /// A calculation (Honeycomb's VISUALIZE operators).
    CalcOp {
        /// Number of events.
        Count = "COUNT",
        /// Spans in progress per time bucket, counted fractionally (see `docs/QUERY.md`).
        Concurrency = "CONCURRENCY",
        /// Sum of a numeric column.
        Sum = "SUM",
        /// Mean of a numeric column.
        Avg = "AVG",
        /// Number of distinct values of a column.
        CountDistinct = "COUNT_DISTINCT",
        /// Largest value of a numeric column.
        Max = "MAX",
        /// Smallest value of a numeric column.
        Min = "MIN",
        /// 0.1th percentile.
        P001 = "P001",
        /// 1st percentile.
        P01 = "P01",
        /// 5th percentile.
        P05 = "P05",
        /// 10th percentile.
        P10 = "P10",
        /// 20th percentile.
        P20 = "P20",
        /// 25th percentile.
        P25 = "P25",
        /// Median.
        P50 = "P50",
        /// 75th percentile.
        P75 = "P75",
        /// 80th percentile.
        P80 = "P80",
        /// 90th percentile.
        P90 = "P90",
        /// 95th percentile.
        P95 = "P95",
        /// 99th percentile.
        P99 = "P99",
        /// 99.9th percentile.
        P999 = "P999",
        /// Distribution of a numeric column per time bucket.
        Heatmap = "HEATMAP",
        /// Change of AVG from one time bucket to the next.
        RateAvg = "RATE_AVG",
        /// Change of SUM from one time bucket to the next.
        RateSum = "RATE_SUM",
        /// Change of MAX from one time bucket to the next.
        RateMax = "RATE_MAX",
    }
}

impl CalcOp {
    /// The quantile of a percentile operator (`P99` is 0.99).
    pub fn quantile(&self) -> Option<f64> {
        Some(match self {
            Self::P001 => 0.001,
            Self::P01 => 0.01,
            Self::P05 => 0.05,
            Self::P10 => 0.1,
            Self::P20 => 0.2,
            Self::P25 => 0.25,
            Self::P50 => 0.5,
            Self::P75 => 0.75,
            Self::P80 => 0.8,
            Self::P90 => 0.9,
            Self::P95 => 0.95,
            Self::P99 => 0.99,
            Self::P999 => 0.999,
            _ => return None,
        })
    }

    /// True for operators that take no column.
    pub fn takes_no_column(&self) -> bool {
        matches!(self, Self::Count | Self::Concurrency)
    }

    /// True for operators that need numbers.
    pub fn needs_numbers(&self) -> bool {
        !matches!(self, Self::Count | Self::Concurrency | Self::CountDistinct | Self::Unknown(_))
    }
}

wire_enum! {
    /// A filter operator. Havings use the first six.
    FilterOp {
        /// Equal (with type coercion, see `docs/QUERY.md`).
        Eq = "=",
        /// Not equal; also true where the column is absent.
        Ne = "!=",
        /// Greater than.
        Gt = ">",
        /// Greater than or equal.
        Ge = ">=",
        /// Less than.
        Lt = "<",
        /// Less than or equal.
        Le = "<=",
        /// String prefix.
        StartsWith = "starts-with",
        /// Not a string with this prefix (absent included).
        DoesNotStartWith = "does-not-start-with",
        /// String suffix.
        EndsWith = "ends-with",
        /// Not a string with this suffix (absent included).
        DoesNotEndWith = "does-not-end-with",
        /// The column has a value.
        Exists = "exists",
        /// The column has no value.
        DoesNotExist = "does-not-exist",
        /// Substring.
        Contains = "contains",
        /// Not a string containing this (absent included).
        DoesNotContain = "does-not-contain",
        /// Equal to one of a list.
        In = "in",
        /// Equal to none of a list (absent included).
        NotIn = "not-in",
    }
}

impl FilterOp {
    /// True for the comparisons havings accept.
    pub fn is_comparison(&self) -> bool {
        matches!(self, Self::Eq | Self::Ne | Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }
}

wire_enum! {
    /// How filters combine.
    FilterCombination {
        /// Every filter matches (the default).
        And = "AND",
        /// Any filter matches.
        Or = "OR",
    }
}

wire_enum! {
    /// Direction of an order term.
    SortOrder {
        /// Smallest first (Honeycomb's default).
        Ascending = "ascending",
        /// Largest first.
        Descending = "descending",
    }
}

/// One calculation: `{"op": "P99", "column": "duration_ms"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calculation {
    /// The operator.
    pub op: CalcOp,
    /// The column; absent for COUNT and CONCURRENCY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

impl Calculation {
    /// A calculation.
    pub fn new(op: CalcOp, column: Option<&str>) -> Self {
        Self { op, column: column.map(str::to_owned) }
    }

    /// The key of its value in results: `COUNT`, `P99(duration_ms)`, as Honeycomb names them.
    pub fn key(&self) -> String {
        match &self.column {
            Some(column) => format!("{}({column})", self.op.as_str()),
            None => self.op.as_str().to_owned(),
        }
    }
}

/// One filter: `{"column": "http.route", "op": "=", "value": "/"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// The column (`root.` prefix allowed).
    pub column: String,
    /// The operator.
    pub op: FilterOp,
    /// A string, number or boolean; an array for `in`/`not-in`; absent for `exists`/`does-not-exist`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Json>,
}

impl Filter {
    /// A filter.
    pub fn new(column: &str, op: FilterOp, value: Option<Json>) -> Self {
        Self { column: column.to_owned(), op, value }
    }
}

/// One order term: a breakdown (`{"column": "http.route"}`) or a calculation
/// (`{"op": "P99", "column": "duration_ms", "order": "descending"}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// The breakdown, or the calculation's column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The calculation's operator; absent when ordering by a breakdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<CalcOp>,
    /// Direction; ascending when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<SortOrder>,
}

/// One having: `{"calculate_op": "COUNT", "op": ">", "value": 10}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Having {
    /// The calculation's operator (one of the query's calculations).
    pub calculate_op: CalcOp,
    /// The calculation's column; absent for COUNT and CONCURRENCY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// One of `=`, `!=`, `>`, `>=`, `<`, `<=`.
    pub op: FilterOp,
    /// A number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Json>,
}

/// A query, as Honeycomb's query specification JSON. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuerySpec {
    /// Columns to group by; an absent value is its own (null) group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breakdowns: Vec<String>,
    /// What to compute per group and time bucket; COUNT when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calculations: Vec<Calculation>,
    /// Which events count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// How filters combine; AND when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_combination: Option<FilterCombination>,
    /// Seconds per time bucket of the series; chosen from the time range when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granularity: Option<i64>,
    /// Ordering of `results`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<Order>,
    /// Filters on calculated values of groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub havings: Vec<Having>,
    /// Most groups in `results` (and in `series`); 100 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Seconds; with `start_time` the range after it, with `end_time` the range before it, alone
    /// the range before now. Two hours when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_range: Option<i64>,
    /// Unix seconds, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// Unix seconds, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
}

/// Derived columns that hold strings, so cannot feed numeric calculations.
const STRING_COLUMNS: [&str; 5] =
    [names::TRACE_ID, names::SPAN_ID, names::PARENT_ID, names::SIGNAL_TYPE, names::ANNOTATION_TYPE];

fn bad(message: String) -> QueryError {
    QueryError::BadRequest(message)
}

impl QuerySpec {
    /// The calculations to run: COUNT when none is given.
    pub fn effective_calculations(&self) -> Vec<Calculation> {
        if self.calculations.is_empty() {
            vec![Calculation::new(CalcOp::Count, None)]
        } else {
            self.calculations.clone()
        }
    }

    /// Checks the spec as Honeycomb does when a query is created; the error names the field and why.
    pub fn validate(&self) -> Result<()> {
        self.validate_with_limit(MAX_LIMIT)
    }

    /// [`QuerySpec::validate`] allowing `limit` up to `max_limit`.
    pub(crate) fn validate_with_limit(&self, max_limit: usize) -> Result<()> {
        let counted = [
            ("calculations", self.calculations.len()),
            ("filters", self.filters.len()),
            ("breakdowns", self.breakdowns.len()),
            ("orders", self.orders.len()),
            ("havings", self.havings.len()),
        ];
        for (field, count) in counted {
            if count > MAX_ITEMS {
                return Err(bad(format!("{field}: at most {MAX_ITEMS} allowed, got {count}")));
            }
        }
        for (index, calculation) in self.calculations.iter().enumerate() {
            validate_calculation(&format!("calculations[{index}]"), &calculation.op, calculation.column.as_deref())?;
        }
        for (index, filter) in self.filters.iter().enumerate() {
            validate_filter(&format!("filters[{index}]"), filter)?;
        }
        if let Some(FilterCombination::Unknown(text)) = &self.filter_combination {
            return Err(bad(format!("filter_combination: must be \"AND\" or \"OR\", got {text:?}")));
        }
        for (index, breakdown) in self.breakdowns.iter().enumerate() {
            if breakdown.trim().is_empty() {
                return Err(bad(format!("breakdowns[{index}]: must name a column")));
            }
            if self.breakdowns[..index].contains(breakdown) {
                return Err(bad(format!("breakdowns[{index}]: {breakdown:?} is listed twice")));
            }
        }
        let calculations = self.effective_calculations();
        for (index, order) in self.orders.iter().enumerate() {
            self.validate_order(&format!("orders[{index}]"), order, &calculations)?;
        }
        for (index, having) in self.havings.iter().enumerate() {
            validate_having(&format!("havings[{index}]"), having, &calculations)?;
        }
        if let Some(limit) = self.limit
            && !(1..=max_limit).contains(&limit)
        {
            return Err(bad(format!("limit: must be between 1 and {max_limit}, got {limit}")));
        }
        let range = self.validate_time()?;
        if let Some(granularity) = self.granularity {
            let min = min_granularity(range);
            if granularity < min || granularity > range {
                return Err(bad(format!(
                    "granularity: must be between {min} and {range} seconds for a {range} s time range \
                     (time range / {MAX_BUCKETS} to time range), got {granularity}"
                )));
            }
        }
        Ok(())
    }

    /// Checks the time fields; returns the range length in seconds.
    fn validate_time(&self) -> Result<i64> {
        if let Some(range) = self.time_range
            && range < 1
        {
            return Err(bad(format!("time_range: must be at least 1 second, got {range}")));
        }
        for (field, value) in [("start_time", self.start_time), ("end_time", self.end_time)] {
            if value.is_some_and(|seconds| seconds < 0) {
                return Err(bad(format!("{field}: must be unix seconds (not negative)")));
            }
        }
        match (self.start_time, self.end_time, self.time_range) {
            (Some(_), Some(_), Some(_)) => Err(bad(
                "time_range: cannot be combined with both start_time and end_time; drop one of the three".into(),
            )),
            (Some(start), Some(end), None) if start >= end => {
                Err(bad(format!("start_time: must be before end_time ({start} >= {end})")))
            }
            (Some(start), Some(end), None) => Ok(end - start),
            (_, _, range) => Ok(range.unwrap_or(DEFAULT_TIME_RANGE_SECS)),
        }
    }

    /// The queried range `[start, end)` in unix nanoseconds. A range relative to now ends at the
    /// next whole second, so time buckets start on whole seconds.
    pub fn time_bounds(&self, now_unix_nano: i64) -> (i64, i64) {
        const NANOS: i64 = 1_000_000_000;
        let range = self.time_range.unwrap_or(DEFAULT_TIME_RANGE_SECS).saturating_mul(NANOS);
        match (self.start_time, self.end_time) {
            (Some(start), Some(end)) => (start.saturating_mul(NANOS), end.saturating_mul(NANOS)),
            (Some(start), None) => (start.saturating_mul(NANOS), start.saturating_mul(NANOS).saturating_add(range)),
            (None, Some(end)) => (end.saturating_mul(NANOS).saturating_sub(range), end.saturating_mul(NANOS)),
            (None, None) => {
                let end = now_unix_nano.div_euclid(NANOS).saturating_add(1).saturating_mul(NANOS);
                (end.saturating_sub(range), end)
            }
        }
    }

    /// Seconds per time bucket: the given granularity, or a default for the range.
    pub fn effective_granularity(&self, range_secs: i64) -> i64 {
        self.granularity.unwrap_or_else(|| default_granularity(range_secs))
    }

    fn validate_order(&self, field: &str, order: &Order, calculations: &[Calculation]) -> Result<()> {
        if let Some(SortOrder::Unknown(text)) = &order.order {
            return Err(bad(format!("{field}.order: must be \"ascending\" or \"descending\", got {text:?}")));
        }
        match (&order.op, &order.column) {
            (None, None) => Err(bad(format!("{field}: needs a column (a breakdown) or an op (a calculation)"))),
            (None, Some(column)) if self.breakdowns.contains(column) => Ok(()),
            (None, Some(column)) => {
                Err(bad(format!("{field}.column: {column:?} is not a breakdown; order by a breakdown or give an op")))
            }
            (Some(op), column) => {
                let calculation = Calculation { op: op.clone(), column: column.clone() };
                if let CalcOp::Unknown(text) = op {
                    return Err(bad(format!("{field}.op: unknown calculation {text:?}")));
                }
                if *op == CalcOp::Heatmap {
                    return Err(bad(format!("{field}.op: HEATMAP cannot be ordered by")));
                }
                if !calculations.contains(&calculation) {
                    return Err(bad(format!("{field}: {} is not one of the calculations", calculation.key())));
                }
                Ok(())
            }
        }
    }
}

fn validate_calculation(field: &str, op: &CalcOp, column: Option<&str>) -> Result<()> {
    if let CalcOp::Unknown(text) = op {
        let known: Vec<&str> = CalcOp::ALL.iter().map(CalcOp::as_str).collect();
        return Err(bad(format!("{field}.op: unknown calculation {text:?}; expected one of {}", known.join(", "))));
    }
    match column {
        Some(_) if op.takes_no_column() => Err(bad(format!("{field}.column: {} takes no column", op.as_str()))),
        None if !op.takes_no_column() => Err(bad(format!("{field}.column: {} needs a column", op.as_str()))),
        Some(column) if column.trim().is_empty() => Err(bad(format!("{field}.column: must name a column"))),
        Some(column)
            if op.needs_numbers() && STRING_COLUMNS.contains(&column.strip_prefix("root.").unwrap_or(column)) =>
        {
            Err(bad(format!("{field}.column: {} needs a numeric column; {column} holds strings", op.as_str())))
        }
        _ => Ok(()),
    }
}

fn is_scalar(value: &Json) -> bool {
    matches!(value, Json::String(_) | Json::Number(_) | Json::Bool(_))
}

fn validate_filter(field: &str, filter: &Filter) -> Result<()> {
    if filter.column.trim().is_empty() {
        return Err(bad(format!("{field}.column: must name a column")));
    }
    let op = &filter.op;
    let value = filter.value.as_ref();
    match op {
        FilterOp::Unknown(text) => {
            let known: Vec<&str> = FilterOp::ALL.iter().map(FilterOp::as_str).collect();
            Err(bad(format!("{field}.op: unknown operator {text:?}; expected one of {}", known.join(", "))))
        }
        FilterOp::Exists | FilterOp::DoesNotExist => match value {
            None => Ok(()),
            Some(_) => Err(bad(format!("{field}.value: {} takes no value", op.as_str()))),
        },
        FilterOp::In | FilterOp::NotIn => match value {
            Some(Json::Array(items)) if !items.is_empty() && items.iter().all(is_scalar) => Ok(()),
            _ => Err(bad(format!(
                "{field}.value: {} needs a non-empty array of strings, numbers or booleans",
                op.as_str()
            ))),
        },
        FilterOp::Gt | FilterOp::Ge | FilterOp::Lt | FilterOp::Le => match value {
            Some(Json::Number(_) | Json::String(_)) => Ok(()),
            _ => Err(bad(format!("{field}.value: {} needs a number (or a string)", op.as_str()))),
        },
        FilterOp::StartsWith
        | FilterOp::DoesNotStartWith
        | FilterOp::EndsWith
        | FilterOp::DoesNotEndWith
        | FilterOp::Contains
        | FilterOp::DoesNotContain => match value {
            Some(Json::String(_) | Json::Number(_)) => Ok(()),
            _ => Err(bad(format!("{field}.value: {} needs a string", op.as_str()))),
        },
        FilterOp::Eq | FilterOp::Ne => match value {
            Some(value) if is_scalar(value) => Ok(()),
            _ => Err(bad(format!("{field}.value: {} needs a string, number or boolean", op.as_str()))),
        },
    }
}

fn validate_having(field: &str, having: &Having, calculations: &[Calculation]) -> Result<()> {
    if let CalcOp::Unknown(text) = &having.calculate_op {
        return Err(bad(format!("{field}.calculate_op: unknown calculation {text:?}")));
    }
    if having.calculate_op == CalcOp::Heatmap {
        return Err(bad(format!("{field}.calculate_op: HEATMAP cannot be filtered on")));
    }
    let calculation = Calculation { op: having.calculate_op.clone(), column: having.column.clone() };
    if !calculations.contains(&calculation) {
        return Err(bad(format!("{field}: {} is not one of the calculations", calculation.key())));
    }
    if !having.op.is_comparison() {
        return Err(bad(format!("{field}.op: must be one of =, !=, >, >=, <, <=; got {:?}", having.op.as_str())));
    }
    match &having.value {
        Some(Json::Number(_)) => Ok(()),
        _ => Err(bad(format!("{field}.value: needs a number"))),
    }
}

/// Finest granularity allowed for a range: range / 1000, rounded up, at least one second.
pub(crate) fn min_granularity(range_secs: i64) -> i64 {
    ((range_secs + MAX_BUCKETS - 1) / MAX_BUCKETS).max(1)
}

/// The default granularity: the smallest "round" step giving at most 200 buckets (60 s for two
/// hours, 600 s for a day, 3600 s for a week), never finer than Honeycomb allows.
pub(crate) fn default_granularity(range_secs: i64) -> i64 {
    const STEPS: [i64; 18] =
        [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
    const TARGET_BUCKETS: i64 = 200;
    let step = STEPS
        .iter()
        .copied()
        .find(|step| (range_secs + step - 1) / step <= TARGET_BUCKETS)
        .unwrap_or_else(|| (range_secs + TARGET_BUCKETS * 86400 - 1) / (TARGET_BUCKETS * 86400) * 86400);
    step.clamp(min_granularity(range_secs), range_secs.max(1))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Json) -> QuerySpec {
        serde_json::from_value(value).unwrap()
    }

    fn error(value: Json) -> String {
        match parse(value).validate() {
            Err(QueryError::BadRequest(message)) => message,
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn test_spec_round_trips_honeycomb_json() {
        let text = json!({
            "breakdowns": ["http.route"],
            "calculations": [{"op": "COUNT"}, {"op": "P99", "column": "duration_ms"}],
            "filters": [{"column": "app.user_id", "op": "=", "value": "x"}, {"column": "error", "op": "exists"}],
            "filter_combination": "OR",
            "granularity": 60,
            "orders": [{"op": "P99", "column": "duration_ms", "order": "descending"}, {"column": "http.route"}],
            "havings": [{"calculate_op": "COUNT", "op": ">", "value": 10}],
            "limit": 10,
            "time_range": 7200,
            "end_time": 1_700_000_000
        });
        let spec = parse(text.clone());
        spec.validate().unwrap();
        assert_eq!(spec.calculations[1].key(), "P99(duration_ms)");
        assert_eq!(spec.filter_combination, Some(FilterCombination::Or));
        assert_eq!(serde_json::to_value(&spec).unwrap(), text);
        assert_eq!(serde_json::to_value(QuerySpec::default()).unwrap(), json!({}));
        assert_eq!(QuerySpec::default().effective_calculations(), vec![Calculation::new(CalcOp::Count, None)]);
    }

    #[test]
    fn test_validate_names_the_field_and_the_reason() {
        let cases = [
            (json!({"filters": [{"column": "a", "op": "==", "value": 1}]}), "filters[0].op: unknown operator \"==\""),
            (
                json!({"calculations": [{"op": "COUNT"}, {"op": "P99", "column": "trace.trace_id"}]}),
                "calculations[1].column: P99 needs a numeric column",
            ),
            (
                json!({"calculations": [{"op": "P42", "column": "x"}]}),
                "calculations[0].op: unknown calculation \"P42\"",
            ),
            (json!({"calculations": [{"op": "AVG"}]}), "calculations[0].column: AVG needs a column"),
            (
                json!({"calculations": [{"op": "COUNT", "column": "x"}]}),
                "calculations[0].column: COUNT takes no column",
            ),
            (
                json!({"filters": [{"column": "a", "op": "in", "value": "x"}]}),
                "filters[0].value: in needs a non-empty array",
            ),
            (
                json!({"filters": [{"column": "a", "op": "exists", "value": 1}]}),
                "filters[0].value: exists takes no value",
            ),
            (json!({"filters": [{"column": "a", "op": "="}]}), "filters[0].value: = needs a string, number or boolean"),
            (json!({"filters": [{"column": "a", "op": ">", "value": true}]}), "filters[0].value: > needs a number"),
            (
                json!({"filters": [{"column": "a", "op": "contains", "value": [1]}]}),
                "filters[0].value: contains needs a string",
            ),
            (json!({"filter_combination": "XOR"}), "filter_combination: must be \"AND\" or \"OR\""),
            (json!({"breakdowns": ["a", "a"]}), "breakdowns[1]: \"a\" is listed twice"),
            (json!({"orders": [{"column": "x"}]}), "orders[0].column: \"x\" is not a breakdown"),
            (json!({"orders": [{"op": "MAX", "column": "x"}]}), "orders[0]: MAX(x) is not one of the calculations"),
            (
                json!({"orders": [{"op": "COUNT", "order": "up"}]}),
                "orders[0].order: must be \"ascending\" or \"descending\"",
            ),
            (
                json!({"calculations": [{"op": "HEATMAP", "column": "d"}],
                    "orders": [{"op": "HEATMAP", "column": "d"}]}),
                "orders[0].op: HEATMAP cannot be ordered by",
            ),
            (
                json!({"havings": [{"calculate_op": "COUNT", "op": "contains", "value": 1}]}),
                "havings[0].op: must be one of",
            ),
            (json!({"havings": [{"calculate_op": "COUNT", "op": ">"}]}), "havings[0].value: needs a number"),
            (
                json!({"havings": [{"calculate_op": "SUM", "column": "x", "op": ">", "value": 1}]}),
                "havings[0]: SUM(x) is not one",
            ),
            (json!({"limit": 0}), "limit: must be between 1 and 1000, got 0"),
            (json!({"limit": 1001}), "limit: must be between 1 and 1000, got 1001"),
            (json!({"time_range": 0}), "time_range: must be at least 1 second"),
            (json!({"time_range": 60, "start_time": 1, "end_time": 100}), "time_range: cannot be combined"),
            (json!({"start_time": 100, "end_time": 100}), "start_time: must be before end_time"),
            (json!({"time_range": 7200, "granularity": 7}), "granularity: must be between 8 and 7200 seconds"),
            (json!({"time_range": 7200, "granularity": 7201}), "granularity: must be between 8 and 7200"),
        ];
        for (spec, expected) in cases {
            let message = error(spec.clone());
            assert!(message.starts_with(expected), "{spec}: {message:?} should start with {expected:?}");
        }
    }

    #[test]
    fn test_validate_accepts_edges() {
        for spec in [
            json!({"time_range": 7200, "granularity": 8}),
            json!({"time_range": 7200, "granularity": 7200}),
            json!({"start_time": 1, "end_time": 2}),
            json!({"start_time": 1, "time_range": 2}),
            json!({"end_time": 10, "time_range": 2}),
            json!({"limit": 1000}),
            json!({"filters": [{"column": "a", "op": "does-not-exist", "value": null}]}),
            json!({"breakdowns": ["root.http.route"],
                "orders": [{"column": "root.http.route", "order": "descending"}]}),
            json!({"calculations": [{"op": "P99", "column": "root.duration_ms"}], "havings": [
                {"calculate_op": "P99", "column": "root.duration_ms", "op": ">=", "value": 1.5}]}),
        ] {
            parse(spec.clone()).validate().unwrap_or_else(|err| panic!("{spec}: {err}"));
        }
    }

    #[test]
    fn test_time_bounds_and_granularity() {
        const SECOND: i64 = 1_000_000_000;
        let now = 1_000 * SECOND + 5;
        assert_eq!(QuerySpec::default().time_bounds(now), ((1001 - 7200) * SECOND, 1001 * SECOND));
        let spec = QuerySpec { end_time: Some(500), time_range: Some(100), ..QuerySpec::default() };
        assert_eq!(spec.time_bounds(now), (400 * SECOND, 500 * SECOND));
        let spec = QuerySpec { start_time: Some(500), time_range: Some(100), ..QuerySpec::default() };
        assert_eq!(spec.time_bounds(now), (500 * SECOND, 600 * SECOND));
        let spec = QuerySpec { start_time: Some(10), end_time: Some(20), ..QuerySpec::default() };
        assert_eq!(spec.time_bounds(now), (10 * SECOND, 20 * SECOND));
        assert_eq!(default_granularity(7200), 60);
        assert_eq!(default_granularity(600), 5);
        assert_eq!(default_granularity(86400), 600);
        assert_eq!(default_granularity(7 * 86400), 3600);
        assert_eq!(default_granularity(1), 1);
        assert_eq!(default_granularity(400 * 86400), 2 * 86400);
        assert_eq!(min_granularity(7200), 8);
        assert_eq!(min_granularity(10), 1);
    }
}
