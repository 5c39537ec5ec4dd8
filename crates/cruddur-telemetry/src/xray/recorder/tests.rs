use std::net::UdpSocket;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::routing::get;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_aws::trace::XrayIdGenerator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde_json::json;
use tower::ServiceExt as _;
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt as _;

use super::*;
use crate::http_server::trace_http;
use crate::xray::sampling::parse_rules;

/// A fake daemon, a recorder sending to it, and a provider exporting the same spans to memory.
struct Harness {
    daemon: UdpSocket,
    recorder: Arc<Recorder>,
    provider: SdkTracerProvider,
    exporter: InMemorySpanExporter,
}

fn harness(dynamic_naming: Option<&str>) -> Harness {
    let daemon = UdpSocket::bind("127.0.0.1:0").unwrap();
    daemon.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let config = XrayConfig {
        udp: daemon.local_addr().unwrap(),
        tcp: "127.0.0.1:9".parse().unwrap(),
        segment_name: "backend-flask".into(),
        dynamic_naming: dynamic_naming.map(str::to_owned),
        rules_interval: Duration::from_secs(300),
        targets_interval: Duration::from_secs(10),
    };
    let resource = Resource::builder().with_service_name("cruddur-backend").build();
    let (processor, _no_poller) = XrayProcessor::new(&config, &resource).unwrap();
    let recorder = processor.recorder().clone();
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_resource(resource)
        .with_id_generator(XrayIdGenerator::default())
        .with_simple_exporter(exporter.clone())
        .with_span_processor(processor)
        .build();
    Harness { daemon, recorder, provider, exporter }
}

impl Harness {
    fn rules(&self, rules: Json) {
        lock(&self.recorder.sampler).update_rules(parse_rules(&rules), epoch_seconds(SystemTime::now()));
    }

    /// Runs `request` through a router with the bootcamp's home handler.
    async fn send(&self, request: Request) -> u16 {
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(self.provider.tracer("test")));
        let _default = tracing::subscriber::set_default(subscriber);
        let app = Router::new()
            .route("/api/activities/home", get(home))
            .route("/api/fail", get(|| async { http::StatusCode::INTERNAL_SERVER_ERROR }))
            .layer(axum::middleware::from_fn(trace_http));
        app.oneshot(request).await.unwrap().status().as_u16()
    }

    /// The next document the daemon received, if any within the read timeout.
    fn received(&self) -> Option<Json> {
        let mut buffer = vec![0_u8; 70_000];
        let length = self.daemon.recv(&mut buffer).ok()?;
        let text = std::str::from_utf8(&buffer[..length]).unwrap();
        let (header, document) = text.split_once('\n').expect("a header line");
        assert_eq!(header, r#"{"format": "json", "version": 1}"#);
        Some(serde_json::from_str(document).unwrap())
    }
}

/// The bootcamp's service call: a custom span around the queries, with X-Ray metadata and an
/// annotation, and a SQL client span inside.
async fn home() -> &'static str {
    let span = tracing::info_span!("home-activities-mock-data", app.now = "2024-05-01T12:00:00+00:00");
    put_metadata(&span, "now", "2024-05-01T12:00:00+00:00");
    async {
        let query = tracing::info_span!(
            "SELECT activities",
            otel.kind = "client",
            db.system = "sqlite",
            db.statement = "SELECT * FROM activities WHERE expires_at > $1"
        );
        let _entered = query.enter();
    }
    .instrument(span.clone())
    .await;
    put_metadata(&span, "results-size", 3);
    put_annotation(&span, "results_size", 3_usize);
    put_annotation(&tracing::Span::current(), "user_id", "worf");
    "[]"
}

fn get_request(path: &str, host: &str) -> Request {
    Request::builder().uri(path).header("host", host).header("user-agent", "pytest/1").body(Body::empty()).unwrap()
}

fn rule(name: &str, priority: i64, reservoir: i64, rate: f64, path: &str) -> Json {
    json!({"RuleName": name, "ResourceARN": "*", "Priority": priority, "FixedRate": rate, "ReservoirSize": reservoir,
           "ServiceName": "*", "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": path, "Version": 1})
}

fn records(rules: &[Json]) -> Json {
    json!({"SamplingRuleRecords": rules.iter().map(|rule| json!({"SamplingRule": rule})).collect::<Vec<_>>()})
}

#[tokio::test]
async fn test_a_request_is_one_segment_with_nested_subsegments_extras_and_the_otlp_trace_id() {
    let harness = harness(Some("*4567*"));
    assert_eq!(harness.send(get_request("/api/activities/home", "127.0.0.1:4567")).await, 200);
    let segment = harness.received().expect("a segment");
    assert!(harness.received().is_none(), "one document per request");

    let spans = harness.exporter.get_finished_spans().unwrap();
    let server = spans.iter().find(|span| span.span_kind == SpanKind::Server).unwrap();
    let hex = server.span_context.trace_id().to_string();
    let epoch = u64::from_str_radix(&hex[..8], 16).unwrap() as f64;
    assert!((epoch - epoch_seconds(SystemTime::now())).abs() < 60.0, "X-Ray ids begin with the epoch: {hex}");
    assert_eq!(segment["trace_id"], format!("1-{}-{}", &hex[..8], &hex[8..]));
    assert_eq!(segment["id"], server.span_context.span_id().to_string());
    assert_eq!(segment["name"], "127.0.0.1:4567", "dynamic naming: the host matches *4567*");
    assert!(segment.get("type").is_none() && segment.get("parent_id").is_none());
    assert_eq!(segment["http"]["request"]["method"], "GET");
    assert_eq!(segment["http"]["request"]["url"], "http://127.0.0.1:4567/api/activities/home");
    assert_eq!(segment["http"]["request"]["user_agent"], "pytest/1");
    assert_eq!(segment["http"]["response"]["status"], 200);
    assert_eq!(segment["annotations"], json!({"user_id": "worf"}));
    assert!(segment["end_time"].as_f64().unwrap() >= segment["start_time"].as_f64().unwrap());

    let (mock,) = match segment["subsegments"].as_array().unwrap().as_slice() {
        [mock] => (mock,),
        other => panic!("one subsegment expected: {other:?}"),
    };
    assert_eq!(mock["name"], "home-activities-mock-data");
    assert_eq!(mock["metadata"], json!({"default": {"now": "2024-05-01T12:00:00+00:00", "results-size": 3}}));
    assert_eq!(mock["annotations"], json!({"results_size": 3}));
    let sql = &mock["subsegments"][0];
    assert_eq!(sql["name"], "sqlite", "named after the database, as the X-Ray SDKs do");
    assert_eq!(sql["namespace"], "remote");
    assert_eq!(sql["sql"]["sanitized_query"], "SELECT * FROM activities WHERE expires_at > $1");

    // The OTLP copy is untouched: its own service name, no X-Ray extras among the attributes.
    assert_eq!(spans.len(), 3);
    for span in &spans {
        assert!(span.attributes.iter().all(|pair| pair.key.as_str() != "service.name"), "{:?}", span.attributes);
        assert!(span.attributes.iter().all(|pair| !pair.key.as_str().contains("results")), "{:?}", span.attributes);
    }
}

#[tokio::test]
async fn test_hosts_not_matching_the_pattern_use_the_fallback_name_and_faults_are_marked() {
    let harness = harness(Some("*4567*"));
    assert_eq!(harness.send(get_request("/api/fail", "localhost:3000")).await, 500);
    let segment = harness.received().expect("a segment");
    assert_eq!(segment["name"], "backend-flask");
    assert_eq!(segment["fault"], true);
    assert_eq!(segment["http"]["response"]["status"], 500);
}

#[tokio::test]
async fn test_centralized_rules_decide_and_count() {
    let harness = harness(None);
    harness.rules(records(&[
        rule("Default", 10000, 0, 0.0, "*"),
        rule("never-home", 1, 0, 0.0, "/api/activities/home"),
        rule("always-fail", 2, 0, 1.0, "/api/fail"),
    ]));
    for _ in 0..5 {
        assert_eq!(harness.send(get_request("/api/activities/home", "127.0.0.1:4567")).await, 200);
    }
    assert!(harness.received().is_none(), "the rule samples nothing");
    assert_eq!(harness.send(get_request("/api/fail", "127.0.0.1:4567")).await, 500);
    assert_eq!(harness.received().expect("sampled at rate 1")["name"], "backend-flask");
    let sampler = lock(&harness.recorder.sampler);
    assert_eq!(sampler.statistics("never-home").unwrap().request_count, 5);
    assert_eq!(sampler.statistics("never-home").unwrap().sampled_count, 0);
    assert_eq!(sampler.statistics("always-fail").unwrap().sampled_count, 1);
    drop(sampler);
    // Every span of the unsampled requests was forgotten.
    assert!(lock(&harness.recorder.state).open.is_empty());
    assert!(lock(&harness.recorder.state).segments.is_empty());
}

#[tokio::test]
async fn test_spans_outside_requests_make_no_segment() {
    let harness = harness(None);
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(harness.provider.tracer("t")));
    tracing::subscriber::with_default(subscriber, || {
        let startup = tracing::info_span!("cruddur-startup");
        put_annotation(&startup, "ignored", true);
        let _entered = startup.enter();
        let _child = tracing::info_span!("migrate").entered();
    });
    assert!(harness.received().is_none());
    assert_eq!(harness.exporter.get_finished_spans().unwrap().len(), 2, "OTLP still has them");
}

#[test]
fn test_random_of_uses_the_low_bits_of_the_trace_id() {
    assert_eq!(random_of(TraceId::from_hex("5b8efff7000000000000000000000000").unwrap()), 0.0);
    let high = random_of(TraceId::from_hex("5b8efff798038103ffffffffffffffff").unwrap());
    assert!((0.999..1.0).contains(&high), "{high}");
}

#[test]
fn test_host_joins_address_and_port() {
    let attributes = [KeyValue::new("server.address", "127.0.0.1"), KeyValue::new("server.port", 4567_i64)];
    assert_eq!(host(&attributes).as_deref(), Some("127.0.0.1:4567"));
    assert_eq!(host(&attributes[..1]).as_deref(), Some("127.0.0.1"));
    assert_eq!(host(&[]), None);
}

#[tokio::test]
async fn test_a_document_over_64_kb_is_sent_span_by_span_segment_first() {
    let harness = harness(None);
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(harness.provider.tracer("t")));
    let app = Router::new()
        .route(
            "/big",
            get(|| async {
                for n in 0..20 {
                    let statement = format!("SELECT {n} FROM activities WHERE message = '{}'", "x".repeat(4000));
                    let _query = tracing::info_span!(
                        "SELECT activities",
                        otel.kind = "client",
                        db.system = "sqlite",
                        db.statement = statement.as_str()
                    )
                    .entered();
                }
                "ok"
            }),
        )
        .layer(axum::middleware::from_fn(trace_http));
    {
        let _default = tracing::subscriber::set_default(subscriber);
        app.oneshot(get_request("/big", "127.0.0.1:4567")).await.unwrap();
    }
    let documents: Vec<Json> = std::iter::from_fn(|| harness.received()).collect();
    assert_eq!(documents.len(), 21);
    let segment = &documents[0];
    assert!(segment.get("type").is_none() && segment.get("subsegments").is_none(), "the segment first, alone");
    for subsegment in &documents[1..] {
        assert_eq!(subsegment["type"], "subsegment");
        assert_eq!(subsegment["parent_id"], segment["id"]);
        assert_eq!(subsegment["trace_id"], segment["trace_id"]);
    }
}

#[tokio::test]
async fn test_a_span_ending_after_its_segment_is_sent_on_its_own() {
    // `tracing` keeps a span open until its children close; a span of the OpenTelemetry API can
    // outlive the request it started in.
    let harness = harness(None);
    let kept: Arc<Mutex<Option<opentelemetry_sdk::trace::Span>>> = Arc::default();
    let tracer = harness.provider.tracer("t");
    let subscriber = tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer.clone()));
    let holder = kept.clone();
    let app = Router::new()
        .route(
            "/detached",
            get(move || async move {
                let request = tracing::Span::current().context();
                *lock(&holder) =
                    Some(opentelemetry::trace::Tracer::start_with_context(&tracer, "background-task", &request));
                "ok"
            }),
        )
        .layer(axum::middleware::from_fn(trace_http));
    let _default = tracing::subscriber::set_default(subscriber);
    app.oneshot(get_request("/detached", "127.0.0.1:4567")).await.unwrap();
    let segment = harness.received().expect("the segment when the request ends");
    assert!(segment.get("subsegments").is_none());
    drop(lock(&kept).take());
    let late = harness.received().expect("the late span");
    assert_eq!((late["type"].as_str(), late["name"].as_str()), (Some("subsegment"), Some("background-task")));
    assert_eq!(late["parent_id"], segment["id"]);
    assert_eq!(late["trace_id"], segment["trace_id"]);
}
