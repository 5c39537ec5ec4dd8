//! Realistic OTLP trace batches: Cruddur-like services, traces of a server span with internal and
//! database children, about fifteen attributes per span with real-world cardinalities (a handful of
//! services and routes, a thousand users and client addresses, unique ids). One route and one
//! user are slow ([`SLOW_ROUTE`], [`SLOW_USER`]), so "P99 by route" and "latency by user" find them.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use prost::Message;

/// SplitMix64: small, fast, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut value = self.0;
        value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        value ^ (value >> 31)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

const SERVICES: &[&str] =
    &["cruddur-backend", "cruddur-frontend", "cruddur-auth", "cruddur-messages", "cruddur-search"];
const ROUTES: &[&str] = &[
    "/api/activities/home",
    "/api/activities/notifications",
    "/api/activities/@{handle}",
    "/api/activities/search",
    "/api/activities",
    "/api/activities/{uuid}",
    "/api/activities/{uuid}/reply",
    "/api/message_groups",
    "/api/messages/@{handle}",
    "/api/messages",
    "/api/health-check",
    "/rollbar/test",
];
/// The route whose requests are slow (six times the usual median latency).
pub const SLOW_ROUTE: &str = "/api/activities/search";
/// The user whose requests are slow (ten times the usual median latency): `user666`.
pub const SLOW_USER: u64 = 666;
const METHODS: &[&str] = &["GET", "GET", "GET", "POST"];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "python-requests/2.32.3",
    "curl/8.5.0",
];
const STATEMENTS: &[&str] = &[
    "SELECT * FROM activities WHERE user_uuid = ? ORDER BY created_at DESC LIMIT ?",
    "SELECT uuid, handle, display_name FROM users WHERE handle = ?",
    "INSERT INTO activities (user_uuid, message, expires_at) VALUES (?, ?, ?)",
    "SELECT * FROM message_groups WHERE user_uuid = ?",
];

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue { key: key.to_owned(), value: Some(AnyValue { value: Some(value) }), ..Default::default() }
}

fn text(key: &str, value: impl Into<String>) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.into()))
}

fn int(key: &str, value: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(value))
}

fn resource(service: &str, rng: &mut Rng) -> Resource {
    Resource {
        attributes: vec![
            text("service.name", service),
            text("service.version", "1.4.2"),
            text("host.name", format!("ip-10-0-{}-{}", rng.below(4), rng.below(250))),
            text("telemetry.sdk.name", "opentelemetry"),
            text("telemetry.sdk.language", "python"),
            text("telemetry.sdk.version", "1.29.0"),
        ],
        ..Default::default()
    }
}

/// Log-normal-ish latency in nanoseconds: mostly milliseconds, a slow tail.
fn latency(rng: &mut Rng, median_ms: f64) -> u64 {
    let uniform = (rng.below(1_000_000) as f64 + 0.5) / 1_000_000.0;
    let tail = if rng.below(100) == 0 { 20.0 } else { 1.0 };
    (median_ms * 1e6 * (-uniform.ln()).powf(1.5) * tail) as u64 + 50_000
}

/// The spans of one trace (8 on average), starting within the second before `now`.
fn trace_spans(rng: &mut Rng, now: u64) -> Vec<Span> {
    let trace_id: Vec<u8> = [rng.next().to_le_bytes(), rng.next().to_le_bytes()].concat();
    let root_id = rng.next().to_le_bytes().to_vec();
    let route = ROUTES[rng.below(ROUTES.len() as u64) as usize];
    let method = METHODS[rng.below(METHODS.len() as u64) as usize];
    let user = rng.below(1000);
    let status = match rng.below(100) {
        0..=1 => 500,
        2..=5 => 404,
        _ => 200,
    };
    let start = now - rng.below(1_000_000_000);
    let mut median_ms = 8.0;
    if route == SLOW_ROUTE {
        median_ms *= 6.0;
    }
    if user == SLOW_USER {
        median_ms *= 10.0;
    }
    let duration = latency(rng, median_ms);
    let children = 4 + rng.below(8);
    let mut spans = Vec::with_capacity(children as usize + 1);
    spans.push(Span {
        trace_id: trace_id.clone(),
        span_id: root_id.clone(),
        name: format!("{method} {route}"),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + duration,
        attributes: vec![
            text("http.request.method", method),
            text("http.route", route),
            int("http.response.status_code", status),
            text(
                "url.path",
                route.replace("{handle}", &format!("user{user}")).replace("{uuid}", &format!("{:016x}", rng.next())),
            ),
            text("url.scheme", "http"),
            text("server.address", "localhost"),
            int("server.port", 4567),
            text("client.address", format!("10.1.{}.{}", user / 250, user % 250)),
            text("user_agent.original", AGENTS[rng.below(AGENTS.len() as u64) as usize]),
            text("app.user_id", format!("user{user}")),
            int("app.result_length", rng.below(100) as i64),
            text("network.protocol.version", "1.1"),
        ],
        status: (status >= 500).then(|| Status { code: 2, message: "internal server error".into() }),
        ..Default::default()
    });
    for index in 0..children {
        let offset = duration / (children + 1) * index;
        let child_duration = latency(rng, 1.0).min(duration - offset);
        let is_sql = index % 2 == 1;
        let mut attributes =
            vec![text("app.step", format!("step-{index}")), text("code.function", "home_activities.run")];
        if is_sql {
            attributes.extend([
                text("db.system", "postgresql"),
                text("db.name", "cruddur"),
                text("db.statement", STATEMENTS[rng.below(STATEMENTS.len() as u64) as usize]),
                text("server.address", "db"),
                int("server.port", 5432),
                int("db.rows", rng.below(50) as i64),
            ]);
        } else {
            attributes.extend([
                int("app.result_length", rng.below(100) as i64),
                text("app.now", format!("{}", start / 1000)),
            ]);
        }
        spans.push(Span {
            trace_id: trace_id.clone(),
            span_id: rng.next().to_le_bytes().to_vec(),
            parent_span_id: root_id.clone(),
            name: if is_sql { "SELECT cruddur".into() } else { "home-activities-mock-data".into() },
            kind: if is_sql { span::SpanKind::Client } else { span::SpanKind::Internal } as i32,
            start_time_unix_nano: start + offset,
            end_time_unix_nano: start + offset + child_duration,
            attributes,
            ..Default::default()
        });
    }
    spans
}

/// One export request of `spans_per_batch` spans, grouped by service as SDKs send them, all
/// starting within the second before `now` (unix ns).
pub fn batch(rng: &mut Rng, spans_per_batch: usize, now: u64) -> (Vec<u8>, usize) {
    let service = SERVICES[rng.below(SERVICES.len() as u64) as usize];
    let mut spans = Vec::with_capacity(spans_per_batch + 16);
    while spans.len() < spans_per_batch {
        spans.extend(trace_spans(rng, now));
    }
    spans.truncate(spans_per_batch);
    let count = spans.len();
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource(service, rng)),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "opentelemetry.instrumentation.flask".into(),
                    version: "0.50b0".into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    (request.encode_to_vec(), count)
}
