//! `waggle-bench query`: times the query engine in-process on a data directory, as DuckDB and
//! ClickHouse are timed in-process in bench/compare_query.py.
//!
//! The queries come from a JSON file, so one list (written by bench/compare_query.py) drives all
//! three systems: `[{"name": ..., "dataset": ..., "spec": <Honeycomb query spec>}, {"name": ...,
//! "trace_id": <32 hex>}]`. Each query runs once to warm up, then `--runs` times; the report holds
//! every timing, their median and the last result, for the answers to be compared.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde_json::{Value as Json, json};
use waggle_model::TraceId;
use waggle_query::spec::QuerySpec;
use waggle_store::{DiskStore, Store, StoreConfig};

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// Data directory to read (opened read-only; waggle must not be running on it)
    #[arg(long)]
    data_dir: PathBuf,
    /// The queries, a JSON file (see `waggle-bench query --help`)
    #[arg(long)]
    queries: PathBuf,
    /// Timed runs per query, after one untimed warm-up run
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Bytes of decoded columns the store keeps between queries (its `column_cache_bytes`); 0
    /// makes every run decode its columns, to time decoding rather than the cache
    #[arg(long)]
    query_cache_bytes: Option<usize>,
}

/// One query of the input file.
#[derive(Debug, serde::Deserialize)]
struct NamedQuery {
    name: String,
    /// A query spec over this dataset (or `__all__`)...
    dataset: Option<String>,
    spec: Option<Json>,
    /// ...or one whole trace.
    trace_id: Option<String>,
    /// Totals only, as Honeycomb's `disable_series`: for queries whose peers' SQL has no time axis.
    #[serde(default)]
    disable_series: bool,
}

/// What one query does, parsed before any timing.
enum Work {
    Query { dataset: String, spec: Box<QuerySpec>, series: bool },
    Trace(TraceId),
}

impl Work {
    fn parse(query: &NamedQuery) -> Result<Self> {
        match (&query.dataset, &query.spec, &query.trace_id) {
            (Some(dataset), Some(spec), None) => Ok(Work::Query {
                dataset: dataset.clone(),
                series: !query.disable_series,
                spec: serde_json::from_value(spec.clone())
                    .map(Box::new)
                    .with_context(|| format!("query {:?}: not a query spec", query.name))?,
            }),
            (None, None, Some(trace_id)) => Ok(Work::Trace(
                TraceId::from_hex(trace_id).with_context(|| format!("query {:?}: bad trace id", query.name))?,
            )),
            _ => bail!("query {:?}: give either dataset and spec, or trace_id", query.name),
        }
    }

    /// Runs once and serializes the answer to JSON text, as waggle's HTTP API does; a query's
    /// answer is that text, a trace's its sorted span ids.
    fn run(&self, store: &dyn Store, now_unix_nano: i64) -> Result<Answer> {
        match self {
            Work::Query { dataset, spec, series } => {
                let options = waggle_query::RunOptions { series: *series, ..Default::default() };
                let result = waggle_query::run_query_with(store, dataset, spec, now_unix_nano, options)?;
                Ok(Answer::Text(serde_json::to_vec(&result)?))
            }
            Work::Trace(trace_id) => {
                let trace = waggle_query::get_trace(store, *trace_id)?;
                // The trace API sends the whole trace; the comparison needs only its span ids.
                std::hint::black_box(serde_json::to_vec(&trace)?);
                let mut span_ids: Vec<String> =
                    trace.map(|trace| trace.spans.into_iter().map(|span| span.span_id).collect()).unwrap_or_default();
                span_ids.sort();
                Ok(Answer::Json(json!({ "span_ids": span_ids })))
            }
        }
    }
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// What a run answered: a query result as the JSON text the API would send, or a trace's span ids.
enum Answer {
    Text(Vec<u8>),
    Json(Json),
}

impl Answer {
    /// Parsed outside the timed runs: only the last run's answer is read.
    fn into_json(self) -> Result<Json> {
        Ok(match self {
            Answer::Text(text) => serde_json::from_slice(&text)?,
            Answer::Json(json) => json,
        })
    }
}

/// Times every query; prints a JSON report.
pub fn query(args: QueryArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.queries).with_context(|| format!("{}", args.queries.display()))?;
    let queries: Vec<NamedQuery> = serde_json::from_str(&text).context("the queries file")?;
    let works = queries.iter().map(Work::parse).collect::<Result<Vec<_>>>()?;

    let opened = Instant::now();
    let mut config = StoreConfig::new(&args.data_dir);
    config.retention_max_age = Duration::from_secs(100 * 365 * 24 * 3600);
    if let Some(bytes) = args.query_cache_bytes {
        config.column_cache_bytes = bytes;
    }
    let store = DiskStore::open_read_only(config)
        .with_context(|| format!("cannot read the data directory {}", args.data_dir.display()))?;
    let open_ms = milliseconds(opened.elapsed());
    let now_unix_nano = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as i64;

    let mut reports = Vec::new();
    for (query, work) in queries.iter().zip(&works) {
        work.run(&store, now_unix_nano).with_context(|| format!("query {:?}", query.name))?;
        let mut runs_ms = Vec::new();
        let mut answer = Answer::Json(Json::Null);
        for _ in 0..args.runs.max(1) {
            let started = Instant::now();
            answer = work.run(&store, now_unix_nano)?;
            runs_ms.push(milliseconds(started.elapsed()));
        }
        let result = answer.into_json()?;
        let mut sorted = runs_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let median_ms = crate::percentile(&sorted, 0.5);
        eprintln!("  {}: median {median_ms:.2} ms", query.name);
        reports.push(json!({ "name": query.name, "runs_ms": runs_ms, "median_ms": median_ms, "result": result }));
    }
    let report = json!({ "open_ms": open_ms, "store": store.stats(), "queries": reports });
    println!("{}", serde_json::to_string_pretty(&report).context("report")?);
    Ok(())
}
