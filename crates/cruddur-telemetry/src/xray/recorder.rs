//! The span processor that turns requests into segments.
//!
//! ```text
//! on_start  server span, no local parent ── sampled? (Sampler) ── yes: a pending segment
//!           any other span               ── joins its parent's segment, if that one is pending
//! on_end    span of a pending segment    ── kept; the segment's own span ends last:
//!           opentelemetry-aws translates the spans (subsegments nested in the segment),
//!           document::finish adds namespaces and the application's annotations and metadata,
//!           one UDP datagram to the daemon
//! ```
//! A whole request is one document, as the X-Ray SDKs send it, so the daemon always sees a
//! segment with its subsegments. A document over 64 KB is sent as one document per span instead,
//! the segment first. A span ending after its segment is sent on its own (`tracing` keeps a span
//! open until its children close, so only spans of the OpenTelemetry API can).
//! The segment's trace id is the span's: with the X-Ray id generator its first 32 bits are the
//! epoch seconds, and `1-{8 hex}-{24 hex}` is the same trace as the OpenTelemetry one.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanKind, TraceContextExt as _, TraceId};
use opentelemetry::{Context, KeyValue, SpanId, Value};
use opentelemetry_aws::xray_exporter::SegmentTranslator;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use serde_json::Value as Json;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::config::XrayConfig;
use super::document::{AnnotationValue, DEFAULT_NAMESPACE, Extras, datagram, finish};
use super::naming::DynamicNaming;
use super::poller::Poller;
use super::sampling::{Sampler, SamplingRequest};
use crate::error::{Result, TelemetryError};

/// Requests in flight beyond this many are not recorded (a leak guard, never reached in practice).
const MAX_OPEN_SPANS: usize = 100_000;

/// The recorders of this process, for [`put_annotation`] and [`put_metadata`] (one in an
/// application; tests run several, and a span id belongs to one of them).
static RECORDERS: Mutex<Vec<Weak<Recorder>>> = Mutex::new(Vec::new());
/// Whether a recorder was ever made: without X-Ray, [`put_annotation`] costs one atomic load.
static ANY_RECORDER: AtomicBool = AtomicBool::new(false);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Adds an annotation (indexed: `annotation.KEY = "..."` finds it) to the (sub)segment of `span`,
/// as `put_annotation` of the X-Ray SDKs. Nothing happens without X-Ray, or when the request was
/// not sampled. Keys keep letters, digits and `_`.
pub fn put_annotation(span: &tracing::Span, key: &str, value: impl Into<AnnotationValue>) {
    let mut value = Some(value);
    with_extras(span, &mut |extras| {
        if let Some(value) = value.take() {
            extras.annotate(key, value.into());
        }
    });
}

/// Adds metadata (any JSON, not indexed) under the `default` namespace to the (sub)segment of
/// `span`, as `put_metadata(key, value)` of the X-Ray SDKs.
pub fn put_metadata(span: &tracing::Span, key: &str, value: impl Into<Json>) {
    put_metadata_in(span, DEFAULT_NAMESPACE, key, value);
}

/// [`put_metadata`] under `namespace`.
pub fn put_metadata_in(span: &tracing::Span, namespace: &str, key: &str, value: impl Into<Json>) {
    let mut value = Some(value);
    with_extras(span, &mut |extras| {
        if let Some(value) = value.take() {
            extras.add_metadata(namespace, key, value.into());
        }
    });
}

fn with_extras(span: &tracing::Span, edit: &mut dyn FnMut(&mut Extras)) {
    if !ANY_RECORDER.load(Ordering::Relaxed) {
        return;
    }
    let recorders: Vec<Arc<Recorder>> = lock(&RECORDERS).iter().filter_map(Weak::upgrade).collect();
    if recorders.is_empty() {
        return;
    }
    let span_id = span.context().span().span_context().span_id();
    for recorder in recorders {
        if recorder.edit_extras(span_id, edit) {
            return;
        }
    }
}

/// A span of a segment being recorded.
#[derive(Debug, Clone, Copy)]
struct Open {
    segment: SpanId,
}

/// A sampled request whose server span has not ended yet.
#[derive(Debug)]
struct Pending {
    name: String,
    spans: Vec<SpanData>,
    extras: HashMap<SpanId, Extras>,
}

#[derive(Debug, Default)]
struct State {
    open: HashMap<SpanId, Open>,
    segments: HashMap<SpanId, Pending>,
}

/// Decides, collects and sends; shared by the processor, the poller and [`put_annotation`].
#[derive(Debug)]
pub(crate) struct Recorder {
    naming: DynamicNaming,
    pub(crate) sampler: Mutex<Sampler>,
    /// Nests subsegments in their segment: one document per request.
    nested: SegmentTranslator,
    /// One document per span, for what does not fit in one datagram.
    single: SegmentTranslator,
    socket: UdpSocket,
    daemon: SocketAddr,
    state: Mutex<State>,
    /// Datagrams the daemon did not take (not listening, ...), and documents too large to send;
    /// the poller logs them, so the request path never writes logs.
    pub(crate) send_failures: AtomicU64,
    pub(crate) too_large: AtomicU64,
}

impl Recorder {
    pub(crate) fn new(config: &XrayConfig, resource: &Resource) -> std::io::Result<Self> {
        let local: SocketAddr =
            if config.udp.is_ipv4() { (Ipv4Addr::UNSPECIFIED, 0).into() } else { (Ipv6Addr::UNSPECIFIED, 0).into() };
        let socket = UdpSocket::bind(local)?;
        socket.connect(config.udp)?;
        socket.set_nonblocking(true)?;
        // Trace ids of traces begun elsewhere (a browser's W3C ids) do not start with the epoch
        // seconds; they are sent anyway rather than dropped, as the trace is the same.
        let translator = || {
            let mut translator = SegmentTranslator::new().skip_timestamp_validation();
            translator.set_resource(resource);
            translator
        };
        Ok(Self {
            naming: DynamicNaming::new(config.dynamic_naming.clone(), &config.segment_name),
            sampler: Mutex::new(Sampler::new()),
            nested: translator().always_nest_subsegments(),
            single: translator(),
            socket,
            daemon: config.udp,
            state: Mutex::new(State::default()),
            send_failures: AtomicU64::new(0),
            too_large: AtomicU64::new(0),
        })
    }

    pub(crate) fn daemon(&self) -> SocketAddr {
        self.daemon
    }

    fn on_start(&self, span: &Span, parent: &Context) {
        let span_context = opentelemetry::trace::Span::span_context(span);
        let id = span_context.span_id();
        let parent_span = parent.span();
        let parent_context = parent_span.span_context();
        if parent_context.is_valid() && !parent_context.is_remote() {
            let mut state = lock(&self.state);
            if let Some(open) = state.open.get(&parent_context.span_id()).copied() {
                state.open.insert(id, open);
            }
            return;
        }
        // A local root: a segment when it is a request (a server span), as the SDKs' middleware
        // makes segments of requests only. Its attributes so far say what the request is.
        let Some(data) = span.exported_data() else { return };
        if data.span_kind != SpanKind::Server {
            return;
        }
        let host = host(&data.attributes);
        let name = self.naming.name_for(host.as_deref());
        let request = SamplingRequest {
            service_name: &name,
            service_type: "",
            host: host.as_deref().unwrap_or_default(),
            http_method: text(&data.attributes, &["http.request.method", "http.method"]).unwrap_or_default(),
            url_path: text(&data.attributes, &["url.path", "http.target"]).unwrap_or_default(),
        };
        let sampled =
            lock(&self.sampler).decide(&request, epoch_seconds(SystemTime::now()), random_of(span_context.trace_id()));
        if !sampled {
            return;
        }
        let mut state = lock(&self.state);
        if state.open.len() >= MAX_OPEN_SPANS {
            return;
        }
        state.open.insert(id, Open { segment: id });
        state.segments.insert(id, Pending { name, spans: Vec::new(), extras: HashMap::new() });
    }

    fn on_end(&self, span: SpanData) {
        let id = span.span_context.span_id();
        let mut state = lock(&self.state);
        let Some(open) = state.open.remove(&id) else { return };
        let Some(pending) = state.segments.get_mut(&open.segment) else {
            drop(state);
            self.send_documents(&self.single, std::slice::from_ref(&span), &HashMap::new());
            return;
        };
        pending.spans.push(span);
        if open.segment == id
            && let Some(pending) = state.segments.remove(&id)
        {
            drop(state);
            self.send_segment(pending);
        }
    }

    /// Runs `edit` on the extras of `span_id` when it belongs to a pending segment here.
    fn edit_extras(&self, span_id: SpanId, edit: &mut dyn FnMut(&mut Extras)) -> bool {
        let mut state = lock(&self.state);
        let Some(open) = state.open.get(&span_id).copied() else { return false };
        let Some(pending) = state.segments.get_mut(&open.segment) else { return false };
        edit(pending.extras.entry(span_id).or_default());
        true
    }

    fn send_segment(&self, pending: Pending) {
        let Pending { name, mut spans, extras } = pending;
        // The segment's span ended last. Its name: a `service.name` of its own, which the
        // translator prefers to the resource's (the OpenTelemetry dataset's name).
        if let Some(segment) = spans.last_mut() {
            segment.attributes.push(KeyValue::new("service.name", name));
        }
        let extras: HashMap<String, Extras> = extras.into_iter().map(|(id, extras)| (id.to_string(), extras)).collect();
        if !self.send_documents(&self.nested, &spans, &extras) {
            // Too large as one document: the segment first, then each subsegment on its own.
            if let Some(segment) = spans.pop() {
                spans.insert(0, segment);
            }
            for span in &spans {
                self.send_documents(&self.single, std::slice::from_ref(span), &extras);
            }
        }
    }

    /// Translates and sends `spans`; false (nothing sent) when a document is over the datagram limit.
    fn send_documents(
        &self,
        translator: &SegmentTranslator,
        spans: &[SpanData],
        extras: &HashMap<String, Extras>,
    ) -> bool {
        let mut datagrams = Vec::new();
        for document in translator.translate_spans(spans) {
            let Ok(mut document) = serde_json::to_value(&document) else { continue };
            finish(&mut document, extras);
            match datagram(&document) {
                Some(bytes) => datagrams.push(bytes),
                None if spans.len() > 1 => return false,
                None => {
                    self.too_large.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        for bytes in datagrams {
            if self.socket.send(&bytes).is_err() {
                self.send_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        true
    }
}

/// The request's `Host`: `server.address`, with `:server.port` when the request named a port.
fn host(attributes: &[KeyValue]) -> Option<String> {
    let address = text(attributes, &["server.address"])?;
    match attributes.iter().find(|pair| pair.key.as_str() == "server.port").map(|pair| &pair.value) {
        Some(Value::I64(port)) => Some(format!("{address}:{port}")),
        _ => Some(address.to_owned()),
    }
}

/// The first of `keys` that is a string attribute.
fn text<'a>(attributes: &'a [KeyValue], keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|key| {
        attributes.iter().find(|pair| pair.key.as_str() == *key).and_then(|pair| match &pair.value {
            Value::String(value) => Some(value.as_str()),
            _ => None,
        })
    })
}

/// A number in `[0, 1)` from the random low bits of the trace id: the requests of one trace
/// (a browser page's several calls) get the same fixed-rate draw.
fn random_of(trace_id: TraceId) -> f64 {
    let bytes = trace_id.to_bytes();
    let low = u64::from_be_bytes(bytes[8..].try_into().expect("8 bytes"));
    (low >> 11) as f64 / (1_u64 << 53) as f64
}

pub(crate) fn epoch_seconds(time: SystemTime) -> f64 {
    time.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// The span processor: X-Ray segments for sampled requests.
#[derive(Debug)]
pub(crate) struct XrayProcessor {
    recorder: Arc<Recorder>,
    poller: Arc<Mutex<Option<Poller>>>,
}

/// Starts the poller of the daemon's sampling rules and targets; until then (and in tests, which
/// set rules themselves) the sampler has none.
#[must_use = "without the poller no sampling rule is ever fetched"]
#[derive(Debug)]
pub(crate) struct SamplingPoller {
    recorder: Arc<Recorder>,
    config: XrayConfig,
    slot: Arc<Mutex<Option<Poller>>>,
}

impl SamplingPoller {
    /// Starts polling; call it once the log subscriber is installed, so the poller's lines show.
    pub(crate) fn start(self) -> Result<()> {
        let poller = Poller::spawn(self.recorder, &self.config).map_err(TelemetryError::Xray)?;
        *lock(&self.slot) = Some(poller);
        Ok(())
    }
}

impl XrayProcessor {
    /// A processor sending to the daemon of `config`, and the poller to start for its sampling rules.
    pub(crate) fn new(config: &XrayConfig, resource: &Resource) -> Result<(Self, SamplingPoller)> {
        let recorder = Arc::new(Recorder::new(config, resource).map_err(TelemetryError::Xray)?);
        let mut recorders = lock(&RECORDERS);
        recorders.retain(|recorder| recorder.strong_count() > 0);
        recorders.push(Arc::downgrade(&recorder));
        ANY_RECORDER.store(true, Ordering::Relaxed);
        let slot = Arc::new(Mutex::new(None));
        let poller = SamplingPoller { recorder: recorder.clone(), config: config.clone(), slot: slot.clone() };
        Ok((Self { recorder, poller: slot }, poller))
    }

    #[cfg(test)]
    pub(crate) fn recorder(&self) -> &Arc<Recorder> {
        &self.recorder
    }
}

impl SpanProcessor for XrayProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.recorder.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.recorder.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        // Segments are sent as their requests end: nothing waits.
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        if let Some(poller) = lock(&self.poller).take() {
            poller.stop();
        }
        lock(&RECORDERS).retain(|recorder| !std::ptr::eq(recorder.as_ptr(), Arc::as_ptr(&self.recorder)));
        Ok(())
    }
}

#[cfg(test)]
mod tests;
