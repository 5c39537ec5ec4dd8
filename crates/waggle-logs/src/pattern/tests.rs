use proptest::prelude::*;

use super::*;

fn matches(pattern: &str, message: &str) -> bool {
    FilterPattern::parse(pattern).unwrap_or_else(|err| panic!("{pattern}: {err}")).matches(message)
}

#[test]
fn test_pattern_terms_quoted_optional_excluded() {
    assert!(matches("", "anything"));
    assert!(matches("ERROR", "[ERROR] disk full"));
    assert!(!matches("ERROR", "[error] disk full"), "terms are case-sensitive");
    assert!(matches("ERROR disk", "ERROR: the disk is full"));
    assert!(!matches("ERROR network", "ERROR: the disk is full"));
    assert!(matches("\"disk is full\"", "ERROR: the disk is full"));
    assert!(!matches("\"disk full\"", "ERROR: the disk is full"));
    assert!(matches("?ERROR ?WARN", "WARN low memory"));
    assert!(!matches("?ERROR ?WARN", "INFO fine"));
    assert!(matches("ERROR -healthcheck", "ERROR in /api"));
    assert!(!matches("ERROR -healthcheck", "ERROR in healthcheck"));
    assert!(matches("-\"GET /health\"", "POST /api"));
    assert!(matches("%user-[0-9]+%", "hello user-42"));
    assert!(!matches("%user-[0-9]+%", "hello user-x"));
    assert!(matches("\"say \\\"hi\\\"\"", "they say \"hi\" twice"));
}

#[test]
fn test_pattern_json() {
    let line = r#"{"level":"ERROR","latency":150,"user":{"id":"u1","roles":["admin","dev"]},"ok":false,"gone":null}"#;
    assert!(matches(r#"{ $.level = "ERROR" && $.latency > 100 }"#, line));
    assert!(!matches(r#"{ $.level = "ERROR" && $.latency > 200 }"#, line));
    assert!(matches(r#"{ $.level = "INFO" || $.latency >= 150 }"#, line));
    assert!(matches(r#"{ ($.level = "INFO" || $.level = "ERR*") && $.user.id = "u1" }"#, line));
    assert!(matches(r#"{ $.user.roles[1] = "dev" }"#, line));
    assert!(matches(r#"{ $.user.roles[*] = "admin" }"#, line));
    assert!(!matches(r#"{ $.user.roles[0] = "dev" }"#, line));
    assert!(matches("{ $.ok IS FALSE }", line));
    assert!(matches("{ $.gone IS NULL }", line));
    assert!(matches("{ $.missing NOT EXISTS }", line));
    assert!(!matches("{ $.level NOT EXISTS }", line));
    assert!(matches("{ $.level != \"INFO\" }", line));
    assert!(matches("{ $.level = %ERR(OR)?% }", line));
    assert!(matches("{ $.level = ERROR }", line), "unquoted strings");
    assert!(!matches(r#"{ $.level = "ERROR" }"#, "ERROR not json"));
}

#[test]
fn test_pattern_space_delimited() {
    let line = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534"#;
    assert!(matches("[ip, user, username, timestamp, request, status_code, bytes]", line));
    assert!(!matches("[ip, user, username, timestamp, request, status_code]", line), "field count differs");
    assert!(matches("[ip, user, username, timestamp, request, status_code = 404, bytes > 1000]", line));
    assert!(!matches("[ip, user, username, timestamp, request, status_code = 404, bytes > 2000]", line));
    assert!(matches("[ip, ..., status_code = 4*, bytes]", line));
    assert!(matches("[..., status_code = 5* || status_code = 4*, bytes]", line));
    assert!(matches("[ip = 127.0.0.1, ...]", line));
    assert!(matches("[..., request = \"GET /apache_pb.gif HTTP/1.0\", status, bytes]", line));
    assert!(matches("[..., timestamp = *2000*, request, status, bytes]", line));
    assert!(!matches("[ip = 10.*, ...]", line));
    assert!(matches("[]", "anything at all"));
}

#[test]
fn test_pattern_errors() {
    for bad in [
        "{ $.level = }",
        "{ level = \"x\" }",
        "{ $.level = \"x\"",
        "{ $.latency > \"x\" }",
        "[a, b = ]",
        "[a, b",
        "[a, c = 1 || d = 2]",
        "\"unclosed",
        "%unclosed",
        "%(%",
        "?",
    ] {
        assert!(FilterPattern::parse(bad).is_err(), "{bad} should not parse");
    }
    assert!(FilterPattern::parse(&"a".repeat(1025)).is_err());
}

#[test]
fn test_glob_matches() {
    assert!(glob_matches("a*c", "abc"));
    assert!(glob_matches("*", ""));
    assert!(glob_matches("a*b*c", "a-b-c"));
    assert!(!glob_matches("a*b*c", "a-c"));
    assert!(!glob_matches("ab*ab", "ab"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any text either parses or is refused with an error; matching never panics.
    #[test]
    fn test_pattern_parse_never_panics(pattern in "\\PC{0,60}", message in "\\PC{0,80}") {
        if let Ok(parsed) = FilterPattern::parse(&pattern) {
            parsed.matches(&message);
        }
    }

    /// Patterns built from the grammar's own pieces always parse; matching never panics.
    #[test]
    fn test_pattern_grammar_pieces(
        pieces in prop::collection::vec(
            prop::sample::select(vec![
                "{", "}", "[", "]", "(", ")", "$.a", "$.b[0]", "$.c[*]", "=", "!=", ">", "<=", "&&", "||", "\"x y\"",
                "%a+%", "42", "-1.5", "*", "...", ",", "IS NULL", "NOT EXISTS", "?", "-", "w", " ",
            ]),
            0..16,
        ),
        message in prop::sample::select(vec![
            r#"{"a":"x y","b":[42],"c":[1,2]}"#, "a b c", "[1] \"x y\" 42", "", "{", "[[[",
        ]),
    ) {
        let pattern = pieces.concat();
        if let Ok(parsed) = FilterPattern::parse(&pattern) {
            parsed.matches(message);
        }
    }

    /// `{ $.n OP k }` agrees with comparing the numbers directly.
    #[test]
    fn test_pattern_json_numbers_agree(n in -1000i64..1000, k in -1000i64..1000, op in 0usize..6) {
        let (symbol, expected) = [
            ("=", n == k), ("!=", n != k), ("<", n < k), ("<=", n <= k), (">", n > k), (">=", n >= k),
        ][op];
        let message = format!(r#"{{"n": {n}}}"#);
        prop_assert_eq!(matches(&format!("{{ $.n {symbol} {k} }}"), &message), expected);
        prop_assert_eq!(matches(&format!("[x {symbol} {k}]"), &n.to_string()), expected);
    }

    /// A message holding every plain term matches; adding one of them as an exclusion does not.
    #[test]
    fn test_pattern_terms_agree(words in prop::collection::vec("[a-z]{1,6}", 1..5), noise in "[A-Z ]{0,20}") {
        let message = format!("{noise} {} {noise}", words.join(" "));
        let pattern = words.join(" ");
        prop_assert!(matches(&pattern, &message));
        let excluding = format!("{pattern} -{}", words[0]);
        let optional = format!("?{} ?ZZZZZZZZ", words[words.len() - 1]);
        prop_assert!(!matches(&excluding, &message));
        prop_assert!(matches(&optional, &message));
    }
}
