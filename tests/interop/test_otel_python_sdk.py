"""The real opentelemetry-python SDK and its OTLP exporters (HTTP/protobuf and gRPC) against waggle.

What the SDK recorded (captured with an InMemorySpanExporter next to the OTLP exporter) must come back
from GET /api/traces/{id} field for field: ids, times to the nanosecond, attribute types.
"""

from __future__ import annotations

import base64
import time

import grpc
import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

import support
from support import (
    PROTOBUF,
    TEAM_HEADERS,
    Approx,
    assert_accepted,
    assert_no_diff,
    assert_trace,
    diff,
    diff_records,
    expected_logs,
    expected_spans,
    python_value_json,
)

KINDS = {
    SpanKind.INTERNAL: "internal",
    SpanKind.SERVER: "server",
    SpanKind.CLIENT: "client",
    SpanKind.PRODUCER: "producer",
    SpanKind.CONSUMER: "consumer",
}

# One of every attribute type the Python API can set, with edge values.
ALL_TYPES = {
    "http.route": "/api/activities/home",
    "str.empty": "",
    "str.unicode": "h\u00e9llo w\u00f6rld \u2713 \U0001f41d \"quoted\" \\ back\nslash",
    "bool.true": True,
    "bool.false": False,
    "int.zero": 0,
    "int.neg": -42,
    "int.max": 2**63 - 1,
    "int.min": -(2**63),
    "int.above_2_53": 2**53 + 1,
    "float.pi": 3.141592653589793,
    "float.integral": 3.0,
    "float.neg": -0.25,
    "float.third": 1 / 3,
    "float.tiny": 5e-324,
    "float.huge": 1.7976931348623157e308,
    "list.str": ["a", "", "\u00fc"],
    "list.int": [1, -2, 2**40],
    "list.float": [1.0, 2.5, -1e-10],
    "list.bool": [True, False, True],
}


class RecordingSpanExporter(SpanExporter):
    """Passes spans to the OTLP exporter and remembers whether each export succeeded."""

    def __init__(self, inner: SpanExporter):
        self.inner = inner
        self.results: list[SpanExportResult] = []

    def export(self, spans):
        result = self.inner.export(spans)
        self.results.append(result)
        return result

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class RecordingLogExporter(LogRecordExporter):
    def __init__(self, inner: LogRecordExporter):
        self.inner = inner
        self.results: list[LogRecordExportResult] = []

    def export(self, batch):
        result = self.inner.export(batch)
        self.results.append(result)
        return result

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def otlp_exporters(transport: str, waggle):
    """(span exporter, log exporter) for `transport` ("http" or "grpc", "+gzip" to compress),
    sending the x-honeycomb-team header."""
    kind, _, compression = transport.partition("+")
    if kind == "http":
        c = HttpCompression.Gzip if compression == "gzip" else HttpCompression.NoCompression
        return (
            HttpSpanExporter(endpoint=f"{waggle.otlp_http}/v1/traces", headers=TEAM_HEADERS, timeout=5, compression=c),
            HttpLogExporter(endpoint=f"{waggle.otlp_http}/v1/logs", headers=TEAM_HEADERS, timeout=5, compression=c),
        )
    c = grpc.Compression.Gzip if compression == "gzip" else grpc.Compression.NoCompression
    endpoint = f"http://{waggle.otlp_grpc_addr}"
    return (
        GrpcSpanExporter(endpoint=endpoint, insecure=True, headers=TEAM_HEADERS, timeout=5, compression=c),
        GrpcLogExporter(endpoint=endpoint, insecure=True, headers=TEAM_HEADERS, timeout=5, compression=c),
    )


class Pipeline:
    """A TracerProvider + LoggerProvider wired to waggle and to in-memory copies."""

    def __init__(self, transport: str, waggle, service_name: str):
        self.resource = Resource.create(
            {
                "service.name": service_name,
                "service.version": "1.2.3",
                "deployment.environment": "interop",
                "custom.int": 7,
                "custom.flag": True,
                "custom.ratio": 0.75,
                "custom.tags": ["x", "y"],
            }
        )
        span_exporter, log_exporter = otlp_exporters(transport, waggle)
        self.span_sink = RecordingSpanExporter(span_exporter)
        self.log_sink = RecordingLogExporter(log_exporter)
        self.memory_spans = InMemorySpanExporter()
        self.memory_logs = InMemoryLogRecordExporter()

        self.tracer_provider = TracerProvider(resource=self.resource, shutdown_on_exit=False)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.memory_spans))
        self.tracer_provider.add_span_processor(BatchSpanProcessor(self.span_sink))
        self.tracer = self.tracer_provider.get_tracer(
            "interop.tracer",
            "2.0.1",
            schema_url="https://opentelemetry.io/schemas/1.21.0",
            attributes={"scope.attr": "yes", "scope.n": 1},
        )

        self.logger_provider = LoggerProvider(resource=self.resource, shutdown_on_exit=False)
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.memory_logs))
        self.logger_provider.add_log_record_processor(BatchLogRecordProcessor(self.log_sink))
        self.logger = self.logger_provider.get_logger("interop.logger", "0.3.0")

    def flush(self) -> None:
        assert self.tracer_provider.force_flush(15_000), "TracerProvider.force_flush timed out"
        assert self.logger_provider.force_flush(15_000), "LoggerProvider.force_flush timed out"
        for results, ok in ((self.span_sink.results, SpanExportResult.SUCCESS),
                            (self.log_sink.results, LogRecordExportResult.SUCCESS)):
            assert results and all(r == ok for r in results), f"OTLP export results: {results}"

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()


def record_sample_trace(p: Pipeline) -> dict:
    """Emit the sample: a linked trace, then root(server) -> child(internal) -> grandchild(client)
    plus a producer sibling, with events, links, statuses and logs. Returns handles to the spans."""
    # A separate trace the main root links to (a consumer span, like a queue message being handled).
    with p.tracer.start_as_current_span("process message", kind=SpanKind.CONSUMER) as other:
        other.set_attribute("messaging.system", "sqs")
    other_ctx = other.get_span_context()

    link = Link(other_ctx, {"link.reason": "caused-by", "link.n": 3, "link.ok": True, "link.f": 0.5})
    with p.tracer.start_as_current_span("GET /api/activities/home", kind=SpanKind.SERVER, links=[link]) as root:
        root.set_attributes(ALL_TYPES)
        root.add_event(
            "request.received",
            {"bytes": 512, "peer": "127.0.0.1", "ratio": 0.5, "keep_alive": False, "hops": ["a", "b"]},
        )
        with p.tracer.start_as_current_span("load activities", kind=SpanKind.INTERNAL) as child:
            child.set_attribute("app.result_length", 5)
            p.logger.emit(
                timestamp=time.time_ns(),
                severity_number=SeverityNumber.WARN,
                severity_text="WARN",
                body="cache degraded, falling back to db",
                attributes={"retry": 3, "ok": False, "ratio": 0.5, "who": "db", "list": [1, 2]},
            )
            with p.tracer.start_as_current_span("SELECT activities", kind=SpanKind.CLIENT) as grandchild:
                grandchild.set_attribute("db.system", "postgresql")
                grandchild.add_event("retry", {"attempt": 1})
                try:
                    raise ConnectionError("connection refused")
                except ConnectionError as e:
                    grandchild.record_exception(e)
                grandchild.set_status(Status(StatusCode.ERROR, "connection refused"))
                p.logger.emit(
                    timestamp=time.time_ns(),
                    severity_number=SeverityNumber.ERROR,
                    severity_text="ERROR",
                    body="query failed",
                    attributes={"db.statement": "SELECT 1"},
                )
            child.set_status(Status(StatusCode.OK))
        with p.tracer.start_as_current_span("publish event", kind=SpanKind.PRODUCER) as producer:
            producer.set_attribute("messaging.destination", "activities")
        root.set_status(Status(StatusCode.ERROR, "upstream failed"))
    return {"other": other, "root": root, "child": child, "grandchild": grandchild, "producer": producer}


# -- expected values from the SDK's own records ----------------------------------------------------
def hex_trace(i: int) -> str:
    return f"{i:032x}"


def hex_span(i: int) -> str:
    return f"{i:016x}"


def attrs(a) -> dict:
    return {k: python_value_json(v) for k, v in (a or {}).items()}


def expected_span(s: ReadableSpan, wire_flags: int) -> dict:
    ctx = s.get_span_context()
    svc = s.resource.attributes["service.name"]
    scope = s.instrumentation_scope
    return {
        "trace_id": hex_trace(ctx.trace_id),
        "span_id": hex_span(ctx.span_id),
        "parent_span_id": hex_span(s.parent.span_id) if s.parent else None,
        "name": s.name,
        "kind": KINDS[s.kind],
        "start_time_unix_nano": s.start_time,
        "end_time_unix_nano": s.end_time,
        "duration_ms": Approx((s.end_time - s.start_time) / 1e6),
        "status_code": s.status.status_code.value,
        "status_message": s.status.description or "",
        "trace_state": "",
        "flags": wire_flags,
        "dataset": svc,
        "service_name": svc,
        "attributes": attrs(s.attributes),
        "resource": attrs(s.resource.attributes),
        "scope": {"name": scope.name, "version": scope.version or "", "attributes": attrs(scope.attributes)},
        "events": [
            {"name": e.name, "time_unix_nano": e.timestamp, "attributes": attrs(e.attributes)} for e in s.events
        ],
        "links": [
            {
                "trace_id": hex_trace(l.context.trace_id),
                "span_id": hex_span(l.context.span_id),
                "trace_state": "",  # the Python exporter does not send a link's trace state
                "attributes": attrs(l.attributes),
            }
            for l in s.links
        ],
    }


def expected_trace_spans(spans: list[ReadableSpan], trace_id: int) -> list[dict]:
    # The span flags the exporter put on the wire (SpanFlags has-is-remote bits), from its own encoder.
    wire = {
        sp.span_id: sp.flags
        for rs in encode_spans(spans).resource_spans
        for ss in rs.scope_spans
        for sp in ss.spans
    }
    out = [
        expected_span(s, wire[s.get_span_context().span_id.to_bytes(8, "big")])
        for s in spans
        if s.get_span_context().trace_id == trace_id
    ]
    return sorted(out, key=lambda d: (d["start_time_unix_nano"], d["span_id"]))


def expected_trace_logs(records, trace_id: int) -> list[dict]:
    out = []
    for r in records:
        lr = r.log_record
        if lr.trace_id != trace_id:
            continue
        svc = r.resource.attributes["service.name"]
        scope = r.instrumentation_scope
        out.append(
            {
                "time_unix_nano": lr.timestamp,
                "observed_time_unix_nano": lr.observed_timestamp,
                "severity_number": lr.severity_number.value,
                "severity_text": lr.severity_text,
                "body": lr.body,
                "trace_id": hex_trace(lr.trace_id),
                "span_id": hex_span(lr.span_id),
                "flags": int(lr.trace_flags),
                "dataset": svc,
                "attributes": attrs(lr.attributes),
                "resource": attrs(r.resource.attributes),
                "scope": {"name": scope.name, "version": scope.version or "", "attributes": attrs(scope.attributes)},
            }
        )
    return sorted(out, key=lambda d: d["time_unix_nano"])


# -- tests ---------------------------------------------------------------------------------------------
@pytest.fixture(params=["http", "grpc", "http+gzip", "grpc+gzip"])
def transport(request) -> str:
    return request.param


@pytest.fixture
def pipeline(transport, shared_waggle):
    p = Pipeline(transport, shared_waggle, support.unique(f"sdk-{transport.replace('+', '-')}"))
    yield p
    p.shutdown()


def test_spans_round_trip_exactly(pipeline, shared_waggle):
    handles = record_sample_trace(pipeline)
    pipeline.flush()
    spans = pipeline.memory_spans.get_finished_spans()
    assert len(spans) == 5

    root_ctx = handles["root"].get_span_context()
    expected = expected_trace_spans(spans, root_ctx.trace_id)
    assert [s["kind"] for s in expected] == ["server", "internal", "client", "producer"]
    body = assert_trace(shared_waggle, hex_trace(root_ctx.trace_id), expected)
    assert body["trace_id"] == hex_trace(root_ctx.trace_id)

    # The linked trace is stored on its own.
    other_id = handles["other"].get_span_context().trace_id
    assert_trace(shared_waggle, hex_trace(other_id), expected_trace_spans(spans, other_id))


def test_attribute_types_are_kept(pipeline, shared_waggle):
    """Spelled out for readability: ints stay ints, floats stay floats (3.0 too), bools stay bools."""
    handles = record_sample_trace(pipeline)
    pipeline.flush()
    root = handles["root"].get_span_context()
    body = shared_waggle.trace(hex_trace(root.trace_id))
    got = next(s for s in body["spans"] if s["span_id"] == hex_span(root.span_id))["attributes"]
    for key, value in ALL_TYPES.items():
        assert key in got, f"attribute {key} missing"
        assert_no_diff(diff(python_value_json(value), got[key], key))
    assert type(got["float.integral"]) is float and got["float.integral"] == 3.0
    assert type(got["int.max"]) is int and got["int.max"] == 2**63 - 1
    assert type(got["bool.true"]) is bool


def test_logs_inside_spans_join_the_trace(pipeline, shared_waggle):
    handles = record_sample_trace(pipeline)
    pipeline.flush()
    trace_id = handles["root"].get_span_context().trace_id
    records = pipeline.memory_logs.get_finished_logs()
    expected = expected_trace_logs(records, trace_id)
    assert len(expected) == 2
    # Sanity of the SDK side: each log carries the span it was emitted in.
    assert expected[0]["span_id"] == hex_span(handles["child"].get_span_context().span_id)
    assert expected[1]["span_id"] == hex_span(handles["grandchild"].get_span_context().span_id)

    body = shared_waggle.trace(hex_trace(trace_id))
    assert_no_diff(diff_records(expected, body.get("logs", []), "logs"), f"trace {hex_trace(trace_id)}: ")


def test_dataset_is_service_name_and_trace_is_listed(pipeline, shared_waggle):
    handles = record_sample_trace(pipeline)
    pipeline.flush()
    dataset = pipeline.resource.attributes["service.name"]
    root = handles["root"]
    other = handles["other"]

    r = shared_waggle.api("/api/traces", dataset=dataset)
    assert r.status_code == 200, r.text
    listed = r.json()["traces"]
    ids = [t["trace_id"] for t in listed]
    root_id, other_id = hex_trace(root.get_span_context().trace_id), hex_trace(other.get_span_context().trace_id)
    assert ids == [root_id, other_id], f"newest first, only this dataset: {listed}"

    entry = listed[0]
    expected_entry = {
        "trace_id": root_id,
        "root_name": "GET /api/activities/home",
        "service_name": dataset,
        "dataset": dataset,
        "start_time_unix_nano": root.start_time,
        "duration_ms": Approx((root.end_time - root.start_time) / 1e6),
        "span_count": 4,
        "error": True,
    }
    assert_no_diff(diff(expected_entry, support.documented_only(expected_entry, entry)), "listing entry: ")
    assert listed[1]["span_count"] == 1 and listed[1]["error"] is False

    errors_only = shared_waggle.api("/api/traces", dataset=dataset, error="true").json()["traces"]
    assert [t["trace_id"] for t in errors_only] == [root_id]
    no_errors = shared_waggle.api("/api/traces", dataset=dataset, error="false").json()["traces"]
    assert [t["trace_id"] for t in no_errors] == [other_id]

    datasets = shared_waggle.api("/api/datasets").json()["datasets"]
    mine = [d for d in datasets if d["name"] == dataset]
    assert mine, f"dataset {dataset} not in /api/datasets: {datasets}"


def test_raw_protobuf_kvlist_and_bytes(shared_waggle):
    """kvlist and bytes values cannot be set through the Python span API: send them raw."""
    svc = support.unique("raw-proto")
    tid, root_id, child_id = support.new_trace_id(), support.new_span_id(), support.new_span_id()
    link_tid, link_sid = support.new_trace_id(), support.new_span_id()
    t0 = support.now_ns() - 2_000_000_000 + 123
    kvlist = {
        "user": {"id": 42, "name": "ada", "admin": False, "score": 9.5},
        "tags": ["a", 1, 2.0, True, {"nested": b"\x00\x01"}],
        "empty": {},
    }
    spans = [
        support.make_span(
            tid, root_id, "POST /upload", kind=support.SERVER, start=t0, end=t0 + 5_000_001,
            attributes={"payload": kvlist, "digest": b"\x00\xff\x10binary\x80", "empty.bytes": b"",
                        "mixed.array": [1, "two", 3.5, False, b"\x01"]},
            trace_state="rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", flags=0x301,
            events=[("upload.chunk", t0 + 1000, {"chunk": {"index": 0, "size": 1024}, "raw": b"\xde\xad"})],
            links=[(link_tid, link_sid, "vendor=abc", {"ctx": {"k": "v"}})],
            status=(1, ""),
        ),
        support.make_span(tid, child_id, "store blob", parent=root_id, start=t0 + 10, end=t0 + 4_000_000,
                          attributes={"blob": b"hello"}),
    ]
    req = support.traces_request(spans, svc, resource={"host.meta": {"rack": "r1", "slot": 3}},
                                 scope=("raw.scope", ""), scope_attributes={"s": {"x": 1}})
    logs = support.logs_request(
        [support.make_log(time_ns=t0 + 500, body="uploaded", trace_id=tid, span_id=child_id, flags=1,
                          attributes={"detail": {"bytes": 1024, "ok": True}, "sig": b"\x01\x02\x03"},
                          severity=(13, "WARN"))],
        svc,
    )
    r = support.post_traces(shared_waggle, req)
    assert support.media_type(r) == PROTOBUF, r.headers
    assert_accepted(r)
    assert_accepted(support.post_logs(shared_waggle, logs), "logs")

    body = assert_trace(shared_waggle, tid.hex(), expected_spans(req)[tid.hex()], expected_logs(logs)[tid.hex()])
    root = body["spans"][0]
    # Spelled out, independently of the generic converter:
    assert root["attributes"]["payload"]["user"] == {"id": 42, "name": "ada", "admin": False, "score": 9.5}
    assert root["attributes"]["digest"] == base64.b64encode(b"\x00\xff\x10binary\x80").decode()
    assert root["trace_state"] == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    assert root["flags"] == 0x301
    assert root["scope"] == {"name": "raw.scope", "version": "", "attributes": {"s": {"x": 1}}}


def test_team_header_from_env(shared_waggle, monkeypatch):
    """OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=... is how Honeycomb users configure the exporter."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-honeycomb-team=abc%20123,x-extra=1")
    exporter = HttpSpanExporter(endpoint=f"{shared_waggle.otlp_http}/v1/traces", timeout=5)
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": support.unique("env-headers")}),
                              shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("env.test")
    with tracer.start_as_current_span("hello") as span:
        pass
    try:
        assert exporter.export(memory.get_finished_spans()) == SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
        provider.shutdown()
    spans = memory.get_finished_spans()
    ctx = span.get_span_context()
    assert_trace(shared_waggle, hex_trace(ctx.trace_id), expected_trace_spans(spans, ctx.trace_id))
