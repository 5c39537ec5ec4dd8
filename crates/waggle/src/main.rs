//! `waggle`: Honeycomb, AWS X-Ray, CloudWatch Logs and Rollbar, local, in one binary.

mod config;
mod demo;
mod export;
mod query_cmd;
mod serve;
mod trace_cmd;
mod units;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::ServeArgs;

/// mimalloc: ingest allocates many short-lived strings on many threads, where glibc's per-thread
/// arenas fragment (gigabytes of RSS measured under load) and mimalloc stays flat and faster.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Distributed tracing, logs and errors, on your machine.
///
/// waggle receives what Honeycomb, AWS X-Ray, CloudWatch Logs and Rollbar receive (OTLP over gRPC
/// and HTTP, X-Ray segments, log events, error items) and keeps it in one embedded, durable
/// columnar store. You query it from the console (http://localhost:7070), from their APIs or with
/// `waggle query`. `waggle up` starts it with the Cruddur demo app.
#[derive(Debug, Parser)]
#[command(name = "waggle", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run everything: every receiver and the web port, on the default data directory
    Up {
        /// Run waggle alone, without the Cruddur demo app and its traffic
        #[arg(long)]
        no_demo: bool,
        #[command(flatten)]
        demo: demo::DemoArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Run the receivers and web port with settings from a config file, the environment and flags
    Serve {
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Ask a running waggle a question, Honeycomb-style: calculations, filters, group by, heatmaps
    ///
    /// Examples:
    ///   waggle query -d cruddur-backend -c 'P99(duration_ms)' -c COUNT -b http.route
    ///   waggle query -c 'HEATMAP(duration_ms)' --time-range 30m
    ///   waggle query -c 'AVG(duration_ms)' -b app.user_id --order 'AVG(duration_ms) desc' --limit 10 --save slow-users
    ///   waggle query --saved slow-users
    #[command(verbatim_doc_comment)]
    Query(query_cmd::QueryArgs),
    /// Print a trace as a waterfall, read from a running waggle
    Trace {
        /// Trace id: 32 hex characters
        trace_id: String,
        /// The waggle web port to ask
        #[arg(long, env = "WAGGLE_URL", default_value = "http://127.0.0.1:7070")]
        url: String,
    },
    /// Write the rows of a time range to a Parquet file, for DuckDB, pandas or Spark
    Export {
        /// Output file
        #[arg(long, short, value_name = "FILE")]
        out: PathBuf,
        /// `traces` (spans, span events, links) or `logs`
        #[arg(long, default_value = "traces")]
        table: String,
        /// Only this dataset (default: all)
        #[arg(long)]
        dataset: Option<String>,
        /// Start: RFC 3339 (2026-11-21T10:00:00Z), unix seconds, or an age such as 2h
        #[arg(long, default_value = "1h")]
        from: String,
        /// End: same forms as --from
        #[arg(long, default_value = "0s")]
        to: String,
        /// The data directory to read (waggle must not be running on it)
        #[arg(long, env = "WAGGLE_DATA_DIR", value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Servers log what they do; one-shot commands only warnings, so their output stays readable.
    let default_level = match cli.command {
        Command::Up { .. } | Command::Serve { .. } => "info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Up { no_demo, demo, serve } => serve::run(serve, serve::Mode::Up { demo: (!no_demo).then_some(demo) }),
        Command::Serve { serve } => serve::run(serve, serve::Mode::Serve),
        Command::Trace { trace_id, url } => trace_cmd::run(&trace_id, &url),
        Command::Query(args) => query_cmd::run(args),
        Command::Export { out, table, dataset, from, to, data_dir } => {
            export::run(export::ExportArgs { out, table, dataset, from, to, data_dir })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
