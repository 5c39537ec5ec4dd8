//! The sampler's link to the daemon: a thread that fetches the rules (`POST /GetSamplingRules`,
//! at start and every 5 minutes) and reports statistics for quotas (`POST /SamplingTargets`,
//! every 10 seconds) on the daemon's TCP port, unsigned, as the X-Ray SDKs do. A failed call is
//! logged once (and its recovery), then retried at the next period; until rules arrive the
//! sampler uses the SDKs' local default. The thread also logs segments the daemon did not take.

use std::hash::BuildHasher as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value as Json, json};

use super::config::XrayConfig;
use super::recorder::{Recorder, epoch_seconds};
use super::sampling::{RuleDefinition, StatisticsDocument, TargetsResponse, parse_rules};

/// A daemon call that takes longer is abandoned (the daemon is local).
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Pages of rules followed at most (X-Ray allows 25 rules, one page).
const MAX_RULE_PAGES: usize = 10;

/// The running poller; [`Poller::stop`] ends it.
#[derive(Debug)]
pub(crate) struct Poller {
    stop: mpsc::Sender<()>,
}

impl Poller {
    pub(crate) fn spawn(recorder: Arc<Recorder>, config: &XrayConfig) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel();
        let daemon = Daemon { base: format!("http://{}", config.tcp), client_id: client_id() };
        let periods = (config.rules_interval, config.targets_interval);
        std::thread::Builder::new()
            .name("xray-sampling".into())
            .spawn(move || run(&recorder, &daemon, periods, &stopped))?;
        Ok(Self { stop })
    }

    /// Ends the thread at its next wake-up (at once unless a call is in flight; the thread is not
    /// waited for).
    pub(crate) fn stop(self) {
        let _ = self.stop.send(());
    }
}

/// 24 hex characters naming this process in its reports (random per start).
fn client_id() -> String {
    let state = std::collections::hash_map::RandomState::new();
    format!("{:016x}{:08x}", state.hash_one(1_u8), state.hash_one(2_u8) as u32)
}

struct Daemon {
    base: String,
    client_id: String,
}

impl Daemon {
    fn post(&self, client: &reqwest::blocking::Client, path: &str, body: &Json) -> Result<Json, String> {
        let url = format!("{}{path}", self.base);
        let response = client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .map_err(|err| format!("POST {url}: {err}"))?;
        let status = response.status();
        let bytes = response.bytes().map_err(|err| format!("POST {url}: {err}"))?;
        if !status.is_success() {
            return Err(format!("POST {url}: HTTP {status}: {}", String::from_utf8_lossy(&bytes)));
        }
        serde_json::from_slice(&bytes).map_err(|err| format!("POST {url}: the answer is not JSON: {err}"))
    }

    fn rules(&self, client: &reqwest::blocking::Client) -> Result<Vec<RuleDefinition>, String> {
        let mut rules = Vec::new();
        let mut body = json!({});
        for _ in 0..MAX_RULE_PAGES {
            let page = self.post(client, "/GetSamplingRules", &body)?;
            rules.extend(parse_rules(&page));
            match page.get("NextToken").and_then(Json::as_str).filter(|token| !token.is_empty()) {
                Some(token) => body = json!({ "NextToken": token }),
                None => break,
            }
        }
        Ok(rules)
    }

    fn targets(
        &self,
        client: &reqwest::blocking::Client,
        statistics: &[StatisticsDocument],
    ) -> Result<TargetsResponse, String> {
        let answer = self.post(client, "/SamplingTargets", &json!({ "SamplingStatisticsDocuments": statistics }))?;
        serde_json::from_value(answer)
            .map_err(|err| format!("POST {}/SamplingTargets: unexpected answer: {err}", self.base))
    }
}

/// Logs a failing call once, and its recovery.
#[derive(Default)]
struct Health {
    failing: bool,
}

impl Health {
    fn failed(&mut self, error: &str) {
        if !self.failing {
            tracing::warn!(%error, "x-ray: the daemon's sampling API failed; local sampling rules apply until it answers");
        }
        self.failing = true;
    }

    fn ok(&mut self, base: &str) {
        if self.failing {
            tracing::info!(daemon = base, "x-ray: the daemon's sampling API answers again");
        }
        self.failing = false;
    }
}

fn run(
    recorder: &Recorder,
    daemon: &Daemon,
    (rules_every, targets_every): (Duration, Duration),
    stopped: &mpsc::Receiver<()>,
) {
    let client = match reqwest::blocking::Client::builder().timeout(CALL_TIMEOUT).no_proxy().build() {
        Ok(client) => client,
        Err(err) => {
            tracing::warn!(%err, "x-ray: no HTTP client for the daemon's sampling API; local sampling rules apply");
            return;
        }
    };
    let (mut next_rules, mut next_targets) = (Instant::now(), Instant::now() + targets_every);
    let mut health = Health::default();
    let mut known_rules: Vec<String> = Vec::new();
    let mut logged_failures = (0, 0);
    loop {
        if Instant::now() >= next_rules {
            match daemon.rules(&client) {
                Ok(rules) => {
                    health.ok(&daemon.base);
                    let mut sampler = recorder.sampler.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    sampler.update_rules(rules, epoch_seconds(SystemTime::now()));
                    let names: Vec<String> = sampler.rule_names().into_iter().map(str::to_owned).collect();
                    drop(sampler);
                    if names != known_rules {
                        tracing::info!(daemon = daemon.base, rules = names.join(", "), "x-ray: sampling rules fetched");
                        known_rules = names;
                    }
                    next_rules = Instant::now() + rules_every;
                }
                Err(error) => {
                    health.failed(&error);
                    next_rules = Instant::now() + targets_every.min(rules_every);
                }
            }
        }
        if Instant::now() >= next_targets {
            let statistics = recorder
                .sampler
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take_statistics(&daemon.client_id, epoch_seconds(SystemTime::now()));
            if !statistics.is_empty() {
                match daemon.targets(&client, &statistics) {
                    Ok(targets) => {
                        health.ok(&daemon.base);
                        let changed = recorder
                            .sampler
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .apply_targets(&targets);
                        if changed {
                            next_rules = Instant::now();
                        }
                    }
                    Err(error) => health.failed(&error),
                }
            }
            next_targets = Instant::now() + targets_every;
            logged_failures = log_send_failures(recorder, logged_failures);
        }
        let wait = next_rules.min(next_targets).saturating_duration_since(Instant::now());
        match stopped.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Logs segments lost since the last call; returns the totals logged so far.
fn log_send_failures(recorder: &Recorder, (failed_before, large_before): (u64, u64)) -> (u64, u64) {
    let failed = recorder.send_failures.load(Ordering::Relaxed);
    let large = recorder.too_large.load(Ordering::Relaxed);
    if failed > failed_before {
        tracing::warn!(
            daemon = %recorder.daemon(),
            lost = failed - failed_before,
            "x-ray: segments were not sent: is the daemon (or waggle) listening on UDP?"
        );
    }
    if large > large_before {
        tracing::warn!(lost = large - large_before, "x-ray: segment documents over 64 KB were dropped");
    }
    (failed, large)
}
