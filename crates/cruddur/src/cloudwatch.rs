//! The `cruddur-backend` logger's CloudWatch Logs handler: the bootcamp's watchtower
//! (`watchtower.CloudWatchLogHandler(log_group='cruddur')`) over the official AWS SDK.
//!
//! Every `tracing` event with target [`LOGGER`] goes to the console (the fmt layer of
//! `cruddur-telemetry`) and, when `ENABLE_CLOUD_WATCH_LOG` is true, to this handler as one JSON line.
//! The handler never blocks the caller: the layer queues lines on a channel, and a background task
//! batches them like watchtower (a batch is sent at 1,048,576 bytes counted as UTF-8 message bytes
//! plus 26 per event, at 10,000 events, when it would span more than 24 hours, every send interval,
//! and at shutdown) and ships them with `PutLogEvents`. As watchtower does, the group is looked up
//! (`DescribeLogGroups`) and created if missing at start, and the stream is created only when
//! `PutLogEvents` answers `ResourceNotFoundException`, then the batch is sent again.
//!
//! Endpoint, region and credentials come from the standard AWS variables (`AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, ...), read by `aws-config`.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};
use tracing::field::{Field, Visit};
use tracing::instrument::WithSubscriber as _;
use tracing::level_filters::LevelFilter;
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::Context;

/// The application's named logger: the `tracing` target of every line meant for the log group.
pub const LOGGER: &str = "cruddur-backend";

/// CloudWatch's limit on a `PutLogEvents` call: UTF-8 message bytes plus [`EVENT_OVERHEAD`] per event.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// CloudWatch's limit on the events of one call.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// Bytes CloudWatch counts for each event on top of its message.
pub const EVENT_OVERHEAD: usize = 26;
/// CloudWatch's limit on one event (message plus overhead); longer messages are truncated.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;
/// The longest time a batch may span.
pub const MAX_BATCH_SPAN_MS: i64 = 24 * 3600 * 1000;
/// Lines waiting for the shipper; beyond this, new lines are dropped (and counted) rather than block.
const QUEUE_CAPACITY: usize = 20_000;
/// `PutLogEvents` attempts per batch (watchtower's 5), creating the stream in between.
const MAX_ATTEMPTS: usize = 5;
/// How long shutdown waits for the last batch.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how often to ship.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudWatchConfig {
    /// The log group (`cruddur`).
    pub log_group: String,
    /// This instance's stream: watchtower's `{machine}/{program}/{logger}/{pid}` by default.
    pub log_stream: String,
    /// The longest a line waits before its batch is sent (watchtower's `send_interval`, 60 s).
    pub send_interval: Duration,
}

impl CloudWatchConfig {
    /// `None` unless `ENABLE_CLOUD_WATCH_LOG` is true (`true`, `1`, `yes`, `on`, any case);
    /// `CRUDDUR_CLOUDWATCH_LOG_GROUP`, `CRUDDUR_CLOUDWATCH_LOG_STREAM` and
    /// `CRUDDUR_CLOUDWATCH_SEND_INTERVAL` (seconds) override the defaults.
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<Self>> {
        let enabled = var("ENABLE_CLOUD_WATCH_LOG")
            .is_some_and(|value| matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"));
        if !enabled {
            return Ok(None);
        }
        let non_empty = |name: &str| var(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
        let send_interval = match non_empty("CRUDDUR_CLOUDWATCH_SEND_INTERVAL") {
            Some(text) => {
                let seconds: f64 = text.parse().map_err(|_| {
                    anyhow::anyhow!("CRUDDUR_CLOUDWATCH_SEND_INTERVAL must be a number of seconds, not {text:?}")
                })?;
                anyhow::ensure!(
                    seconds.is_finite() && seconds > 0.0,
                    "CRUDDUR_CLOUDWATCH_SEND_INTERVAL must be positive, not {text:?}"
                );
                Duration::from_secs_f64(seconds)
            }
            None => Duration::from_secs(60),
        };
        Ok(Some(Self {
            log_group: non_empty("CRUDDUR_CLOUDWATCH_LOG_GROUP").unwrap_or_else(|| "cruddur".to_owned()),
            log_stream: non_empty("CRUDDUR_CLOUDWATCH_LOG_STREAM").unwrap_or_else(default_stream_name),
            send_interval,
        }))
    }
}

/// watchtower's default stream name, `{machine_name}/{program_name}/{logger_name}/{process_id}`.
fn default_stream_name() -> String {
    format!("{}/cruddur/{LOGGER}/{}", crate::host_name(), std::process::id())
}

/// One log event: milliseconds since the epoch and the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// When it was logged, in ms since the Unix epoch.
    pub timestamp_ms: i64,
    /// The JSON line.
    pub message: String,
}

impl LogLine {
    fn size(&self) -> usize {
        self.message.len() + EVENT_OVERHEAD
    }
}

/// A message cut to CloudWatch's event limit, on a character boundary.
fn truncate_message(mut message: String) -> String {
    let limit = MAX_EVENT_BYTES - EVENT_OVERHEAD;
    if message.len() > limit {
        let mut end = limit;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
    }
    message
}

/// The batch being filled, with watchtower's limits.
#[derive(Debug, Default)]
pub struct Batcher {
    lines: Vec<LogLine>,
    bytes: usize,
    /// The earliest and latest timestamps held.
    range: Option<(i64, i64)>,
}

impl Batcher {
    /// Adds a line; answers the batch to send first when the line does not fit in the current one
    /// (size, count or time span), or when the line fills the batch to a limit (then the batch
    /// answered includes it).
    pub fn push(&mut self, mut line: LogLine) -> Option<Vec<LogLine>> {
        line.message = truncate_message(line.message);
        let ts = line.timestamp_ms;
        let too_long = self.range.is_some_and(|(low, high)| ts.max(high) - ts.min(low) > MAX_BATCH_SPAN_MS);
        let full_before = if self.bytes + line.size() > MAX_BATCH_BYTES || too_long { self.take() } else { None };
        self.range = Some(self.range.map_or((ts, ts), |(low, high)| (low.min(ts), high.max(ts))));
        self.bytes += line.size();
        self.lines.push(line);
        if self.lines.len() >= MAX_BATCH_EVENTS || self.bytes >= MAX_BATCH_BYTES {
            // Only one of the two can be due at once: a batch sent just before holds one line.
            return full_before.or_else(|| self.take());
        }
        full_before
    }

    /// Everything held, sorted by timestamp (CloudWatch wants chronological batches); `None` when empty.
    pub fn take(&mut self) -> Option<Vec<LogLine>> {
        if self.lines.is_empty() {
            return None;
        }
        self.bytes = 0;
        self.range = None;
        let mut lines = std::mem::take(&mut self.lines);
        lines.sort_by_key(|line| line.timestamp_ms);
        Some(lines)
    }

    /// Lines held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lines.len()
    }
}

enum Command {
    Line(LogLine),
    Flush(oneshot::Sender<()>),
}

/// The `tracing` layer turning [`LOGGER`] events into JSON lines for the shipper.
pub struct CloudWatchLayer {
    sender: mpsc::Sender<Command>,
}

impl CloudWatchLayer {
    /// The layer with its filter: [`LOGGER`] events at INFO and above.
    pub fn filtered<S>(self) -> impl Layer<S> + Send + Sync
    where
        S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        self.with_filter(Targets::new().with_target(LOGGER, LevelFilter::INFO))
    }
}

impl<S: Subscriber> Layer<S> for CloudWatchLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != LOGGER {
            return;
        }
        let now = SystemTime::now();
        let mut fields = JsonFields::default();
        event.record(&mut fields);
        let line = LogLine { timestamp_ms: unix_ms(now), message: json_line(now, event.metadata().level(), fields.0) };
        if self.sender.try_send(Command::Line(line)).is_err() {
            // Full queue (or the shipper stopped): dropping beats blocking a request.
            DROPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

static DROPPED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn unix_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_millis() as i64).unwrap_or(0)
}

/// `{"timestamp", "level", "logger", "message", ...the event's fields}`.
pub fn json_line(time: SystemTime, level: &tracing::Level, fields: Map<String, Value>) -> String {
    let mut line = Map::new();
    line.insert(
        "timestamp".into(),
        chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Millis, true).into(),
    );
    line.insert("level".into(), level.as_str().into());
    line.insert("logger".into(), LOGGER.into());
    line.extend(fields);
    Value::Object(line).to_string()
}

/// An event's fields as JSON values (`message` included).
#[derive(Default)]
struct JsonFields(Map<String, Value>);

impl Visit for JsonFields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.0.insert(field.name().to_owned(), text.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }
}

/// The shipper, before it has a runtime: lines logged meanwhile wait in the queue.
pub struct PendingShipper {
    config: CloudWatchConfig,
    receiver: mpsc::Receiver<Command>,
    sender: mpsc::Sender<Command>,
}

/// The layer for the subscriber and the shipper to start once the runtime runs.
pub fn layer(config: CloudWatchConfig) -> (CloudWatchLayer, PendingShipper) {
    let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
    (CloudWatchLayer { sender: sender.clone() }, PendingShipper { config, receiver, sender })
}

/// The running shipper.
pub struct Shipper {
    sender: mpsc::Sender<Command>,
    task: tokio::task::JoinHandle<()>,
}

impl PendingShipper {
    /// Builds the SDK client from the environment and starts shipping in a background task.
    /// Needs a Tokio runtime; the client is built in the task, so a slow region or credentials
    /// lookup does not hold the start-up back.
    pub fn start(self) -> Shipper {
        let PendingShipper { config, receiver, sender } = self;
        let work = async move {
            let client = Client::new(&sdk_config().await);
            ship(client, config, receiver).await;
        };
        // The shipper's own work (the SDK's spans and logs) must not become telemetry or log lines.
        let task = tokio::spawn(work.with_subscriber(tracing::subscriber::NoSubscriber::default()));
        Shipper { sender, task }
    }
}

/// The SDK's configuration from the standard variables, over rustls with the ring provider.
async fn sdk_config() -> aws_config::SdkConfig {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client).load().await;
    if config.region().is_some() {
        return config;
    }
    eprintln!("cruddur: CloudWatch Logs: no AWS region is configured (AWS_REGION): using us-east-1");
    config.into_builder().region(aws_config::Region::new("us-east-1")).build()
}

impl Shipper {
    /// Sends every line logged so far and stops; waits at most a few seconds.
    pub async fn shutdown(self) {
        let (done, flushed) = oneshot::channel();
        if self.sender.send(Command::Flush(done)).await.is_ok()
            && tokio::time::timeout(SHUTDOWN_TIMEOUT, flushed).await.is_err()
        {
            eprintln!("cruddur: CloudWatch Logs: the last log lines were not sent within {SHUTDOWN_TIMEOUT:?}");
        }
        self.task.abort();
        let dropped = DROPPED.load(std::sync::atomic::Ordering::Relaxed);
        if dropped > 0 {
            eprintln!("cruddur: CloudWatch Logs: {dropped} log lines were dropped (queue full)");
        }
    }
}

async fn ship(client: Client, config: CloudWatchConfig, mut receiver: mpsc::Receiver<Command>) {
    let group = &config.log_group;
    ensure_group(&client, group).await;
    let mut batcher = Batcher::default();
    let mut ticker = tokio::time::interval(config.send_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        tokio::select! {
            command = receiver.recv() => match command {
                Some(Command::Line(line)) => {
                    if let Some(batch) = batcher.push(line) {
                        put(&client, &config, batch).await;
                    }
                }
                Some(Command::Flush(done)) => {
                    // Lines queued before the flush request are already received: send them all.
                    while let Ok(Command::Line(line)) = receiver.try_recv() {
                        if let Some(batch) = batcher.push(line) {
                            put(&client, &config, batch).await;
                        }
                    }
                    if let Some(batch) = batcher.take() {
                        put(&client, &config, batch).await;
                    }
                    let _ = done.send(());
                    return;
                }
                None => return,
            },
            _ = ticker.tick() => {
                if let Some(batch) = batcher.take() {
                    put(&client, &config, batch).await;
                }
            }
        }
    }
}

/// watchtower at construction: `DescribeLogGroups(prefix)`, and `CreateLogGroup` when no group has
/// exactly this name; "already exists" and "operation aborted" are fine, other errors are reported.
async fn ensure_group(client: &Client, group: &str) {
    let exists = match client.describe_log_groups().log_group_name_prefix(group).send().await {
        Ok(answer) => answer.log_groups().iter().any(|found| found.log_group_name() == Some(group)),
        Err(_) => false,
    };
    if exists {
        return;
    }
    if let Err(error) = client.create_log_group().log_group_name(group).send().await {
        let service = error.as_service_error();
        if !service.is_some_and(|e| e.is_resource_already_exists_exception() || e.is_operation_aborted_exception()) {
            eprintln!("cruddur: CloudWatch Logs: cannot create log group {group}: {}", error_text(&error));
        }
    }
}

/// `PutLogEvents`, creating the stream (and the group, if it went away) on `ResourceNotFoundException`.
async fn put(client: &Client, config: &CloudWatchConfig, batch: Vec<LogLine>) {
    let count = batch.len();
    let events: Vec<InputLogEvent> = batch
        .into_iter()
        .filter_map(|line| InputLogEvent::builder().timestamp(line.timestamp_ms).message(line.message).build().ok())
        .collect();
    let (group, stream) = (&config.log_group, &config.log_stream);
    for attempt in 1..=MAX_ATTEMPTS {
        let sent = client
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(events.clone()))
            .send()
            .await;
        match sent {
            Ok(answer) => {
                if let Some(rejected) = answer.rejected_log_events_info() {
                    eprintln!("cruddur: CloudWatch Logs: events of a batch were rejected: {rejected:?}");
                }
                return;
            }
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                create_stream(client, group, stream).await;
            }
            Err(error) if attempt < MAX_ATTEMPTS && error.as_service_error().is_none() => {
                // Connection trouble (after the SDK's own retries): wait a little and try again.
                tokio::time::sleep(Duration::from_millis(200 * attempt as u64)).await;
            }
            Err(error) => {
                eprintln!("cruddur: CloudWatch Logs: {count} log lines lost: {}", error_text(&error));
                return;
            }
        }
    }
    eprintln!("cruddur: CloudWatch Logs: {count} log lines lost: {group}/{stream} could not be created");
}

async fn create_stream(client: &Client, group: &str, stream: &str) {
    let created = client.create_log_stream().log_group_name(group).log_stream_name(stream).send().await;
    if let Err(error) = created {
        match error.as_service_error() {
            Some(e) if e.is_resource_already_exists_exception() => {}
            Some(e) if e.is_resource_not_found_exception() => {
                // The group itself is gone: make it again (watchtower's create_log_group=True).
                ensure_group(client, group).await;
            }
            _ => eprintln!("cruddur: CloudWatch Logs: cannot create log stream {stream}: {}", error_text(&error)),
        }
    }
}

/// The error and its sources on one line (the SDK's `Display` is just "service error").
fn error_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(timestamp_ms: i64, len: usize) -> LogLine {
        LogLine { timestamp_ms, message: "x".repeat(len) }
    }

    #[test]
    fn test_config_needs_enable_and_reads_overrides() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
        };
        assert_eq!(CloudWatchConfig::from_lookup(vars(&[])).unwrap(), None);
        assert_eq!(CloudWatchConfig::from_lookup(vars(&[("ENABLE_CLOUD_WATCH_LOG", "False")])).unwrap(), None);
        let config = CloudWatchConfig::from_lookup(vars(&[("ENABLE_CLOUD_WATCH_LOG", "True")])).unwrap().unwrap();
        assert_eq!(config.log_group, "cruddur");
        assert_eq!(config.send_interval, Duration::from_secs(60));
        assert!(config.log_stream.ends_with(&format!("/cruddur/cruddur-backend/{}", std::process::id())));
        let config = CloudWatchConfig::from_lookup(vars(&[
            ("ENABLE_CLOUD_WATCH_LOG", "1"),
            ("CRUDDUR_CLOUDWATCH_LOG_GROUP", "g"),
            ("CRUDDUR_CLOUDWATCH_LOG_STREAM", "s"),
            ("CRUDDUR_CLOUDWATCH_SEND_INTERVAL", "0.5"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((config.log_group.as_str(), config.log_stream.as_str()), ("g", "s"));
        assert_eq!(config.send_interval, Duration::from_millis(500));
        const BAD: [(&str, &str); 2] = [("ENABLE_CLOUD_WATCH_LOG", "yes"), ("CRUDDUR_CLOUDWATCH_SEND_INTERVAL", "-1")];
        assert!(CloudWatchConfig::from_lookup(vars(&BAD)).is_err());
    }

    #[test]
    fn test_batch_flushes_at_ten_thousand_events() {
        let mut batcher = Batcher::default();
        for n in 0..MAX_BATCH_EVENTS - 1 {
            assert_eq!(batcher.push(line(n as i64, 10)), None);
        }
        let batch = batcher.push(line(20_000, 10)).expect("the 10,000th event fills the batch");
        assert_eq!(batch.len(), MAX_BATCH_EVENTS);
        assert_eq!(batcher.len(), 0);
        assert_eq!(batcher.take(), None);
    }

    #[test]
    fn test_batch_flushes_before_exceeding_the_byte_limit() {
        let mut batcher = Batcher::default();
        // Four events of 256 KiB (with overhead) fill 1 MiB exactly: sent with the fourth.
        for n in 0..3 {
            assert_eq!(batcher.push(line(n, MAX_EVENT_BYTES - EVENT_OVERHEAD)), None);
        }
        let batch = batcher.push(line(3, MAX_EVENT_BYTES - EVENT_OVERHEAD)).unwrap();
        assert_eq!(batch.len(), 4);
        assert_eq!(batch.iter().map(LogLine::size).sum::<usize>(), MAX_BATCH_BYTES);
        // Three big ones and a small one, then a big one that does not fit: the four go first.
        for n in 0..3 {
            assert_eq!(batcher.push(line(n, MAX_EVENT_BYTES - EVENT_OVERHEAD)), None);
        }
        assert_eq!(batcher.push(line(3, 100)), None);
        let batch = batcher.push(line(4, MAX_EVENT_BYTES - EVENT_OVERHEAD)).unwrap();
        assert_eq!(batch.len(), 4);
        assert!(batch.iter().map(LogLine::size).sum::<usize>() <= MAX_BATCH_BYTES);
        assert_eq!(batcher.len(), 1);
    }

    #[test]
    fn test_oversize_event_is_truncated_on_a_char_boundary() {
        let mut batcher = Batcher::default();
        let huge = LogLine { timestamp_ms: 1, message: "é".repeat(MAX_EVENT_BYTES) };
        assert_eq!(batcher.push(huge), None);
        let batch = batcher.take().unwrap();
        assert!(batch[0].size() <= MAX_EVENT_BYTES);
        assert!(batch[0].size() > MAX_EVENT_BYTES - 4);
        assert!(batch[0].message.chars().all(|c| c == 'é'));
    }

    #[test]
    fn test_batch_is_sorted_and_never_spans_more_than_a_day() {
        let mut batcher = Batcher::default();
        assert_eq!(batcher.push(line(5_000, 1)), None);
        assert_eq!(batcher.push(line(1_000, 1)), None);
        let batch = batcher.take().unwrap();
        assert_eq!(batch.iter().map(|l| l.timestamp_ms).collect::<Vec<_>>(), [1_000, 5_000]);
        assert_eq!(batcher.push(line(1_000, 1)), None);
        assert_eq!(batcher.push(line(1_000 + MAX_BATCH_SPAN_MS, 1)), None, "exactly 24 h fits");
        let batch = batcher.push(line(1_001 + MAX_BATCH_SPAN_MS, 1)).expect("over 24 h starts a new batch");
        assert_eq!(batch.len(), 2);
        assert_eq!(batcher.len(), 1);
    }

    #[test]
    fn test_layer_queues_json_lines_of_the_named_logger_only() {
        use tracing_subscriber::layer::SubscriberExt as _;
        let config = CloudWatchConfig {
            log_group: "cruddur".into(),
            log_stream: "s".into(),
            send_interval: Duration::from_secs(60),
        };
        let (layer, mut pending) = layer(config);
        let subscriber = tracing_subscriber::registry().with(layer.filtered());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: LOGGER, trace_id = "4bf92f3577b34da6a3ce929d0e0e4736", status = 200_u64, "GET / 200");
            tracing::info!("not the named logger");
            tracing::debug!(target: LOGGER, "below INFO");
        });
        let Ok(Command::Line(line)) = pending.receiver.try_recv() else { panic!("one line expected") };
        assert!(pending.receiver.try_recv().is_err(), "only the named logger's INFO line is shipped");
        let json: Value = serde_json::from_str(&line.message).unwrap();
        assert_eq!(json["logger"], "cruddur-backend");
        assert_eq!(json["level"], "INFO");
        assert_eq!(json["message"], "GET / 200");
        assert_eq!(json["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(json["status"], 200);
        assert!(json["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!((line.timestamp_ms - unix_ms(SystemTime::now())).abs() < 60_000);
    }
}
