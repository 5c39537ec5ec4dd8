//! `waggle up` and `waggle serve`: open the store, bind every port, serve until Ctrl-C or SIGTERM,
//! then finish pending writes.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio::sync::watch;
use waggle_logs::LogsService;
use waggle_rollbar::RollbarService;
use waggle_server::{
    AppState, QueryLibrary, api_router, aws_router, honeycomb_router, otlp_http_router, rollbar_router,
    serve_otlp_grpc, serve_xray_daemon_udp, xray_router,
};
use waggle_store::{DiskStore, Store};
use waggle_xray::Xray;

use crate::config::{ServeArgs, Settings};
use crate::demo::{Demo, DemoArgs, DemoTargets};

/// Which command is running.
pub enum Mode {
    /// `waggle up`, with the demo unless `--no-demo`.
    Up { demo: Option<DemoArgs> },
    /// `waggle serve`.
    Serve,
}

pub fn run(args: ServeArgs, mode: Mode) -> Result<()> {
    let settings = args.resolve()?;
    // mimalloc asks for transparent huge pages on its arenas. Ingest keeps touching fresh memory
    // (request bodies, decoded batches, segment builders), and each first touch of a huge page
    // makes the kernel zero 2 MiB: a fifth of waggle's CPU under Cruddur's load (perf), about a
    // tenth less CPU per request without. Children (`waggle up`'s Cruddur) inherit the setting.
    if let Err(err) = nix::sys::prctl::set_thp_disable(true) {
        tracing::debug!(%err, "could not disable transparent huge pages");
    }
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    runtime.block_on(serve(settings, mode))
}

async fn bind(addr: SocketAddr, what: &str, flag: &str) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for {what} on {addr}: is another waggle or collector running? choose another address with {flag}"))
}

async fn serve(settings: Settings, mode: Mode) -> Result<()> {
    let data_dir = settings.store.data_dir.clone();
    let store_config = settings.store.clone();
    let store = tokio::task::spawn_blocking(move || DiskStore::open(store_config))
        .await?
        .with_context(|| format!("cannot open the data directory {}", data_dir.display()))?;
    let store = Arc::new(store);
    let grpc_listener = bind(settings.otlp_grpc_addr, "OTLP/gRPC", "--otlp-grpc-addr").await?;
    let http_listener = bind(settings.otlp_http_addr, "OTLP/HTTP", "--otlp-http-addr").await?;
    let web_listener = bind(settings.web_addr, "the web port", "--web-addr").await?;
    let addrs = [&grpc_listener, &http_listener, &web_listener].map(|listener| listener.local_addr().expect("bound"));
    let aws_listener = bind(settings.aws_addr, "the AWS port (CloudWatch Logs)", "--aws-addr").await?;
    let aws_addr = aws_listener.local_addr().expect("bound");
    let daemon_udp = tokio::net::UdpSocket::bind(settings.xray_daemon_addr).await.with_context(|| {
        format!(
            "cannot receive X-Ray segments on UDP {}: is an X-Ray daemon running? \
             choose another address with --xray-daemon-addr",
            settings.xray_daemon_addr
        )
    })?;
    let daemon_tcp =
        bind(settings.xray_daemon_addr, "the X-Ray daemon's sampling API (TCP)", "--xray-daemon-addr").await?;
    let daemon_addr = daemon_tcp.local_addr().expect("bound");
    let library = QueryLibrary::open(&settings.store.data_dir)
        .with_context(|| format!("cannot read saved queries in {}", settings.store.data_dir.display()))?;
    let logs = LogsService::open(store.clone(), &settings.store.data_dir)
        .with_context(|| format!("cannot read the CloudWatch log groups in {}", settings.store.data_dir.display()))?
        .with_max_event_age(settings.store.retention_max_age);
    let xray = Xray::open(store.clone(), &settings.store.data_dir).with_context(|| {
        format!("cannot read the X-Ray groups and sampling rules in {}", settings.store.data_dir.display())
    })?;
    let rollbar = RollbarService::open(store.clone(), &settings.store.data_dir)
        .with_context(|| format!("cannot read the Rollbar items in {}", settings.store.data_dir.display()))?;
    // The project access token created on first start (every scope), for the banner and the demo.
    let rollbar_token = rollbar.tokens().first().map(|token| token.access_token.clone()).unwrap_or_default();
    let state = AppState {
        store: store.clone() as Arc<dyn Store>,
        library: Arc::new(library),
        limits: settings.limits,
        logs: Arc::new(logs),
        rollbar: Arc::new(rollbar),
        xray: Arc::new(xray),
    };

    let (stop_sender, stop) = watch::channel(false);
    let stopped = move |mut stop: watch::Receiver<bool>| async move {
        let _ = stop.wait_for(|stopped| *stopped).await;
    };
    let http =
        axum::serve(http_listener, otlp_http_router(state.clone())).with_graceful_shutdown(stopped(stop.clone()));
    let aws_routes = aws_router(state.clone()).merge(xray_router(state.clone()));
    // The console calls the AWS APIs (X-Ray, CloudWatch Logs) on its own origin, under `/aws`.
    let web_routes = api_router(state.clone())
        .merge(honeycomb_router(state.clone()))
        .merge(rollbar_router(state.clone()))
        .nest("/aws", aws_routes.clone())
        .fallback_service(waggle_console::console_router());
    let web = axum::serve(web_listener, web_routes).with_graceful_shutdown(stopped(stop.clone()));
    let aws = axum::serve(aws_listener, aws_routes).with_graceful_shutdown(stopped(stop.clone()));
    let daemon_sampling =
        axum::serve(daemon_tcp, xray_router(state.clone())).with_graceful_shutdown(stopped(stop.clone()));
    let daemon_segments = serve_xray_daemon_udp(daemon_udp, state.clone(), stopped(stop.clone()));
    let grpc = serve_otlp_grpc(grpc_listener, state, stopped(stop));
    let demo = match mode {
        Mode::Up { demo: Some(ref args) } => {
            let targets = DemoTargets {
                otlp_http: addrs[1],
                aws: aws_addr,
                web: addrs[2],
                xray_daemon: daemon_addr,
                rollbar_token: rollbar_token.clone(),
            };
            let (args, data_dir) = (args.clone(), settings.store.data_dir.clone());
            let started = tokio::task::spawn_blocking(move || Demo::start(&args, &targets, &data_dir)).await?;
            match started {
                Ok(demo) => Some(demo),
                Err(err) => {
                    let _ = stop_sender.send(true);
                    return Err(
                        err.context("cannot start the Cruddur demo (run `waggle up --no-demo` for waggle alone)")
                    );
                }
            }
        }
        _ => None,
    };
    print_banner(&settings, addrs, [aws_addr, daemon_addr], &rollbar_token, &mode, demo.as_ref());
    tokio::spawn(async move {
        wait_for_signal().await;
        if let Some(mut demo) = demo {
            // Cruddur flushes its last spans on the way out: keep serving until it is gone.
            tracing::info!("stopping the Cruddur demo");
            let _ = tokio::task::spawn_blocking(move || demo.stop()).await;
        }
        tracing::info!("shutting down: finishing pending writes");
        let _ = stop_sender.send(true);
    });
    let (http, web, aws, grpc, daemon_sampling, daemon_segments) = tokio::join!(
        http.into_future(),
        web.into_future(),
        aws.into_future(),
        grpc,
        daemon_sampling.into_future(),
        daemon_segments
    );
    http.context("OTLP/HTTP server failed")?;
    web.context("web server failed")?;
    aws.context("AWS port server failed")?;
    daemon_sampling.context("X-Ray daemon (TCP) server failed")?;
    daemon_segments.context("X-Ray daemon (UDP) receiver failed")?;
    grpc.context("OTLP/gRPC server failed")?;
    tokio::task::spawn_blocking(move || store.close()).await?;
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn print_banner(
    settings: &Settings,
    [grpc, http, web]: [SocketAddr; 3],
    [aws, daemon]: [SocketAddr; 2],
    rollbar_token: &str,
    mode: &Mode,
    demo: Option<&Demo>,
) {
    let version = env!("CARGO_PKG_VERSION");
    let mut banner = format!("waggle {version} is up; data in {}\n\n", settings.store.data_dir.display());
    if waggle_console::is_built() {
        banner += &format!("  Console     http://{web}/   queries, heatmaps, traces, service map, logs, errors\n");
    } else {
        banner += "  Console     not built into this binary: run scripts/build-console.sh, then rebuild waggle\n";
    }
    banner += &format!("  OTLP/gRPC   http://{grpc}\n");
    banner += &format!("  OTLP/HTTP   http://{http}   POST /v1/traces, /v1/logs\n");
    banner += &format!("  Web + API   http://{web}   GET /api/traces, /api/traces/<id>, /api/datasets\n");
    banner += &format!("  AWS         http://{aws}   CloudWatch Logs (X-Amz-Target: Logs_20140328.*), X-Ray API\n");
    banner += &format!("  X-Ray       udp+tcp {daemon}   daemon: segments (UDP), sampling rules and targets (TCP)\n\n");
    banner += "Point OpenTelemetry at it (the bootcamp's variables):\n";
    banner += &format!("  export OTEL_EXPORTER_OTLP_ENDPOINT=http://{http}\n");
    banner += "  export OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=local\n";
    banner += &format!("Point boto3, watchtower and the AWS CLI at it: export AWS_ENDPOINT_URL=http://{aws}\n");
    banner += &format!("Point the X-Ray SDK at it: export AWS_XRAY_DAEMON_ADDRESS={daemon}\n");
    banner += &format!(
        "Point Rollbar at it: rollbar.init('{rollbar_token}', 'production', endpoint='http://{web}/api/1/')\n"
    );
    banner += &format!("Then: waggle trace <trace id> --url http://{web}\n");
    if let Some(demo) = demo {
        banner += &format!(
            "\nCruddur demo (traffic from five users; garek's requests are slow), log in {}:\n",
            demo.log.display()
        );
        banner += &format!("  Frontend    http://{}\n", demo.frontend);
        banner += &format!("  Backend     http://{}/api/activities/home\n", demo.backend);
        banner += &format!("Try: waggle query -d cruddur-backend -c 'HEATMAP(duration_ms)' --url http://{web}\n");
        banner += &format!("     waggle query -c 'P99(duration_ms)' -b app.user_id --url http://{web}\n");
        banner += &format!(
            "     AWS_ENDPOINT_URL=http://{aws} aws logs filter-log-events --log-group-name cruddur \\\n         \
             --filter-pattern '{{ $.status >= 500 }}'   (its log lines, sent every 5 s)\n"
        );
        banner += &format!(
            "     curl -H 'X-Rollbar-Access-Token: {rollbar_token}' http://{web}/api/1/items   (its errors)\n"
        );
    } else if let Mode::Up { demo: None } = mode {
        banner += "\n(waggle alone: --no-demo)\n";
    }
    banner += "Stop with Ctrl-C.\n";
    // A server keeps serving when nobody reads its stdout any more (println! would panic).
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(banner.as_bytes()).and_then(|()| stdout.flush());
}
