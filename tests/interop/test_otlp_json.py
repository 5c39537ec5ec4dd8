"""OTLP/JSON as the browser exporter (opentelemetry-js) sends it, with CORS.

The JS exporter writes hex ids, `intValue` as a JSON number, times as strings, enums as integers,
and sends `Origin` (so it needs a CORS preflight and `Access-Control-Allow-Origin` on the answer).
"""

from __future__ import annotations

import json

import pytest

import support
from support import JSON, Approx, assert_accepted, assert_trace, media_type

ORIGIN = "http://localhost:3000"


def browser_spans(service_name: str):
    """A fetch span (client) under a document-load span (server kind, to have a root), JS-style.

    Returns (request body dict, trace id hex, expected spans)."""
    tid = support.new_trace_id().hex()
    root_id, child_id = support.new_span_id().hex(), support.new_span_id().hex()
    link_tid, link_sid = support.new_trace_id().hex(), support.new_span_id().hex()
    t0 = support.now_ns() - 3_000_000_000 + 17  # odd nanoseconds survive only if handled as integers
    t_child = t0 + 1_234_567
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": service_name}},
                        {"key": "telemetry.sdk.language", "value": {"stringValue": "webjs"}},
                        {"key": "telemetry.sdk.version", "value": {"stringValue": "1.18.1"}},
                    ],
                    "droppedAttributesCount": 0,
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "@opentelemetry/instrumentation-fetch", "version": "0.45.1"},
                        "spans": [
                            {
                                "traceId": tid,
                                "spanId": root_id,
                                # no parentSpanId at all: the JS exporter leaves it out for roots
                                "name": "documentLoad",
                                "kind": 2,
                                "startTimeUnixNano": str(t0),
                                "endTimeUnixNano": t0 + 50_000_000,  # a number is legal too
                                "attributes": [
                                    {"key": "http.status_code", "value": {"intValue": 200}},
                                    {"key": "big.as.string", "value": {"intValue": "9007199254740993"}},
                                    {"key": "neg.as.string", "value": {"intValue": "-5"}},
                                    {"key": "ratio", "value": {"doubleValue": 0.25}},
                                    {"key": "whole.double", "value": {"doubleValue": 2}},
                                    {"key": "ok", "value": {"boolValue": True}},
                                    {"key": "url", "value": {"stringValue": "http://localhost:3000/"}},
                                    {
                                        "key": "arr",
                                        "value": {
                                            "arrayValue": {
                                                "values": [{"stringValue": "a"}, {"intValue": "2"}, {"doubleValue": 3.5}]
                                            }
                                        },
                                    },
                                    {
                                        "key": "obj",
                                        "value": {
                                            "kvlistValue": {
                                                "values": [
                                                    {"key": "k", "value": {"stringValue": "v"}},
                                                    {"key": "n", "value": {"intValue": 1}},
                                                ]
                                            }
                                        },
                                    },
                                    {"key": "raw", "value": {"bytesValue": "AAEC/w=="}},
                                ],
                                "droppedAttributesCount": 0,
                                "events": [
                                    {
                                        "name": "fetchStart",
                                        "timeUnixNano": str(t0 + 1000),
                                        "attributes": [{"key": "n", "value": {"intValue": 1}}],
                                        "droppedAttributesCount": 0,
                                    },
                                    {"name": "responseEnd", "timeUnixNano": str(t0 + 2000), "attributes": []},
                                ],
                                "droppedEventsCount": 0,
                                "links": [
                                    {
                                        "traceId": link_tid,
                                        "spanId": link_sid,
                                        "traceState": "k=v",
                                        "attributes": [{"key": "why", "value": {"stringValue": "retry"}}],
                                    }
                                ],
                                "droppedLinksCount": 0,
                                "status": {"code": 0},
                                "someFutureField": {"ignored": True},
                            },
                            {
                                # Upper-case hex: ids are case-insensitive.
                                "traceId": tid.upper(),
                                "spanId": child_id.upper(),
                                "parentSpanId": root_id.upper(),
                                "traceState": "",
                                "name": "HTTP GET",
                                "kind": 3,
                                "startTimeUnixNano": str(t_child),
                                "endTimeUnixNano": str(t_child + 20_000_001),
                                "attributes": [{"key": "http.method", "value": {"stringValue": "GET"}}],
                                "events": [],
                                "links": [],
                                "status": {"code": 2, "message": "Failed to fetch"},
                            },
                        ],
                    }
                ],
            }
        ],
        "futureTopLevel": 1,
    }
    resource = {"service.name": service_name, "telemetry.sdk.language": "webjs", "telemetry.sdk.version": "1.18.1"}
    scope = {"name": "@opentelemetry/instrumentation-fetch", "version": "0.45.1", "attributes": {}}
    common = {"trace_id": tid, "trace_state": "", "flags": 0, "dataset": service_name,
              "service_name": service_name, "resource": resource, "scope": scope}
    expected = [
        {
            **common,
            "span_id": root_id,
            "parent_span_id": None,
            "name": "documentLoad",
            "kind": "server",
            "start_time_unix_nano": t0,
            "end_time_unix_nano": t0 + 50_000_000,
            "duration_ms": Approx(50.0),
            "status_code": 0,
            "status_message": "",
            "attributes": {
                "http.status_code": 200,
                "big.as.string": 9007199254740993,
                "neg.as.string": -5,
                "ratio": 0.25,
                "whole.double": 2.0,
                "ok": True,
                "url": "http://localhost:3000/",
                "arr": ["a", 2, 3.5],
                "obj": {"k": "v", "n": 1},
                "raw": "AAEC/w==",
            },
            "events": [
                {"name": "fetchStart", "time_unix_nano": t0 + 1000, "attributes": {"n": 1}},
                {"name": "responseEnd", "time_unix_nano": t0 + 2000, "attributes": {}},
            ],
            "links": [{"trace_id": link_tid, "span_id": link_sid, "trace_state": "k=v", "attributes": {"why": "retry"}}],
        },
        {
            **common,
            "span_id": child_id,
            "parent_span_id": root_id,
            "name": "HTTP GET",
            "kind": "client",
            "start_time_unix_nano": t_child,
            "end_time_unix_nano": t_child + 20_000_001,
            "duration_ms": Approx(20.000001),
            "status_code": 2,
            "status_message": "Failed to fetch",
            "attributes": {"http.method": "GET"},
            "events": [],
            "links": [],
        },
    ]
    return body, tid, expected, (root_id, child_id)


def browser_headers() -> dict:
    return {"Origin": ORIGIN, "x-honeycomb-team": "browser-key"}


def assert_cors_allowed(resp) -> None:
    allow = resp.headers.get("Access-Control-Allow-Origin")
    assert allow in ("*", ORIGIN), f"Access-Control-Allow-Origin is {allow!r}; headers: {dict(resp.headers)}"


@pytest.mark.parametrize("encoding", [None, "gzip", "deflate", "zstd"])
def test_browser_json_spans(shared_waggle, encoding):
    svc = support.unique("frontend-react-js")
    body, tid, expected, _ = browser_spans(svc)
    r = support.post(f"{shared_waggle.otlp_http}/v1/traces", json.dumps(body), JSON,
                     encoding=encoding, headers=browser_headers())
    assert r.status_code == 200, f"{r.status_code}: {r.text[:500]}"
    assert media_type(r) == JSON, f"a JSON request gets a JSON answer, got {r.headers.get('Content-Type')!r}"
    assert isinstance(r.json(), dict), r.text
    assert_accepted(r)
    assert_cors_allowed(r)
    assert_trace(shared_waggle, tid, expected)


def test_browser_json_logs_join_the_trace(shared_waggle):
    svc = support.unique("frontend-logs")
    spans_body, tid, expected_spans, (root_id, child_id) = browser_spans(svc)
    r = support.post(f"{shared_waggle.otlp_http}/v1/traces", json.dumps(spans_body), JSON, headers=browser_headers())
    assert_accepted(r)

    t = support.now_ns() - 2_500_000_000 + 3
    logs_body = {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
                "scopeLogs": [
                    {
                        "scope": {"name": "console", "version": "1"},
                        "logRecords": [
                            {
                                "timeUnixNano": str(t),
                                "observedTimeUnixNano": t + 5,
                                "severityNumber": 17,
                                "severityText": "ERROR",
                                "body": {"stringValue": "fetch failed"},
                                "attributes": [
                                    {"key": "retries", "value": {"intValue": 2}},
                                    {"key": "page", "value": {"stringValue": "/home"}},
                                ],
                                "droppedAttributesCount": 0,
                                "flags": 1,
                                "traceId": tid,
                                "spanId": child_id.upper(),
                            }
                        ],
                    }
                ],
            }
        ]
    }
    r = support.post(f"{shared_waggle.otlp_http}/v1/logs", json.dumps(logs_body), JSON, headers=browser_headers())
    assert r.status_code == 200, f"{r.status_code}: {r.text[:500]}"
    assert media_type(r) == JSON
    assert_accepted(r, "logs")
    assert_cors_allowed(r)

    expected_logs = [
        {
            "time_unix_nano": t,
            "observed_time_unix_nano": t + 5,
            "severity_number": 17,
            "severity_text": "ERROR",
            "body": "fetch failed",
            "trace_id": tid,
            "span_id": child_id,
            "flags": 1,
            "dataset": svc,
            "attributes": {"retries": 2, "page": "/home"},
            "resource": {"service.name": svc},
            "scope": {"name": "console", "version": "1", "attributes": {}},
        }
    ]
    assert_trace(shared_waggle, tid, expected_spans, expected_logs)


def header_list(value: str | None) -> set[str]:
    return {h.strip().lower() for h in (value or "").split(",") if h.strip()}


@pytest.mark.parametrize("path", ["/v1/traces", "/v1/logs"])
def test_cors_preflight(shared_waggle, path):
    r = support._session.options(
        f"{shared_waggle.otlp_http}{path}",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-honeycomb-team",
        },
        timeout=10,
    )
    assert r.status_code in (200, 204), f"preflight answered {r.status_code}: {r.text[:300]}"
    assert_cors_allowed(r)
    methods = header_list(r.headers.get("Access-Control-Allow-Methods"))
    assert "post" in methods or "*" in methods, f"Access-Control-Allow-Methods: {methods}"
    allowed = header_list(r.headers.get("Access-Control-Allow-Headers"))
    assert {"content-type", "x-honeycomb-team"} <= allowed or "*" in allowed, (
        f"Access-Control-Allow-Headers {allowed} must allow content-type and x-honeycomb-team"
    )


def test_protobuf_post_with_origin_gets_cors_header(shared_waggle):
    """A browser may send protobuf too; the answer still needs Access-Control-Allow-Origin."""
    req, [tid] = support.trace_batch(support.unique("frontend-proto"), 1, 2)
    r = support.post_traces(shared_waggle, req, headers={"Origin": ORIGIN})
    assert_accepted(r)
    assert_cors_allowed(r)
    assert_trace(shared_waggle, tid, support.expected_spans(req)[tid])
