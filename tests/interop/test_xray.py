"""AWS X-Ray with the real clients: the X-Ray SDK for Python (Flask middleware, capture, subsegments,
metadata, annotations, UDP emitter, centralized sampler) sends to waggle's daemon port; the AWS CLI
reads back (get-trace-summaries with filter expressions, batch-get-traces, get-service-graph) and
creates a group and a sampling rule from JSON files, as the bootcamp does.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import socket
import time

import pytest
import requests
from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.ext.flask.middleware import XRayMiddleware
from flask import Flask

from xray_support import aws, aws_fails, summaries, wait_for_traces, xray_client

# Local fallback rules that sample nothing: only a centralized rule can make the SDK sample.
SAMPLE_NOTHING = {"version": 2, "rules": [], "default": {"fixed_target": 0, "rate": 0.0}}


def make_app(service: str) -> tuple[Flask, list]:
    """The bootcamp's Flask backend in miniature; `decisions` records each request's sampling."""
    app = Flask(__name__)
    decisions: list[bool] = []

    @app.route("/api/activities/home")
    def home():
        decisions.append(xray_recorder.current_segment().sampled)
        xray_recorder.put_annotation("user_id", "andrewbrown")
        return {"data": activities()}

    @xray_recorder.capture("activities_home")
    def activities():
        subsegment = xray_recorder.begin_subsegment("mock-data")
        results = [{"uuid": "1", "message": "Cloud is fun!"}, {"uuid": "2", "message": "The mock data"}]
        subsegment.put_metadata("now", datetime.datetime.now(datetime.timezone.utc).isoformat(), "namespace")
        subsegment.put_metadata("results-size", len(results), "namespace")
        subsegment.put_annotation("results", len(results))
        xray_recorder.end_subsegment()
        return results

    @app.route("/api/activities/notifications")
    def notifications():
        decisions.append(xray_recorder.current_segment().sampled)
        raise RuntimeError("notifications are down")

    XRayMiddleware(app, xray_recorder)
    return app, decisions


def configure(waggle, service: str, **options) -> None:
    xray_recorder.configure(
        service=service, daemon_address=waggle.xray_daemon_addr, context_missing="LOG_ERROR",
        plugins=(), **options,
    )


def test_flask_sdk_segments_read_back_with_the_aws_cli(waggle):
    start = time.time() - 1
    configure(waggle, "Cruddur", sampling=False, streaming_threshold=100)
    app, _ = make_app("Cruddur")
    client = app.test_client()
    assert client.get("/api/activities/home").status_code == 200
    assert client.get("/api/activities/notifications").status_code == 500
    assert client.get("/api/missing").status_code == 404
    # One request whose subsegments are streamed on their own (each sent as it closes).
    configure(waggle, "Cruddur", sampling=False, streaming_threshold=1)
    assert client.get("/api/activities/home", headers={"User-Agent": "streamed"}).status_code == 200
    configure(waggle, "Cruddur", sampling=False, streaming_threshold=100)

    xray = xray_client(waggle)
    assert len(wait_for_traces(xray, start, "service(\"Cruddur\")", 4)) == 4

    everything = aws(waggle, "get-trace-summaries", "--start-time", str(start), "--end-time", str(time.time() + 60))
    assert len(everything["TraceSummaries"]) == 4
    faults = aws(waggle, "get-trace-summaries", "--start-time", str(start), "--end-time", str(time.time() + 60),
                 "--filter-expression", "fault")
    assert [s["Http"]["HttpStatus"] for s in faults["TraceSummaries"]] == [500]
    assert faults["TraceSummaries"][0]["HasFault"] is True
    errors = aws(waggle, "get-trace-summaries", "--start-time", str(start), "--end-time", str(time.time() + 60),
                 "--filter-expression", "error AND http.status = 404")
    assert [s["Http"]["HttpURL"] for s in errors["TraceSummaries"]] == ["http://localhost/api/missing"]
    homes = aws(waggle, "get-trace-summaries", "--start-time", str(start), "--end-time", str(time.time() + 60),
                "--filter-expression", 'http.url ENDSWITH "/home" AND annotation.user_id = "andrewbrown" AND ok')
    assert len(homes["TraceSummaries"]) == 2
    assert homes["TraceSummaries"][0]["Annotations"]["results"][0]["AnnotationValue"]["NumberValue"] == 2
    service_filter = aws(waggle, "get-trace-summaries", "--start-time", str(start), "--end-time", str(time.time() + 60),
                         "--filter-expression", 'service("Cruddur") { responsetime < 5 } AND !partial')
    assert len(service_filter["TraceSummaries"]) == 4
    streamed = aws(waggle, "get-trace-summaries", "--start-time", str(start), "--end-time", str(time.time() + 60),
                   "--filter-expression", 'http.useragent = "streamed"')
    assert len(streamed["TraceSummaries"]) == 1

    # Unsupported syntax: an error naming it, never every trace.
    stderr = aws_fails(waggle, "get-trace-summaries", "--start-time", str(start), "--end-time", str(time.time() + 60),
                       "--filter-expression", "rootcause.fault.service { name = \"x\" }")
    assert "InvalidRequestException" in stderr and "rootcause" in stderr

    ids = [s["Id"] for s in homes["TraceSummaries"]] + [s["Id"] for s in streamed["TraceSummaries"]]
    traces = aws(waggle, "batch-get-traces", "--trace-ids", *sorted(set(ids)))
    assert len(traces["Traces"]) == 2
    for trace in traces["Traces"]:
        (segment,) = trace["Segments"]
        document = json.loads(segment["Document"])
        assert document["name"] == "Cruddur"
        assert document["annotations"]["user_id"] == "andrewbrown"
        (captured,) = document["subsegments"]
        assert captured["name"] == "activities_home"
        (mock,) = captured["subsegments"]
        assert mock["name"] == "mock-data"
        assert mock["metadata"]["namespace"]["results-size"] == 2
        assert "now" in mock["metadata"]["namespace"]

    graph = aws(waggle, "get-service-graph", "--start-time", str(start), "--end-time", str(time.time() + 60))
    (cruddur,) = [s for s in graph["Services"] if s["Name"] == "Cruddur"]
    stats = cruddur["SummaryStatistics"]
    assert stats["TotalCount"] == 4
    assert stats["OkCount"] == 2
    assert stats["FaultStatistics"]["TotalCount"] == 1
    assert stats["ErrorStatistics"]["TotalCount"] == 1
    assert sum(entry["Count"] for entry in cruddur["ResponseTimeHistogram"]) == 4

    # The same spans in Honeycomb's terms: one dataset, annotation columns, the subsegments.
    trace = waggle.trace(ids[0].removeprefix("1-").replace("-", ""))
    names = sorted(span["name"] for span in trace["spans"])
    assert names == ["Cruddur", "activities_home", "mock-data"]
    root = next(span for span in trace["spans"] if span["name"] == "Cruddur")
    assert root["dataset"] == "Cruddur" and root["kind"] == "server"
    assert root["attributes"]["annotation.user_id"] == "andrewbrown"
    assert root["attributes"]["http.response.status_code"] == 200


def test_daemon_survives_bad_datagrams_and_completes_in_progress_segments(waggle):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    host, port = waggle.xray_daemon_addr.rsplit(":", 1)
    address = (host, int(port))
    header = b'{"format": "json", "version": 1}\n'
    for garbage in [b"", b"\x00\xff" * 100, b"no header", header + b"{not json", header + b'{"id": "x"}',
                    b'{"format": "xml", "version": 1}\n{}', header + b"[1, 2]"]:
        sock.sendto(garbage, address)
    now = time.time()
    trace_id = f"1-{int(now):08x}-{os.urandom(12).hex()}"
    segment = {"id": os.urandom(8).hex(), "name": "daemon-test", "trace_id": trace_id, "start_time": now,
               "in_progress": True}
    sock.sendto(header + json.dumps(segment).encode(), address)
    xray = xray_client(waggle)
    partial = wait_for_traces(xray, now - 5, "service(\"daemon-test\")", 1)
    assert [s["IsPartial"] for s in partial] == [True]
    segment.pop("in_progress")
    segment["end_time"] = now + 0.25
    sock.sendto(header + json.dumps(segment).encode(), address)
    deadline = time.monotonic() + 10
    while summaries(xray, now - 5, "service(\"daemon-test\") AND !partial") == [] and time.monotonic() < deadline:
        time.sleep(0.1)
    (complete,) = summaries(xray, now - 5, "service(\"daemon-test\")")
    assert complete["IsPartial"] is False and complete["Duration"] == pytest.approx(0.25, abs=1e-3)
    (trace,) = xray.batch_get_traces(TraceIds=[trace_id])["Traces"]
    assert [json.loads(s["Document"]).get("end_time") for s in trace["Segments"]] == [pytest.approx(now + 0.25)]
    assert waggle.running()
    assert b"malformed" in waggle.stderr_path.read_bytes()


def test_put_trace_segments_and_otlp_spans_through_the_xray_api(waggle):
    now = time.time()
    trace_id = f"1-{int(now):08x}-{os.urandom(12).hex()}"
    document = {"id": os.urandom(8).hex(), "name": "cli-service", "trace_id": trace_id, "start_time": now,
                "end_time": now + 0.1, "http": {"response": {"status": 200}}}
    answer = aws(waggle, "put-trace-segments", "--trace-segment-documents", json.dumps(document), "{\"bad\": 1}")
    assert len(answer["UnprocessedTraceSegments"]) == 1

    # OpenTelemetry spans (OTLP/JSON): frontend calls backend, which fails with a 503.
    otlp_trace = f"{int(now):08x}{os.urandom(12).hex()}"
    root, client_span, server_span = (os.urandom(8).hex() for _ in range(3))
    nanos = int(now * 1e9)

    def span(span_id, parent, name, kind, start_ms, end_ms, attributes=(), status=0):
        return {"traceId": otlp_trace, "spanId": span_id, "parentSpanId": parent or "", "name": name, "kind": kind,
                "startTimeUnixNano": str(nanos + start_ms * 1_000_000), "endTimeUnixNano": str(nanos + end_ms * 1_000_000),
                "attributes": [{"key": k, "value": v} for k, v in attributes], "status": {"code": status}}

    def resource(service, spans):
        return {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}]}

    body = {"resourceSpans": [
        resource("otel-frontend", [span(root, None, "GET /", 2, 0, 300), span(client_span, root, "GET", 3, 10, 290)]),
        resource("otel-backend", [span(server_span, client_span, "GET /api", 2, 20, 280,
                                        [("http.response.status_code", {"intValue": "503"})], status=2)]),
    ]}
    r = requests.post(f"{waggle.otlp_http}/v1/traces", json=body, timeout=10)
    assert r.status_code == 200, r.text
    xray = xray_client(waggle)
    (summary,) = wait_for_traces(xray, now - 5, "edge(\"otel-frontend\", \"otel-backend\") { fault }", 1)
    assert summary["Id"] == f"1-{otlp_trace[:8]}-{otlp_trace[8:]}"
    assert summary["EntryPoint"]["Name"] == "otel-frontend"
    graph = aws(waggle, "get-service-graph", "--start-time", str(now - 5), "--end-time", str(now + 60))
    by_name = {s["Name"]: s for s in graph["Services"]}
    assert {"cli-service", "otel-frontend", "otel-backend"} <= set(by_name)
    (edge,) = by_name["otel-frontend"]["Edges"]
    assert edge["ReferenceId"] == by_name["otel-backend"]["ReferenceId"]
    assert edge["SummaryStatistics"]["FaultStatistics"]["TotalCount"] == 1
    traces = aws(waggle, "batch-get-traces", "--trace-ids", summary["Id"], trace_id)
    assert len(traces["Traces"]) == 2
    otel = next(t for t in traces["Traces"] if t["Id"] == summary["Id"])
    names = sorted(json.loads(s["Document"])["name"] for s in otel["Segments"])
    assert names == ["otel-backend", "otel-frontend"]
    graph = aws(waggle, "get-trace-graph", "--trace-ids", summary["Id"])
    assert sorted(s["Name"] for s in graph["Services"]) == ["otel-backend", "otel-frontend"]


def test_groups_and_sampling_rules_from_json_files(waggle, tmp_path):
    now = time.time()
    group_file = tmp_path / "group.json"
    group_file.write_text(json.dumps({"GroupName": "Cruddur", "FilterExpression": 'service("group-app") { fault }'}))
    created = aws(waggle, "create-group", "--cli-input-json", f"file://{group_file}")
    assert created["Group"]["GroupName"] == "Cruddur"
    rule_file = tmp_path / "xray.json"
    # The bootcamp's aws/json/xray.json.
    rule_file.write_text(json.dumps({"SamplingRule": {
        "RuleName": "Cruddur", "ResourceARN": "*", "Priority": 9000, "FixedRate": 0.1, "ReservoirSize": 5,
        "ServiceName": "Cruddur", "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "*", "Version": 1}}))
    rule = aws(waggle, "create-sampling-rule", "--cli-input-json", f"file://{rule_file}")
    assert rule["SamplingRuleRecord"]["SamplingRule"]["RuleARN"].endswith(":sampling-rule/Cruddur")
    assert "InvalidRequestException" in aws_fails(waggle, "create-sampling-rule", "--cli-input-json", f"file://{rule_file}")
    groups = aws(waggle, "get-groups")
    assert [g["GroupName"] for g in groups["Groups"]] == ["Default", "Cruddur"]
    rules = aws(waggle, "get-sampling-rules")
    assert [r["SamplingRule"]["RuleName"] for r in rules["SamplingRuleRecords"]] == ["Cruddur", "Default"]
    aws(waggle, "update-group", "--group-name", "Cruddur", "--filter-expression", 'service("group-app") { fault OR error }')
    assert aws(waggle, "get-group", "--group-name", "Cruddur")["Group"]["FilterExpression"].endswith("fault OR error }")

    # The group's filter applies when summaries and the service graph name it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    host, port = waggle.xray_daemon_addr.rsplit(":", 1)
    for n, status in enumerate([200, 500, 200]):
        document = {"id": os.urandom(8).hex(), "name": "group-app", "trace_id": f"1-{int(now):08x}-{os.urandom(12).hex()}",
                    "start_time": now + n, "end_time": now + n + 0.1, "fault": status == 500,
                    "http": {"response": {"status": status}}}
        sock.sendto(b'{"format":"json","version":1}\n' + json.dumps(document).encode(), (host, int(port)))
    xray = xray_client(waggle)
    assert len(wait_for_traces(xray, now - 5, "service(\"group-app\")", 3)) == 3
    in_group = aws(waggle, "get-trace-summaries", "--start-time", str(now - 5), "--end-time", str(now + 60),
                   "--filter-expression", 'group.name = "Cruddur"')
    assert len(in_group["TraceSummaries"]) == 1
    graph = aws(waggle, "get-service-graph", "--start-time", str(now - 5), "--end-time", str(now + 60),
                "--group-name", "Cruddur")
    (node,) = graph["Services"]
    assert node["SummaryStatistics"]["TotalCount"] == 1
    aws(waggle, "delete-group", "--group-name", "Cruddur")
    aws(waggle, "delete-sampling-rule", "--rule-name", "Cruddur")

    # Kept across a restart.
    aws(waggle, "create-sampling-rule", "--cli-input-json", f"file://{rule_file}")
    waggle.restart()
    rules = aws(waggle, "get-sampling-rules")
    assert [r["SamplingRule"]["RuleName"] for r in rules["SamplingRuleRecords"]] == ["Cruddur", "Default"]


def test_centralized_sampler_uses_the_rule_through_tcp_2000(waggle, tmp_path):
    """The SDK fetches rules and, about ten seconds later, reservoir quotas from the daemon's TCP
    port; then it samples at most the quota per second plus the fixed rate of the rest."""
    reservoir, rate = 2, 0.1
    rule_file = tmp_path / "rule.json"
    rule_file.write_text(json.dumps({"SamplingRule": {
        "RuleName": "sampled-app", "ResourceARN": "*", "Priority": 1, "FixedRate": rate, "ReservoirSize": reservoir,
        "ServiceName": "sampled-app", "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "*", "Version": 1}}))
    aws(waggle, "create-sampling-rule", "--cli-input-json", f"file://{rule_file}")
    start = time.time() - 1
    configure(waggle, "sampled-app", sampling=True, sampling_rules=SAMPLE_NOTHING)
    app, decisions = make_app("sampled-app")
    client = app.test_client()
    xray = xray_client(waggle)
    # Requests start the pollers; wait until the SDK reported statistics and got its quota.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        client.get("/api/activities/home")
        stats = xray.get_sampling_statistic_summaries()["SamplingStatisticSummaries"]
        if any(s["RuleName"] == "sampled-app" and s["RequestCount"] > 0 for s in stats):
            break
        time.sleep(0.5)
    else:
        pytest.fail("the SDK never reported sampling statistics to waggle's daemon port")
    assert any(decisions), "the centralized rule sampled nothing: the local rules (sample nothing) were used"

    warmup_sampled = sum(decisions)
    decisions.clear()
    requests_sent = 300
    burst_start = time.monotonic()
    for _ in range(requests_sent):
        client.get("/api/activities/home")
    seconds = math.ceil(time.monotonic() - burst_start) + 1
    sampled = sum(decisions)
    quota = reservoir * seconds
    spread = 4 * math.sqrt(requests_sent * rate * (1 - rate))
    assert len(decisions) == requests_sent
    assert sampled <= quota + rate * requests_sent + spread, (sampled, seconds)
    assert sampled >= rate * (requests_sent - quota) - spread, (sampled, seconds)
    assert sampled < requests_sent / 2, "the fixed rate was not applied beyond the reservoir"
    # Every sampled request, and only those, reached waggle.
    expected = warmup_sampled + sampled
    deadline = time.monotonic() + 10
    stored = summaries(xray, start, 'service("sampled-app")')
    while len(stored) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        stored = summaries(xray, start, 'service("sampled-app")')
    assert len(stored) == expected
