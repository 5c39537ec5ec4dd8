//! Trace context in HTTP headers: W3C `traceparent`/`tracestate` and AWS `X-Amzn-Trace-Id`.
//!
//! X-Ray headers are parsed by `opentelemetry-aws`'s `XrayPropagator` (the contrib crate of the
//! same release train) rather than by hand: the `Root=1-{epoch}-{id}` to trace id mapping and the
//! `Sampled` flag have corner cases it already handles. When a request carries both headers (a
//! browser's fetch through an AWS load balancer), the W3C one wins because it is extracted last.

use std::sync::LazyLock;

use http::HeaderMap;
use opentelemetry::Context;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry_aws::trace::{MissingSampledBehavior, XrayPropagator};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;

/// The header of W3C trace context.
pub const TRACEPARENT: &str = "traceparent";
/// The header of AWS X-Ray trace context.
pub const X_AMZN_TRACE_ID: &str = "x-amzn-trace-id";

static PROPAGATOR: LazyLock<TextMapCompositePropagator> = LazyLock::new(propagator);

/// X-Ray first, W3C trace context second (so it wins on extraction); both are written on injection.
/// [`crate::init`] installs it as the global propagator.
pub fn propagator() -> TextMapCompositePropagator {
    // A header without `Sampled=` (a load balancer's) would otherwise mean "not sampled" to the
    // parent-based sampler, and the request would vanish from the traces.
    let xray = XrayPropagator::new().with_missing_sampled_behavior(MissingSampledBehavior::Sampled);
    TextMapCompositePropagator::new(vec![Box::new(xray), Box::new(TraceContextPropagator::new())])
}

/// The remote parent carried by `headers`, or an empty context when there is none.
pub fn extract_context(headers: &HeaderMap) -> Context {
    PROPAGATOR.extract(&HeaderExtractor(headers))
}

/// Writes `traceparent` (and `tracestate`, `X-Amzn-Trace-Id`) for the span in `cx` into `headers`.
pub fn inject_context(cx: &Context, headers: &mut HeaderMap) {
    PROPAGATOR.inject_context(cx, &mut HeaderInjector(headers));
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    fn remote(headers: &HeaderMap) -> SpanContext {
        extract_context(headers).span().span_context().clone()
    }

    #[test]
    fn test_extract_traceparent_and_tracestate() {
        let context = remote(&headers(&[
            ("traceparent", "00-5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174-01"),
            ("tracestate", "honeycomb=abc,rojo=00f067aa0ba902b7"),
        ]));
        assert_eq!(context.trace_id(), TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap());
        assert_eq!(context.span_id(), SpanId::from_hex("eee19b7ec3c1b174").unwrap());
        assert!(context.is_sampled());
        assert!(context.is_remote());
        assert_eq!(context.trace_state().get("rojo"), Some("00f067aa0ba902b7"));
    }

    #[test]
    fn test_extract_xray_header() {
        let context = remote(&headers(&[(
            "X-Amzn-Trace-Id",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        )]));
        assert_eq!(context.trace_id(), TraceId::from_hex("5759e988bd862e3fe1be46a994272793").unwrap());
        assert_eq!(context.span_id(), SpanId::from_hex("53995c3f42cd8ad8").unwrap());
        assert!(context.is_sampled());
    }

    #[test]
    fn test_extract_xray_without_sampled_flag_is_sampled() {
        let context = remote(&headers(&[(
            "x-amzn-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
        )]));
        assert!(context.is_valid());
        assert!(context.is_sampled());
    }

    #[test]
    fn test_extract_prefers_traceparent_over_xray() {
        let context = remote(&headers(&[
            ("x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
            ("traceparent", "00-5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174-01"),
        ]));
        assert_eq!(context.trace_id(), TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap());
    }

    #[test]
    fn test_extract_ignores_malformed_headers() {
        let context = remote(&headers(&[("traceparent", "00-zz-yy-01"), ("x-amzn-trace-id", "Root=nonsense")]));
        assert!(!context.is_valid());
    }

    #[test]
    fn test_inject_writes_traceparent() {
        let span_context = SpanContext::new(
            TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap(),
            SpanId::from_hex("eee19b7ec3c1b174").unwrap(),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        let cx = Context::new().with_remote_span_context(span_context);
        let mut map = HeaderMap::new();
        inject_context(&cx, &mut map);
        assert_eq!(map[TRACEPARENT], "00-5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174-01");
        assert_eq!(map[X_AMZN_TRACE_ID], "Root=1-5b8efff7-98038103d269b633813fc60c;Parent=eee19b7ec3c1b174;Sampled=1");
    }
}
