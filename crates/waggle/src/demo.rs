//! The demo of `waggle up`: the Cruddur app (the `cruddur` binary next to `waggle`) wired to this
//! waggle, and a steady trickle of traffic from a few users, so a newcomer finds traces, a heatmap
//! with a slow band and a slow user the moment the console opens.
//!
//! Cruddur runs in its own process group, so Ctrl-C reaches waggle alone: waggle stops the traffic,
//! asks Cruddur to stop (SIGTERM: it flushes its last spans, log lines and Rollbar items to waggle,
//! still listening), waits, and only then stops its own servers.

use std::fs::File;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Where the demo's Cruddur listens.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Address of the demo's Cruddur backend API
    #[arg(long, env = "WAGGLE_CRUDDUR_BACKEND_ADDR", default_value = "127.0.0.1:4567")]
    pub cruddur_backend_addr: SocketAddr,
    /// Address of the demo's Cruddur browser frontend
    #[arg(long, env = "WAGGLE_CRUDDUR_FRONTEND_ADDR", default_value = "127.0.0.1:3000")]
    pub cruddur_frontend_addr: SocketAddr,
}
/// This waggle's receivers, where the demo's Cruddur sends its spans, logs and errors.
#[derive(Debug, Clone)]
pub struct DemoTargets {
    /// The OTLP/HTTP receiver (spans).
    pub otlp_http: SocketAddr,
    /// The AWS port: CloudWatch Logs (`ENABLE_CLOUD_WATCH_LOG`, log group `cruddur`).
    pub aws: SocketAddr,
    /// The web port: Rollbar's API (`/api/1/`).
    pub web: SocketAddr,
    /// The X-Ray daemon (UDP segments, TCP sampling rules): Cruddur's `AWS_XRAY_DAEMON_ADDRESS`.
    pub xray_daemon: SocketAddr,
    /// The Rollbar project token waggle created on first start.
    pub rollbar_token: String,
}

/// How long Cruddur gets to start, and to stop.
const CRUDDUR_TIMEOUT: Duration = Duration::from_secs(20);
/// Pause between demo requests: about five a second, a steady modest rate.
const REQUEST_INTERVAL: Duration = Duration::from_millis(200);

/// The running demo.
pub struct Demo {
    cruddur: Child,
    stop: Arc<AtomicBool>,
    traffic: Option<JoinHandle<()>>,
    /// Cruddur's output.
    pub log: PathBuf,
    /// Cruddur's backend.
    pub backend: SocketAddr,
    /// Cruddur's frontend.
    pub frontend: SocketAddr,
}

/// The `cruddur` binary installed beside `waggle` (cargo builds both into one directory).
fn cruddur_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the waggle binary's directory")?;
    let binary = exe.with_file_name("cruddur");
    if !binary.exists() {
        bail!(
            "the Cruddur demo app is not built next to waggle ({} is missing): build it with \
             `cargo build --release -p cruddur` (scripts/up.sh does), or run waggle alone with --no-demo",
            binary.display()
        );
    }
    Ok(binary)
}

impl Demo {
    /// Starts Cruddur exporting to `targets` (spans over OTLP/HTTP, X-Ray segments of the requests
    /// its sampling rules pick to the daemon, its `cruddur-backend` log lines to CloudWatch Logs,
    /// errors to Rollbar) and the traffic; Cruddur's output goes to `<data_dir>/cruddur.log`.
    pub fn start(args: &DemoArgs, targets: &DemoTargets, data_dir: &Path) -> Result<Self> {
        let binary = cruddur_binary()?;
        let log = data_dir.join("cruddur.log");
        let output = File::create(&log).with_context(|| format!("cannot write {}", log.display()))?;
        let endpoint = format!("http://{}", targets.otlp_http);
        let mut command = Command::new(&binary);
        // The bootcamp's watchtower handler, pointed at this waggle with dummy credentials (waggle
        // reads the SigV4 header but does not verify it); lines are sent every 5 s, not 60.
        command
            .env("ENABLE_CLOUD_WATCH_LOG", "true")
            .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", format!("http://{}", targets.aws))
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "waggle-demo")
            .env("AWS_SECRET_ACCESS_KEY", "waggle-demo")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env("CRUDDUR_CLOUDWATCH_SEND_INTERVAL", "5")
            // The bootcamp's X-Ray SDK set-up: segments named `backend-flask`, sampled by the
            // rules of this waggle (by default one request a second and 5% of the rest).
            .env("AWS_XRAY_DAEMON_ADDRESS", targets.xray_daemon.to_string());
        if !targets.rollbar_token.is_empty() {
            command
                .env("ROLLBAR_ACCESS_TOKEN", &targets.rollbar_token)
                .env("ROLLBAR_ENDPOINT", format!("http://{}/api/1/", targets.web))
                .env("ROLLBAR_ENVIRONMENT", "production");
        }
        let cruddur = command
            .arg("--backend-addr")
            .arg(args.cruddur_backend_addr.to_string())
            .arg("--frontend-addr")
            .arg(args.cruddur_frontend_addr.to_string())
            .env("OTEL_SERVICE_NAME", "cruddur-backend")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
            .env("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=local")
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            .env("FRONTEND_OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
            .env("CRUDDUR_DEMO", "true")
            .stdin(Stdio::null())
            .stdout(output.try_clone().context("cannot share the log file")?)
            .stderr(output)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut demo = Self {
            cruddur,
            stop: Arc::new(AtomicBool::new(false)),
            traffic: None,
            log,
            backend: args.cruddur_backend_addr,
            frontend: args.cruddur_frontend_addr,
        };
        if let Err(err) = demo.wait_ready() {
            demo.stop();
            return Err(err);
        }
        let (stop, backend) = (demo.stop.clone(), format!("http://{}", demo.backend));
        demo.traffic = Some(
            std::thread::Builder::new()
                .name("waggle-demo-traffic".into())
                .spawn(move || traffic::run(&backend, &stop))
                .context("cannot start the demo traffic")?,
        );
        Ok(demo)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + CRUDDUR_TIMEOUT;
        let health = format!("http://{}/api/health-check", self.backend);
        while Instant::now() < deadline {
            if let Some(status) = self.cruddur.try_wait()? {
                bail!("Cruddur exited ({status}) while starting; its log: {}\n{}", self.log.display(), self.log_tail());
            }
            if ureq::get(&health).call().is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("Cruddur did not answer {health} within {CRUDDUR_TIMEOUT:?}; its log:\n{}", self.log_tail())
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Stops the traffic, then Cruddur (SIGTERM, then SIGKILL after a timeout), and waits.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(traffic) = self.traffic.take() {
            let _ = traffic.join();
        }
        let pid = nix::unistd::Pid::from_raw(self.cruddur.id() as i32);
        if matches!(self.cruddur.try_wait(), Ok(None)) {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        }
        let deadline = Instant::now() + CRUDDUR_TIMEOUT;
        while matches!(self.cruddur.try_wait(), Ok(None)) {
            if Instant::now() > deadline {
                tracing::warn!("Cruddur did not stop within {CRUDDUR_TIMEOUT:?}: killing it");
                let _ = self.cruddur.kill();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The demo's requests: who asks for what, how often.
mod traffic {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::REQUEST_INTERVAL;

    /// The seeded users, most active first; `garek`'s requests are the slow ones (Cruddur's demo
    /// mode makes them so).
    const USERS: [(&str, u32); 5] = [("andrewbrown", 30), ("worf", 25), ("garek", 20), ("bayko", 15), ("coco", 10)];

    /// A tiny xorshift: the demo needs variety, not statistics.
    struct Dice(u64);

    impl Dice {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, bound: u32) -> u32 {
            (self.next() % bound as u64) as u32
        }

        fn weighted<'a, T>(&mut self, choices: &'a [(T, u32)]) -> &'a T {
            let total: u32 = choices.iter().map(|(_, weight)| weight).sum();
            let mut pick = self.below(total);
            for (choice, weight) in choices {
                if pick < *weight {
                    return choice;
                }
                pick -= weight;
            }
            &choices[0].0
        }
    }

    /// One request: method, path, JSON body.
    fn request(dice: &mut Dice, user: &str) -> (&'static str, String, Option<serde_json::Value>) {
        let others: Vec<&str> = USERS.iter().map(|(handle, _)| *handle).filter(|handle| *handle != user).collect();
        let other = others[dice.below(others.len() as u32) as usize];
        match dice.below(100) {
            0..=34 => ("GET", "/api/activities/home".into(), None),
            35..=44 => ("GET", "/api/activities/notifications".into(), None),
            45..=54 => ("GET", format!("/api/activities/@{other}"), None),
            55..=64 => (
                "GET",
                format!("/api/activities/search?term={}", ["crud", "bootcamp", "mock"][dice.below(3) as usize]),
                None,
            ),
            65..=72 => {
                // One post in four is empty: a 422 with its validation errors.
                let message =
                    if dice.below(4) == 0 { String::new() } else { format!("Demo post #{}", dice.below(10_000)) };
                ("POST", "/api/activities".into(), Some(serde_json::json!({"message": message, "ttl": "7-days"})))
            }
            73..=77 => ("GET", "/api/message_groups".into(), None),
            78..=84 => ("GET", format!("/api/messages/@{other}"), None),
            85..=88 => (
                "POST",
                "/api/messages".into(),
                Some(serde_json::json!({"user_receiver_handle": other, "message": "Hello from the demo"})),
            ),
            // An activity that does not exist: a 404.
            89..=91 => ("GET", "/api/activities/00000000-0000-4000-8000-000000000000".into(), None),
            _ => ("GET", "/api/health-check".into(), None),
        }
    }

    /// Sends requests until `stop`.
    pub fn run(backend: &str, stop: &AtomicBool) {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
        while !stop.load(Ordering::SeqCst) {
            let user = *dice.weighted(&USERS);
            let (method, path, body) = request(&mut dice, user);
            let url = format!("{backend}{path}");
            let result = match (method, body) {
                ("POST", Some(body)) => agent.post(&url).header("x-cruddur-user", user).send_json(body).map(drop),
                _ => agent.get(&url).header("x-cruddur-user", user).call().map(drop),
            };
            if let Err(err) = result {
                tracing::debug!(%err, %url, "demo request failed");
            }
            std::thread::sleep(REQUEST_INTERVAL);
        }
    }
}
