//! Turning `waggle query` flags into a Honeycomb query spec (JSON): `--calc 'P99(duration_ms)'`,
//! `--where 'http.response.status_code >= 500'`, `--order 'P99(duration_ms) desc'`,
//! `--having 'COUNT > 10'`. The server validates the result; here we only parse the shorthand.

use anyhow::{Result, bail};
use serde_json::{Value as Json, json};

/// Comparison operators written between column and value, longest first so `>=` wins over `>`.
const SYMBOL_OPS: [&str; 6] = [">=", "<=", "!=", "=", ">", "<"];

/// Operators written as words.
const WORD_OPS: [&str; 10] = [
    "starts-with",
    "does-not-start-with",
    "ends-with",
    "does-not-end-with",
    "contains",
    "does-not-contain",
    "in",
    "not-in",
    "exists",
    "does-not-exist",
];

/// `COUNT` or `P99(duration_ms)` as `{"op", "column"}`.
pub fn calculation(text: &str) -> Result<Json> {
    let text = text.trim();
    match text.split_once('(') {
        None if !text.is_empty() => Ok(json!({ "op": text.to_ascii_uppercase() })),
        Some((op, rest)) if rest.ends_with(')') && !op.is_empty() => {
            let column = rest[..rest.len() - 1].trim();
            if column.is_empty() {
                bail!("{text:?}: write the column inside the parentheses, e.g. P99(duration_ms)");
            }
            Ok(json!({ "op": op.trim().to_ascii_uppercase(), "column": column }))
        }
        _ => bail!("{text:?} is not a calculation: write COUNT or OP(column), e.g. P99(duration_ms)"),
    }
}

/// A typed value: numbers and booleans as such, `"quoted"` text as a string.
fn value(text: &str) -> Json {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')) {
        return json!(inner);
    }
    if let Ok(number) = text.parse::<i64>() {
        return json!(number);
    }
    if let Ok(number) = text.parse::<f64>() {
        return json!(number);
    }
    match text {
        "true" => json!(true),
        "false" => json!(false),
        _ => json!(text),
    }
}

/// `column op value`: `http.response.status_code >= 500`, `name starts-with GET`,
/// `app.user_id in worf,garek`, `error exists`.
pub fn filter(text: &str) -> Result<Json> {
    let text = text.trim();
    let mut words = text.splitn(3, char::is_whitespace);
    let (column, op, rest) = (words.next().unwrap_or(""), words.next().unwrap_or(""), words.next().unwrap_or(""));
    // Word operators first: their values may contain `=` or `<`.
    if WORD_OPS.contains(&op) {
        return Ok(match op {
            "exists" | "does-not-exist" => json!({ "column": column, "op": op }),
            "in" | "not-in" => {
                let values: Vec<Json> = rest.split(',').map(value).collect();
                json!({ "column": column, "op": op, "value": values })
            }
            _ => json!({ "column": column, "op": op, "value": value(rest) }),
        });
    }
    let Some((at, op)) = first_symbol(text) else {
        bail!(
            "{text:?} is not a filter: write `column OP value` with OP one of {} or {}",
            SYMBOL_OPS.join(" "),
            WORD_OPS.join(", ")
        );
    };
    let (column, rest) = (text[..at].trim(), text[at + op.len()..].trim());
    if column.is_empty() || rest.is_empty() {
        bail!("{text:?}: write a filter as `column {op} value`");
    }
    Ok(json!({ "column": column, "op": op, "value": value(rest) }))
}

/// The first comparison symbol in the text, preferring `>=` over `>` at the same place.
fn first_symbol(text: &str) -> Option<(usize, &'static str)> {
    SYMBOL_OPS
        .iter()
        .filter_map(|op| text.find(op).map(|at| (at, *op)))
        .min_by_key(|(at, op)| (*at, std::cmp::Reverse(op.len())))
}

/// `P99(duration_ms) desc` or `http.route asc` (default descending for calculations, ascending
/// for columns).
pub fn order(text: &str, breakdowns: &[String]) -> Result<Json> {
    let text = text.trim();
    let (target, direction) = match text.rsplit_once(char::is_whitespace) {
        Some((target, word)) if ["asc", "desc", "ascending", "descending"].contains(&word) => {
            (target.trim(), Some(word))
        }
        _ => (text, None),
    };
    let descending = |default: bool| direction.map_or(default, |word| word.starts_with("desc"));
    let order = |descending: bool| if descending { "descending" } else { "ascending" };
    if breakdowns.iter().any(|breakdown| breakdown == target) {
        return Ok(json!({ "column": target, "order": order(descending(false)) }));
    }
    let mut calc = calculation(target)?;
    calc["order"] = json!(order(descending(true)));
    Ok(calc)
}

/// `COUNT > 10` or `P99(duration_ms) >= 250`.
pub fn having(text: &str) -> Result<Json> {
    let text = text.trim();
    let Some((at, op)) = first_symbol(text) else {
        bail!("{text:?} is not a having clause: write e.g. `COUNT > 10`");
    };
    let calc = calculation(&text[..at])?;
    let mut having = json!({ "calculate_op": calc["op"], "op": op, "value": value(&text[at + op.len()..]) });
    if let Some(column) = calc.get("column") {
        having["column"] = column.clone();
    }
    Ok(having)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_calculations_parse() {
        assert_eq!(calculation("COUNT").unwrap(), json!({"op": "COUNT"}));
        assert_eq!(calculation("p99(duration_ms)").unwrap(), json!({"op": "P99", "column": "duration_ms"}));
        assert!(calculation("P99()").is_err());
        assert!(calculation("P99(duration_ms").is_err());
    }

    #[test]
    fn test_filters_parse_symbols_words_and_types() {
        assert_eq!(
            filter("http.response.status_code >= 500").unwrap(),
            json!({"column": "http.response.status_code", "op": ">=", "value": 500})
        );
        assert_eq!(filter("app.user_id=worf").unwrap(), json!({"column": "app.user_id", "op": "=", "value": "worf"}));
        assert_eq!(filter("code = \"42\"").unwrap(), json!({"column": "code", "op": "=", "value": "42"}));
        assert_eq!(filter("error exists").unwrap(), json!({"column": "error", "op": "exists"}));
        assert_eq!(
            filter("app.user_id in worf,garek").unwrap(),
            json!({"column": "app.user_id", "op": "in", "value": ["worf", "garek"]})
        );
        assert_eq!(
            filter("name starts-with GET /api").unwrap(),
            json!({"column": "name", "op": "starts-with", "value": "GET /api"})
        );
        assert_eq!(filter("error = true").unwrap()["value"], json!(true));
        assert_eq!(filter("url.query contains a=b").unwrap()["value"], json!("a=b"));
        assert!(filter("just words").is_err());
        assert!(filter(">= 5").is_err());
    }

    #[test]
    fn test_orders_and_havings_parse() {
        let breakdowns = vec!["http.route".to_owned()];
        assert_eq!(
            order("P99(duration_ms)", &breakdowns).unwrap(),
            json!({"op": "P99", "column": "duration_ms", "order": "descending"})
        );
        assert_eq!(order("http.route", &breakdowns).unwrap(), json!({"column": "http.route", "order": "ascending"}));
        assert_eq!(order("COUNT asc", &breakdowns).unwrap(), json!({"op": "COUNT", "order": "ascending"}));
        assert_eq!(having("COUNT > 10").unwrap(), json!({"calculate_op": "COUNT", "op": ">", "value": 10}));
        assert_eq!(
            having("P99(duration_ms) >= 2.5").unwrap(),
            json!({"calculate_op": "P99", "column": "duration_ms", "op": ">=", "value": 2.5})
        );
        assert!(having("COUNT").is_err());
    }
}
