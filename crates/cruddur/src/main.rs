//! `cruddur`: the bootcamp's Cruddur app in Rust. The backend API on :4567 and the browser frontend on
//! :3000, traced with OpenTelemetry as the bootcamp instruments its Flask backend and React frontend.
//!
//! Layout: `routes` (the API router), `activities` and `messages` (handlers and their SQL), `users`
//! (the caller header), `validation`, `error`, `db` (pool, a span per statement), `schema` and
//! `seed` (start-up), `frontend` (static files and `/config.js`), `clock` (timestamps), `demo` (the
//! faults of demo mode), `observe` (a log line per request, error reports), `cloudwatch` (the
//! `cruddur-backend` logger's CloudWatch Logs handler), `rollbar` (the Rollbar reporter).

mod activities;
mod clock;
mod cloudwatch;
mod db;
mod demo;
mod error;
mod frontend;
mod messages;
mod observe;
mod rollbar;
mod routes;
mod schema;
mod seed;
mod state;
mod users;
mod validation;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use axum::http::HeaderValue;
use clap::Parser;
use cruddur_telemetry::TelemetryConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::db::{DEFAULT_DATABASE_URL, Db};
use crate::frontend::BrowserConfig;
use crate::state::AppState;

/// Telemetry allocates per span (attributes, span data, export buffers); glibc's allocator showed at
/// about a tenth of Cruddur's CPU under load (perf), as it did in waggle.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Cruddur: the bootcamp's micro-blogging app, backend and browser frontend, with OpenTelemetry
/// tracing configured by the standard OTEL_* variables, and AWS X-Ray segments by the X-Ray SDKs'
/// AWS_XRAY_DAEMON_ADDRESS and AWS_XRAY_URL (see crates/cruddur/README.md).
#[derive(Debug, Parser)]
#[command(name = "cruddur", version)]
struct Args {
    /// Address of the backend API
    #[arg(long, env = "CRUDDUR_BACKEND_ADDR", default_value = "127.0.0.1:4567")]
    backend_addr: SocketAddr,
    /// Address of the browser frontend
    #[arg(long, env = "CRUDDUR_FRONTEND_ADDR", default_value = "127.0.0.1:3000")]
    frontend_addr: SocketAddr,
    /// Directory of the built frontend (scripts/build-frontend.sh writes it)
    #[arg(long, env = "CRUDDUR_FRONTEND_DIR", default_value_os_t = frontend::default_dir())]
    frontend_dir: PathBuf,
    /// sqlite::memory: (seeded at every start), sqlite:///path/cruddur.db?mode=rwc, or postgres://...
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    /// The frontend's URL as browsers see it, allowed by CORS [default: http://localhost:<frontend
    /// port> and http://127.0.0.1:<frontend port>]
    #[arg(long, env = "FRONTEND_URL")]
    frontend_url: Option<String>,
    /// The backend's URL as browsers see it [default: the page's host name on the backend port]
    #[arg(long, env = "BACKEND_URL")]
    backend_url: Option<String>,
    /// OTLP/HTTP endpoint the browser exports to [default: OTEL_EXPORTER_OTLP_ENDPOINT unless the
    /// protocol is grpc, else http://localhost:4318]
    #[arg(long, env = "FRONTEND_OTEL_EXPORTER_OTLP_ENDPOINT")]
    frontend_otlp_endpoint: Option<String>,
    /// Headers of the browser's exports, `k=v,k2=v2`: use an ingest-only key, it is public
    #[arg(long, env = "FRONTEND_OTEL_EXPORTER_OTLP_HEADERS", default_value = "")]
    frontend_otlp_headers: String,
    /// service.name of the browser's spans
    #[arg(long, env = "FRONTEND_OTEL_SERVICE_NAME", default_value = "cruddur-frontend")]
    frontend_service_name: String,
    /// Demo mode: user garek's requests and search are slow, one request in thirty fails (for
    /// `waggle up`'s demo traffic)
    #[arg(long, env = "CRUDDUR_DEMO", value_parser = clap::builder::BoolishValueParser::new())]
    demo: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The `cruddur-backend` logger's CloudWatch handler (ENABLE_CLOUD_WATCH_LOG), and Rollbar.
    let (cloudwatch_layer, shipper) = match cloudwatch::CloudWatchConfig::from_env()? {
        Some(config) => {
            let (layer, shipper) = cloudwatch::layer(config);
            (Some(Box::new(layer.filtered()) as cruddur_telemetry::AppLayer), Some(shipper))
        }
        None => (None, None),
    };
    let rollbar_config = rollbar::RollbarConfig::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // The gRPC exporter is built on, and flushed through, this runtime.
    let _runtime_context = runtime.enter();
    let telemetry = cruddur_telemetry::init_with_layer(
        // The request log line repeats the request span's attributes: a log line, not a span event.
        &TelemetryConfig::from_env("cruddur-backend", "cruddur")?.with_log_only_target(cloudwatch::LOGGER),
        cloudwatch_layer,
    )?;
    let result = runtime.block_on(async {
        let shipper = shipper.map(cloudwatch::PendingShipper::start);
        let reporter = rollbar_config.map(rollbar::start).transpose()?;
        let result = run(args).await;
        // Flushed after the servers stopped: the last requests' lines and reports are sent.
        if let Some(reporter) = reporter {
            reporter.shutdown().await;
        }
        if let Some(shipper) = shipper {
            shipper.shutdown().await;
        }
        result
    });
    if let Err(error) = telemetry.shutdown() {
        eprintln!("cruddur: {error}");
    }
    result
}

async fn run(args: Args) -> anyhow::Result<()> {
    let db = async {
        let db = Db::connect(&args.database_url).await.context("cannot connect to DATABASE_URL")?;
        schema::migrate(&db).await.context("cannot migrate the database")?;
        if seed::seed_if_empty(&db).await.context("cannot seed the database")? {
            tracing::info!(db.system = db.system(), "seeded the sample users, activities and messages");
        }
        anyhow::Ok(db)
    }
    .instrument(tracing::info_span!("cruddur-startup"))
    .await?;

    let backend = TcpListener::bind(args.backend_addr)
        .await
        .with_context(|| format!("cannot listen on {} (--backend-addr)", args.backend_addr))?;
    let frontend = TcpListener::bind(args.frontend_addr)
        .await
        .with_context(|| format!("cannot listen on {} (--frontend-addr)", args.frontend_addr))?;
    let backend_addr = backend.local_addr()?;
    let frontend_addr = frontend.local_addr()?;

    let origins = allowed_origins(&args, frontend_addr.port(), backend_addr.port())?;
    let api = routes::app(AppState { db: db.clone() }, origins, args.demo);
    let browser = frontend::app(&args.frontend_dir, browser_config(&args, backend_addr.port()));

    let (stop_sender, stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_sender.send(true);
    });
    tracing::info!(target: cloudwatch::LOGGER, backend = %format!("http://{backend_addr}"), frontend = %format!("http://{frontend_addr}"), "cruddur listening");
    let backend_server = axum::serve(backend, api.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(stopped(stop.clone()));
    let frontend_server = axum::serve(frontend, browser).with_graceful_shutdown(stopped(stop));
    tokio::try_join!(backend_server.into_future(), frontend_server.into_future())?;
    db.close().await;
    tracing::info!(target: cloudwatch::LOGGER, "cruddur stopped");
    Ok(())
}

/// This machine's name, for watchtower's stream name and Rollbar's `server.host`.
pub(crate) fn host_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "localhost".to_owned())
    })
}

/// CORS origins: `FRONTEND_URL` and `BACKEND_URL` as in the bootcamp, or both loopback spellings of
/// each listener when unset.
fn allowed_origins(args: &Args, frontend_port: u16, backend_port: u16) -> anyhow::Result<Vec<HeaderValue>> {
    let mut origins = Vec::new();
    for (url, port) in [(&args.frontend_url, frontend_port), (&args.backend_url, backend_port)] {
        match url {
            Some(url) => origins.push(url.trim_end_matches('/').to_owned()),
            None => origins.extend([format!("http://localhost:{port}"), format!("http://127.0.0.1:{port}")]),
        }
    }
    origins
        .into_iter()
        .map(|origin| HeaderValue::try_from(origin.as_str()).with_context(|| format!("bad origin URL {origin:?}")))
        .collect()
}

fn browser_config(args: &Args, backend_port: u16) -> BrowserConfig {
    let endpoint = args.frontend_otlp_endpoint.clone().unwrap_or_else(|| {
        let grpc = std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL").is_ok_and(|protocol| protocol.trim() == "grpc");
        match std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") {
            Ok(endpoint) if !grpc && !endpoint.trim().is_empty() => endpoint,
            _ => "http://localhost:4318".to_owned(),
        }
    });
    BrowserConfig {
        backend_url: args.backend_url.clone(),
        backend_port,
        otlp_traces_url: frontend::traces_url(&endpoint),
        otlp_headers: frontend::parse_headers(&args.frontend_otlp_headers),
        service_name: args.frontend_service_name.clone(),
        user_header: users::USER_HEADER,
    }
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    // An error means the sender is gone, which also means stop.
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
