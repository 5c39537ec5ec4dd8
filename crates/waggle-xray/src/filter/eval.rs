//! Evaluates a parsed expression over the service graph of one trace.

use std::collections::HashMap;

use waggle_model::Value;

use super::{Expr, FlagKeyword, Literal, NodeSelector, NumberKeyword, Op, TextKeyword};
use crate::graph::{Call, NodeId, TraceGraph};
use crate::read::Span;

/// The filters of the groups a `group.name`/`group.arn` term may name, by name and by ARN.
#[derive(Debug, Default, Clone)]
pub(crate) struct GroupFilters {
    /// Group name or ARN -> its filter (`None`: the group takes every trace).
    pub filters: HashMap<String, Option<Expr>>,
}

/// Groups may name groups; this bounds the chain (and breaks cycles).
const MAX_GROUP_DEPTH: usize = 8;

/// True when the trace of `graph` matches `expr`.
pub(crate) fn matches(expr: &Expr, graph: &TraceGraph<'_>, groups: &GroupFilters) -> bool {
    let evaluator = Evaluator { graph, groups };
    evaluator.eval(expr, &Scope::Trace, 0)
}

/// What the keywords describe.
enum Scope<'a, 't> {
    /// The whole trace (keywords: its entry point).
    Trace,
    /// One call of a service.
    Service(&'a Call<'t>),
    /// One call along an edge.
    Edge(&'a Call<'t>),
}

struct Evaluator<'a, 't> {
    graph: &'a TraceGraph<'t>,
    groups: &'a GroupFilters,
}

fn selector_matches(selector: &NodeSelector, node: &NodeId) -> bool {
    selector.name.as_ref().is_none_or(|name| *name == node.name)
        && selector.kind.as_ref().is_none_or(|kind| Some(kind) == node.kind.as_ref())
}

fn compare_number(actual: f64, op: Op, expected: f64) -> bool {
    match op {
        Op::Eq => actual == expected,
        Op::Ne => actual != expected,
        Op::Lt => actual < expected,
        Op::Le => actual <= expected,
        Op::Gt => actual > expected,
        Op::Ge => actual >= expected,
        _ => false,
    }
}

fn compare_text(actual: &str, op: Op, expected: &str) -> bool {
    match op {
        Op::Eq => actual == expected,
        Op::Ne => actual != expected,
        Op::Contains => actual.contains(expected),
        Op::BeginsWith => actual.starts_with(expected),
        Op::EndsWith => actual.ends_with(expected),
        _ => false,
    }
}

/// Compares one annotation value; values of another type never match.
fn compare_annotation(value: &Value, op: Op, literal: &Literal) -> bool {
    match (value, literal) {
        (Value::Bool(actual), Literal::Bool(expected)) => (actual == expected) == (op == Op::Eq),
        (Value::Str(actual), Literal::Text(expected)) => compare_text(actual, op, expected),
        (Value::Int(_) | Value::Float(_), Literal::Number(expected)) => {
            value.as_f64().is_some_and(|actual| compare_number(actual, op, *expected))
        }
        _ => false,
    }
}

impl<'a, 't> Evaluator<'a, 't> {
    fn eval(&self, expr: &Expr, scope: &Scope<'a, 't>, depth: usize) -> bool {
        match expr {
            Expr::And(left, right) => self.eval(left, scope, depth) && self.eval(right, scope, depth),
            Expr::Or(left, right) => self.eval(left, scope, depth) || self.eval(right, scope, depth),
            Expr::Not(inner) => !self.eval(inner, scope, depth),
            // `!=` is the exact negation of `=` (absent values match it).
            Expr::Number { keyword, op: Op::Ne, value } => {
                !self.eval(&Expr::Number { keyword: *keyword, op: Op::Eq, value: *value }, scope, depth)
            }
            Expr::Text { keyword, op: Op::Ne, value } => {
                !self.eval(&Expr::Text { keyword: *keyword, op: Op::Eq, value: value.clone() }, scope, depth)
            }
            Expr::Annotation { key, comparison: Some((Op::Ne, literal)) } => !self.eval(
                &Expr::Annotation { key: key.clone(), comparison: Some((Op::Eq, literal.clone())) },
                scope,
                depth,
            ),
            Expr::Flag { keyword, expected } => self.flag(*keyword, scope) == *expected,
            Expr::Number { keyword, op, value } => {
                self.number(*keyword, scope).is_some_and(|actual| compare_number(actual, *op, *value))
            }
            Expr::Text { keyword, op, value } => {
                self.texts(*keyword, scope).iter().any(|actual| compare_text(actual, *op, value))
            }
            Expr::Annotation { key, comparison } => self.spans(scope).iter().any(|span| {
                span.annotations().any(|(name, value)| {
                    name == key
                        && comparison.as_ref().is_none_or(|(op, literal)| compare_annotation(value, *op, literal))
                })
            }),
            Expr::Service { node, filter } => self.graph.calls.iter().any(|call| {
                node.as_ref().is_none_or(|node| selector_matches(node, &call.node))
                    && filter.as_ref().is_none_or(|filter| self.eval(filter, &Scope::Service(call), depth))
            }),
            Expr::Edge { from, to, filter } => self.graph.calls.iter().any(|call| {
                call.caller.as_ref().is_some_and(|caller| selector_matches(from, caller))
                    && selector_matches(to, &call.node)
                    && filter.as_ref().is_none_or(|filter| self.eval(filter, &Scope::Edge(call), depth))
            }),
            Expr::Group { value, equal, .. } => {
                let matched = depth < MAX_GROUP_DEPTH
                    && match self.groups.filters.get(value) {
                        Some(Some(filter)) => self.eval(filter, &Scope::Trace, depth + 1),
                        Some(None) => true,
                        None => false,
                    };
                matched == *equal
            }
        }
    }

    /// The call whose values the keywords read: the entry point at trace level.
    fn call(&self, scope: &Scope<'a, 't>) -> Option<&'a Call<'t>> {
        match scope {
            Scope::Trace => self.graph.entry.map(|entry| &self.graph.calls[entry]),
            Scope::Service(call) | Scope::Edge(call) => Some(call),
        }
    }

    /// The spans that `user`, annotations and resources are looked up in.
    fn spans(&self, scope: &Scope<'a, 't>) -> Vec<&'t Span> {
        match scope {
            Scope::Trace => self.graph.trace.spans.iter().collect(),
            Scope::Service(call) | Scope::Edge(call) => call.spans.clone(),
        }
    }

    fn flag(&self, keyword: FlagKeyword, scope: &Scope<'a, 't>) -> bool {
        let call = self.call(scope);
        let (fault, error, throttle) = call.map_or((false, false, false), Call::flags);
        match keyword {
            FlagKeyword::Ok => call.is_some() && !fault && !error && !throttle,
            FlagKeyword::Error => error,
            FlagKeyword::Fault => fault,
            FlagKeyword::Throttle => throttle,
            FlagKeyword::Partial => match scope {
                Scope::Trace => self.graph.trace.spans.iter().any(Span::in_progress),
                _ => call.is_some_and(|call| call.spans.iter().any(|span| span.in_progress())),
            },
            FlagKeyword::Inferred => call.is_some_and(|call| call.inferred),
            FlagKeyword::First => match scope {
                Scope::Edge(call) => call.caller.as_ref() == self.graph.entry_node(),
                _ => call.is_some_and(|call| Some(&call.node) == self.graph.entry_node()),
            },
            FlagKeyword::Last => call.is_some_and(|call| !self.graph.calls_others(&call.node)),
        }
    }

    fn number(&self, keyword: NumberKeyword, scope: &Scope<'a, 't>) -> Option<f64> {
        let call = self.call(scope);
        match keyword {
            NumberKeyword::Duration if matches!(scope, Scope::Trace) => Some(self.graph.trace.duration_seconds()),
            NumberKeyword::Duration | NumberKeyword::ResponseTime => call.map(|call| call.span.duration_seconds()),
            NumberKeyword::HttpStatus => call.and_then(|call| call.span.http_status()).map(|status| status as f64),
        }
    }

    fn texts(&self, keyword: TextKeyword, scope: &Scope<'a, 't>) -> Vec<String> {
        let call = self.call(scope);
        let from_call = |read: fn(&Span) -> Option<String>| call.and_then(|call| read(call.span)).into_iter().collect();
        let from_spans = |keys: &[&str]| {
            self.spans(scope).iter().filter_map(|span| span.text(keys).map(str::to_owned)).collect::<Vec<_>>()
        };
        match keyword {
            TextKeyword::HttpUrl => from_call(Span::http_url),
            TextKeyword::HttpMethod => from_call(|span| span.http_method().map(str::to_owned)),
            TextKeyword::HttpUserAgent => from_call(|span| span.user_agent().map(str::to_owned)),
            TextKeyword::HttpClientIp => from_call(|span| span.client_ip().map(str::to_owned)),
            TextKeyword::Name => call.map(|call| call.node.name.clone()).into_iter().collect(),
            TextKeyword::Type => call.and_then(|call| call.node.kind.clone()).into_iter().collect(),
            TextKeyword::User => from_spans(&[crate::names::USER]),
            TextKeyword::AvailabilityZone => from_spans(&["cloud.availability_zone"]),
            TextKeyword::InstanceId => from_spans(&["host.id"]),
            TextKeyword::ResourceArn => from_spans(&["cloud.resource_id"]),
        }
    }
}
