//! From aggregated cells to Honeycomb's query result `data` object: per-group totals filtered by
//! havings, ordered, limited (`results`), and the time series of the groups kept (`series`).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::calc::{number_f64, number_json};
use crate::exec::{Accumulator, States};
use crate::plan::{Plan, PlannedCalc, Source};
use crate::spec::{CalcOp, Calculation, FilterOp, QuerySpec, SortOrder};
use crate::value::{GroupKey, float_json, order_keys};
use crate::{QueryError, Result};

/// Honeycomb's query result `data`: `{"series": [...], "results": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    /// One point per time bucket and group kept, buckets in time order, groups in result order.
    pub series: Vec<SeriesPoint>,
    /// One row per group kept: its breakdown values and calculation totals.
    pub results: Vec<ResultRow>,
    /// How the query ran (not part of Honeycomb's shape, not serialized).
    #[serde(skip)]
    pub meta: ResultMeta,
}

/// One time bucket of one group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// Bucket start, RFC 3339 UTC (`2021-04-09T14:16:00Z`).
    pub time: String,
    /// Breakdown values by column, calculation values by key (`COUNT`, `P99(duration_ms)`).
    pub data: BTreeMap<String, DataValue>,
}

/// Totals of one group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    /// Breakdown values by column, calculation values by key.
    pub data: BTreeMap<String, DataValue>,
}

/// A value in a result's `data`: a breakdown value or a calculation as JSON, or a HEATMAP.
///
/// A heatmap stays typed until it is serialized: a series holds hundreds of buckets per point,
/// and as JSON objects they cost more to build and free than the aggregation that found them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DataValue {
    /// `{"buckets": [{"count", "lower", "upper"}, ...]}`.
    Heatmap(Heatmap),
    /// Everything else: numbers, strings, booleans, null.
    Json(Json),
}

impl DataValue {
    /// The value as the JSON it is serialized to.
    pub fn to_json(&self) -> Json {
        match self {
            Self::Json(json) => json.clone(),
            Self::Heatmap(heatmap) => serde_json::to_value(heatmap).unwrap_or(Json::Null),
        }
    }
}

impl From<Json> for DataValue {
    fn from(json: Json) -> Self {
        Self::Json(json)
    }
}

/// A HEATMAP value: the distribution's non-empty buckets, lowest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    /// Non-empty buckets, by value.
    pub buckets: Vec<HeatmapBucket>,
}

/// `count` values in `[lower, upper)` (the zero bucket: `[0, 0]`); a bound JSON cannot hold is null.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeatmapBucket {
    /// Values in the bucket.
    pub count: u64,
    /// Inclusive lower bound.
    pub lower: Option<f64>,
    /// Exclusive upper bound.
    pub upper: Option<f64>,
}

/// The resolved range and buckets of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultMeta {
    /// Range start, unix ns (inclusive).
    pub start_unix_nano: i64,
    /// Range end, unix ns (exclusive).
    pub end_unix_nano: i64,
    /// Seconds per series bucket.
    pub granularity_seconds: i64,
    /// Groups found before havings and limit.
    pub num_groups: usize,
}

/// A calculated value: as shown, and as a number for havings and orders.
#[derive(Debug, Clone)]
struct Calculated {
    shown: DataValue,
    number: Option<f64>,
}

impl Calculated {
    fn number(number: Option<f64>) -> Self {
        Self { shown: float_json_or_null(number).into(), number }
    }

    fn count(count: u64) -> Self {
        Self { shown: Json::from(count).into(), number: Some(count as f64) }
    }
}

/// Reads calculation values out of cells.
struct Reader<'a> {
    states: &'a States,
    buckets: usize,
}

impl Reader<'_> {
    /// The value of a calculation in one cell; `width` is the cell's time span in ns.
    fn value(&self, calc: &PlannedCalc, cell: usize, width: i64) -> Calculated {
        let states = self.states;
        match calc.source {
            Source::Count => Calculated::count(states.counts[cell]),
            Source::Concurrency => Calculated::number(Some(states.overlap[cell] / width as f64)),
            Source::Distinct(index) => Calculated::count(states.distincts[index][cell].count()),
            Source::Dist(index) => {
                let dist = &states.dists[index][cell];
                match calc.calculation.op.quantile() {
                    Some(quantile) => Calculated::number(dist.quantile(quantile)),
                    None => Calculated { shown: DataValue::Heatmap(dist.heatmap()), number: None },
                }
            }
            Source::Moments(index) => {
                let moments = &states.moments[index][cell];
                let number = match rate_base(&calc.calculation.op) {
                    Some(_) => return Calculated::number(None),
                    None => match calc.calculation.op {
                        CalcOp::Sum => moments.sum(),
                        CalcOp::Min => moments.min(),
                        CalcOp::Max => moments.max(),
                        _ => return Calculated::number(moments.avg()),
                    },
                };
                Calculated { shown: number_json(number).into(), number: number_f64(number) }
            }
        }
    }

    /// The AVG, SUM or MAX a RATE_* differences, in one cell.
    fn rate_base(&self, calc: &PlannedCalc, cell: usize) -> Option<f64> {
        let Source::Moments(index) = calc.source else { return None };
        let moments = &self.states.moments[index][cell];
        match rate_base(&calc.calculation.op)? {
            CalcOp::Sum => number_f64(moments.sum()),
            CalcOp::Max => number_f64(moments.max()),
            _ => moments.avg(),
        }
    }

    /// RATE_*: the change of the base from the previous bucket (null in the first bucket and
    /// next to a bucket without values).
    fn rate(&self, calc: &PlannedCalc, group: usize, bucket: usize) -> Option<f64> {
        let cell = group * self.buckets + bucket;
        let previous = self.rate_base(calc, cell.checked_sub(1).filter(|_| bucket > 0)?)?;
        Some(self.rate_base(calc, cell)? - previous)
    }

    /// RATE_* total: the mean of the group's defined per-bucket rates.
    fn rate_total(&self, calc: &PlannedCalc, group: usize) -> Option<f64> {
        let rates: Vec<f64> = (1..self.buckets).filter_map(|bucket| self.rate(calc, group, bucket)).collect();
        (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
    }
}

/// The base operator of a RATE_* operator.
pub(crate) fn rate_base(op: &CalcOp) -> Option<CalcOp> {
    match op {
        CalcOp::RateAvg => Some(CalcOp::Avg),
        CalcOp::RateSum => Some(CalcOp::Sum),
        CalcOp::RateMax => Some(CalcOp::Max),
        _ => None,
    }
}

/// One term of the results' order.
enum OrderTerm {
    Breakdown(usize, bool),
    Calc(usize, bool),
}

fn order_terms(spec: &QuerySpec, plan: &Plan) -> Vec<OrderTerm> {
    let mut terms = Vec::new();
    for order in &spec.orders {
        let descending = order.order == Some(SortOrder::Descending);
        match &order.op {
            None => {
                if let Some(index) = plan.breakdown_names.iter().position(|name| Some(name) == order.column.as_ref()) {
                    terms.push(OrderTerm::Breakdown(index, descending));
                }
            }
            Some(op) => {
                let wanted = Calculation { op: op.clone(), column: order.column.clone() };
                if let Some(index) = plan.calcs.iter().position(|calc| calc.calculation == wanted) {
                    terms.push(OrderTerm::Calc(index, descending));
                }
            }
        }
    }
    if spec.orders.is_empty() {
        // Honeycomb's results default to the top groups by the first calculation.
        let first = plan
            .calcs
            .iter()
            .position(|calc| calc.calculation.op != CalcOp::Heatmap && rate_base(&calc.calculation.op).is_none());
        terms.extend(first.map(|index| OrderTerm::Calc(index, true)));
    }
    terms
}

fn compare_numbers(a: Option<f64>, b: Option<f64>, descending: bool) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) if descending => b.total_cmp(&a),
        (Some(a), Some(b)) => a.total_cmp(&b),
        // Groups without a value come last either way.
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn having_holds(op: &FilterOp, value: Option<f64>, threshold: f64) -> bool {
    let Some(value) = value else { return false };
    match op {
        FilterOp::Eq => value == threshold,
        FilterOp::Ne => value != threshold,
        FilterOp::Gt => value > threshold,
        FilterOp::Ge => value >= threshold,
        FilterOp::Lt => value < threshold,
        FilterOp::Le => value <= threshold,
        _ => false,
    }
}

/// Builds the result of a query from its first pass; `series_pass` reruns the aggregation for the
/// kept groups when the first pass had to collapse its series.
pub(crate) fn build<'p>(
    spec: &QuerySpec,
    plan: &'p Plan,
    first: Accumulator<'p>,
    series_pass: impl FnOnce(Arc<FxHashSet<GroupKey>>) -> Result<Accumulator<'p>>,
) -> Result<QueryResult> {
    let collapsed = first.collapsed();
    let rates_needed = spec.havings.iter().any(|having| rate_base(&having.calculate_op).is_some())
        || spec.orders.iter().any(|order| order.op.as_ref().is_some_and(|op| rate_base(op).is_some()));
    if collapsed && rates_needed {
        return Err(QueryError::BadRequest(format!(
            "orders and havings on RATE_* need the time series of every group, and this query has {} groups; \
             add filters, fewer breakdowns or a coarser granularity",
            first.keys.len()
        )));
    }
    let mut totals = first.states.totals(plan, first.buckets);
    totals.dists.iter_mut().flatten().for_each(|dist| dist.prepare());
    let mut first_states = first.states;
    first_states.dists.iter_mut().flatten().for_each(|dist| dist.prepare());
    let totals_reader = Reader { states: &totals, buckets: 1 };
    let first_series = Reader { states: &first_states, buckets: first.buckets };
    let range = plan.end - plan.start;
    let values: Vec<Vec<Calculated>> = (0..first.keys.len())
        .map(|group| {
            plan.calcs
                .iter()
                .map(|calc| match rate_base(&calc.calculation.op) {
                    Some(_) if !collapsed => Calculated::number(first_series.rate_total(calc, group)),
                    _ => totals_reader.value(calc, group, range),
                })
                .collect()
        })
        .collect();
    let mut kept: Vec<usize> = (0..first.keys.len())
        .filter(|&group| {
            spec.havings.iter().all(|having| {
                let wanted = Calculation { op: having.calculate_op.clone(), column: having.column.clone() };
                let index = plan.calcs.iter().position(|calc| calc.calculation == wanted);
                let threshold = having.value.as_ref().and_then(Json::as_f64).unwrap_or(f64::NAN);
                index.is_some_and(|index| having_holds(&having.op, values[group][index].number, threshold))
            })
        })
        .collect();
    let terms = order_terms(spec, plan);
    kept.sort_by(|&a, &b| {
        terms
            .iter()
            .map(|term| match term {
                OrderTerm::Breakdown(index, descending) => {
                    let ordering = first.keys[a][*index].order(&first.keys[b][*index]);
                    if *descending { ordering.reverse() } else { ordering }
                }
                OrderTerm::Calc(index, descending) => {
                    compare_numbers(values[a][*index].number, values[b][*index].number, *descending)
                }
            })
            .find(|ordering| ordering.is_ne())
            .unwrap_or_else(|| order_keys(&first.keys[a], &first.keys[b]))
    });
    kept.truncate(plan.limit);

    // The series: from the first pass, or from a pass over the kept groups only.
    let second = if collapsed {
        let allowed: FxHashSet<GroupKey> = kept.iter().map(|&group| first.keys[group].clone()).collect();
        let mut second = series_pass(Arc::new(allowed))?;
        second.states.dists.iter_mut().flatten().for_each(|dist| dist.prepare());
        Some(second)
    } else {
        None
    };
    let (series_keys, series_reader) = match &second {
        Some(second) => (&second.keys, Reader { states: &second.states, buckets: second.buckets }),
        None => (&first.keys, first_series),
    };
    let series_ids: FxHashMap<&GroupKey, usize> = series_keys.iter().enumerate().map(|(id, key)| (key, id)).collect();
    let breakdowns = |key: &GroupKey| -> BTreeMap<String, DataValue> {
        plan.breakdown_names
            .iter()
            .zip(key.iter())
            .map(|(name, value)| (name.clone(), value.to_json().into()))
            .collect()
    };
    let mut results = Vec::with_capacity(kept.len());
    for &group in &kept {
        let mut data = breakdowns(&first.keys[group]);
        for (calc, value) in plan.calcs.iter().zip(&values[group]) {
            let shown = match (rate_base(&calc.calculation.op), series_ids.get(&first.keys[group])) {
                (Some(_), Some(&series_group)) if collapsed => {
                    float_json_or_null(series_reader.rate_total(calc, series_group)).into()
                }
                _ => value.shown.clone(),
            };
            data.insert(calc.key.clone(), shown);
        }
        results.push(ResultRow { data });
    }
    let mut series = Vec::with_capacity(kept.len() * plan.num_buckets);
    for bucket in (0..plan.num_buckets).filter(|_| plan.series) {
        let time = rfc3339(plan.bucket_start(bucket));
        let width = plan.bucket_width(bucket);
        for &group in &kept {
            let key = &first.keys[group];
            let Some(&series_group) = series_ids.get(key) else { continue };
            let cell = series_group * series_reader.buckets + bucket;
            let mut data = breakdowns(key);
            for calc in &plan.calcs {
                let shown = match rate_base(&calc.calculation.op) {
                    Some(_) => float_json_or_null(series_reader.rate(calc, series_group, bucket)).into(),
                    None => series_reader.value(calc, cell, width).shown,
                };
                data.insert(calc.key.clone(), shown);
            }
            series.push(SeriesPoint { time: time.clone(), data });
        }
    }
    Ok(QueryResult {
        series,
        results,
        meta: ResultMeta {
            start_unix_nano: plan.start,
            end_unix_nano: plan.end,
            granularity_seconds: plan.granularity / 1_000_000_000,
            num_groups: first.keys.len(),
        },
    })
}

fn float_json_or_null(number: Option<f64>) -> Json {
    number.map_or(Json::Null, float_json)
}

/// Unix ns as RFC 3339 UTC, whole seconds unless the time has a fraction.
pub(crate) fn rfc3339(unix_nano: i64) -> String {
    let seconds = unix_nano.div_euclid(1_000_000_000);
    let nanos = unix_nano.rem_euclid(1_000_000_000);
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (second_of_day / 3600, second_of_day % 3600 / 60, second_of_day % 60);
    let fraction = if nanos == 0 { String::new() } else { format!(".{nanos:09}").trim_end_matches('0').to_owned() };
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}Z")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn test_data_values_serialize_as_json_and_read_back() {
        let bucket = |count, lower, upper| HeatmapBucket { count, lower, upper };
        let heatmap = Heatmap { buckets: vec![bucket(3, Some(0.0), Some(0.0)), bucket(2, Some(1.5), None)] };
        let data = BTreeMap::from([
            ("COUNT".to_owned(), DataValue::from(json!(5))),
            ("HEATMAP(duration_ms)".to_owned(), DataValue::Heatmap(heatmap.clone())),
            ("route".to_owned(), DataValue::from(json!({"not": "a heatmap"}))),
        ]);
        let text = serde_json::to_string(&ResultRow { data: data.clone() }).unwrap();
        assert_eq!(
            text,
            r#"{"data":{"COUNT":5,"HEATMAP(duration_ms)":{"buckets":[{"count":3,"lower":0.0,"upper":0.0},{"count":2,"lower":1.5,"upper":null}]},"route":{"not":"a heatmap"}}}"#
        );
        assert_eq!(serde_json::from_str::<ResultRow>(&text).unwrap().data, data);
        assert_eq!(data["HEATMAP(duration_ms)"].to_json()["buckets"][1]["count"], json!(2));
    }

    #[test]
    fn test_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_618_236_960 * 1_000_000_000), "2021-04-12T14:16:00Z");
        assert_eq!(rfc3339(951_782_400 * 1_000_000_000 + 500_000_000), "2000-02-29T00:00:00.5Z");
        assert_eq!(rfc3339(-1_000_000_000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn test_having_and_number_order() {
        assert!(having_holds(&FilterOp::Ge, Some(2.0), 2.0));
        assert!(!having_holds(&FilterOp::Gt, None, 0.0));
        assert!(having_holds(&FilterOp::Ne, Some(1.0), 2.0));
        let mut numbers = vec![Some(1.0), None, Some(3.0)];
        numbers.sort_by(|a, b| compare_numbers(*a, *b, true));
        assert_eq!(numbers, vec![Some(3.0), Some(1.0), None]);
        numbers.sort_by(|a, b| compare_numbers(*a, *b, false));
        assert_eq!(numbers, vec![Some(1.0), Some(3.0), None]);
    }
}
