//! Benchmarks for waggle.
//!
//! - `waggle-bench ingest`: starts a waggle server on a temporary data directory, drives it with
//!   OTLP/HTTP protobuf from this separate process, and reports sustained acknowledged spans/s,
//!   request latency, bytes on disk per span and the server's peak memory.
//! - `waggle-bench load`: fills a data directory with N spans through a real waggle (`load`).
//! - `waggle-bench query`: times the query engine in-process on a data directory (`query`).

mod generate;
mod load;
mod query;
mod server;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

/// The allocator waggle itself runs with, so in-process query timings match the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "waggle-bench", about = "Benchmarks for waggle")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// OTLP/HTTP protobuf ingest: throughput, latency, disk and memory
    Ingest(IngestArgs),
    /// Fill a data directory with N realistic spans over the last hours, through a real waggle
    Load(load::LoadArgs),
    /// Time queries in-process on a data directory (median of several warm runs)
    Query(query::QueryArgs),
}

#[derive(Debug, clap::Args)]
struct IngestArgs {
    /// The waggle binary to benchmark (a release build)
    #[arg(long, default_value = "target/release/waggle")]
    waggle: String,
    /// Stop after this many seconds of load...
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// ...or after this many spans, whichever comes first
    #[arg(long, default_value_t = u64::MAX)]
    spans: u64,
    /// Concurrent HTTP connections
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Spans per export request
    #[arg(long, default_value_t = 512)]
    batch: usize,
    /// Distinct pre-built requests to cycle through (more than a segment's worth of spans)
    #[arg(long, default_value_t = 600)]
    pool: usize,
    /// Data directory (default: a temporary one, removed afterwards); with several runs, the last
    /// run's data is left there
    #[arg(long)]
    data_dir: Option<std::path::PathBuf>,
    /// Repeat the whole measurement (fresh server and data each time) and report medians
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Ingest(args) => ingest(args),
        Command::Load(args) => load::load(args),
        Command::Query(args) => {
            // As `waggle serve` runs (see its serve.rs): without transparent huge pages, whose
            // zeroing of 2 MiB on each first touch would otherwise be timed with the queries.
            nix::sys::prctl::set_thp_disable(true)?;
            query::query(args)
        }
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], quantile: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * quantile).round() as usize]
}

fn ingest(args: IngestArgs) -> Result<()> {
    let mut reports = Vec::new();
    for run in 1..=args.runs.max(1) {
        eprintln!("run {run} of {}", args.runs.max(1));
        reports.push(ingest_once(&args)?);
    }
    let median = |key: &str| {
        let mut values: Vec<f64> = reports.iter().filter_map(|report| report[key].as_f64()).collect();
        values.sort_by(f64::total_cmp);
        percentile(&values, 0.5)
    };
    let keys: Vec<String> = reports[0].as_object().map(|object| object.keys().cloned().collect()).unwrap_or_default();
    let medians: serde_json::Map<String, serde_json::Value> =
        keys.iter().map(|key| (key.clone(), serde_json::json!(median(key)))).collect();
    let summary = serde_json::json!({ "runs": reports, "median": medians });
    println!("{}", serde_json::to_string_pretty(&summary).context("report")?);
    Ok(())
}

fn ingest_once(args: &IngestArgs) -> Result<serde_json::Value> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64;
    eprintln!("building {} requests of {} spans...", args.pool, args.batch);
    let pool: Vec<(Vec<u8>, usize)> = std::thread::scope(|scope| {
        let workers = 2;
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let (batch, pool_size) = (args.batch, args.pool);
                scope.spawn(move || {
                    let mut rng = generate::Rng::new(worker as u64 + 1);
                    (worker..pool_size)
                        .step_by(workers)
                        .map(|_| generate::batch(&mut rng, batch, now))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|handle| handle.join().expect("generator")).collect()
    });
    let pool = Arc::new(pool);
    let otlp_bytes_per_span = pool.iter().map(|(body, _)| body.len()).sum::<usize>() as f64
        / pool.iter().map(|(_, n)| n).sum::<usize>() as f64;

    let temp = tempfile::tempdir()?;
    let data_dir = args.data_dir.clone().unwrap_or_else(|| temp.path().to_owned());
    if data_dir.exists() && args.data_dir.is_some() {
        // Each run starts empty.
        std::fs::remove_dir_all(&data_dir).with_context(|| format!("cannot clear {}", data_dir.display()))?;
    }
    let server = server::Server::start(&args.waggle, &data_dir, Some("2s"))?;
    eprintln!(
        "waggle pid {} at {}; loading for up to {} s with {} connections",
        server.pid(),
        server.otlp_http,
        args.seconds,
        args.connections
    );

    let next = Arc::new(AtomicUsize::new(0));
    let acked_spans = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let url = format!("http://{}/v1/traces", server.otlp_http);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            let (pool, next, acked_spans, refused, stop, url) =
                (pool.clone(), next.clone(), acked_spans.clone(), refused.clone(), stop.clone(), url.clone());
            let max_spans = args.spans;
            std::thread::spawn(move || -> Result<Vec<f64>> {
                let agent = server::agent();
                let mut latencies = Vec::new();
                while !stop.load(Ordering::Relaxed)
                    && Instant::now() < deadline
                    && acked_spans.load(Ordering::Relaxed) < max_spans
                {
                    let (body, count) = &pool[next.fetch_add(1, Ordering::Relaxed) % pool.len()];
                    let sent = Instant::now();
                    match server::export(&agent, &url, body) {
                        Ok(server::Answer::Acknowledged) => {
                            latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                            acked_spans.fetch_add(*count as u64, Ordering::Relaxed);
                        }
                        Ok(server::Answer::Refused) => {
                            refused.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(server::RETRY_AFTER);
                        }
                        Err(error) => {
                            stop.store(true, Ordering::Relaxed);
                            return Err(error);
                        }
                    }
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.join().expect("worker thread")?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let spans = acked_spans.load(Ordering::Relaxed);
    latencies.sort_by(f64::total_cmp);

    eprintln!("load done; waiting for the head to flush...");
    let stats = server.wait_flushed(Duration::from_secs(120))?;
    let disk_bytes = server::dir_size(&data_dir)?;
    let (peak_rss, rss) = server.memory_kib()?;
    let report = serde_json::json!({
        "spans_acknowledged": spans,
        "seconds": elapsed,
        "spans_per_second": spans as f64 / elapsed,
        "requests": latencies.len(),
        "requests_refused_503": refused.load(Ordering::Relaxed),
        "latency_ms_p50": percentile(&latencies, 0.50),
        "latency_ms_p99": percentile(&latencies, 0.99),
        "otlp_bytes_per_span": otlp_bytes_per_span,
        "disk_bytes": disk_bytes,
        "disk_bytes_per_span": disk_bytes as f64 / spans.max(1) as f64,
        "otlp_to_disk_ratio": otlp_bytes_per_span * spans as f64 / disk_bytes.max(1) as f64,
        "segments": stats["segments"],
        "peak_rss_mib": peak_rss as f64 / 1024.0,
        "rss_after_mib": rss as f64 / 1024.0,
        "connections": args.connections,
        "batch": args.batch,
    });
    server.stop();
    Ok(report)
}
