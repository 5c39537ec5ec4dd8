use super::exec::{Record, Val, run};
use super::*;

fn record(ms: i64, message: &str) -> Record {
    let mut record = Record::new();
    exec::discover_json(message, &mut record);
    record.insert("@timestamp".into(), Val::Time(ms));
    record.insert("@message".into(), Val::Str(message.into()));
    record.insert("@ptr".into(), Val::Str(format!("p{ms}")));
    record
}

fn records() -> Vec<Record> {
    vec![
        record(60_000, r#"{"level":"INFO","latency":10,"path":"/a","user":{"id":"u1"}}"#),
        record(61_000, r#"{"level":"ERROR","latency":200,"path":"/a","user":{"id":"u2"}}"#),
        record(125_000, r#"{"level":"INFO","latency":30,"path":"/b","user":{"id":"u1"}}"#),
        record(130_000, "GET /c 500 user=u3 took 40ms"),
    ]
}

fn rows(query: &str) -> Vec<Vec<(String, String)>> {
    run(&parse_query(query).unwrap_or_else(|err| panic!("{query}: {err}")), records(), 1000).rows
}

fn column(rows: &[Vec<(String, String)>], field: &str) -> Vec<String> {
    rows.iter()
        .map(|row| row.iter().find(|(name, _)| name == field).map(|(_, value)| value.clone()).unwrap_or_default())
        .collect()
}

#[test]
fn test_insights_fields_filter_sort_limit() {
    let result = rows("fields @timestamp, @message | filter level = \"INFO\" | sort @timestamp desc | limit 1");
    assert_eq!(result.len(), 1);
    assert_eq!(column(&result, "@timestamp"), ["1970-01-01 00:02:05.000"]);
    assert!(result[0].iter().any(|(name, _)| name == "@ptr"));
    let result =
        rows("filter latency > 20 and path like /^\\/[ab]$/ | fields path, latency * 2 as double | sort double");
    assert_eq!(column(&result, "double"), ["60", "400"]);
    let result = rows("filter @message like \"500\" or user.id in [\"u2\"] | fields @message");
    assert_eq!(result.len(), 2);
    let result = rows("filter not ispresent(level) | display @message");
    // Like CloudWatch, every row of a query without stats carries its `@ptr`.
    let expected = [("@message", "GET /c 500 user=u3 took 40ms"), ("@ptr", "p130000")];
    assert_eq!(result, vec![expected.map(|(field, value)| (field.to_owned(), value.to_owned())).to_vec()]);
    assert_eq!(rows("filter level != \"INFO\" and level =~ /ERR/").len(), 1);
}

#[test]
fn test_insights_stats_by_bin_and_field() {
    let result = rows("stats count(*) as n, avg(latency) as mean, pct(latency, 50) as p50, max(latency) by bin(1m)");
    assert_eq!(column(&result, "bin(1m)"), ["1970-01-01 00:01:00.000", "1970-01-01 00:02:00.000"]);
    assert_eq!(column(&result, "n"), ["2", "2"]);
    assert_eq!(column(&result, "mean"), ["105", "30"]);
    assert_eq!(column(&result, "p50"), ["10", "30"]);
    assert_eq!(column(&result, "max(latency)"), ["200", "30"]);
    let result = rows("stats count() as n, count_distinct(user.id) as users by path | sort n desc, path");
    assert_eq!(column(&result, "path"), ["/a", "/b", ""]);
    assert_eq!(column(&result, "users"), ["2", "1", "0"]);
    let result = rows("filter level = \"nope\" | stats count(*)");
    assert_eq!(result, vec![vec![("count(*)".to_owned(), "0".to_owned())]]);
}

#[test]
fn test_insights_parse_glob_and_regex() {
    let result = rows(
        "parse @message \"GET * * user=* took *ms\" as path, status, user, took | filter ispresent(status) | fields path, status, user, took",
    );
    assert_eq!(column(&result, "path"), ["/c"]);
    assert_eq!(column(&result, "took"), ["40"]);
    let result = rows("parse @message /user=(?<who>\\w+)/ | filter ispresent(who) | stats count(*) by who");
    assert_eq!(column(&result, "who"), ["u3"]);
    let result = rows("parse @message \"* /c *\" as verb, rest | filter verb = \"GET\" | fields rest");
    assert_eq!(column(&result, "rest"), ["500 user=u3 took 40ms"]);
}

#[test]
fn test_insights_parse_errors() {
    for bad in [
        "",
        "fields",
        "frobnicate x",
        "stats wat(x)",
        "stats pct(x, 200)",
        "limit 0",
        "parse @message \"* *\" as one",
        "filter x = \"unterminated",
        "stats count(*) by bin(5parsecs)",
        "fields a |",
        "parse @message /(/",
    ] {
        assert!(parse_query(bad).is_err(), "{bad:?} should not parse");
    }
}

#[test]
fn test_insights_format_time() {
    assert_eq!(format_time(0), "1970-01-01 00:00:00.000");
    assert_eq!(format_time(1_700_000_000_123), "2023-11-14 22:13:20.123");
    assert_eq!(format_time(951_782_400_000), "2000-02-29 00:00:00.000");
}

proptest::proptest! {
    /// Any query text parses or is refused; a parsed query runs without panicking.
    #[test]
    fn test_insights_parse_never_panics(text in "\\PC{0,60}") {
        if let Ok(query) = parse_query(&text) {
            run(&query, records(), 10);
        }
    }
}
