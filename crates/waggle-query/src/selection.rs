//! A part of a query's events picked in the UI: a heatmap cell (a time range and a range of a
//! numeric column), a results row (its breakdown values), or extra filters. BubbleUp compares it
//! with the rest of the query's events; exemplars are traces from it.

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use waggle_model::names;

use crate::filter::Predicate;
use crate::part::ColumnRef;
use crate::plan::Plan;
use crate::spec::{Filter, FilterOp, QuerySpec};
use crate::value::KeyValue;
use crate::{QueryError, Result};

/// Events of a query picked for BubbleUp or exemplars. Every part given must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// Unix seconds (fractions allowed), inclusive; the query's start when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<f64>,
    /// Unix seconds, exclusive; the query's end when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    /// The numeric column `min` and `max` bound; `duration_ms` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Values at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Values below this (a HEATMAP bucket's `upper`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// More filters, all required.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    /// A result row's breakdown values, in the query's breakdown order (`null`: absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Vec<Json>>,
}

fn bad(message: String) -> QueryError {
    QueryError::BadRequest(message)
}

impl Selection {
    /// Checks the selection against its query.
    pub(crate) fn validate(&self, spec: &QuerySpec) -> Result<()> {
        for (field, value) in
            [("start_time", self.start_time), ("end_time", self.end_time), ("min", self.min), ("max", self.max)]
        {
            if value.is_some_and(|value| !value.is_finite()) {
                return Err(bad(format!("selection.{field}: must be a finite number")));
            }
        }
        if let (Some(start), Some(end)) = (self.start_time, self.end_time)
            && start >= end
        {
            return Err(bad(format!("selection.start_time: must be before end_time ({start} >= {end})")));
        }
        if let (Some(min), Some(max)) = (self.min, self.max)
            && min >= max
        {
            return Err(bad(format!("selection.min: must be below max ({min} >= {max})")));
        }
        let as_spec = QuerySpec { filters: self.filters.clone(), ..QuerySpec::default() };
        as_spec.validate().map_err(|err| bad(format!("selection.{err}")))?;
        if let Some(group) = &self.group {
            if group.len() != spec.breakdowns.len() {
                return Err(bad(format!(
                    "selection.group: has {} values for {} breakdowns",
                    group.len(),
                    spec.breakdowns.len()
                )));
            }
            if let Some(index) = group.iter().position(|value| KeyValue::from_json(value).is_none()) {
                return Err(bad(format!("selection.group[{index}]: must be a string, number, boolean or null")));
            }
        }
        Ok(())
    }

    /// The filters the selection adds (its time range aside).
    pub(crate) fn predicates(&self, spec: &QuerySpec) -> Vec<Predicate> {
        let column = self.column.as_deref().unwrap_or(names::DURATION_MS);
        let mut filters = self.filters.clone();
        if let Some(min) = self.min {
            filters.push(Filter::new(column, FilterOp::Ge, Some(json!(min))));
        }
        if let Some(max) = self.max {
            filters.push(Filter::new(column, FilterOp::Lt, Some(json!(max))));
        }
        let mut predicates: Vec<Predicate> = filters.iter().map(Predicate::compile).collect();
        for (name, value) in spec.breakdowns.iter().zip(self.group.iter().flatten()) {
            if let Some(value) = KeyValue::from_json(value) {
                predicates.push(Predicate::is(ColumnRef::parse(name), value));
            }
        }
        predicates
    }

    /// The selection's time range within the plan's, unix ns.
    pub(crate) fn time_range(&self, plan: &Plan) -> (i64, i64) {
        let to_nanos = |seconds: f64| (seconds * 1e9).round() as i64;
        let start = self.start_time.map_or(plan.start, to_nanos).max(plan.start);
        let end = self.end_time.map_or(plan.end, to_nanos).min(plan.end);
        (start, end.max(start))
    }
}
