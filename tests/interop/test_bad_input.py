"""Bad OTLP requests: the right status and a google.rpc.Status body, nothing half-stored, and the
server keeps serving good requests afterwards."""

from __future__ import annotations

import gzip
import json

import grpc
import pytest
import zstandard
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc

import support
from support import JSON, PROTOBUF, assert_error, assert_trace, partial_success

MAX_BODY = 256 * 1024  # --max-body-bytes for this module's server


@pytest.fixture(scope="module")
def server(module_waggle_factory):
    return module_waggle_factory("--max-body-bytes", str(MAX_BODY), "--max-grpc-message-bytes", str(MAX_BODY))


@pytest.fixture
def still_serving(server):
    """After the test, a good request must still be accepted and readable."""
    yield
    assert server.running(), f"waggle died\n{server.stderr_tail()}"
    req, [tid] = support.trace_batch(support.unique("after-bad-input"), 1, 3)
    r = support.post_traces(server, req)
    support.assert_accepted(r)
    assert_trace(server, tid, support.expected_spans(req)[tid])


def traces_url(server) -> str:
    return f"{server.otlp_http}/v1/traces"


def one_trace(n_spans: int = 3, **kw):
    req, [tid] = support.trace_batch(support.unique("bad-input"), 1, n_spans, **kw)
    return req, tid


def assert_not_stored(server, trace_id: str) -> None:
    r = server.get_trace(trace_id)
    assert r.status_code == 404, f"trace {trace_id} from a rejected request is readable: {r.text[:500]}"


# -- undecodable bodies: 400 -----------------------------------------------------------------------------
def test_truncated_protobuf(server, still_serving):
    req, tid = one_trace(10)
    data = req.SerializeToString()
    r = support.post(traces_url(server), data[: len(data) - 7], PROTOBUF)
    assert_error(r, 400, PROTOBUF)
    assert_not_stored(server, tid)


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x0f" * 64,  # field 1, wire type 7: no such wire type
        b"\x0a\xff\xff\xff\xff\x0f",  # field 1, length-delimited, length far past the end
        b"this is not protobuf at all \x00\x01\x02",
    ],
    ids=["bad-wire-type", "length-past-end", "text"],
)
def test_garbage_protobuf(server, still_serving, garbage):
    assert_error(support.post(traces_url(server), garbage, PROTOBUF), 400, PROTOBUF)


@pytest.mark.parametrize(
    "body",
    [
        '{"resourceSpans": [',
        "not json",
        '{"resourceSpans": "nope"}',
        '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz", "spanId": 7}]}]}]}',
    ],
    ids=["truncated", "not-json", "wrong-shape", "wrong-types"],
)
def test_invalid_json(server, still_serving, body):
    assert_error(support.post(traces_url(server), body, JSON), 400, JSON)


def test_invalid_json_logs(server, still_serving):
    assert_error(support.post(f"{server.otlp_http}/v1/logs", '{"resourceLogs": {', JSON), 400, JSON)


def test_json_with_half_good_content_stores_nothing(server, still_serving):
    """A body whose first trace is fine but which is invalid JSON later is refused whole."""
    tid = support.new_trace_id().hex()
    good = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "half"}}]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": tid,
                                "spanId": support.new_span_id().hex(),
                                "name": "ok",
                                "kind": 1,
                                "startTimeUnixNano": str(support.now_ns()),
                                "endTimeUnixNano": str(support.now_ns()),
                            }
                        ]
                    }
                ],
            }
        ]
    }
    text = json.dumps(good)
    assert_error(support.post(traces_url(server), text[:-3], JSON), 400, JSON)
    assert_not_stored(server, tid)


# -- content type and encoding: 415 ------------------------------------------------------------------------
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data", None])
def test_wrong_content_type(server, still_serving, content_type):
    req, tid = one_trace()
    r = support.post(traces_url(server), req.SerializeToString(), content_type)
    assert_error(r, 415)
    assert_not_stored(server, tid)


@pytest.mark.parametrize("encoding", ["br", "compress", "snappy"])
def test_unsupported_content_encoding(server, still_serving, encoding):
    req, tid = one_trace()
    r = support.post(traces_url(server), req.SerializeToString(), PROTOBUF, encoding=encoding, raw=True)
    assert_error(r, 415, PROTOBUF)
    assert_not_stored(server, tid)


# -- compression errors: 400 ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "encoding, body",
    [
        ("gzip", b"definitely not gzip"),
        ("gzip", gzip.compress(b"\x0a" * 1000)[:20]),  # truncated gzip stream
        ("deflate", b"\x00\x01\x02 not zlib"),
        ("zstd", b"not zstd either"),
    ],
    ids=["gzip-garbage", "gzip-truncated", "deflate-garbage", "zstd-garbage"],
)
def test_bad_compressed_body(server, still_serving, encoding, body):
    r = support.post(traces_url(server), body, PROTOBUF, encoding=encoding, raw=True)
    assert_error(r, 400, PROTOBUF)


# -- size limit: 413 ----------------------------------------------------------------------------------------
def big_request(size: int):
    """A valid request of at least `size` bytes serialized (one span with a huge attribute)."""
    req, tid = one_trace(1)
    req.resource_spans[0].scope_spans[0].spans[0].attributes.add(key="blob").value.string_value = "a" * size
    return req, tid


def test_body_under_limit_is_accepted(server, still_serving):
    req, tid = big_request(MAX_BODY // 2)
    r = support.post_traces(server, req, encoding="gzip")
    support.assert_accepted(r)
    got = server.trace(tid)["spans"][0]["attributes"]["blob"]
    assert got == "a" * (MAX_BODY // 2)


@pytest.mark.parametrize("encoding", [None, "gzip", "deflate", "zstd"])
def test_oversize_body(server, still_serving, encoding):
    req, tid = big_request(MAX_BODY + 1024)
    data = req.SerializeToString()
    wire = support.compress(data, encoding)
    if encoding:
        assert len(wire) < MAX_BODY // 10, "the compressed body itself must be small"
    r = support.post(traces_url(server), wire, PROTOBUF, encoding=encoding, raw=True)
    assert_error(r, 413, PROTOBUF)
    assert_not_stored(server, tid)


def test_gzip_bomb(server, still_serving):
    """64 MiB of zeros in a ~64 KiB gzip body: refused with 413 without inflating it all."""
    bomb = gzip.compress(b"\x00" * (64 << 20), compresslevel=9)
    assert len(bomb) < MAX_BODY
    r = support.post(traces_url(server), bomb, PROTOBUF, encoding="gzip", raw=True, timeout=30)
    assert_error(r, 413, PROTOBUF)


def test_zstd_bomb_json(server, still_serving):
    bomb = zstandard.ZstdCompressor().compress(b" " * (64 << 20))
    r = support.post(traces_url(server), bomb, JSON, encoding="zstd", raw=True, timeout=30)
    assert_error(r, 413, JSON)


# -- invalid ids: partial success -------------------------------------------------------------------------
def test_bad_ids_protobuf_partial_success(server, still_serving):
    svc = support.unique("bad-ids")
    t = support.now_ns() - 1_000_000_000
    good_tid, bad_tid = support.new_trace_id(), support.new_trace_id()
    good = [
        support.make_span(good_tid, support.new_span_id(), "good root", start=t, end=t + 10, kind=support.SERVER),
        support.make_span(support.new_trace_id(), support.new_span_id(), "good other root", start=t, end=t + 10),
    ]
    bad = [
        support.make_span(bad_tid, support.new_span_id()[:4], "span id 4 bytes", start=t, end=t + 10),
        support.make_span(support.new_trace_id()[:15], support.new_span_id(), "trace id 15 bytes", start=t, end=t + 10),
        support.make_span(bad_tid, b"", "no span id", start=t, end=t + 10),
        support.make_span(b"", support.new_span_id(), "no trace id", start=t, end=t + 10),
        support.make_span(bad_tid, support.new_span_id(), "parent 9 bytes", parent=b"\x01" * 9, start=t, end=t + 10),
    ]
    req = support.traces_request([good[0], bad[0], bad[1], good[1], bad[2], bad[3], bad[4]], svc)
    r = support.post_traces(server, req)
    rejected, message = partial_success(r)
    assert rejected == len(bad), f"rejected_spans={rejected}, expected {len(bad)} ({message!r})"
    assert message.strip(), "partial success needs an error_message"

    expected = support.expected_spans(support.traces_request(good, svc))
    for tid, spans in expected.items():
        assert_trace(server, tid, spans)
    assert_not_stored(server, bad_tid.hex())


def test_bad_ids_json_partial_success(server, still_serving):
    svc = support.unique("bad-ids-json")
    t = support.now_ns() - 1_000_000_000
    good_tid, bad_tid = support.new_trace_id().hex(), support.new_trace_id().hex()
    good_sid = support.new_span_id().hex()

    def span(tid, sid, name, **extra):
        return {"traceId": tid, "spanId": sid, "name": name, "kind": 2,
                "startTimeUnixNano": str(t), "endTimeUnixNano": str(t + 1000), **extra}

    spans = [
        span(good_tid, good_sid, "good"),
        span(bad_tid, "abcdef0123", "span id 5 bytes"),
        span(bad_tid[:30], support.new_span_id().hex(), "trace id 15 bytes"),
        span(bad_tid, support.new_span_id().hex() + "0000", "span id 10 bytes"),
    ]
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
                "scopeSpans": [{"scope": {"name": "s"}, "spans": spans}],
            }
        ]
    }
    r = support.post(traces_url(server), json.dumps(body), JSON)
    rejected, message = partial_success(r)
    assert rejected == 3, f"rejectedSpans={rejected}, expected 3 ({message!r}): {r.text}"
    assert message.strip()
    got = server.trace(good_tid)["spans"]
    assert [s["span_id"] for s in got] == [good_sid]
    assert_not_stored(server, bad_tid)


# -- empty and unsupported signals ------------------------------------------------------------------------
def test_empty_request_succeeds(server, still_serving):
    support.assert_accepted(support.post(traces_url(server), b"", PROTOBUF))
    support.assert_accepted(support.post(traces_url(server), "{}", JSON))
    support.assert_accepted(support.post(f"{server.otlp_http}/v1/logs", b"", PROTOBUF), "logs")


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_metrics_not_implemented(server, still_serving, content_type):
    body = (
        metrics_service_pb2.ExportMetricsServiceRequest().SerializeToString()
        if content_type == PROTOBUF
        else "{\"resourceMetrics\": []}"
    )
    st = assert_error(support.post(f"{server.otlp_http}/v1/metrics", body, content_type), 501, content_type)
    assert "metric" in st.message.lower(), st


def test_grpc_metrics_unimplemented(server, still_serving):
    with grpc.insecure_channel(server.otlp_grpc_addr, options=[("grpc.enable_http_proxy", 0)]) as ch:
        stub = metrics_service_pb2_grpc.MetricsServiceStub(ch)
        with pytest.raises(grpc.RpcError) as err:
            stub.Export(metrics_service_pb2.ExportMetricsServiceRequest(), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED, err.value


def test_grpc_bad_ids_partial_success(server, still_serving):
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    svc = support.unique("grpc-bad-ids")
    t = support.now_ns() - 1_000_000_000
    good_tid = support.new_trace_id()
    req = support.traces_request(
        [
            support.make_span(good_tid, support.new_span_id(), "good", start=t, end=t + 5),
            support.make_span(support.new_trace_id(), support.new_span_id()[:3], "bad", start=t, end=t + 5),
        ],
        svc,
    )
    with grpc.insecure_channel(server.otlp_grpc_addr, options=[("grpc.enable_http_proxy", 0)]) as ch:
        resp = trace_service_pb2_grpc.TraceServiceStub(ch).Export(
            req, timeout=5, metadata=[("x-honeycomb-team", "grpc-key")]
        )
    assert resp.partial_success.rejected_spans == 1, resp
    assert [s["name"] for s in server.trace(good_tid.hex())["spans"]] == ["good"]


@pytest.mark.parametrize("compression", [grpc.Compression.NoCompression, grpc.Compression.Gzip])
def test_grpc_message_over_limit_is_resource_exhausted(server, still_serving, compression):
    """The explicit gRPC limit applies to the decompressed message, as the HTTP body cap does."""
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    t = support.now_ns() - 1_000_000_000
    tid = support.new_trace_id()
    # Highly compressible: small on the wire when gzipped, over the limit once decompressed.
    span = support.make_span(tid, support.new_span_id(), "big", start=t, end=t + 5, attributes={"pad": "x" * (MAX_BODY + 1)})
    req = support.traces_request([span], support.unique("grpc-big"))
    with grpc.insecure_channel(server.otlp_grpc_addr, options=[("grpc.enable_http_proxy", 0)]) as ch:
        with pytest.raises(grpc.RpcError) as err:
            trace_service_pb2_grpc.TraceServiceStub(ch).Export(req, timeout=5, compression=compression)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err.value
    assert server.get_trace(tid.hex()).status_code == 404


# -- the read API's own errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("bad_id", ["not-a-trace-id", "abc", "0" * 31, "g" * 32, "0" * 33])
def test_api_malformed_trace_id(server, bad_id):
    r = server.get_trace(bad_id)
    assert r.status_code == 400, f"{r.status_code}: {r.text[:300]}"
    assert r.json().get("error"), r.text


def test_api_unknown_trace_id(server):
    r = server.get_trace(support.new_trace_id().hex().upper())
    assert r.status_code == 404, f"{r.status_code}: {r.text[:300]}"
    assert r.json().get("error"), r.text
