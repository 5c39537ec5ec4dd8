//! `waggle query`: ask a running waggle a Honeycomb-style question and print the answer as a table
//! (and a HEATMAP as a terminal heatmap). It speaks Honeycomb's query API: create the query, run
//! it, print the result; `--save NAME` names it, `--saved NAME` runs a named one.

mod render;
mod spec;

use anyhow::{Context, Result, bail};
use serde_json::{Value as Json, json};

/// What `waggle query` was asked.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// Dataset (service) to query; `__all__` for every dataset
    #[arg(long, short, default_value = "__all__")]
    dataset: String,
    /// A calculation: COUNT, P99(duration_ms), HEATMAP(duration_ms), COUNT_DISTINCT(app.user_id)...; repeatable
    #[arg(long = "calc", short, value_name = "CALC")]
    calcs: Vec<String>,
    /// A filter: 'http.response.status_code >= 500', 'name starts-with GET', 'error exists'; repeatable
    #[arg(long = "where", short = 'w', value_name = "FILTER")]
    filters: Vec<String>,
    /// Match rows passing ANY filter (default: all of them)
    #[arg(long)]
    any: bool,
    /// Group by a column (repeatable), e.g. app.user_id or root.http.route
    #[arg(long = "breakdown", short, value_name = "COLUMN")]
    breakdowns: Vec<String>,
    /// Order by a calculation or breakdown: 'P99(duration_ms) desc', 'http.route asc'; repeatable
    #[arg(long = "order", value_name = "ORDER")]
    orders: Vec<String>,
    /// Keep groups whose calculation passes: 'COUNT > 10'; repeatable
    #[arg(long = "having", value_name = "HAVING")]
    havings: Vec<String>,
    /// Most groups to return
    #[arg(long)]
    limit: Option<usize>,
    /// How far back to look: 30m, 2h, 7d
    #[arg(long, default_value = "2h")]
    time_range: String,
    /// Time-bucket width of the series: 10s, 1m...
    #[arg(long)]
    granularity: Option<String>,
    /// Run the saved query with this name instead of building one from flags
    #[arg(long, value_name = "NAME", conflicts_with_all = ["calcs", "filters", "breakdowns", "orders", "havings"])]
    saved: Option<String>,
    /// Also save this query under a name, to run later with --saved
    #[arg(long, value_name = "NAME")]
    save: Option<String>,
    /// Print the raw query result as JSON
    #[arg(long)]
    json: bool,
    /// The waggle web port to ask
    #[arg(long, env = "WAGGLE_URL", default_value = "http://127.0.0.1:7070")]
    url: String,
}

pub fn run(args: QueryArgs) -> Result<()> {
    let client = Client { base: args.url.trim_end_matches('/').to_owned() };
    let (dataset, query_id, spec) = match &args.saved {
        Some(name) => {
            let saved = client.get(&format!("/1/query_annotations/__all__/{}", encode(name)))?;
            let dataset = saved["dataset"].as_str().unwrap_or("__all__").to_owned();
            let query_id = saved["query_id"].as_str().context("saved query without a query_id")?.to_owned();
            let spec = client.get(&format!("/1/queries/{}/{query_id}", encode(&dataset)))?;
            (dataset, query_id, spec)
        }
        None => {
            let spec = build_spec(&args)?;
            let created = client.post(&format!("/1/queries/{}", encode(&args.dataset)), &spec)?;
            let query_id = created["id"].as_str().context("waggle did not return a query id")?.to_owned();
            (args.dataset.clone(), query_id, created)
        }
    };
    if let Some(name) = &args.save {
        client.post(
            &format!("/1/query_annotations/{}", encode(&dataset)),
            &json!({ "name": name, "query_id": query_id }),
        )?;
        eprintln!("saved as {name:?}: run it again with `waggle query --saved {name:?}`");
    }
    let result = client.post(&format!("/1/query_results/{}", encode(&dataset)), &json!({ "query_id": query_id }))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
        return Ok(());
    }
    print!("{}", render::render(&spec, &result["data"], std::io::IsTerminal::is_terminal(&std::io::stdout())));
    warn_unknown_columns(&client, &dataset, &spec);
    Ok(())
}

/// A query naming a column no event has answers with nothing: say so, with the closest names.
fn warn_unknown_columns(client: &Client, dataset: &str, spec: &Json) {
    let Ok(columns) = client.get(&format!("/1/columns/{}", encode(dataset))) else { return };
    let known: Vec<&str> = columns.as_array().into_iter().flatten().filter_map(|c| c["key_name"].as_str()).collect();
    let named = ["calculations", "filters", "orders", "havings"]
        .iter()
        .flat_map(|list| spec[list].as_array().into_iter().flatten().filter_map(|item| item["column"].as_str()))
        .chain(spec["breakdowns"].as_array().into_iter().flatten().filter_map(Json::as_str));
    for column in named {
        let bare = column.strip_prefix("root.").unwrap_or(column);
        if !known.contains(&bare) {
            let mut closest: Vec<&str> = known.clone();
            closest.sort_by_key(|candidate| strsim_distance(bare, candidate));
            closest.truncate(3);
            eprintln!("note: no event in {dataset} has a column {bare:?}; closest: {}", closest.join(", "));
        }
    }
}

/// Edit distance (Levenshtein), for suggesting column names.
fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

fn build_spec(args: &QueryArgs) -> Result<Json> {
    let time_range = crate::units::parse_duration(&args.time_range).map_err(anyhow::Error::msg)?.as_secs();
    let mut spec = json!({ "time_range": time_range });
    if !args.calcs.is_empty() {
        spec["calculations"] = args.calcs.iter().map(|calc| spec::calculation(calc)).collect::<Result<Json>>()?;
    }
    if !args.filters.is_empty() {
        spec["filters"] = args.filters.iter().map(|filter| spec::filter(filter)).collect::<Result<Json>>()?;
        spec["filter_combination"] = json!(if args.any { "OR" } else { "AND" });
    }
    if !args.breakdowns.is_empty() {
        spec["breakdowns"] = json!(args.breakdowns);
    }
    if !args.orders.is_empty() {
        spec["orders"] =
            args.orders.iter().map(|order| spec::order(order, &args.breakdowns)).collect::<Result<Json>>()?;
    }
    if !args.havings.is_empty() {
        spec["havings"] = args.havings.iter().map(|having| spec::having(having)).collect::<Result<Json>>()?;
    }
    if let Some(limit) = args.limit {
        spec["limit"] = json!(limit);
    }
    if let Some(granularity) = &args.granularity {
        spec["granularity"] = json!(crate::units::parse_duration(granularity).map_err(anyhow::Error::msg)?.as_secs());
    }
    Ok(spec)
}

/// Percent-encodes a path segment (dataset and query names may hold spaces or slashes).
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A client of the web port that turns Honeycomb-shaped errors into readable ones.
struct Client {
    base: String,
}

impl Client {
    fn get(&self, path: &str) -> Result<Json> {
        self.answer(ureq::get(&format!("{}{path}", self.base)).config().http_status_as_error(false).build().call())
    }

    fn post(&self, path: &str, body: &Json) -> Result<Json> {
        let request = ureq::post(&format!("{}{path}", self.base)).config().http_status_as_error(false).build();
        self.answer(request.send_json(body))
    }

    fn answer(&self, response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Json> {
        let mut response = response.map_err(|err| {
            anyhow::anyhow!("cannot reach waggle at {} ({err}); is it running? start it with `waggle up`", self.base)
        })?;
        let status = response.status();
        let body: Json = response.body_mut().read_json().unwrap_or(Json::Null);
        if !status.is_success() {
            let message = body["error"].as_str().unwrap_or("no details");
            bail!("waggle refused the query ({status}): {message}");
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_edit_distance() {
        assert_eq!(strsim_distance("durationms", "duration_ms"), 1);
        assert_eq!(strsim_distance("", "abc"), 3);
        assert_eq!(strsim_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn test_encode_path_segments() {
        assert_eq!(encode("cruddur-backend"), "cruddur-backend");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
