//! Starting the waggle under test and reading its memory and store statistics.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub struct Server {
    child: Child,
    pub otlp_http: String,
    pub web: String,
}

impl Server {
    /// Starts `waggle serve` on free ports and waits for its banner. `flush_interval` (such as
    /// `2s`) overrides waggle's default (30 s).
    pub fn start(binary: &str, data_dir: &Path, flush_interval: Option<&str>) -> Result<Self> {
        let mut child = Command::new(binary)
            .args([
                "serve",
                "--otlp-grpc-addr",
                "127.0.0.1:0",
                "--otlp-http-addr",
                "127.0.0.1:0",
                "--web-addr",
                "127.0.0.1:0",
                "--aws-addr",
                "127.0.0.1:0",
                "--xray-daemon-addr",
                "127.0.0.1:0",
            ])
            .args(["--retention-check-interval", "1h"])
            .args(flush_interval.map(|interval| ["--flush-interval", interval]).into_iter().flatten())
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {binary}; build it first: cargo build --release -p waggle"))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let (mut otlp_http, mut web) = (None, None);
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line?;
            let address =
                || line.split("http://").nth(1).and_then(|rest| rest.split_whitespace().next()).map(str::to_owned);
            if line.trim_start().starts_with("OTLP/HTTP") {
                otlp_http = address();
            } else if line.trim_start().starts_with("Web + API") {
                web = address();
            }
            if otlp_http.is_some() && web.is_some() {
                break;
            }
        }
        // Keep reading so the server never writes into a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        match (otlp_http, web) {
            (Some(otlp_http), Some(web)) => Ok(Self { child, otlp_http, web }),
            _ => bail!("waggle did not print its endpoints"),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until everything acknowledged is in segments; returns `/api/stats`.
    pub fn wait_flushed(&self, timeout: Duration) -> Result<serde_json::Value> {
        let started = Instant::now();
        loop {
            let stats: serde_json::Value =
                ureq::get(&format!("http://{}/api/stats", self.web)).call()?.body_mut().read_json()?;
            if stats["head_rows"].as_u64() == Some(0) || started.elapsed() > timeout {
                return Ok(stats);
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// (peak RSS, current RSS) in KiB, from /proc.
    pub fn memory_kib(&self) -> Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let field = |name: &str| {
            status
                .lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
                .unwrap_or(0)
        };
        Ok((field("VmHWM:"), field("VmRSS:")))
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status();
        let _ = self.child.wait();
    }
}

/// How long a sender waits after a refusal before sending again.
pub const RETRY_AFTER: Duration = Duration::from_millis(100);

/// How waggle answered an export request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 200: durable.
    Acknowledged,
    /// 503 or 429: overloaded; wait and send again.
    Refused,
}

/// Posts one OTLP/HTTP protobuf export request. Any answer but 200, 503 and 429 is an error.
pub fn export(agent: &ureq::Agent, url: &str, body: &[u8]) -> Result<Answer> {
    let response = agent.post(url).header("content-type", "application/x-protobuf").send(body)?;
    match response.status().as_u16() {
        200 => Ok(Answer::Acknowledged),
        503 | 429 => Ok(Answer::Refused),
        status => bail!("waggle answered {status}"),
    }
}

/// An HTTP agent that returns error statuses as answers rather than errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// Total bytes of files under a directory.
pub fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() { dir_size(&entry.path())? } else { meta.len() };
    }
    Ok(total)
}
