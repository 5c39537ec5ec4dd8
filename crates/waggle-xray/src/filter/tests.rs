//! Dozens of filter expressions over a fixed set of traces, each with the traces it must match;
//! then errors for what waggle does not evaluate, and a fuzz of the parser.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::json;
use waggle_model::{Event, EventKind, Field, Origin, SpanId, TraceId};

use super::*;
use crate::convert::{ConvertContext, document_to_events};
use crate::graph::TraceGraph;
use crate::read::{Trace, assemble};

fn xray_rows(document: serde_json::Value) -> Vec<Event> {
    document_to_events(&document.to_string(), &ConvertContext { access_key_id: None, service_of: &|_| None })
        .unwrap()
        .events
}

fn trace_id(n: u8) -> String {
    format!("1-65000000-{:024x}", n)
}

/// Traces named by their annotation `case`.
pub(crate) fn fixture() -> Vec<(&'static str, Trace)> {
    let mut traces = Vec::new();
    let t0 = 1_700_000_000.0;
    // home: a fast 200 with a local subsegment and a SQL call (an inferred node).
    let home = json!({"id": "a000000000000001", "name": "Cruddur", "trace_id": trace_id(1), "start_time": t0, "end_time": t0 + 0.25,
        "http": {"request": {"method": "GET", "url": "http://localhost:4567/api/activities/home", "user_agent": "curl/8.0", "client_ip": "10.0.0.1"},
                 "response": {"status": 200}},
        "user": "andrewbrown", "origin": "AWS::EC2::Instance",
        "aws": {"ec2": {"availability_zone": "us-east-1a", "instance_id": "i-0123"}},
        "annotations": {"case": "home", "user_id": "andrew", "results": 3, "cached": true},
        "subsegments": [
            {"id": "a000000000000002", "name": "mock-data", "start_time": t0 + 0.01, "end_time": t0 + 0.1, "namespace": "local",
             "annotations": {"inner": "yes"}},
            {"id": "a000000000000003", "name": "cruddur@db", "start_time": t0 + 0.1, "end_time": t0 + 0.2, "namespace": "remote",
             "sql": {"sanitized_query": "SELECT 1", "database_type": "PostgreSQL"}}]});
    // fault: a slow 500 that called backend-api, which faulted too.
    let fault = json!({"id": "b000000000000001", "name": "Cruddur", "trace_id": trace_id(2), "start_time": t0, "end_time": t0 + 1.5,
        "http": {"request": {"method": "GET", "url": "http://localhost:4567/api/activities/notifications"}, "response": {"status": 500}},
        "fault": true, "annotations": {"case": "fault", "user_id": "worf", "results": 0},
        "subsegments": [{"id": "b000000000000002", "name": "backend-api", "start_time": t0 + 0.1, "end_time": t0 + 1.4,
                         "namespace": "remote", "fault": true,
                         "http": {"request": {"method": "GET", "url": "http://backend-api/x"}, "response": {"status": 503}}}]});
    let backend = json!({"id": "b000000000000003", "name": "backend-api", "trace_id": trace_id(2), "parent_id": "b000000000000002",
        "start_time": t0 + 0.2, "end_time": t0 + 1.3, "fault": true, "http": {"response": {"status": 503}},
        "annotations": {"case": "fault"}});
    // throttle: a 429 POST with a subsegment still in progress.
    let throttle = json!({"id": "c000000000000001", "name": "Cruddur", "trace_id": trace_id(3), "start_time": t0, "end_time": t0 + 0.05,
        "http": {"request": {"method": "POST", "url": "http://localhost:4567/api/activities"}, "response": {"status": 429}},
        "error": true, "throttle": true, "annotations": {"case": "throttle", "results": 7.5},
        "subsegments": [{"id": "c000000000000002", "name": "pending", "start_time": t0 + 0.01, "in_progress": true}]});
    let mut rows = xray_rows(fault);
    rows.extend(xray_rows(backend));
    traces.push(("home", assemble(xray_trace_id(1), xray_rows(home)).unwrap()));
    traces.push(("fault", assemble(xray_trace_id(2), rows).unwrap()));
    traces.push(("throttle", assemble(xray_trace_id(3), xray_rows(throttle)).unwrap()));
    // otlp: OpenTelemetry spans: frontend calls cruddur-backend, which answers 404.
    let otlp_id = xray_trace_id(4);
    let span = |id: u64,
                parent: Option<u64>,
                service: &str,
                name: &str,
                kind: &str,
                start: f64,
                end: f64,
                extra: Vec<Field>| {
        let mut fields = vec![
            Field::new("name", name, Origin::Derived),
            Field::new("span.kind", kind, Origin::Derived),
            Field::new("service.name", service, Origin::Resource),
        ];
        fields.extend(extra);
        Event {
            kind: EventKind::Span,
            dataset: service.to_owned(),
            time_unix_nano: (start * 1e9) as i64,
            duration_nano: ((end - start) * 1e9) as i64,
            trace_id: Some(otlp_id),
            span_id: Some(SpanId(id.to_be_bytes())),
            parent_id: parent.map(|parent| SpanId(parent.to_be_bytes())),
            fields,
        }
    };
    let otlp_rows = vec![
        span(
            1,
            None,
            "frontend",
            "GET /",
            "server",
            t0,
            t0 + 0.85,
            vec![
                Field::new("http.request.method", "GET", Origin::Attribute),
                Field::new("url.full", "http://localhost:3000/", Origin::Attribute),
                Field::new("http.response.status_code", 200, Origin::Attribute),
                Field::new("annotation.case", "otlp", Origin::Attribute),
            ],
        ),
        span(2, Some(1), "frontend", "GET", "client", t0 + 0.1, t0 + 0.7, vec![]),
        span(
            3,
            Some(2),
            "cruddur-backend",
            "GET /api/x",
            "server",
            t0 + 0.2,
            t0 + 0.6,
            vec![
                Field::new("http.response.status_code", 404, Origin::Attribute),
                Field::new("enduser.id", "garek", Origin::Attribute),
            ],
        ),
        span(
            4,
            Some(3),
            "cruddur-backend",
            "SELECT",
            "client",
            t0 + 0.3,
            t0 + 0.4,
            vec![Field::new("db.system", "postgresql", Origin::Attribute)],
        ),
    ];
    traces.push(("otlp", assemble(otlp_id, otlp_rows).unwrap()));
    traces
}

fn xray_trace_id(n: u8) -> TraceId {
    crate::ids::parse_trace_id(&trace_id(n)).unwrap()
}

fn matching(expression: &str, groups: &GroupFilters) -> Result<BTreeSet<&'static str>, String> {
    let expr = parse(expression)?;
    let traces = fixture();
    Ok(traces
        .iter()
        .filter(|(_, trace)| matches(&expr, &TraceGraph::new(trace), groups))
        .map(|(name, _)| *name)
        .collect())
}

#[test]
fn test_filter_expressions_table() {
    let mut groups = GroupFilters::default();
    groups.filters.insert("Slow".into(), Some(parse("duration > 1").unwrap()));
    groups.filters.insert("All".into(), None);
    groups
        .filters
        .insert("arn:aws:xray:us-east-1:000000000000:group/Slow/1".into(), Some(parse("duration > 1").unwrap()));
    let cases: &[(&str, &[&str])] = &[
        ("ok", &["home", "otlp"]),
        ("!ok", &["fault", "throttle"]),
        ("ok = false", &["fault", "throttle"]),
        ("OK = TRUE", &["home", "otlp"]),
        ("ok != true", &["fault", "throttle"]),
        ("error", &["throttle"]),
        ("fault", &["fault"]),
        ("throttle", &["throttle"]),
        ("partial", &["throttle"]),
        ("!partial", &["home", "fault", "otlp"]),
        ("ok !partial duration < 3", &["home", "otlp"]),
        ("responsetime > 1", &["fault"]),
        ("responseTime <= 0.25", &["home", "throttle"]),
        ("duration >= 0.8", &["fault", "otlp"]),
        ("duration >= 0.5 AND duration <= 1", &["otlp"]),
        ("http.status = 200", &["home", "otlp"]),
        ("http.status != 200", &["fault", "throttle"]),
        ("http.status >= 400", &["fault", "throttle"]),
        ("http.url CONTAINS \"/api/activities\"", &["home", "fault", "throttle"]),
        ("http.url BEGINSWITH \"http://localhost:3000\"", &["otlp"]),
        ("http.url ENDSWITH \"/home\"", &["home"]),
        ("http.url = \"http://localhost:4567/api/activities\"", &["throttle"]),
        ("http.method = \"POST\"", &["throttle"]),
        ("http.method != \"GET\"", &["throttle"]),
        ("http.useragent contains \"curl\"", &["home"]),
        ("http.clientip = \"10.0.0.1\"", &["home"]),
        ("user = \"andrewbrown\"", &["home"]),
        ("user CONTAINS \"\"", &["home", "otlp"]),
        ("user = \"garek\"", &["otlp"]),
        ("availabilityzone = \"us-east-1a\"", &["home"]),
        ("instance.id = \"i-0123\"", &["home"]),
        ("annotation.user_id", &["home", "fault"]),
        ("!annotation.user_id", &["throttle", "otlp"]),
        ("annotation.user_id = \"andrew\"", &["home"]),
        ("annotation.user_id != \"andrew\"", &["fault", "throttle", "otlp"]),
        ("annotation.results > 2", &["home", "throttle"]),
        ("annotation.results = 0", &["fault"]),
        ("annotation.results = \"3\"", &[]),
        ("annotation.cached = true", &["home"]),
        ("annotation.case BEGINSWITH \"th\"", &["throttle"]),
        ("annotation.inner = \"yes\"", &["home"]),
        ("annotation.case = \"otlp\"", &["otlp"]),
        ("service(\"backend-api\")", &["fault"]),
        ("!service(\"backend-api\")", &["home", "throttle", "otlp"]),
        ("service(\"backend-api\") { fault }", &["fault"]),
        ("service(\"Cruddur\") { ok }", &["home"]),
        ("service(\"Cruddur\") { annotation.inner }", &["home"]),
        ("service() { fault }", &["fault"]),
        ("service() { error }", &["throttle", "otlp"]),
        ("service(\"cruddur-backend\") { http.status = 404 }", &["otlp"]),
        ("service(\"cruddur-backend\") { error } AND !service(\"Cruddur\")", &["otlp"]),
        ("service(\"cruddur@db\") { inferred }", &["home"]),
        ("service(id(type: \"Database::SQL\"))", &["home", "otlp"]),
        ("service(id(name: \"Cruddur\", type: \"AWS::EC2::Instance\"))", &["home"]),
        ("service(id(name: \"Cruddur\", type: \"remote\"))", &[]),
        ("service() { type = \"Database::SQL\" }", &["home", "otlp"]),
        ("service() { name = \"frontend\" AND first }", &["otlp"]),
        ("service(\"cruddur-backend\") { last }", &[]),
        ("service(\"backend-api\") { last }", &["fault"]),
        ("service(\"Cruddur\") { responsetime > 1 }", &["fault"]),
        ("edge(\"Cruddur\", \"backend-api\")", &["fault"]),
        ("edge(\"Cruddur\", \"backend-api\") { fault }", &["fault"]),
        ("edge(\"Cruddur\", \"backend-api\") { error }", &[]),
        ("edge(\"frontend\", \"cruddur-backend\") { error AND first }", &["otlp"]),
        ("edge(\"Cruddur\", \"cruddur@db\") { inferred }", &["home"]),
        ("edge(id(name: \"cruddur-backend\"), id(type: \"Database::SQL\"))", &["otlp"]),
        ("fault OR throttle", &["fault", "throttle"]),
        ("(fault OR throttle) AND http.method = \"GET\"", &["fault"]),
        ("fault or throttle and http.method = \"GET\"", &["fault"]),
        ("!(fault OR throttle)", &["home", "otlp"]),
        ("!!ok", &["home", "otlp"]),
        ("group.name = \"Slow\"", &["fault"]),
        ("group.name != \"Slow\"", &["home", "throttle", "otlp"]),
        ("group.name = \"All\"", &["home", "fault", "throttle", "otlp"]),
        ("group.arn = \"arn:aws:xray:us-east-1:000000000000:group/Slow/1\" AND fault", &["fault"]),
        ("http.url CONTAINS 'activities' and !fault", &["home", "throttle"]),
    ];
    for (expression, expected) in cases {
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        assert_eq!(matching(expression, &groups).unwrap(), expected, "{expression}");
    }
    assert!(cases.len() >= 70);
}

#[test]
fn test_unsupported_syntax_is_an_error_naming_it() {
    let cases = [
        ("rootcause.fault.service { name = \"x\" }", "rootcause"),
        ("remote", "remote"),
        ("root", "root"),
        ("coverage > 0.5", "coverage"),
        ("index = 1", "index"),
        ("message CONTAINS \"x\"", "message"),
        ("bogus", "unknown keyword \"bogus\""),
        ("responsetime", "responsetime needs an operator"),
        ("responsetime > \"5\"", "number keyword"),
        ("http.url = 5", "must be quoted"),
        ("http.url > \"a\"", "does not apply"),
        ("ok > 1", "boolean keyword"),
        ("ok = maybe", "must be quoted"),
        ("annotation.x CONTAINS 5", "does not apply"),
        ("annotation.x > true", "does not apply"),
        ("annotation.", "annotation keys"),
        ("service(\"a\") { service(\"b\") }", "cannot be used inside"),
        ("service(\"a\") { group.name = \"g\" }", "cannot be used inside"),
        ("first", "inside service"),
        ("(ok", "to close"),
        ("ok)", "unexpected"),
        ("ok AND", "expected a keyword"),
        ("AND ok", "needs an expression on both sides"),
        ("ok && fault", "unexpected character '&'"),
        ("http.url = \"unterminated", "not closed"),
        ("", "empty"),
        ("edge(\"a\")", "between the two services"),
        ("service(id(color: \"x\"))", "takes name and type"),
        ("id(name: \"a\")", "only names a node"),
        ("json.x = 1", "unknown keyword"),
    ];
    for (expression, expected) in cases {
        let err = parse(expression).unwrap_err();
        assert!(err.contains(expected), "{expression:?}: {err}");
    }
}

proptest! {
    /// Random text: an error or an expression, never a panic.
    #[test]
    fn test_parser_never_panics(text in "[ -~]{0,80}") {
        let _ = parse(&text);
    }

    /// Random token soup from the grammar's own words: an error or an expression, never a panic;
    /// and an expression that parses always evaluates.
    #[test]
    fn test_parser_token_soup(words in proptest::collection::vec(prop_oneof![
        Just("ok"), Just("fault"), Just("!"), Just("("), Just(")"), Just("AND"), Just("OR"), Just("{"), Just("}"),
        Just("service(\"Cruddur\")"), Just("edge(\"a\",\"b\")"), Just("annotation.case"), Just("="), Just("!="),
        Just("\"home\""), Just("3"), Just(">"), Just("duration"), Just("http.url"), Just("CONTAINS"), Just("true"),
        Just("group.name"), Just("id(name: \"x\")"), Just(","), Just("inferred"),
    ], 0..14)) {
        let text = words.join(" ");
        if let Ok(expr) = parse(&text) {
            for (_, trace) in fixture() {
                let _ = matches(&expr, &TraceGraph::new(&trace), &GroupFilters::default());
            }
        }
    }

    /// Whatever parses equals the parse of its own negation's inner expression: `!(e)` matches
    /// exactly the traces `e` does not.
    #[test]
    fn test_negation_is_exact(index in 0usize..6) {
        let expressions = ["ok", "duration > 1", "annotation.results > 2", "service() { fault }", "user CONTAINS \"\"", "http.status != 200"];
        let expression = expressions[index];
        let positive = matching(expression, &GroupFilters::default()).unwrap();
        let negative = matching(&format!("!({expression})"), &GroupFilters::default()).unwrap();
        prop_assert!(positive.is_disjoint(&negative));
        prop_assert_eq!(positive.len() + negative.len(), 4);
    }
}
