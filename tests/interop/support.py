"""Helpers shared by the interop tests.

- building OTLP protobuf requests (opentelemetry.proto classes),
- turning what was sent into what `GET /api/traces/{id}` must return (docs/API.md),
- posting with compression, decoding google.rpc.Status and partial-success answers,
- a strict comparison that tells int from float from bool and lists every difference.
"""

from __future__ import annotations

import base64
import gzip
import os
import time
import zlib
from dataclasses import dataclass

import requests
import zstandard
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

KIND_NAMES = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
SERVER, INTERNAL, CLIENT = Span.SPAN_KIND_SERVER, Span.SPAN_KIND_INTERNAL, Span.SPAN_KIND_CLIENT
PRODUCER, CONSUMER = Span.SPAN_KIND_PRODUCER, Span.SPAN_KIND_CONSUMER

TEAM_HEADERS = {"x-honeycomb-team": "interop-test-key"}


# ---------------------------------------------------------------------------------------------
# ids and time
# ---------------------------------------------------------------------------------------------
def new_trace_id() -> bytes:
    while True:
        b = os.urandom(16)
        if any(b):
            return b


def new_span_id() -> bytes:
    while True:
        b = os.urandom(8)
        if any(b):
            return b


def now_ns() -> int:
    return time.time_ns()


def unique(prefix: str) -> str:
    return f"{prefix}-{os.urandom(4).hex()}"


# ---------------------------------------------------------------------------------------------
# building OTLP protobuf
# ---------------------------------------------------------------------------------------------
def any_value(v) -> AnyValue:
    if isinstance(v, AnyValue):
        return v
    if isinstance(v, bool):
        return AnyValue(bool_value=v)
    if isinstance(v, int):
        return AnyValue(int_value=v)
    if isinstance(v, float):
        return AnyValue(double_value=v)
    if isinstance(v, str):
        return AnyValue(string_value=v)
    if isinstance(v, (bytes, bytearray)):
        return AnyValue(bytes_value=bytes(v))
    if isinstance(v, (list, tuple)):
        return AnyValue(array_value=ArrayValue(values=[any_value(x) for x in v]))
    if isinstance(v, dict):
        return AnyValue(kvlist_value=KeyValueList(values=key_values(v)))
    raise TypeError(f"no AnyValue for {v!r}")


def key_values(d: dict | None) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in (d or {}).items()]


def make_span(
    trace_id: bytes,
    span_id: bytes,
    name: str,
    *,
    start: int,
    end: int,
    parent: bytes = b"",
    kind: int = INTERNAL,
    attributes: dict | None = None,
    events: list[tuple[str, int, dict]] = (),
    links: list[tuple[bytes, bytes, str, dict]] = (),
    status: tuple[int, str] = (0, ""),
    trace_state: str = "",
    flags: int = 0,
) -> Span:
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        kind=kind,
        start_time_unix_nano=start,
        end_time_unix_nano=end,
        attributes=key_values(attributes),
        events=[Span.Event(name=n, time_unix_nano=t, attributes=key_values(a)) for n, t, a in events],
        links=[
            Span.Link(trace_id=t, span_id=s, trace_state=ts, attributes=key_values(a)) for t, s, ts, a in links
        ],
        status=Status(code=status[0], message=status[1]),
        trace_state=trace_state,
        flags=flags,
    )


def traces_request(
    spans: list[Span],
    service_name: str,
    *,
    resource: dict | None = None,
    scope: tuple[str, str] = ("interop.raw", "1.0.0"),
    scope_attributes: dict | None = None,
) -> ExportTraceServiceRequest:
    res = {"service.name": service_name, **(resource or {})}
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=key_values(res)),
                scope_spans=[
                    ScopeSpans(
                        scope=InstrumentationScope(
                            name=scope[0], version=scope[1], attributes=key_values(scope_attributes)
                        ),
                        spans=spans,
                    )
                ],
            )
        ]
    )


def make_log(
    *,
    time_ns: int,
    body,
    severity: tuple[int, str] = (9, "INFO"),
    trace_id: bytes = b"",
    span_id: bytes = b"",
    flags: int = 0,
    attributes: dict | None = None,
    observed_ns: int | None = None,
) -> LogRecord:
    return LogRecord(
        time_unix_nano=time_ns,
        observed_time_unix_nano=observed_ns if observed_ns is not None else time_ns + 1,
        severity_number=severity[0],
        severity_text=severity[1],
        body=any_value(body),
        trace_id=trace_id,
        span_id=span_id,
        flags=flags,
        attributes=key_values(attributes),
    )


def logs_request(
    logs: list[LogRecord], service_name: str, *, resource: dict | None = None, scope=("interop.raw.logs", "1.0.0")
) -> ExportLogsServiceRequest:
    res = {"service.name": service_name, **(resource or {})}
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=Resource(attributes=key_values(res)),
                scope_logs=[
                    ScopeLogs(scope=InstrumentationScope(name=scope[0], version=scope[1]), log_records=logs)
                ],
            )
        ]
    )


def trace_batch(service_name: str, n_traces: int, spans_per_trace: int, *, tag: str = "", start_ns: int | None = None):
    """A request of n_traces fresh traces, each a root server span with a chain of children.

    Returns (request, [trace_id hex, ...]).
    """
    base = start_ns if start_ns is not None else now_ns() - 1_000_000_000
    spans, ids = [], []
    for t in range(n_traces):
        tid = new_trace_id()
        ids.append(tid.hex())
        parent = b""
        for i in range(spans_per_trace):
            sid = new_span_id()
            start = base + t * 1_000 + i * 997
            spans.append(
                make_span(
                    tid,
                    sid,
                    "GET /api/items" if i == 0 else f"step {i}",
                    parent=parent,
                    kind=SERVER if i == 0 else (CLIENT if i % 3 == 0 else INTERNAL),
                    start=start,
                    end=start + 1_000_003 * (spans_per_trace - i),
                    attributes={"tag": tag, "i": i, "t": t, "ratio": i / 7, "even": i % 2 == 0},
                    events=[("tick", start + 5, {"n": i})] if i % 5 == 1 else [],
                    status=(2, "boom") if i == spans_per_trace - 1 and t % 4 == 0 else (0, ""),
                )
            )
            parent = sid if i % 2 == 0 else parent
    return traces_request(spans, service_name), ids


# ---------------------------------------------------------------------------------------------
# what the read API must answer (docs/API.md)
# ---------------------------------------------------------------------------------------------
class Approx:
    """A float compared with a tolerance (duration_ms is derived, not stored)."""

    def __init__(self, value: float, rel: float = 1e-9, abs_: float = 1e-6):
        self.value, self.rel, self.abs = value, rel, abs_

    def matches(self, other) -> bool:
        return isinstance(other, (int, float)) and not isinstance(other, bool) and (
            abs(other - self.value) <= max(self.abs, self.rel * abs(self.value))
        )

    def __repr__(self):
        return f"~{self.value!r}"


def anyvalue_json(av: AnyValue):
    which = av.WhichOneof("value")
    if which is None:
        return None
    if which == "string_value":
        return av.string_value
    if which == "bool_value":
        return av.bool_value
    if which == "int_value":
        return int(av.int_value)
    if which == "double_value":
        return float(av.double_value)
    if which == "bytes_value":
        return base64.b64encode(av.bytes_value).decode()
    if which == "array_value":
        return [anyvalue_json(v) for v in av.array_value.values]
    if which == "kvlist_value":
        return {kv.key: anyvalue_json(kv.value) for kv in av.kvlist_value.values}
    raise AssertionError(which)


def attrs_json(kvs) -> dict:
    return {kv.key: anyvalue_json(kv.value) for kv in kvs}


def python_value_json(v):
    """An SDK attribute value (str/bool/int/float/bytes/sequence/mapping) as the API renders it."""
    if isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    if isinstance(v, dict) or hasattr(v, "items"):
        return {k: python_value_json(x) for k, x in v.items()}
    return [python_value_json(x) for x in v]


def dataset_for(resource: dict) -> str:
    name = resource.get("service.name")
    if not isinstance(name, str) or not name.strip() or name.strip().startswith("unknown_service"):
        return "unknown_service"
    return name.strip()


def scope_json(scope: InstrumentationScope) -> dict:
    return {"name": scope.name, "version": scope.version, "attributes": attrs_json(scope.attributes)}


def span_json(span: Span, resource: dict, scope: dict) -> dict:
    dataset = dataset_for(resource)
    return {
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "parent_span_id": span.parent_span_id.hex() if span.parent_span_id else None,
        "name": span.name,
        "kind": KIND_NAMES[span.kind],
        "start_time_unix_nano": span.start_time_unix_nano,
        "end_time_unix_nano": span.end_time_unix_nano,
        "duration_ms": Approx((span.end_time_unix_nano - span.start_time_unix_nano) / 1e6),
        "status_code": span.status.code,
        "status_message": span.status.message,
        "trace_state": span.trace_state,
        "flags": span.flags,
        "dataset": dataset,
        "service_name": resource.get("service.name"),
        "attributes": attrs_json(span.attributes),
        "resource": resource,
        "scope": scope,
        "events": [
            {"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": attrs_json(e.attributes)}
            for e in span.events
        ],
        "links": [
            {
                "trace_id": l.trace_id.hex(),
                "span_id": l.span_id.hex(),
                "trace_state": l.trace_state,
                "attributes": attrs_json(l.attributes),
            }
            for l in span.links
        ],
    }


def span_order(s: dict):
    return (s["start_time_unix_nano"], s["span_id"])


def expected_spans(*reqs: ExportTraceServiceRequest) -> dict[str, list[dict]]:
    """trace id hex -> the spans GET /api/traces/{id} must return, in the documented order."""
    out: dict[str, list[dict]] = {}
    for req in reqs:
        for rs in req.resource_spans:
            resource = attrs_json(rs.resource.attributes)
            for ss in rs.scope_spans:
                scope = scope_json(ss.scope)
                for sp in ss.spans:
                    out.setdefault(sp.trace_id.hex(), []).append(span_json(sp, resource, scope))
    for spans in out.values():
        spans.sort(key=span_order)
    return out


def log_json(lr: LogRecord, resource: dict, scope: dict) -> dict:
    return {
        "time_unix_nano": lr.time_unix_nano,
        "observed_time_unix_nano": lr.observed_time_unix_nano,
        "severity_number": lr.severity_number,
        "severity_text": lr.severity_text,
        "body": anyvalue_json(lr.body),
        "trace_id": lr.trace_id.hex() if lr.trace_id else None,
        "span_id": lr.span_id.hex() if lr.span_id else None,
        "flags": lr.flags,
        "dataset": dataset_for(resource),
        "attributes": attrs_json(lr.attributes),
        "resource": resource,
        "scope": scope,
    }


def expected_logs(*reqs: ExportLogsServiceRequest) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for req in reqs:
        for rl in req.resource_logs:
            resource = attrs_json(rl.resource.attributes)
            for sl in rl.scope_logs:
                scope = scope_json(sl.scope)
                for lr in sl.log_records:
                    out.setdefault(lr.trace_id.hex(), []).append(log_json(lr, resource, scope))
    for logs in out.values():
        logs.sort(key=lambda l: l["time_unix_nano"])
    return out


# ---------------------------------------------------------------------------------------------
# strict comparison
# ---------------------------------------------------------------------------------------------
def diff(expected, actual, path: str = "$") -> list[str]:
    """Every difference between expected and actual; int, float and bool are different types."""
    if isinstance(expected, Approx):
        return [] if expected.matches(actual) else [f"{path}: expected {expected!r}, got {actual!r}"]
    if type(expected) is not type(actual):
        return [
            f"{path}: expected {type(expected).__name__} {expected!r}, got {type(actual).__name__} {actual!r}"
        ]
    if isinstance(expected, dict):
        out = []
        for k in expected:
            if k not in actual:
                out.append(f"{path}.{k}: missing (expected {expected[k]!r})")
            else:
                out.extend(diff(expected[k], actual[k], f"{path}.{k}"))
        for k in actual:
            if k not in expected:
                out.append(f"{path}.{k}: unexpected key (value {actual[k]!r})")
        return out
    if isinstance(expected, list):
        out = []
        if len(expected) != len(actual):
            out.append(f"{path}: expected {len(expected)} items, got {len(actual)}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            out.extend(diff(e, a, f"{path}[{i}]"))
        return out
    if expected != actual:
        return [f"{path}: expected {expected!r}, got {actual!r}"]
    return []


def documented_only(expected: dict, actual: dict) -> dict:
    """The actual object restricted to the expected keys (a span or log may carry extra fields)."""
    return {k: v for k, v in actual.items() if k in expected}


def _ids(ids, n: int = 5) -> str:
    ids = sorted(ids)
    return ", ".join(map(str, ids[:n])) + (f", ... ({len(ids)} in all)" if len(ids) > n else "")


def diff_records(expected: list[dict], actual: list[dict], what: str) -> list[str]:
    """Differences between expected and actual spans (matched by span_id) or logs (by position).

    Extra keys on a span or log object are allowed; everything inside it is compared exactly."""
    if not isinstance(actual, list):
        return [f"{what}: expected a list, got {actual!r}"]
    if expected and "span_id" in expected[0] and "kind" in expected[0]:
        out = []
        exp_ids = [e["span_id"] for e in expected]
        act_ids = [a.get("span_id") for a in actual]
        counts: dict = {}
        for i in act_ids:
            counts[i] = counts.get(i, 0) + 1
        dupes = {i for i, c in counts.items() if c > 1}
        missing, extra = set(exp_ids) - set(act_ids), set(act_ids) - set(exp_ids)
        if missing:
            out.append(f"{what}: {len(missing)} of {len(exp_ids)} spans missing: {_ids(missing)}")
        if extra:
            out.append(f"{what}: {len(extra)} unexpected spans: {_ids(extra)}")
        if dupes:
            out.append(f"{what}: {len(dupes)} spans returned more than once: {_ids(dupes)}")
        by_id = {}
        for a in actual:
            by_id.setdefault(a.get("span_id"), a)
        for e in expected:
            a = by_id.get(e["span_id"])
            if a is not None:
                out.extend(diff(e, documented_only(e, a), f"{what}[span {e['span_id']}]"))
        if not (missing or extra or dupes) and exp_ids != act_ids:
            out.append(f"{what}: order (start time, then span id) expected {exp_ids}, got {act_ids}")
        return out
    out = []
    if len(expected) != len(actual):
        out.append(f"{what}: expected {len(expected)}, got {len(actual)}")
    for i, (e, a) in enumerate(zip(expected, actual)):
        out.extend(diff(e, documented_only(e, a) if isinstance(a, dict) else a, f"{what}[{i}]"))
    return out


def assert_no_diff(problems: list[str], context: str = "") -> None:
    if problems:
        shown = "\n  ".join(problems[:40])
        more = f"\n  ... and {len(problems) - 40} more" if len(problems) > 40 else ""
        raise AssertionError(f"{context}{len(problems)} difference(s):\n  {shown}{more}")


def assert_trace(waggle, trace_id: str, spans: list[dict], logs: list[dict] | None = None) -> dict:
    body = waggle.trace(trace_id)
    problems = diff_records(spans, body.get("spans", []), "spans")
    if logs is not None:
        problems += diff_records(logs, body.get("logs", []), "logs")
    assert_no_diff(problems, f"trace {trace_id}: ")
    return body


# ---------------------------------------------------------------------------------------------
# posting and answers
# ---------------------------------------------------------------------------------------------
def compress(body: bytes, encoding: str | None) -> bytes:
    if encoding in (None, "identity"):
        return body
    if encoding == "gzip":
        return gzip.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    if encoding == "zstd":
        return zstandard.ZstdCompressor().compress(body)
    raise ValueError(encoding)


_session = requests.Session()
_session.trust_env = False


def post(
    url: str,
    body: bytes | str,
    content_type: str | None = PROTOBUF,
    *,
    encoding: str | None = None,
    headers: dict | None = None,
    raw: bool = False,
    timeout: float = 10,
    session: requests.Session | None = None,
) -> requests.Response:
    """POST body; `encoding` compresses it (unless raw) and sets Content-Encoding."""
    if isinstance(body, str):
        body = body.encode()
    h = dict(TEAM_HEADERS)
    if content_type is not None:
        h["Content-Type"] = content_type
    if encoding is not None:
        h["Content-Encoding"] = encoding
        if not raw:
            body = compress(body, encoding)
    h.update(headers or {})
    return (session or _session).post(url, data=body, headers=h, timeout=timeout)


def post_traces(waggle, req: ExportTraceServiceRequest, **kw) -> requests.Response:
    return post(f"{waggle.otlp_http}/v1/traces", req.SerializeToString(), PROTOBUF, **kw)


def post_logs(waggle, req: ExportLogsServiceRequest, **kw) -> requests.Response:
    return post(f"{waggle.otlp_http}/v1/logs", req.SerializeToString(), PROTOBUF, **kw)


def media_type(resp: requests.Response) -> str:
    return resp.headers.get("Content-Type", "").split(";")[0].strip().lower()


@dataclass
class RpcStatus:
    code: int
    message: str


def decode_status(resp: requests.Response) -> RpcStatus:
    """The google.rpc.Status error body, decoded by the response's Content-Type."""
    mt = media_type(resp)
    if mt == JSON:
        body = resp.json()
        assert isinstance(body, dict), f"Status JSON is not an object: {resp.text[:300]}"
        return RpcStatus(int(body.get("code", 0)), body.get("message", ""))
    if mt in (PROTOBUF, "application/protobuf"):
        st = status_pb2.Status()
        st.ParseFromString(resp.content)
        return RpcStatus(st.code, st.message)
    raise AssertionError(f"error body has Content-Type {mt!r}, not protobuf or JSON: {resp.content[:300]!r}")


def assert_error(resp: requests.Response, http_status: int, content_type: str | None = None) -> RpcStatus:
    assert resp.status_code == http_status, (
        f"expected HTTP {http_status}, got {resp.status_code}: {resp.content[:300]!r}"
    )
    if content_type is not None:
        assert media_type(resp) == content_type, (
            f"error body Content-Type {media_type(resp)!r}, expected {content_type!r} (the request's)"
        )
    st = decode_status(resp)
    assert st.message.strip(), f"google.rpc.Status has no message: {st}"
    return st


def partial_success(resp: requests.Response, signal: str = "traces") -> tuple[int, str]:
    """(rejected count, error message) of a 200 export answer; (0, '') when partial_success is unset."""
    assert resp.status_code == 200, f"expected 200, got {resp.status_code}: {resp.content[:300]!r}"
    mt = media_type(resp)
    if mt == JSON:
        body = resp.json() if resp.content.strip() else {}
        assert isinstance(body, dict), resp.text
        ps = body.get("partialSuccess") or {}
        key = "rejectedSpans" if signal == "traces" else "rejectedLogRecords"
        return int(ps.get(key, 0) or 0), ps.get("errorMessage", "") or ""
    if mt in (PROTOBUF, "application/protobuf"):
        msg = ExportTraceServiceResponse() if signal == "traces" else ExportLogsServiceResponse()
        msg.ParseFromString(resp.content)
        ps = msg.partial_success
        n = ps.rejected_spans if signal == "traces" else ps.rejected_log_records
        return n, ps.error_message
    raise AssertionError(f"export answer has Content-Type {mt!r}: {resp.content[:300]!r}")


def assert_accepted(resp: requests.Response, signal: str = "traces") -> None:
    rejected, message = partial_success(resp, signal)
    assert rejected == 0, f"{rejected} rejected: {message}"
