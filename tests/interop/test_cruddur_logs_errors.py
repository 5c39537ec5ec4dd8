"""Cruddur's logs and errors against a real waggle: the `cruddur-backend` logger shipping to CloudWatch Logs
(aws-sdk-cloudwatchlogs, ENABLE_CLOUD_WATCH_LOG) and errors reported to Rollbar (ROLLBAR_ACCESS_TOKEN).

Read back through waggle's CloudWatch Logs API (boto3, as the AWS CLI would) and Rollbar's read API; a
line's or an occurrence's trace id must link to the request's trace in waggle.
"""

from __future__ import annotations

import json
import time

import boto3
import botocore.config
import pytest
import requests

from cruddur_support import (  # noqa: F401  (fixtures are found by name)
    Cruddur,
    cruddur_factory,
    module_cruddur_factory,
    traceparent,
    wait_for_spans,
)
from support import new_span_id, new_trace_id

GROUP = "cruddur"
WAIT_S = 20.0
AWS_ENV = {"AWS_ACCESS_KEY_ID": "AKIDCRUDDURTEST", "AWS_SECRET_ACCESS_KEY": "not-checked", "AWS_REGION": "eu-west-1"}


def project_token(waggle) -> str:
    state = json.loads((waggle.data_dir / "rollbar.json").read_text())
    return state["tokens"][0]["access_token"]


def app_env(waggle, **extra: str) -> dict[str, str]:
    env = {
        **AWS_ENV,
        "ENABLE_CLOUD_WATCH_LOG": "True",
        "AWS_ENDPOINT_URL": waggle.aws,
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": waggle.aws,
        "CRUDDUR_CLOUDWATCH_SEND_INTERVAL": "0.5",
        "ROLLBAR_ACCESS_TOKEN": project_token(waggle),
        "ROLLBAR_ENDPOINT": f"{waggle.web}/api/1/",
        "CRUDDUR_DEMO": "true",  # one request in thirty fails with a 500
    }
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def stack(module_waggle_factory, module_cruddur_factory):
    waggle = module_waggle_factory()
    app = module_cruddur_factory(waggle, **app_env(waggle))
    return waggle, app


def logs_client(waggle):
    return boto3.client(
        "logs",
        endpoint_url=waggle.aws,
        region_name=AWS_ENV["AWS_REGION"],
        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def wait_until(what: str, check, app: Cruddur, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() >= deadline:
            pytest.fail(f"no {what} within {timeout:.0f}s\n{app.logs()}", pytrace=False)
        time.sleep(0.2)


def filtered(waggle, pattern: str, **kw) -> list[dict]:
    answer = logs_client(waggle).filter_log_events(logGroupName=GROUP, filterPattern=pattern, **kw)
    return answer["events"]


def rollbar_get(waggle, path: str, **params):
    r = requests.get(f"{waggle.web}/api/1/{path}", params=params, timeout=10,
                     headers={"X-Rollbar-Access-Token": project_token(waggle)})
    assert r.status_code == 200, r.text
    return r.json()["result"]


def occurrences(waggle, **filters) -> list[dict]:
    """Every occurrence (newest first) of the items matching `filters`."""
    found = []
    for item in rollbar_get(waggle, "items", **filters)["items"]:
        found.extend(rollbar_get(waggle, f"item/{item['id']}/instances")["instances"])
    return found


def traced_get(app: Cruddur, path: str, user: str | None = None):
    trace_id, parent_id = new_trace_id().hex(), new_span_id().hex()
    r = app.request("GET", path, user=user, headers={"traceparent": traceparent(trace_id, parent_id)})
    return r, trace_id


def test_request_lines_reach_cloudwatch_with_their_trace_id(stack):
    waggle, app = stack
    r, trace_id = traced_get(app, "/api/activities/home", user="andrewbrown")
    assert r.status_code == 200, r.text
    events = wait_until("log line with the request's trace id",
                        lambda: filtered(waggle, f'{{ $.trace_id = "{trace_id}" }}'), app)
    assert len(events) == 1, events
    line = json.loads(events[0]["message"])
    assert line["logger"] == "cruddur-backend" and line["level"] == "INFO", line
    assert (line["method"], line["path"], line["status"], line["user_id"]) == (
        "GET", "/api/activities/home", 200, "andrewbrown"), line
    assert line["duration_ms"] >= 0 and len(line["span_id"]) == 16
    # watchtower's stream name: {host}/{program}/{logger}/{pid}, created by the app.
    stream = events[0]["logStreamName"]
    assert stream.endswith(f"/cruddur/cruddur-backend/{app.proc.pid}"), stream
    streams = logs_client(waggle).describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert stream in [s["logStreamName"] for s in streams]
    # The plain-text search of the console works on the same lines.
    assert any(trace_id in e["message"] for e in filtered(waggle, f'"{trace_id}"'))

    # The line links to the request's trace: waggle lists it among the trace's logs.
    def linked():
        r = waggle.get_trace(trace_id)
        if r.status_code != 200:
            return None
        logs = [entry for entry in r.json().get("logs", []) if trace_id in entry["body"]]
        spans = r.json()["spans"]
        return (logs, spans) if logs and any(s["kind"] == "server" for s in spans) else None

    logs, spans = wait_until("trace with its log line", linked, app)
    server = next(s for s in spans if s["kind"] == "server")
    assert json.loads(logs[0]["body"])["span_id"] == server["span_id"]


def test_rollbar_test_reports_hello_world_at_warning(stack):
    waggle, app = stack
    r, trace_id = traced_get(app, "/rollbar/test")
    assert r.status_code == 200 and r.json()["reported"] is True, r.text
    found = wait_until("Hello World! occurrence", lambda: [
        o for o in occurrences(waggle, level="warning", environment="production")
        if o["data"].get("custom", {}).get("trace_id") == trace_id], app)
    data = found[0]["data"]
    assert data["body"] == {"message": {"body": "Hello World!"}}
    assert data["level"] == "warning" and data["environment"] == "production"
    item = rollbar_get(waggle, f"item/{found[0]['item_id']}")
    assert (item["title"], item["level"], item["status"]) == ("Hello World!", "warning", "active")


def test_failing_request_is_an_error_item_with_frames_person_and_trace(stack):
    waggle, app = stack
    # Demo mode fails one request in thirty: ask until one fails.
    for _ in range(40):
        r, trace_id = traced_get(app, "/api/activities/home", user="worf")
        if r.status_code == 500:
            break
    else:
        pytest.fail("no 500 in 40 requests of demo mode")
    found = wait_until("error occurrence of the failed request", lambda: [
        o for o in occurrences(waggle, level="error")
        if o["data"].get("custom", {}).get("trace_id") == trace_id], app)
    data = found[0]["data"]
    trace = data["body"]["trace"]
    assert trace["exception"]["class"] == "UpstreamError", trace["exception"]
    assert "connection reset" in trace["exception"]["message"]
    frames = trace["frames"]
    assert len(frames) >= 3 and all({"filename", "method"} <= set(f) for f in frames), frames[:5]
    # Oldest call first: the error's own frame (where the answer was made) comes last among cruddur's.
    ours = [f for f in frames if f["method"].startswith(("cruddur::", "<cruddur::"))]
    assert ours and "into_response" in ours[-1]["method"], [f["method"] for f in frames]
    assert ours[-1]["filename"].endswith("error.rs") and ours[-1]["lineno"] > 0
    # server.root (cut from file names when grouping) is where absolute file names of ours begin.
    root = data["server"]["root"]
    assert root.startswith("/") and not root.endswith("/"), root
    assert all(not f["filename"].startswith("/") or f["filename"].startswith(f"{root}/crates/") for f in ours), ours
    assert data["person"]["id"] == "worf"
    assert data["environment"] == "production" and data["level"] == "error"
    assert data["request"]["method"] == "GET" and data["request"]["url"].endswith("/api/activities/home")
    assert data["request"]["headers"]["x-cruddur-user"] == "worf"
    assert data["context"] == "GET /api/activities/home"
    item = rollbar_get(waggle, f"item/{found[0]['item_id']}")
    assert item["exception_class"] == "UpstreamError" and item["environment"] == "production"
    # The trace id links the occurrence to the failed request's trace: waggle lists it among its logs.
    spans = wait_for_spans(waggle, trace_id, lambda s: any(x["kind"] == "server" for x in s))
    server = next(s for s in spans if s["kind"] == "server")
    assert server["attributes"]["http.response.status_code"] == 500
    assert data["custom"]["span_id"] == server["span_id"]
    trace_logs = wait_until("occurrence among the trace's logs", lambda: [
        entry for entry in waggle.get_trace(trace_id).json().get("logs", []) if entry.get("dataset") == "rollbar"], app)
    assert trace_logs[0]["trace_id"] == trace_id
    # And its log line is an ERROR with status 500.
    events = wait_until("error log line", lambda: filtered(waggle, f'{{ $.trace_id = "{trace_id}" && $.status = 500 }}'), app)
    assert json.loads(events[0]["message"])["level"] == "ERROR"


def test_lines_and_items_are_flushed_on_sigterm(waggle_factory, cruddur_factory):
    waggle = waggle_factory()
    # A send interval far longer than the test: only the shutdown flush can deliver the lines. The
    # service-specific endpoint wins over AWS_ENDPOINT_URL (which points nowhere here).
    app = cruddur_factory(waggle, **app_env(waggle, CRUDDUR_CLOUDWATCH_SEND_INTERVAL="3600",
                                             AWS_ENDPOINT_URL="http://127.0.0.1:9",
                                             CRUDDUR_CLOUDWATCH_LOG_STREAM="sigterm-test"))
    trace_ids = []
    for _ in range(5):
        r, trace_id = traced_get(app, "/api/health-check")
        assert r.status_code == 200
        trace_ids.append(trace_id)
    r, hello_trace = traced_get(app, "/rollbar/test")
    assert r.json()["reported"] is True
    time.sleep(1.0)
    assert filtered(waggle, "") == [], "nothing is sent before the interval or the shutdown"
    assert app.stop() == 0, app.logs()
    messages = [json.loads(e["message"]) for e in filtered(waggle, "", logStreamNames=["sigterm-test"])]
    assert set(trace_ids) <= {m["trace_id"] for m in messages if m.get("path") == "/api/health-check"}, messages
    assert any(m["message"] == "cruddur listening" for m in messages), messages
    assert messages[-1]["message"] == "cruddur stopped", messages[-1]
    hello = [o for o in occurrences(waggle, level="warning")
             if o["data"].get("custom", {}).get("trace_id") == hello_trace]
    assert len(hello) == 1, "the queued Rollbar item was sent before exit"


def test_without_the_variables_nothing_is_shipped(waggle_factory, cruddur_factory):
    waggle = waggle_factory()
    app = cruddur_factory(waggle, CRUDDUR_CLOUDWATCH_SEND_INTERVAL="0.2", AWS_ENDPOINT_URL=waggle.aws)
    r = app.request("GET", "/rollbar/test")
    assert r.json()["reported"] is False
    app.request("GET", "/api/activities/home")
    assert app.stop() == 0
    assert logs_client(waggle).describe_log_groups()["logGroups"] == []
    assert rollbar_get(waggle, "items")["items"] == []
    # The console still has the named logger's line.
    assert "cruddur-backend" in app.stderr_path.read_text()
