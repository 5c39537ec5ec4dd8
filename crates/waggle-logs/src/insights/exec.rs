//! Running a Logs Insights query over records: each record is an event's `@timestamp`,
//! `@message`, `@logStream`, `@log`, `@ingestionTime`, `@ptr`, plus the keys of a JSON message
//! (nested keys joined with `.`, as Insights discovers them) and what `parse` extracts.
//!
//! Stats run here rather than in waggle's query engine: they group and aggregate fields that only
//! exist per query (`parse` results, keys discovered in JSON messages), which are not store columns.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value as Json;

use super::parse::{Aggregation, BinaryOp, Command, Expr, Query};

/// A value of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A number.
    Num(f64),
    /// Text.
    Str(String),
    /// A time, unix ms (shown as `2026-11-21 10:00:00.000`).
    Time(i64),
    /// A boolean (from JSON).
    Bool(bool),
}

impl Val {
    fn number(&self) -> Option<f64> {
        match self {
            Self::Num(number) => Some(*number),
            Self::Time(ms) => Some(*ms as f64),
            Self::Str(text) => text.trim().parse().ok(),
            Self::Bool(_) => None,
        }
    }

    /// As Insights shows it.
    pub fn render(&self) -> String {
        match self {
            Self::Num(number) => format_number(*number),
            Self::Str(text) => text.clone(),
            Self::Time(ms) => format_time(*ms),
            Self::Bool(flag) => flag.to_string(),
        }
    }

    fn truthy(&self) -> bool {
        match self {
            Self::Bool(flag) => *flag,
            Self::Num(number) => *number != 0.0,
            Self::Str(text) => !text.is_empty(),
            Self::Time(_) => true,
        }
    }
}

fn format_number(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 { format!("{}", number as i64) } else { format!("{number}") }
}

/// `YYYY-MM-DD HH:MM:SS.mmm`, UTC.
pub fn format_time(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (hours, minutes, seconds, millis) =
        (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000);
    format!("{year:04}-{month:02}-{day:02} {hours:02}:{minutes:02}:{seconds:02}.{millis:03}")
}

/// One record: named values.
pub type Record = HashMap<String, Val>;

/// Adds the keys of a JSON object message to a record (`a.b` for nested keys, `a.0` for arrays).
pub fn discover_json(message: &str, record: &mut Record) {
    let trimmed = message.trim_start();
    if !trimmed.starts_with('{') {
        return;
    }
    if let Ok(Json::Object(object)) = serde_json::from_str::<Json>(trimmed) {
        for (key, value) in &object {
            flatten(key, value, record, 0);
        }
    }
}

fn flatten(key: &str, value: &Json, record: &mut Record, depth: usize) {
    if depth > 8 || record.len() > 500 {
        return;
    }
    match value {
        Json::Null => {}
        Json::Bool(flag) => {
            record.insert(key.to_owned(), Val::Bool(*flag));
        }
        Json::Number(number) => {
            record.insert(key.to_owned(), Val::Num(number.as_f64().unwrap_or(0.0)));
        }
        Json::String(text) => {
            record.insert(key.to_owned(), Val::Str(text.clone()));
        }
        Json::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                flatten(&format!("{key}.{index}"), item, record, depth + 1);
            }
        }
        Json::Object(object) => {
            for (inner, item) in object {
                flatten(&format!("{key}.{inner}"), item, record, depth + 1);
            }
        }
    }
}

/// The outcome: rows of (field, value) and how many records matched.
pub struct Output {
    /// Result rows, fields in display order, absent values left out.
    pub rows: Vec<Vec<(String, String)>>,
    /// Records that passed the filters (before stats and limit).
    pub records_matched: u64,
}

/// Runs the commands over the records. `default_limit` applies when the query has no `limit`.
pub fn run(query: &Query, mut records: Vec<Record>, default_limit: usize) -> Output {
    let mut display: Option<Vec<String>> = None;
    let mut aggregated = false;
    let mut sorted = false;
    let mut limit = default_limit;
    let mut records_matched = None;
    for command in &query.commands {
        match command {
            Command::Fields { items, display_only } => {
                for record in &mut records {
                    for (expr, name) in items {
                        if !matches!(expr, Expr::Field(field) if field == name)
                            && let Some(value) = eval(expr, record)
                        {
                            record.insert(name.clone(), value);
                        }
                    }
                }
                let names = items.iter().map(|(_, name)| name.clone());
                display = Some(match (display.take(), display_only) {
                    (Some(mut shown), false) if !aggregated => {
                        shown.extend(names.filter(|name| !shown.contains(name)).collect::<Vec<_>>());
                        shown
                    }
                    _ => names.collect(),
                });
            }
            Command::Filter(expr) => records.retain(|record| eval(expr, record).is_some_and(|value| value.truthy())),
            Command::Parse { source, regex, names } => {
                for record in &mut records {
                    let Some(text) = eval(source, record).map(|value| value.render()) else { continue };
                    let Some(captures) = regex.captures(&text) else { continue };
                    let named: Vec<Option<&str>> = regex.capture_names().skip(1).collect();
                    for (index, name) in names.iter().enumerate() {
                        let group = if named.iter().any(Option::is_some) {
                            captures.name(name)
                        } else {
                            captures.get(index + 1)
                        };
                        if let Some(group) = group {
                            record.insert(name.clone(), Val::Str(group.as_str().to_owned()));
                        }
                    }
                }
            }
            Command::Stats { aggregations, groups } => {
                records_matched.get_or_insert(records.len() as u64);
                records = stats(&records, aggregations, groups);
                aggregated = true;
                display = Some(
                    groups
                        .iter()
                        .map(|(_, name)| name.clone())
                        .chain(aggregations.iter().map(|(_, name)| name.clone()))
                        .collect(),
                );
                if groups.iter().any(|(expr, _)| matches!(expr, Expr::Bin(_))) {
                    // Time series come out in time order unless sorted otherwise.
                    let keys: Vec<(Expr, bool)> =
                        groups.iter().map(|(_, name)| (Expr::Field(name.clone()), false)).collect();
                    sort(&mut records, &keys);
                }
            }
            Command::Sort(keys) => {
                sort(&mut records, keys);
                sorted = true;
            }
            Command::Limit(count) => limit = *count,
        }
    }
    let records_matched = records_matched.unwrap_or(records.len() as u64);
    if !aggregated && !sorted {
        sort(&mut records, &[(Expr::Field("@timestamp".into()), true)]);
    }
    records.truncate(limit);
    let mut display = display.unwrap_or_else(|| vec!["@timestamp".into(), "@message".into()]);
    if !aggregated && !display.iter().any(|name| name == "@ptr") {
        display.push("@ptr".into());
    }
    let rows = records
        .iter()
        .map(|record| {
            display.iter().filter_map(|name| record.get(name).map(|value| (name.clone(), value.render()))).collect()
        })
        .collect();
    Output { rows, records_matched }
}

fn sort(records: &mut [Record], keys: &[(Expr, bool)]) {
    records.sort_by(|a, b| {
        for (expr, descending) in keys {
            let ordering = compare_option(eval(expr, a).as_ref(), eval(expr, b).as_ref());
            let ordering = if *descending { ordering.reverse() } else { ordering };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    });
}

/// Missing values sort last in ascending order.
fn compare_option(a: Option<&Val>, b: Option<&Val>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => compare(a, b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn compare(a: &Val, b: &Val) -> Ordering {
    match (a.number(), b.number()) {
        (Some(x), Some(y)) if !matches!((a, b), (Val::Str(_), Val::Str(_))) => x.total_cmp(&y),
        _ => a.render().cmp(&b.render()),
    }
}

fn equal(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => x == y,
        _ => match (a.number(), b.number()) {
            (Some(x), Some(y)) => x == y,
            _ => a.render() == b.render(),
        },
    }
}

fn eval(expr: &Expr, record: &Record) -> Option<Val> {
    match expr {
        Expr::Field(name) => record.get(name).cloned(),
        Expr::Number(number) => Some(Val::Num(*number)),
        Expr::Text(text) => Some(Val::Str(text.clone())),
        Expr::Regex(regex) => Some(Val::Str(regex.as_str().to_owned())),
        Expr::Bin(period) => match record.get("@timestamp") {
            Some(Val::Time(ms)) => Some(Val::Time(ms.div_euclid(*period) * period)),
            _ => None,
        },
        Expr::Not(inner) => Some(Val::Bool(!eval(inner, record).is_some_and(|value| value.truthy()))),
        Expr::In(left, items) => {
            let value = eval(left, record)?;
            Some(Val::Bool(items.iter().filter_map(|item| eval(item, record)).any(|item| equal(&value, &item))))
        }
        Expr::Call(function, args) => call(function, args, record),
        Expr::Binary(left, op, right) => {
            let op = *op;
            if op == BinaryOp::And {
                let both = eval(left, record).is_some_and(|value| value.truthy())
                    && eval(right, record).is_some_and(|value| value.truthy());
                return Some(Val::Bool(both));
            }
            if op == BinaryOp::Or {
                let either = eval(left, record).is_some_and(|value| value.truthy())
                    || eval(right, record).is_some_and(|value| value.truthy());
                return Some(Val::Bool(either));
            }
            if matches!(op, BinaryOp::Like | BinaryOp::NotLike) {
                let text = eval(left, record)?.render();
                let found = match right.as_ref() {
                    Expr::Regex(regex) => regex.is_match(&text),
                    other => text.contains(&eval(other, record)?.render()),
                };
                return Some(Val::Bool(found == (op == BinaryOp::Like)));
            }
            let (a, b) = (eval(left, record)?, eval(right, record)?);
            Some(match op {
                BinaryOp::Eq => Val::Bool(equal(&a, &b)),
                BinaryOp::Ne => Val::Bool(!equal(&a, &b)),
                BinaryOp::Lt => Val::Bool(compare(&a, &b) == Ordering::Less),
                BinaryOp::Le => Val::Bool(compare(&a, &b) != Ordering::Greater),
                BinaryOp::Gt => Val::Bool(compare(&a, &b) == Ordering::Greater),
                BinaryOp::Ge => Val::Bool(compare(&a, &b) != Ordering::Less),
                BinaryOp::Add => Val::Num(a.number()? + b.number()?),
                BinaryOp::Sub => Val::Num(a.number()? - b.number()?),
                BinaryOp::Mul => Val::Num(a.number()? * b.number()?),
                BinaryOp::Div => {
                    let divisor = b.number()?;
                    if divisor == 0.0 {
                        return None;
                    }
                    Val::Num(a.number()? / divisor)
                }
                BinaryOp::And | BinaryOp::Or | BinaryOp::Like | BinaryOp::NotLike => return None,
            })
        }
    }
}

fn call(function: &str, args: &[Expr], record: &Record) -> Option<Val> {
    let first = args.first().and_then(|arg| eval(arg, record));
    match function {
        "ispresent" => Some(Val::Bool(first.is_some())),
        "isempty" => Some(Val::Bool(first.is_none_or(|value| value.render().is_empty()))),
        "tolower" => first.map(|value| Val::Str(value.render().to_lowercase())),
        "toupper" => first.map(|value| Val::Str(value.render().to_uppercase())),
        "strlen" => first.map(|value| Val::Num(value.render().chars().count() as f64)),
        "abs" => first.and_then(|value| value.number()).map(|number| Val::Num(number.abs())),
        "floor" => first.and_then(|value| value.number()).map(|number| Val::Num(number.floor())),
        "ceil" => first.and_then(|value| value.number()).map(|number| Val::Num(number.ceil())),
        _ => None,
    }
}

/// Values of one group, per aggregation.
#[derive(Default)]
struct Accumulator {
    count: u64,
    values: Vec<f64>,
    distinct: HashSet<String>,
}

/// A group of `stats`: its key values, and one accumulator per aggregation.
type Bucket = (Vec<Option<Val>>, Vec<Accumulator>);

fn stats(records: &[Record], aggregations: &[(Aggregation, String)], groups: &[(Expr, String)]) -> Vec<Record> {
    let mut buckets: BTreeMap<Vec<String>, Bucket> = BTreeMap::new();
    for record in records {
        let key_values: Vec<Option<Val>> = groups.iter().map(|(expr, _)| eval(expr, record)).collect();
        let key: Vec<String> =
            key_values.iter().map(|value| value.as_ref().map(Val::render).unwrap_or_default()).collect();
        let (_, accumulators) = buckets
            .entry(key)
            .or_insert_with(|| (key_values, aggregations.iter().map(|_| Accumulator::default()).collect()));
        for ((aggregation, _), accumulator) in aggregations.iter().zip(accumulators.iter_mut()) {
            match aggregation {
                Aggregation::Count(None) => accumulator.count += 1,
                Aggregation::Count(Some(expr)) => {
                    if eval(expr, record).is_some() {
                        accumulator.count += 1;
                    }
                }
                Aggregation::CountDistinct(expr) => {
                    if let Some(value) = eval(expr, record) {
                        accumulator.distinct.insert(value.render());
                    }
                }
                Aggregation::Sum(expr)
                | Aggregation::Avg(expr)
                | Aggregation::Min(expr)
                | Aggregation::Max(expr)
                | Aggregation::Pct(expr, _) => {
                    if let Some(number) = eval(expr, record).and_then(|value| value.number()) {
                        accumulator.values.push(number);
                    }
                }
            }
        }
    }
    if buckets.is_empty() && groups.is_empty() {
        buckets.insert(Vec::new(), (Vec::new(), aggregations.iter().map(|_| Accumulator::default()).collect()));
    }
    buckets
        .into_values()
        .map(|(key_values, accumulators)| {
            let mut record = Record::new();
            for ((_, name), value) in groups.iter().zip(key_values) {
                if let Some(value) = value {
                    record.insert(name.clone(), value);
                }
            }
            for ((aggregation, name), mut accumulator) in aggregations.iter().zip(accumulators) {
                if let Some(value) = finish(aggregation, &mut accumulator) {
                    record.insert(name.clone(), Val::Num(value));
                }
            }
            record
        })
        .collect()
}

fn finish(aggregation: &Aggregation, accumulator: &mut Accumulator) -> Option<f64> {
    let values = &mut accumulator.values;
    match aggregation {
        Aggregation::Count(_) => Some(accumulator.count as f64),
        Aggregation::CountDistinct(_) => Some(accumulator.distinct.len() as f64),
        _ if values.is_empty() => None,
        Aggregation::Sum(_) => Some(values.iter().sum()),
        Aggregation::Avg(_) => Some(values.iter().sum::<f64>() / values.len() as f64),
        Aggregation::Min(_) => values.iter().copied().reduce(f64::min),
        Aggregation::Max(_) => values.iter().copied().reduce(f64::max),
        Aggregation::Pct(_, percent) => {
            values.sort_by(f64::total_cmp);
            let rank = ((percent / 100.0) * values.len() as f64).ceil().max(1.0) as usize;
            Some(values[rank.min(values.len()) - 1])
        }
    }
}
