//! The query engine over a real store: rows in segments and in the head, every calculation, filters,
//! breakdowns, havings, orders, limits, time buckets, `root.` columns, BubbleUp and exemplars.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value as Json, json};
use waggle_model::{Batch, Event, EventKind, Field, Origin, SpanId, TraceId, Value};
use waggle_query::spec::QuerySpec;
use waggle_query::{
    ALL_DATASETS, BubbleUpRequest, DataValue, ExemplarRequest, QueryError, QueryResult, RunOptions, Selection,
    bubble_up, exemplars, run_query, run_query_with,
};
use waggle_store::{DiskStore, Store, StoreConfig};

const SECOND: i64 = 1_000_000_000;
const MS: i64 = 1_000_000;
/// Query ranges are absolute, around this time (unix seconds).
const BASE: i64 = 1_700_000_040;
/// "Now" for queries: irrelevant with absolute ranges.
const NOW: i64 = (BASE + 86_400) * SECOND;

fn trace_id(trace: u64) -> TraceId {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(trace + 1).to_be_bytes());
    TraceId(bytes)
}

fn span_id(span: u64) -> SpanId {
    SpanId((span + 1).to_be_bytes())
}

/// A span row.
fn span(
    dataset: &str,
    trace: u64,
    id: u64,
    parent: Option<u64>,
    time: i64,
    duration: i64,
    fields: &[(&str, Value)],
) -> Event {
    Event {
        kind: EventKind::Span,
        dataset: dataset.to_owned(),
        time_unix_nano: time,
        duration_nano: duration,
        trace_id: Some(trace_id(trace)),
        span_id: Some(span_id(id)),
        parent_id: parent.map(span_id),
        fields: fields.iter().map(|(key, value)| Field::new(*key, value.clone(), Origin::Attribute)).collect(),
    }
}

struct TestStore {
    _dir: tempfile::TempDir,
    store: DiskStore,
}

fn config(dir: &std::path::Path, flush_max_rows: u64) -> StoreConfig {
    let mut config = StoreConfig::new(dir);
    config.retention_max_age = Duration::from_secs(u32::MAX as u64);
    config.flush_max_rows = flush_max_rows;
    config
}

/// A store whose `flushed` rows are in segments and `head` rows in the head.
fn store_with(flushed: Vec<Event>, head: Vec<Event>) -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    if !flushed.is_empty() {
        let store = DiskStore::open(config(dir.path(), 1)).unwrap();
        store.append(Batch { events: flushed }).unwrap().wait_blocking().unwrap();
        for _ in 0..500 {
            if store.stats().head_rows == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(store.stats().head_rows, 0, "flushed to segments");
    }
    let store = DiskStore::open(config(dir.path(), 1_000_000)).unwrap();
    if !head.is_empty() {
        store.append(Batch { events: head }).unwrap().wait_blocking().unwrap();
        assert!(store.stats().head_rows > 0);
    }
    TestStore { _dir: dir, store }
}

/// Half of the rows in segments, half in the head.
fn split_store(events: Vec<Event>) -> TestStore {
    let mut flushed = Vec::new();
    let mut head = Vec::new();
    for (index, event) in events.into_iter().enumerate() {
        if index % 2 == 0 { flushed.push(event) } else { head.push(event) }
    }
    store_with(flushed, head)
}

fn spec(value: Json) -> QuerySpec {
    serde_json::from_value(value).unwrap()
}

fn run(store: &dyn Store, dataset: &str, value: Json) -> QueryResult {
    run_query(store, dataset, &spec(value), NOW).unwrap()
}

/// The `results` rows as JSON objects.
fn rows(result: &QueryResult) -> Vec<Json> {
    result.results.iter().map(|row| serde_json::to_value(&row.data).unwrap()).collect()
}

/// A `data` value as the JSON the API sends.
trait JsonData {
    fn json(&self, key: &str) -> Json;
}

impl JsonData for BTreeMap<String, DataValue> {
    fn json(&self, key: &str) -> Json {
        self[key].to_json()
    }
}

fn range(mut value: Json) -> Json {
    value["start_time"] = json!(BASE);
    value["end_time"] = json!(BASE + 600);
    value
}

/// One hundred spans: durations 1..=100 ms, `n` = i (int), `f` = i / 4 (float), `user` = u{i % 7}.
fn hundred() -> Vec<Event> {
    (1..=100)
        .map(|index| {
            span(
                "api",
                index as u64,
                index as u64,
                None,
                BASE * SECOND + index * SECOND,
                index * MS,
                &[
                    ("n", Value::Int(index)),
                    ("f", Value::Float(index as f64 / 4.0)),
                    ("user", Value::Str(format!("u{}", index % 7))),
                ],
            )
        })
        .collect()
}

#[test]
fn test_count_sum_avg_min_max_are_exact() {
    let test = split_store(hundred());
    let result = run(
        &test.store,
        "api",
        range(json!({"calculations": [
            {"op": "COUNT"}, {"op": "SUM", "column": "n"}, {"op": "AVG", "column": "n"}, {"op": "MIN", "column": "n"},
            {"op": "MAX", "column": "n"}, {"op": "SUM", "column": "f"}, {"op": "MAX", "column": "duration_ms"},
            {"op": "SUM", "column": "duration_ms"}
        ]})),
    );
    assert_eq!(
        rows(&result),
        vec![json!({
            "COUNT": 100, "SUM(n)": 5050, "AVG(n)": 50.5, "MIN(n)": 1, "MAX(n)": 100, "SUM(f)": 1262.5,
            "MAX(duration_ms)": 100.0, "SUM(duration_ms)": 5050.0
        })]
    );
}

#[test]
fn test_every_percentile_is_the_nearest_rank() {
    let test = split_store(hundred());
    let ops = ["P001", "P01", "P05", "P10", "P20", "P25", "P50", "P75", "P80", "P90", "P95", "P99", "P999"];
    let calculations: Vec<Json> = ops.iter().map(|op| json!({"op": op, "column": "n"})).collect();
    let result = run(&test.store, "api", range(json!({ "calculations": calculations })));
    let expected = [1, 1, 5, 10, 20, 25, 50, 75, 80, 90, 95, 99, 100];
    for (op, value) in ops.iter().zip(expected) {
        assert_eq!(result.results[0].data.json(&format!("{op}(n)")), json!(value as f64), "{op}");
    }
}

#[test]
fn test_percentiles_beyond_the_exact_threshold_stay_within_the_bound() {
    let mut state = 7u64;
    let mut durations = Vec::new();
    let events: Vec<Event> = (0..20_000)
        .map(|index| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let duration = 50_000 + (state >> 40) as i64 * ((state >> 60) as i64 + 1);
            durations.push(duration as f64 / 1e6);
            span("api", index, index, None, BASE * SECOND + index as i64 * 10 * MS, duration, &[])
        })
        .collect();
    let test = split_store(events);
    durations.sort_by(f64::total_cmp);
    let result = run(
        &test.store,
        "api",
        range(json!({"calculations": [{"op": "P50", "column": "duration_ms"}, {"op": "P99", "column": "duration_ms"},
            {"op": "P001", "column": "duration_ms"}]})),
    );
    for (op, quantile) in [("P50", 0.5f64), ("P99", 0.99), ("P001", 0.001)] {
        let rank = ((quantile * 1000.0).round() as usize * durations.len()).div_ceil(1000).max(1);
        let exact = durations[rank - 1];
        let got = result.results[0].data.json(&format!("{op}(duration_ms)")).as_f64().unwrap();
        let error = (got - exact).abs() / exact;
        assert!(error <= waggle_query::PERCENTILE_RELATIVE_ERROR, "{op}: {got} vs exact {exact}");
    }
}

#[test]
fn test_count_distinct_heatmap_and_series() {
    let test = split_store(hundred());
    let result = run(
        &test.store,
        "api",
        json!({"calculations": [{"op": "COUNT_DISTINCT", "column": "user"}, {"op": "HEATMAP", "column": "duration_ms"},
            {"op": "COUNT"}], "start_time": BASE, "end_time": BASE + 120, "granularity": 60}),
    );
    let total = &rows(&result)[0];
    assert_eq!(total["COUNT_DISTINCT(user)"], json!(7));
    let buckets = total["HEATMAP(duration_ms)"]["buckets"].as_array().unwrap();
    assert_eq!(buckets.iter().map(|bucket| bucket["count"].as_u64().unwrap()).sum::<u64>(), 100);
    for bucket in buckets {
        let (lower, upper) = (bucket["lower"].as_f64().unwrap(), bucket["upper"].as_f64().unwrap());
        assert!(lower < upper && upper <= lower * (1.0 + 1.0 / 64.0) + 1e-12, "{bucket}");
    }
    let times: Vec<&str> = result.series.iter().map(|point| point.time.as_str()).collect();
    assert_eq!(times, vec!["2023-11-14T22:14:00Z", "2023-11-14T22:15:00Z"]);
    // Rows at BASE+1 .. BASE+59 then BASE+60 .. BASE+100.
    assert_eq!(result.series[0].data.json("COUNT"), json!(59));
    assert_eq!(result.series[1].data.json("COUNT"), json!(41));
    let heatmap_counts: u64 = result.series[1].data.json("HEATMAP(duration_ms)")["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bucket| bucket["count"].as_u64().unwrap())
        .sum();
    assert_eq!(heatmap_counts, 41);
}

#[test]
fn test_time_bucket_edges_start_inclusive_end_exclusive() {
    let at = |seconds: i64, id: u64| span("api", id, id, None, (BASE + seconds) * SECOND, MS, &[]);
    // At the start, just before a boundary, on a boundary, just before the end, at the end.
    let mut events = vec![at(0, 1), at(9, 2), at(10, 3), at(19, 4), at(20, 5)];
    events.push(span("api", 6, 6, None, (BASE + 10) * SECOND - 1, MS, &[]));
    events.push(span("api", 7, 7, None, BASE * SECOND - 1, MS, &[]));
    let test = split_store(events);
    let result = run(&test.store, "api", json!({"start_time": BASE, "end_time": BASE + 20, "granularity": 10}));
    let counts: Vec<Json> = result.series.iter().map(|point| point.data.json("COUNT")).collect();
    assert_eq!(counts, vec![json!(3), json!(2)]);
    assert_eq!(rows(&result), vec![json!({"COUNT": 5})]);
    assert_eq!(result.meta.granularity_seconds, 10);
}

#[test]
fn test_empty_dataset_and_missing_columns() {
    let test = split_store(hundred());
    let empty = run(
        &test.store,
        "nothing-here",
        range(json!({"calculations": [{"op": "COUNT"}, {"op": "AVG", "column": "n"}]})),
    );
    assert_eq!(rows(&empty), vec![json!({"COUNT": 0, "AVG(n)": null})]);
    assert!(empty.series.iter().all(|point| point.data.json("COUNT") == json!(0)));
    let grouped = run(&test.store, "nothing-here", range(json!({"breakdowns": ["user"]})));
    assert!(grouped.results.is_empty() && grouped.series.is_empty());
    let missing = run(
        &test.store,
        "api",
        range(json!({"calculations": [{"op": "AVG", "column": "nope"}, {"op": "P99", "column": "nope"},
            {"op": "COUNT_DISTINCT", "column": "nope"}, {"op": "COUNT"}], "breakdowns": ["nope"]})),
    );
    assert_eq!(
        rows(&missing),
        vec![json!({"nope": null, "AVG(nope)": null, "P99(nope)": null, "COUNT_DISTINCT(nope)": 0, "COUNT": 100})]
    );
    let filtered = run(&test.store, "api", range(json!({"filters": [{"column": "nope", "op": "=", "value": 1}]})));
    assert_eq!(rows(&filtered), vec![json!({"COUNT": 0})]);
    let negated = run(&test.store, "api", range(json!({"filters": [{"column": "nope", "op": "!=", "value": 1}]})));
    assert_eq!(rows(&negated), vec![json!({"COUNT": 100})]);
}

#[test]
fn test_mixed_type_column() {
    let values = [Value::Int(200), Value::Str("200".into()), Value::Float(1.5), Value::Bool(true), Value::Int(200)];
    let events: Vec<Event> = values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            span("api", index as u64, index as u64, None, (BASE + 1) * SECOND, MS, &[("m", value.clone())])
        })
        .collect();
    let test = split_store(events);
    let result = run(
        &test.store,
        "api",
        range(json!({"breakdowns": ["m"], "calculations": [{"op": "COUNT"}],
            "orders": [{"column": "m"}]})),
    );
    assert_eq!(
        rows(&result),
        vec![
            json!({"m": true, "COUNT": 1}),
            json!({"m": 1.5, "COUNT": 1}),
            json!({"m": 200, "COUNT": 2}),
            json!({"m": "200", "COUNT": 1})
        ]
    );
    let sums = run(
        &test.store,
        "api",
        range(json!({"calculations": [{"op": "SUM", "column": "m"}, {"op": "COUNT_DISTINCT", "column": "m"}],
            "filters": [{"column": "m", "op": "=", "value": 200}]})),
    );
    assert_eq!(rows(&sums), vec![json!({"SUM(m)": 400, "COUNT_DISTINCT(m)": 2})]);
    let all_sum = run(&test.store, "api", range(json!({"calculations": [{"op": "SUM", "column": "m"}]})));
    assert_eq!(rows(&all_sum), vec![json!({"SUM(m)": 401.5})]);
}

#[test]
fn test_filters_combine_and_read_derived_columns() {
    let test = split_store(hundred());
    let count = |filters: Json, combination: &str| -> Json {
        let result = run(&test.store, "api", range(json!({"filters": filters, "filter_combination": combination})));
        result.results[0].data.json("COUNT")
    };
    let filters = json!([{"column": "n", "op": "<=", "value": 10}, {"column": "user", "op": "=", "value": "u3"}]);
    assert_eq!(count(filters.clone(), "AND"), json!(2), "3 and 10");
    assert_eq!(count(filters, "OR"), json!(10 + 14 - 2));
    assert_eq!(count(json!([{"column": "duration_ms", "op": ">", "value": 95.5}]), "AND"), json!(5));
    assert_eq!(count(json!([{"column": "user", "op": "in", "value": ["u1", "u2"]}]), "AND"), json!(30));
    assert_eq!(count(json!([{"column": "user", "op": "starts-with", "value": "u"}]), "AND"), json!(100));
    assert_eq!(count(json!([{"column": "trace.parent_id", "op": "does-not-exist"}]), "AND"), json!(100));
    assert_eq!(count(json!([{"column": "meta.signal_type", "op": "=", "value": "trace"}]), "AND"), json!(100));
    let trace = trace_id(5).to_hex();
    assert_eq!(count(json!([{"column": "trace.trace_id", "op": "=", "value": trace}]), "AND"), json!(1));
    assert_eq!(
        count(json!([{"column": "f", "op": ">=", "value": "24.5"}]), "AND"),
        json!(3),
        "a string parsed for floats"
    );
}

#[test]
fn test_breakdowns_orders_havings_and_limit() {
    let test = split_store(hundred());
    let result = run(
        &test.store,
        "api",
        range(json!({
            "breakdowns": ["user"],
            "calculations": [{"op": "COUNT"}, {"op": "MAX", "column": "n"}],
            "havings": [{"calculate_op": "COUNT", "op": ">=", "value": 15}],
            "orders": [{"op": "MAX", "column": "n", "order": "descending"}],
            "limit": 1
        })),
    );
    // u1 and u2 have 15 rows each (1..=100 with i % 7): u2 holds 100.
    assert_eq!(rows(&result), vec![json!({"user": "u2", "COUNT": 15, "MAX(n)": 100})]);
    assert_eq!(result.meta.num_groups, 7);
    assert!(result.series.iter().all(|point| point.data.json("user") == json!("u2")));
    let by_name = run(
        &test.store,
        "api",
        range(
            json!({"breakdowns": ["user", "nope"], "orders": [{"column": "user", "order": "descending"}], "limit": 3}),
        ),
    );
    assert_eq!(
        rows(&by_name),
        vec![
            json!({"user": "u6", "nope": null, "COUNT": 14}),
            json!({"user": "u5", "nope": null, "COUNT": 14}),
            json!({"user": "u4", "nope": null, "COUNT": 14})
        ]
    );
    // Default order: the first calculation, largest first, ties by value.
    let default = run(&test.store, "api", range(json!({"breakdowns": ["user"], "limit": 2})));
    assert_eq!(rows(&default), vec![json!({"user": "u1", "COUNT": 15}), json!({"user": "u2", "COUNT": 15})]);
}

#[test]
fn test_concurrency_and_rates() {
    // Bucket 0 [0, 10 s): a span covering it all, one covering half; bucket 1: the first spills 5 s.
    let events = vec![
        span("api", 1, 1, None, BASE * SECOND, 15 * SECOND, &[("counter", Value::Int(100))]),
        span("api", 2, 2, None, (BASE + 5) * SECOND, 5 * SECOND, &[("counter", Value::Int(120))]),
        span("api", 3, 3, None, (BASE + 12) * SECOND, 0, &[("counter", Value::Int(180))]),
        span("api", 4, 4, None, (BASE + 25) * SECOND, 0, &[("counter", Value::Int(190))]),
    ];
    let test = split_store(events);
    let result = run(
        &test.store,
        "api",
        json!({"calculations": [{"op": "CONCURRENCY"}, {"op": "RATE_MAX", "column": "counter"},
            {"op": "RATE_AVG", "column": "counter"}, {"op": "RATE_SUM", "column": "counter"}],
            "start_time": BASE, "end_time": BASE + 30, "granularity": 10}),
    );
    let column = |key: &str| -> Vec<Json> { result.series.iter().map(|point| point.data.json(key)).collect() };
    assert_eq!(column("CONCURRENCY"), vec![json!(1.5), json!(0.5), json!(0.0)]);
    assert_eq!(column("RATE_MAX(counter)"), vec![json!(null), json!(60.0), json!(10.0)]);
    assert_eq!(column("RATE_AVG(counter)"), vec![json!(null), json!(70.0), json!(10.0)]);
    assert_eq!(column("RATE_SUM(counter)"), vec![json!(null), json!(-40.0), json!(10.0)]);
    let total = &rows(&result)[0];
    assert_eq!(total["CONCURRENCY"], json!(20.0 / 30.0));
    assert_eq!(total["RATE_MAX(counter)"], json!(35.0));
}

#[test]
fn test_root_columns_across_parts_and_datasets() {
    // Children arrive first (in segments) in dataset "db"; roots come later (in the head) in "web".
    let mut children = Vec::new();
    let mut roots = Vec::new();
    for trace in 0..6u64 {
        let route = if trace % 2 == 0 { "/home" } else { "/search" };
        let start = (BASE + trace as i64) * SECOND;
        roots.push(span("web", trace, trace * 10, None, start, 100 * MS, &[("http.route", Value::Str(route.into()))]));
        for child in 1..=3 {
            let duration = (trace as i64 + 1) * child * MS;
            children.push(span("db", trace, trace * 10 + child as u64, Some(trace * 10), start + MS, duration, &[]));
        }
    }
    // A child whose root was never stored.
    children.push(span("db", 99, 990, Some(989), (BASE + 1) * SECOND, MS, &[]));
    let test = store_with(children, roots);
    let result = run(
        &test.store,
        "db",
        range(json!({"breakdowns": ["root.http.route"],
            "calculations": [{"op": "COUNT"}, {"op": "MAX", "column": "duration_ms"},
            {"op": "MAX", "column": "root.duration_ms"}], "orders": [{"column": "root.http.route"}]})),
    );
    assert_eq!(
        rows(&result),
        vec![
            json!({"root.http.route": null, "COUNT": 1, "MAX(duration_ms)": 1.0, "MAX(root.duration_ms)": null}),
            json!({"root.http.route": "/home", "COUNT": 9, "MAX(duration_ms)": 15.0, "MAX(root.duration_ms)": 100.0}),
            json!({"root.http.route": "/search", "COUNT": 9, "MAX(duration_ms)": 18.0, "MAX(root.duration_ms)": 100.0}),
        ]
    );
    let filtered = run(
        &test.store,
        ALL_DATASETS,
        range(json!({"filters": [{"column": "root.http.route", "op": "=", "value": "/search"}]})),
    );
    assert_eq!(rows(&filtered), vec![json!({"COUNT": 12})], "3 roots and their 9 children");
}

#[test]
fn test_many_groups_collapse_then_series_of_the_kept_groups() {
    // 1000 buckets x 1200 groups exceeds the cells a pass keeps: totals first, then the series.
    let events: Vec<Event> = (0..2400)
        .map(|index| {
            let group = index % 1200;
            span(
                "api",
                index,
                index,
                None,
                BASE * SECOND + index as i64 * 250 * MS,
                (group as i64 + 1) * MS,
                &[("g", Value::Int(group as i64))],
            )
        })
        .collect();
    let test = split_store(events);
    let result = run(
        &test.store,
        "api",
        json!({"breakdowns": ["g"], "calculations": [{"op": "COUNT"}, {"op": "MAX", "column": "duration_ms"}],
            "orders": [{"op": "MAX", "column": "duration_ms", "order": "descending"}], "limit": 3,
            "start_time": BASE, "end_time": BASE + 1000, "granularity": 1}),
    );
    assert_eq!(result.meta.num_groups, 1200);
    assert_eq!(
        rows(&result),
        vec![
            json!({"g": 1199, "COUNT": 2, "MAX(duration_ms)": 1200.0}),
            json!({"g": 1198, "COUNT": 2, "MAX(duration_ms)": 1199.0}),
            json!({"g": 1197, "COUNT": 2, "MAX(duration_ms)": 1198.0})
        ]
    );
    assert_eq!(result.series.len(), 3 * 1000);
    let counted: u64 = result.series.iter().map(|point| point.data.json("COUNT").as_u64().unwrap()).sum();
    assert_eq!(counted, 6);
}

#[test]
fn test_series_of_many_groups_visited_bucket_by_bucket() {
    // 100 groups (over the engine's threshold for reordering a part's rows by time bucket) over 10
    // buckets of 2 s, rows out of time order: every (group, bucket) cell gets its own rows' count
    // and sum.
    let second = |index: i64| (index * 7919 % 2000) / 100;
    let events: Vec<Event> = (0..2000)
        .map(|index| {
            span(
                "api",
                index,
                index,
                None,
                BASE * SECOND + second(index as i64) * SECOND,
                (index as i64 % 7 + 1) * MS,
                &[("g", Value::Int(index as i64 % 100))],
            )
        })
        .collect();
    let mut expected = std::collections::BTreeMap::new();
    for index in 0..2000_i64 {
        let cell = expected.entry((index % 100, second(index) / 2)).or_insert((0_u64, 0.0_f64));
        cell.0 += 1;
        cell.1 += (index % 7 + 1) as f64;
    }
    // In the head, rows stay in the order they came: their parts are not in time order.
    let test = store_with(Vec::new(), events);
    let result = run(
        &test.store,
        "api",
        json!({"breakdowns": ["g"], "calculations": [{"op": "COUNT"}, {"op": "SUM", "column": "duration_ms"}],
            "limit": 1000, "start_time": BASE, "end_time": BASE + 20, "granularity": 2}),
    );
    assert_eq!(result.meta.num_groups, 100);
    let mut times: Vec<&str> = result.series.iter().map(|point| point.time.as_str()).collect();
    times.sort_unstable();
    times.dedup();
    assert_eq!(times.len(), 10);
    let mut actual = std::collections::BTreeMap::new();
    for point in result.series.iter().filter(|point| point.data.json("COUNT").as_u64() != Some(0)) {
        let bucket = times.binary_search(&point.time.as_str()).unwrap() as i64;
        let cell = (point.data.json("g").as_i64().unwrap(), bucket);
        actual.insert(
            cell,
            (point.data.json("COUNT").as_u64().unwrap(), point.data.json("SUM(duration_ms)").as_f64().unwrap()),
        );
    }
    assert_eq!(actual, expected);
}

#[test]
fn test_invalid_specs_are_bad_requests() {
    let test = split_store(Vec::new());
    let bad = spec(json!({"filters": [{"column": "a", "op": "=="}]}));
    match run_query(&test.store, "api", &bad, NOW) {
        Err(QueryError::BadRequest(message)) => assert!(message.starts_with("filters[0].op"), "{message}"),
        other => panic!("{other:?}"),
    }
    let too_many = spec(json!({"limit": 10_001}));
    assert!(matches!(run_query(&test.store, "api", &too_many, NOW), Err(QueryError::BadRequest(_))));
    assert!(run_query(&test.store, "api", &spec(json!({"limit": 10_000})), NOW).is_ok(), "runs allow 10 000");
}

/// Slow requests are user "slow-user"'s: BubbleUp finds it, exemplars list its traces.
fn slow_user_events() -> Vec<Event> {
    (0..400u64)
        .map(|index| {
            let slow = index % 10 == 0;
            let user = if slow { "slow-user".to_owned() } else { format!("user-{}", index % 5) };
            let duration = if slow { (500 + index as i64) * MS } else { (5 + index as i64 % 20) * MS };
            let fields = [
                ("app.user_id", Value::Str(user)),
                ("http.route", Value::Str(if index % 2 == 0 { "/a" } else { "/b" }.into())),
                ("request.bytes", Value::Int(index as i64 * 37)),
            ];
            span("api", index, index, None, BASE * SECOND + index as i64 * SECOND, duration, &fields)
        })
        .collect()
}

#[test]
fn test_bubble_up_ranks_the_distinguishing_column_first() {
    let test = split_store(slow_user_events());
    let request = BubbleUpRequest {
        query: spec(range(json!({"calculations": [{"op": "HEATMAP", "column": "duration_ms"}]}))),
        selection: Selection { min: Some(400.0), ..Selection::default() },
    };
    let result = bubble_up(&test.store, "api", &request, NOW).unwrap();
    assert_eq!((result.selected_count, result.baseline_count), (40, 360));
    let columns: Vec<&str> = result.columns.iter().map(|column| column.column.as_str()).collect();
    assert_eq!(&columns[..2], &["app.user_id", "duration_ms"][..], "{columns:?}");
    let user = &result.columns[0];
    assert_eq!(user.score, 1.0);
    assert_eq!(user.values[0].value, json!("slow-user"));
    assert_eq!((user.values[0].selected_fraction, user.values[0].baseline_fraction), (1.0, 0.0));
    let route = result.columns.iter().find(|column| column.column == "http.route").unwrap();
    assert!(route.score > 0.4, "slow requests are all even, so all /a: {route:?}");
    let bytes = result.columns.iter().find(|column| column.column == "request.bytes").unwrap();
    assert!(bytes.binned);
}

#[test]
fn test_exemplars_slowest_distinct_traces_of_a_cell_or_row() {
    let test = split_store(slow_user_events());
    let query = spec(range(json!({"breakdowns": ["http.route"]})));
    let cell = ExemplarRequest {
        query: query.clone(),
        selection: Selection {
            start_time: Some((BASE + 100) as f64),
            end_time: Some((BASE + 200) as f64),
            min: Some(400.0),
            max: Some(10_000.0),
            ..Selection::default()
        },
        limit: Some(3),
    };
    let found = exemplars(&test.store, "api", &cell, NOW).unwrap();
    let durations: Vec<f64> = found.iter().map(|exemplar| exemplar.duration_ms).collect();
    assert_eq!(durations, vec![690.0, 680.0, 670.0]);
    assert_eq!(found[0].trace_id, trace_id(190).to_hex());
    assert_eq!(found[0].timestamp, "2023-11-14T22:17:10Z");
    let row = ExemplarRequest {
        query,
        selection: Selection { group: Some(vec![json!("/b")]), ..Selection::default() },
        limit: None,
    };
    let found = exemplars(&test.store, "api", &row, NOW).unwrap();
    assert_eq!(found.len(), 10);
    assert!(found.windows(2).all(|pair| pair[0].duration_ms >= pair[1].duration_ms));
    assert!(found.iter().all(|exemplar| exemplar.duration_ms < 400.0), "odd rows are never slow");
}

#[test]
fn test_totals_without_series_equal_totals_with_series() {
    let test = split_store(hundred());
    let specs = [
        json!({"calculations": [{"op": "P99", "column": "duration_ms"}, {"op": "COUNT"}, {"op": "SUM", "column": "n"}]}),
        json!({"calculations": [{"op": "HEATMAP", "column": "duration_ms"}], "breakdowns": ["user"]}),
        json!({"calculations": [{"op": "CONCURRENCY"}, {"op": "AVG", "column": "f"}], "breakdowns": ["user"],
               "filters": [{"column": "n", "op": ">", "value": 20}]}),
        json!({"calculations": [{"op": "RATE_SUM", "column": "n"}, {"op": "COUNT_DISTINCT", "column": "user"}],
               "granularity": 60}),
    ];
    for value in specs {
        let with_series = run(&test.store, "api", range(value.clone()));
        let options = RunOptions { series: false, ..RunOptions::default() };
        let totals = run_query_with(&test.store, "api", &spec(range(value.clone())), NOW, options).unwrap();
        assert!(totals.series.is_empty() && !with_series.series.is_empty(), "{value}");
        assert_eq!(rows(&totals), rows(&with_series), "{value}");
    }
}
