//! Client spans for SQL statements, with the statement text sanitized.
//!
//! `db.statement` must never carry user data: statements bound with parameters already have
//! placeholders, and [`sanitize_sql`] replaces any literal that slipped in (`'text'`, `42`) by `?`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

/// A client span for one statement against `db_system` (`sqlite`, `postgresql`), named
/// `{OPERATION} {table}` (`SELECT activities`), a child of `parent` (default: the current span).
pub fn db_span(db_system: &'static str, sql: &str, parent: Option<&tracing::Span>) -> tracing::Span {
    let described = describe(sql);
    let (name, sanitized) = (&described.0, &described.1);
    let current;
    let parent = match parent {
        Some(parent) => parent,
        None => {
            current = tracing::Span::current();
            &current
        }
    };
    tracing::info_span!(
        parent: parent,
        "db statement",
        otel.name = %name,
        otel.kind = "client",
        db.system = db_system,
        db.statement = %sanitized,
    )
}

/// Statements an app runs are a handful of constant strings: each is sanitized and named once.
/// Past this many distinct texts (an app building SQL with literals) the rest is not cached.
const MAX_CACHED_STATEMENTS: usize = 512;

type Described = Arc<(String, String)>;

/// `(span name, sanitized statement)` of `sql`.
fn describe(sql: &str) -> Described {
    static CACHE: OnceLock<RwLock<HashMap<String, Described>>> = OnceLock::new();
    let cache = CACHE.get_or_init(RwLock::default);
    if let Some(described) = cache.read().unwrap_or_else(PoisonError::into_inner).get(sql) {
        return described.clone();
    }
    let sanitized = sanitize_sql(sql);
    let described = Arc::new((summarize_sql(&sanitized), sanitized));
    let mut cache = cache.write().unwrap_or_else(PoisonError::into_inner);
    if cache.len() < MAX_CACHED_STATEMENTS {
        cache.insert(sql.to_owned(), described.clone());
    }
    described
}

/// `sql` with string and numeric literals replaced by `?` and whitespace runs collapsed;
/// placeholders (`?`, `?1`, `$1`) and identifiers (`"quoted"`, `t1`) are kept.
pub fn sanitize_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\'' => {
                // A string literal; '' inside it is an escaped quote.
                while let Some(inner) = chars.next() {
                    if inner == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
                out.push('?');
            }
            '"' => {
                out.push(ch);
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == '"' {
                        break;
                    }
                }
            }
            '$' | '?' => {
                out.push(ch);
                while let Some(&digit) = chars.peek().filter(|next| next.is_ascii_digit()) {
                    out.push(digit);
                    chars.next();
                }
            }
            ch if ch.is_ascii_digit() && !out.ends_with(is_identifier_char) => {
                while chars.peek().is_some_and(|next| next.is_ascii_alphanumeric() || *next == '.') {
                    chars.next();
                }
                out.push('?');
            }
            ch if ch.is_whitespace() => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            ch => out.push(ch),
        }
    }
    out.trim_end().to_owned()
}

fn is_identifier_char(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// `{OPERATION} {table}` of a statement (`SELECT activities`), or just the operation.
pub fn summarize_sql(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let Some(first) = words.first() else {
        return "SQL".to_owned();
    };
    let operation = first.to_ascii_uppercase();
    let table_after = match operation.as_str() {
        "SELECT" | "DELETE" => "FROM",
        "INSERT" => "INTO",
        "UPDATE" => "UPDATE",
        "CREATE" | "DROP" | "ALTER" => "TABLE",
        _ => return operation,
    };
    let table = words
        .iter()
        .position(|word| word.eq_ignore_ascii_case(table_after))
        .and_then(|index| words[index + 1..].iter().find(|word| !is_clause_keyword(word)))
        .map(|word| word.trim_matches(|ch: char| !is_identifier_char(ch) && ch != '.'));
    match table {
        Some(table) if !table.is_empty() => format!("{operation} {table}"),
        _ => operation,
    }
}

fn is_clause_keyword(word: &str) -> bool {
    ["IF", "NOT", "EXISTS", "ONLY"].iter().any(|keyword| word.eq_ignore_ascii_case(keyword))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_describe_caches_each_statement_once() {
        let sql = "SELECT * FROM users WHERE handle = 'worf'";
        let first = describe(sql);
        assert_eq!(first.0, "SELECT users");
        assert_eq!(first.1, "SELECT * FROM users WHERE handle = ?");
        assert!(Arc::ptr_eq(&first, &describe(sql)), "the second call reuses the first's result");
    }

    #[test]
    fn test_sanitize_sql_replaces_literals() {
        assert_eq!(
            sanitize_sql("SELECT * FROM users WHERE handle = 'o''brien' AND age > 42 LIMIT 10"),
            "SELECT * FROM users WHERE handle = ? AND age > ? LIMIT ?"
        );
        assert_eq!(sanitize_sql("SELECT 1.5e3, -7"), "SELECT ?, -?");
    }

    #[test]
    fn test_sanitize_sql_keeps_placeholders_and_identifiers() {
        assert_eq!(
            sanitize_sql("SELECT t1.a FROM \"table 2\" t1 WHERE x = $1 AND y = ?2 AND z = ?"),
            "SELECT t1.a FROM \"table 2\" t1 WHERE x = $1 AND y = ?2 AND z = ?"
        );
    }

    #[test]
    fn test_sanitize_sql_collapses_whitespace() {
        assert_eq!(sanitize_sql("SELECT a\n    FROM b\n\tWHERE c = $1\n"), "SELECT a FROM b WHERE c = $1");
    }

    #[test]
    fn test_sanitize_sql_unterminated_string_is_still_hidden() {
        assert_eq!(sanitize_sql("SELECT 'secret"), "SELECT ?");
    }

    #[test]
    fn test_summarize_sql() {
        assert_eq!(summarize_sql("SELECT a FROM activities WHERE x = $1"), "SELECT activities");
        assert_eq!(summarize_sql("insert into users (a) values ($1)"), "INSERT users");
        assert_eq!(summarize_sql("UPDATE activities SET replies_count = replies_count + ?"), "UPDATE activities");
        assert_eq!(summarize_sql("CREATE TABLE IF NOT EXISTS users (uuid TEXT)"), "CREATE users");
        assert_eq!(summarize_sql("BEGIN"), "BEGIN");
        assert_eq!(summarize_sql(""), "SQL");
    }
}
