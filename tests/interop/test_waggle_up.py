"""`waggle up`: waggle, the Cruddur app wired to it and demo traffic, as a newcomer meets them. Within
seconds there are traces, a heatmap with a slow band, a latency-by-user query naming the slow user
(garek), and X-Ray segments of sampled requests; Ctrl-C stops everything, Cruddur included, losing
nothing acknowledged."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import waggle_up_command

WAIT_S = 60.0
SLOW_USER = "garek"


@pytest.fixture
def up(tmp_path):
    """A running `waggle up` on free ports; yields (process, web URL, Cruddur backend URL)."""
    command, urls = waggle_up_command(tmp_path / "data")
    log = open(tmp_path / "waggle-up.log", "wb")
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        yield proc, urls["web"], urls["backend"]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def query(web: str, spec: dict) -> dict:
    session = requests.Session()
    session.trust_env = False
    created = session.post(f"{web}/1/queries/cruddur-backend", json=spec, timeout=10)
    created.raise_for_status()
    result = session.post(f"{web}/1/query_results/cruddur-backend", json={"query_id": created.json()["id"]}, timeout=30)
    result.raise_for_status()
    return result.json()["data"]


def wait_for(what: str, check, log_path) -> None:
    deadline = time.monotonic() + WAIT_S
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException as e:
            last = e
        time.sleep(0.5)
    pytest.fail(f"waggle up: no {what} within {WAIT_S:.0f}s ({last})\n{log_path.read_text()[-3000:]}", pytrace=False)


def test_up_shows_traces_a_slow_band_and_the_slow_user_then_stops_cleanly(up, tmp_path):
    proc, web, backend = up
    log_path = tmp_path / "waggle-up.log"
    latency_by_user = {
        "calculations": [{"op": "P99", "column": "duration_ms"}, {"op": "COUNT"}],
        "filters": [{"column": "app.user_id", "op": "exists"}, {"column": "span.kind", "op": "=", "value": "server"}],
        "breakdowns": ["app.user_id"],
        "orders": [{"op": "P99", "column": "duration_ms", "order": "descending"}],
        "time_range": 600,
    }

    def every_user_seen() -> bool:
        rows = query(web, latency_by_user)["results"]
        return len(rows) >= 5 and all(row["data"]["COUNT"] >= 3 for row in rows)

    wait_for("requests from all five demo users", every_user_seen, log_path)
    rows = [row["data"] for row in query(web, latency_by_user)["results"]]
    assert rows[0]["app.user_id"] == SLOW_USER, rows
    assert rows[0]["P99(duration_ms)"] >= 600 > rows[1]["P99(duration_ms)"], rows

    heatmap = query(web, {"calculations": [{"op": "HEATMAP", "column": "duration_ms"}], "time_range": 600})
    buckets = heatmap["results"][0]["data"]["HEATMAP(duration_ms)"]["buckets"]
    slow = sum(b["count"] for b in buckets if b["lower"] >= 500)
    fast = sum(b["count"] for b in buckets if b["upper"] <= 100)
    assert slow > 0 and fast > slow, buckets

    status_query = {"calculations": [{"op": "COUNT"}], "breakdowns": ["http.response.status_code"],
                    "filters": [{"column": "span.kind", "op": "=", "value": "server"}], "time_range": 600}

    def every_status_seen() -> bool:
        seen = {row["data"]["http.response.status_code"] for row in query(web, status_query)["results"]}
        return {200, 404, 422, 500} <= seen

    wait_for("200, 404, 422 and 500 answers", every_status_seen, log_path)
    failures = query(web, {"calculations": [{"op": "COUNT"}], "time_range": 600,
                           "filters": [{"column": "name", "op": "=", "value": "exception"}]})
    assert failures["results"][0]["data"]["COUNT"] >= 1, "a 500 carries an exception event"
    traces = requests.get(f"{web}/api/traces", params={"dataset": "cruddur-backend", "limit": 5}, timeout=10).json()
    assert traces["traces"], traces

    # Cruddur's log lines go to waggle's CloudWatch Logs (group `cruddur`) and its 500s to waggle's
    # Rollbar, both carrying the trace id of the failed request.
    aws_url = re.search(r"AWS\s+(http://\S+)", log_path.read_text()).group(1)
    logs = boto3.client("logs", endpoint_url=aws_url, region_name="us-east-1",
                        aws_access_key_id="demo", aws_secret_access_key="demo")
    token = json.loads((tmp_path / "data" / "rollbar.json").read_text())["tokens"][0]["access_token"]

    def failure_logged_and_reported() -> bool:
        try:
            events = logs.filter_log_events(logGroupName="cruddur", filterPattern="{ $.status = 500 }")["events"]
        except ClientError:
            return False  # the group is not there yet
        items = requests.get(f"{web}/api/1/items", params={"level": "error"}, timeout=10,
                             headers={"X-Rollbar-Access-Token": token}).json()["result"]["items"]
        if not events or not any(item["exception_class"] == "UpstreamError" for item in items):
            return False
        trace_id = json.loads(events[0]["message"])["trace_id"]
        linked = requests.get(f"{web}/api/traces/{trace_id}", timeout=10).json().get("logs", [])
        return {"cruddur", "rollbar"} <= {entry.get("dataset") for entry in linked}

    wait_for("a 500 in CloudWatch Logs and Rollbar, linked to its trace", failure_logged_and_reported, log_path)

    # X-Ray: the requests waggle's default sampling rule picks (one a second, then 5%) are segments
    # named as the bootcamp names its Flask app.
    xray = boto3.client("xray", endpoint_url=aws_url, region_name="us-east-1",
                        aws_access_key_id="demo", aws_secret_access_key="demo")

    def segments_arrived() -> bool:
        found = xray.get_trace_summaries(StartTime=time.time() - 600, EndTime=time.time() + 60,
                                         FilterExpression='service("backend-flask")')["TraceSummaries"]
        return len(found) >= 3

    wait_for("X-Ray segments of the demo's requests", segments_arrived, log_path)

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=40) == 0, log_path.read_text()[-3000:]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{backend}/api/health-check", timeout=2)
    output = log_path.read_text()
    assert "stopping the Cruddur demo" in output and "cruddur stopped" in (tmp_path / "data" / "cruddur.log").read_text()
