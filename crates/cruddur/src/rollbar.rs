//! Error reporting to Rollbar, as the bootcamp's Flask backend does with pyrollbar
//! (`rollbar.init(ROLLBAR_ACCESS_TOKEN, 'production')` and its Flask contrib).
//!
//! With `ROLLBAR_ACCESS_TOKEN` set, [`crate::observe`] reports every 5xx answer and every panic of a
//! handler as an item with a `trace` body (exception class and message, stack frames from
//! `std::backtrace`), the request, the person (`app.user_id`), the environment and the trace id
//! (`custom.trace_id`, which links the occurrence to its trace in waggle); `/rollbar/test` reports
//! the message `Hello World!` at level warning (`rollbar.report_message('Hello World!', 'warning')`).
//!
//! Reporting never blocks a request: items are queued for a background task, which resolves the
//! stack's symbols and posts to `{ROLLBAR_ENDPOINT}item/` (3 s timeout, as pyrollbar). Shutdown
//! sends what is queued.

use std::backtrace::Backtrace;
use std::cell::RefCell;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};
use tracing::instrument::WithSubscriber as _;

/// Rollbar's API, as pyrollbar's default endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://api.rollbar.com/api/1/";
/// Items waiting to be sent; beyond this they are dropped rather than block a request.
const QUEUE_CAPACITY: usize = 1_000;
/// pyrollbar's timeout.
const POST_TIMEOUT: Duration = Duration::from_secs(3);
/// How long shutdown waits for the queued items.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// Headers whose values are never sent (pyrollbar scrubs similar names).
const SCRUBBED: [&str; 6] = ["authorization", "cookie", "set-cookie", "token", "secret", "password"];

/// Who to report to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbarConfig {
    /// The project's `post_server_item` token.
    pub access_token: String,
    /// The API's base URL, ending in `/api/1/`; items go to `{endpoint}item/`.
    pub endpoint: String,
    /// `data.environment` (pyrollbar's second argument): `production` by default.
    pub environment: String,
    /// `data.code_version`, when known.
    pub code_version: Option<String>,
}

impl RollbarConfig {
    /// `None` unless `ROLLBAR_ACCESS_TOKEN` is set; `ROLLBAR_ENDPOINT`, `ROLLBAR_ENVIRONMENT` and
    /// `ROLLBAR_CODE_VERSION` override the defaults.
    pub fn from_env() -> Option<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let non_empty = |name: &str| var(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
        let access_token = non_empty("ROLLBAR_ACCESS_TOKEN")?;
        let mut endpoint = non_empty("ROLLBAR_ENDPOINT").unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        if !endpoint.ends_with('/') {
            endpoint.push('/');
        }
        Some(Self {
            access_token,
            endpoint,
            environment: non_empty("ROLLBAR_ENVIRONMENT").unwrap_or_else(|| "production".to_owned()),
            code_version: non_empty("ROLLBAR_CODE_VERSION"),
        })
    }

    /// Where items are posted.
    pub fn item_url(&self) -> String {
        format!("{}item/", self.endpoint)
    }
}

/// The request an occurrence happened in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The URL as the client asked for it (`http://host/path?query`).
    pub url: String,
    /// The matched route (`/api/activities/@{handle}`), when one matched.
    pub route: Option<String>,
    /// Query parameters, in order.
    pub query: Vec<(String, String)>,
    /// Request headers (sensitive values are scrubbed when the payload is built).
    pub headers: Vec<(String, String)>,
    /// The client's address.
    pub user_ip: Option<String>,
    /// `app.user_id`: the caller's handle.
    pub user_id: Option<String>,
    /// The request span's trace id (32 hex digits).
    pub trace_id: Option<String>,
    /// The request span's id (16 hex digits).
    pub span_id: Option<String>,
}

/// What happened.
#[derive(Debug, Clone)]
pub enum Body {
    /// `report_message`: a text.
    Message(String),
    /// An error or panic: its class, its message and the stack where it was seen.
    Trace {
        /// `exception.class` (the span's `exception.type`: `panic`, `database`, `UpstreamError`).
        class: String,
        /// `exception.message`.
        message: String,
        /// Resolved into frames by the background task.
        backtrace: Option<Arc<Backtrace>>,
    },
}

/// One occurrence to report.
#[derive(Debug, Clone)]
pub struct Occurrence {
    /// `debug`, `info`, `warning`, `error` or `critical`.
    pub level: &'static str,
    /// The message or trace.
    pub body: Body,
    /// The request, if there was one.
    pub request: Option<RequestContext>,
    /// When it happened.
    pub time: SystemTime,
}

/// One stack frame, as Rollbar wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The function.
    pub method: String,
    /// The source file, when the binary has line tables.
    pub filename: Option<String>,
    /// 1-based line.
    pub lineno: Option<u32>,
    /// 1-based column.
    pub colno: Option<u32>,
}

/// Frames of a `std::backtrace::Backtrace`'s text, oldest call first (Rollbar's order, as
/// Python's tracebacks), without the frames of the capture itself and of the panic machinery.
pub fn parse_backtrace(text: &str) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(location) = trimmed.strip_prefix("at ") {
            if let Some(frame) = frames.last_mut().filter(|frame| frame.filename.is_none()) {
                let mut parts = location.rsplitn(3, ':');
                let (col, row, file) = (parts.next(), parts.next(), parts.next());
                match (file, row.and_then(|r| r.parse().ok()), col.and_then(|c| c.parse().ok())) {
                    (Some(file), Some(row), Some(col)) => {
                        frame.filename = Some(file.to_owned());
                        frame.lineno = Some(row);
                        frame.colno = Some(col);
                    }
                    _ => frame.filename = Some(location.to_owned()),
                }
            }
        } else if let Some((index, method)) = trimmed.split_once(": ")
            && !index.is_empty()
            && index.bytes().all(|b| b.is_ascii_digit())
        {
            frames.push(Frame { method: method.to_owned(), filename: None, lineno: None, colno: None });
        }
    }
    // Innermost first in the text: drop the frames of the capture itself, of the panic hook and of
    // the panic machinery (all standard library, or this module) from the top, then turn the list
    // around.
    let machinery = |frame: &Frame| {
        const PREFIXES: [&str; 11] = [
            "std::",
            "core::",
            "alloc::",
            "<std::",
            "<core::",
            "<alloc::",
            "__rustc::",
            "rust_",
            "__rust",
            "cruddur::rollbar::capture",
            "cruddur::rollbar::install_panic_hook",
        ];
        PREFIXES.iter().any(|prefix| frame.method.starts_with(prefix))
    };
    let skip = frames.iter().take_while(|frame| machinery(frame)).count();
    let mut frames = frames.split_off(skip);
    frames.reverse();
    frames
}

/// The frames as Rollbar's JSON.
fn frames_json(frames: &[Frame]) -> Vec<Value> {
    frames
        .iter()
        .map(|frame| {
            let mut out = Map::new();
            out.insert("method".into(), frame.method.clone().into());
            out.insert("filename".into(), frame.filename.clone().unwrap_or_else(|| "<unknown>".to_owned()).into());
            if let Some(lineno) = frame.lineno {
                out.insert("lineno".into(), lineno.into());
            }
            if let Some(colno) = frame.colno {
                out.insert("colno".into(), colno.into());
            }
            Value::Object(out)
        })
        .collect()
}

fn scrub(name: &str, value: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if SCRUBBED.iter().any(|word| lower.contains(word)) { "*".repeat(value.len().clamp(1, 8)) } else { value.into() }
}

/// The workspace Cruddur was built from, as its own frames' file names begin (pyrollbar's `root`,
/// Rollbar's `server.root`, without the final slash). Rollbar cuts it from file names when it
/// groups occurrences into items, so that an error is one item whichever checkout built the binary.
fn source_root() -> &'static str {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir.parent().and_then(std::path::Path::parent).and_then(std::path::Path::to_str).unwrap_or("")
}

/// The item's `data`, as pyrollbar builds it; `frames` are the resolved stack of a trace body.
pub fn build_data(config: &RollbarConfig, occurrence: &Occurrence, frames: &[Frame]) -> Value {
    let body = match &occurrence.body {
        Body::Message(text) => json!({ "message": { "body": text } }),
        Body::Trace { class, message, .. } => json!({
            "trace": {
                "frames": frames_json(frames),
                "exception": { "class": class, "message": message },
            }
        }),
    };
    let timestamp = occurrence.time.duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0);
    let mut data = json!({
        "environment": config.environment,
        "level": occurrence.level,
        "timestamp": timestamp,
        "uuid": uuid::Uuid::new_v4().to_string(),
        "platform": std::env::consts::OS,
        "language": "rust",
        "framework": "axum",
        "notifier": { "name": "cruddur-rollbar", "version": env!("CARGO_PKG_VERSION") },
        "server": {
            "host": crate::host_name(),
            "root": source_root(),
            "pid": std::process::id(),
            "argv": std::env::args().collect::<Vec<_>>(),
        },
        "body": body,
    });
    if let Some(version) = &config.code_version {
        data["code_version"] = version.clone().into();
    }
    if let Some(request) = &occurrence.request {
        let headers: Map<String, Value> =
            request.headers.iter().map(|(name, value)| (name.clone(), scrub(name, value).into())).collect();
        let query: Map<String, Value> =
            request.query.iter().map(|(name, value)| (name.clone(), scrub(name, value).into())).collect();
        let mut out = json!({ "url": request.url, "method": request.method, "headers": headers, "GET": query });
        if let Some(ip) = &request.user_ip {
            out["user_ip"] = ip.clone().into();
        }
        data["request"] = out;
        data["context"] = match &request.route {
            Some(route) => format!("{} {route}", request.method),
            None => request.method.clone(),
        }
        .into();
        if let Some(user) = &request.user_id {
            data["person"] = json!({ "id": user, "username": user });
        }
        if let Some(trace_id) = &request.trace_id {
            let mut custom = json!({ "trace_id": trace_id });
            if let Some(span_id) = &request.span_id {
                custom["span_id"] = span_id.clone().into();
            }
            data["custom"] = custom;
        }
    }
    data
}

pub(crate) enum Command {
    Item(Box<Occurrence>),
    Flush(oneshot::Sender<()>),
}

/// A handle to the reporter; cheap to clone.
#[derive(Clone)]
pub struct Rollbar {
    sender: mpsc::Sender<Command>,
}

impl std::fmt::Debug for Rollbar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rollbar")
    }
}

/// The reporter's background task.
pub struct Reporter {
    sender: mpsc::Sender<Command>,
    task: tokio::task::JoinHandle<()>,
}

static GLOBAL: OnceLock<Rollbar> = OnceLock::new();

/// The reporter configured at start, if any (pyrollbar's module-level `rollbar.init`).
pub fn global() -> Option<&'static Rollbar> {
    GLOBAL.get()
}

/// Starts the reporter (inside a Tokio runtime), makes it the [`global`] one and installs the
/// panic hook that keeps each panic's stack for the report.
pub fn start(config: RollbarConfig) -> anyhow::Result<Reporter> {
    // https:// needs a rustls crypto provider; an error only means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().timeout(POST_TIMEOUT).build()?;
    let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
    // The reporter's own HTTP calls must not become telemetry.
    let task = tokio::spawn(
        send_items(client, config, receiver).with_subscriber(tracing::subscriber::NoSubscriber::default()),
    );
    let _ = GLOBAL.set(Rollbar { sender: sender.clone() });
    install_panic_hook();
    Ok(Reporter { sender, task })
}

impl Rollbar {
    /// A reporter whose items go to `receiver` instead of Rollbar (tests).
    #[cfg(test)]
    pub(crate) fn channel() -> (Self, mpsc::Receiver<Command>) {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        (Self { sender }, receiver)
    }

    /// Queues an occurrence; false when the queue is full or the reporter stopped.
    pub fn report(&self, occurrence: Occurrence) -> bool {
        self.sender.try_send(Command::Item(Box::new(occurrence))).is_ok()
    }

    /// `rollbar.report_message(text, level)`.
    pub fn report_message(&self, text: &str, level: &'static str, request: Option<RequestContext>) -> bool {
        self.report(Occurrence { level, body: Body::Message(text.to_owned()), request, time: SystemTime::now() })
    }
}

impl Reporter {
    /// Sends every queued item, then stops; waits at most a few seconds.
    pub async fn shutdown(self) {
        let (done, sent) = oneshot::channel();
        if self.sender.send(Command::Flush(done)).await.is_ok()
            && tokio::time::timeout(SHUTDOWN_TIMEOUT, sent).await.is_err()
        {
            eprintln!("cruddur: Rollbar: the last items were not sent within {SHUTDOWN_TIMEOUT:?}");
        }
        self.task.abort();
    }
}

async fn send_items(client: reqwest::Client, config: RollbarConfig, mut receiver: mpsc::Receiver<Command>) {
    let config = Arc::new(config);
    while let Some(command) = receiver.recv().await {
        match command {
            Command::Item(occurrence) => post(&client, &config, *occurrence).await,
            Command::Flush(done) => {
                while let Ok(Command::Item(occurrence)) = receiver.try_recv() {
                    post(&client, &config, *occurrence).await;
                }
                let _ = done.send(());
                return;
            }
        }
    }
}

/// Resolves the frames (symbol lookup is slow: off the async workers) and posts the item.
async fn post(client: &reqwest::Client, config: &Arc<RollbarConfig>, occurrence: Occurrence) {
    let payload = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            let frames = match &occurrence.body {
                Body::Trace { backtrace: Some(backtrace), .. } => parse_backtrace(&backtrace.to_string()),
                _ => Vec::new(),
            };
            json!({ "access_token": config.access_token, "data": build_data(&config, &occurrence, &frames) })
        })
        .await
    };
    let Ok(payload) = payload else { return };
    let sent = client
        .post(config.item_url())
        .header("X-Rollbar-Access-Token", &config.access_token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(payload.to_string())
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => {}
        Ok(response) => {
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            eprintln!("cruddur: Rollbar answered {status}: {}", text.chars().take(300).collect::<String>());
        }
        Err(error) => eprintln!("cruddur: Rollbar: cannot send an item to {}: {error}", config.item_url()),
    }
}

/// A panic seen by the hook: its message and where it happened.
#[derive(Debug, Clone)]
pub struct PanicCapture {
    /// `panic: <payload> at file:line:col`.
    pub message: String,
    /// The stack at the panic.
    pub backtrace: Arc<Backtrace>,
}

thread_local! {
    /// The last panic on this thread; taken by whoever catches it (the unwinding stays on the
    /// thread that polled the panicking future).
    static LAST_PANIC: RefCell<Option<PanicCapture>> = const { RefCell::new(None) };
}

/// Keeps each panic's message and stack for [`take_panic`], then runs the previous hook.
pub fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
                .unwrap_or("handler panicked");
            let message = match info.location() {
                Some(location) => format!("{payload} at {location}"),
                None => payload.to_owned(),
            };
            let capture = PanicCapture { message, backtrace: Arc::new(Backtrace::force_capture()) };
            LAST_PANIC.with(|last| *last.borrow_mut() = Some(capture));
            previous(info);
        }));
    });
}

/// The panic the hook saw last on this thread, if any (and forgets it).
pub fn take_panic() -> Option<PanicCapture> {
    LAST_PANIC.with(|last| last.borrow_mut().take())
}

/// The stack here, for an error answer.
pub fn capture() -> Arc<Backtrace> {
    Arc::new(Backtrace::force_capture())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RollbarConfig {
        RollbarConfig {
            access_token: "token".into(),
            endpoint: "http://127.0.0.1:7070/api/1/".into(),
            environment: "production".into(),
            code_version: None,
        }
    }

    #[test]
    fn test_config_needs_a_token_and_defaults_to_production_on_rollbar_com() {
        assert_eq!(RollbarConfig::from_lookup(|_| None), None);
        assert_eq!(RollbarConfig::from_lookup(|name| (name == "ROLLBAR_ACCESS_TOKEN").then(|| " ".into())), None);
        let config = RollbarConfig::from_lookup(|name| (name == "ROLLBAR_ACCESS_TOKEN").then(|| "abc".into())).unwrap();
        assert_eq!(
            (config.environment.as_str(), config.item_url()),
            ("production", format!("{DEFAULT_ENDPOINT}item/"))
        );
        let config = RollbarConfig::from_lookup(|name| match name {
            "ROLLBAR_ACCESS_TOKEN" => Some("abc".into()),
            "ROLLBAR_ENDPOINT" => Some("http://127.0.0.1:7070/api/1".into()),
            "ROLLBAR_ENVIRONMENT" => Some("staging".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.item_url(), "http://127.0.0.1:7070/api/1/item/");
        assert_eq!(config.environment, "staging");
    }

    #[test]
    fn test_message_payload_is_pyrollbars_report_message() {
        let occurrence = Occurrence {
            level: "warning",
            body: Body::Message("Hello World!".into()),
            request: None,
            time: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        };
        let data = build_data(&config(), &occurrence, &[]);
        assert_eq!(data["body"], json!({ "message": { "body": "Hello World!" } }));
        assert_eq!(data["level"], "warning");
        assert_eq!(data["environment"], "production");
        assert_eq!(data["timestamp"], 1_700_000_000);
        assert_eq!(data["language"], "rust");
        assert_eq!(data["notifier"]["name"], "cruddur-rollbar");
        assert_eq!(data["uuid"].as_str().unwrap().len(), 36);
        assert!(data.get("request").is_none() && data.get("person").is_none() && data.get("custom").is_none());
    }

    #[test]
    fn test_error_payload_has_frames_request_person_and_trace_id() {
        let request = RequestContext {
            method: "GET".into(),
            url: "http://127.0.0.1:4567/api/activities/home?x=1".into(),
            route: Some("/api/activities/home".into()),
            query: vec![("x".into(), "1".into()), ("api_token".into(), "hunter2".into())],
            headers: vec![("x-cruddur-user".into(), "worf".into()), ("Authorization".into(), "Bearer s3cret".into())],
            user_ip: Some("127.0.0.1".into()),
            user_id: Some("worf".into()),
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            span_id: Some("00f067aa0ba902b7".into()),
        };
        let occurrence = Occurrence {
            level: "error",
            body: Body::Trace { class: "UpstreamError".into(), message: "connection reset".into(), backtrace: None },
            request: Some(request),
            time: SystemTime::now(),
        };
        let frames = [
            Frame { method: "main".into(), filename: Some("src/main.rs".into()), lineno: Some(3), colno: Some(1) },
            Frame { method: "<unknown>".into(), filename: None, lineno: None, colno: None },
        ];
        let data = build_data(&config(), &occurrence, &frames);
        assert_eq!(
            data["body"]["trace"]["exception"],
            json!({"class": "UpstreamError", "message": "connection reset"})
        );
        assert_eq!(
            data["body"]["trace"]["frames"],
            json!([{"method": "main", "filename": "src/main.rs", "lineno": 3, "colno": 1},
                   {"method": "<unknown>", "filename": "<unknown>"}])
        );
        assert_eq!(data["person"], json!({"id": "worf", "username": "worf"}));
        assert_eq!(
            data["custom"],
            json!({"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"})
        );
        assert_eq!(data["context"], "GET /api/activities/home");
        assert_eq!(data["request"]["method"], "GET");
        assert_eq!(data["request"]["user_ip"], "127.0.0.1");
        assert_eq!(data["request"]["GET"], json!({"x": "1", "api_token": "*******"}));
        assert_eq!(data["request"]["headers"]["x-cruddur-user"], "worf");
        assert_eq!(data["request"]["headers"]["Authorization"], "********");
    }

    #[test]
    fn test_backtrace_text_becomes_frames_oldest_first_without_the_capture() {
        let text = "   0: std::backtrace_rs::backtrace::libunwind::trace
             at /rustc/abc/library/std/src/../../backtrace/src/backtrace/libunwind.rs:117:9
   1: std::backtrace::Backtrace::create
             at /rustc/abc/library/std/src/backtrace.rs:331:13
   2: cruddur::rollbar::capture
             at ./crates/cruddur/src/rollbar.rs:10:5
   3: cruddur::error::<impl IntoResponse for cruddur::error::ApiError>::into_response
             at ./crates/cruddur/src/error.rs:60:20
   4: <unknown>
   5: tokio::runtime::task::harness::poll_future
             at /home/u/.cargo/registry/src/index/tokio-1.0.0/src/runtime/task/harness.rs:473:19
";
        let frames = parse_backtrace(text);
        let methods: Vec<&str> = frames.iter().map(|frame| frame.method.as_str()).collect();
        assert_eq!(
            methods,
            [
                "tokio::runtime::task::harness::poll_future",
                "<unknown>",
                "cruddur::error::<impl IntoResponse for cruddur::error::ApiError>::into_response"
            ]
        );
        assert_eq!(frames[2].filename.as_deref(), Some("./crates/cruddur/src/error.rs"));
        assert_eq!((frames[2].lineno, frames[2].colno), (Some(60), Some(20)));
        assert_eq!(frames[1].filename, None);
    }

    #[test]
    fn test_a_real_backtrace_names_this_function() {
        #[inline(never)]
        fn where_it_failed() -> Arc<Backtrace> {
            capture()
        }
        let frames = parse_backtrace(&where_it_failed().to_string());
        let last = frames.iter().rposition(|frame| frame.method.contains("where_it_failed"));
        assert!(last.is_some(), "frames: {frames:?}");
        assert!(frames.iter().all(|frame| !frame.method.starts_with("std::backtrace")));
        let frame = &frames[last.unwrap()];
        assert!(frame.filename.as_deref().is_some_and(|file| file.ends_with("rollbar.rs")), "{frame:?}");
        // Absolute (release builds' line tables) from server.root on; relative as they are otherwise.
        let file = frame.filename.as_deref().unwrap();
        let root = source_root();
        assert!(!file.starts_with('/') || file.starts_with(&format!("{root}/crates/cruddur/src/")), "{root} {file}");
    }

    #[test]
    fn test_source_root_is_the_workspace() {
        let root = std::path::Path::new(source_root());
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]"), "{root:?}");
        assert!(root.join("crates/cruddur/src/rollbar.rs").is_file(), "{root:?}");
    }
}
