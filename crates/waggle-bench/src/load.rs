//! `waggle-bench load`: fills a data directory with N spans of realistic shape, their start times
//! spread over the last hours, sent in time order over OTLP/HTTP to a real `waggle serve`, which is
//! then stopped. `waggle-bench query` (and DuckDB and ClickHouse, through `waggle export`) read it.
//!
//! The spans are the same for the same `--spans`, `--batch` and `--hours` (request `i` is generated
//! from seed `i`), whatever the connections; only their times move with the clock.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::generate;
use crate::server::{self, Answer, Server};

#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// The waggle binary that receives the spans (a release build)
    #[arg(long, default_value = "target/release/waggle")]
    waggle: String,
    /// Data directory to fill; it must not hold data yet
    #[arg(long)]
    data_dir: PathBuf,
    /// Spans to send
    #[arg(long, default_value_t = 10_000_000)]
    spans: u64,
    /// The spans' start times cover this many hours before now
    #[arg(long, default_value_t = 2.0)]
    hours: f64,
    /// Concurrent HTTP connections
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Spans per export request
    #[arg(long, default_value_t = 512)]
    batch: usize,
    /// Wait until the head is flushed into segments before stopping waggle. By default waggle is
    /// stopped at once, as a live server would be found: the rows since its last flush (at most 30 s
    /// or 200,000 rows) stay in the write-ahead log and are replayed into the in-memory head on open
    #[arg(long)]
    flush: bool,
}

/// Which spans each export request holds: request `i` is generated from seed `i` and starts `i / n`
/// of the way through the time spread, so arrival follows event time.
#[derive(Debug, Clone, Copy)]
struct Requests {
    num_spans: u64,
    spans_per_request: u64,
    num_requests: u64,
    end_unix_nano: u64,
    spread_nano: u64,
}

impl Requests {
    /// The body and span count of request `index` (< `num_requests`).
    fn build(&self, index: u64) -> (Vec<u8>, usize) {
        let size = self.spans_per_request.min(self.num_spans - index * self.spans_per_request) as usize;
        let offset = (self.spread_nano as u128 * index as u128 / self.num_requests as u128) as u64;
        let now = self.end_unix_nano - self.spread_nano + offset;
        generate::batch(&mut generate::Rng::new(index + 1), size, now)
    }
}

/// Sends requests taken from `next` until none is left, resending refused ones; returns the spans sent.
fn send_all(requests: Requests, next: &AtomicU64, refused: &AtomicU64, url: &str) -> Result<u64> {
    let agent = server::agent();
    let mut sent = 0;
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        if index >= requests.num_requests {
            return Ok(sent);
        }
        let (body, count) = requests.build(index);
        while server::export(&agent, url, &body)? == Answer::Refused {
            refused.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(server::RETRY_AFTER);
        }
        sent += count as u64;
        if index.is_multiple_of(2000) {
            eprintln!("  {index} of {} requests", requests.num_requests);
        }
    }
}

/// Sends the spans and stops waggle; prints a JSON report (spans, rate, time range, store counters).
pub fn load(args: LoadArgs) -> Result<()> {
    if args.data_dir.exists() && std::fs::read_dir(&args.data_dir)?.next().is_some() {
        anyhow::bail!("{} is not empty: load into a new data directory", args.data_dir.display());
    }
    let spans_per_request = args.batch.max(1) as u64;
    let requests = Requests {
        num_spans: args.spans,
        spans_per_request,
        num_requests: args.spans.div_ceil(spans_per_request),
        end_unix_nano: SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64,
        spread_nano: (args.hours * 3600e9) as u64,
    };
    let server = Server::start(&args.waggle, &args.data_dir, None)?;
    eprintln!("waggle pid {}: sending {} spans over {} connections", server.pid(), args.spans, args.connections);

    let next = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let url = format!("http://{}/v1/traces", server.otlp_http);
    let started = Instant::now();
    let workers: Vec<_> = (0..args.connections.max(1))
        .map(|_| {
            let (next, refused, url) = (next.clone(), refused.clone(), url.clone());
            std::thread::spawn(move || send_all(requests, &next, &refused, &url))
        })
        .collect();
    let mut spans = 0;
    for worker in workers {
        spans += worker.join().expect("load worker")?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let stats = if args.flush {
        server.wait_flushed(Duration::from_secs(300))?
    } else {
        ureq::get(&format!("http://{}/api/stats", server.web)).call()?.body_mut().read_json()?
    };
    server.stop();
    let report = serde_json::json!({
        "spans_acknowledged": spans,
        "seconds": seconds,
        "spans_per_second": spans as f64 / seconds,
        "requests_refused_503": refused.load(Ordering::Relaxed),
        "start_unix_nano": requests.end_unix_nano - requests.spread_nano - 1_000_000_000,
        "end_unix_nano": requests.end_unix_nano,
        "stats_at_stop": stats,
    });
    println!("{}", serde_json::to_string_pretty(&report).context("report")?);
    Ok(())
}
