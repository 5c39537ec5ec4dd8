"""CloudWatch Logs with the real clients: watchtower + boto3 ship, the AWS CLI reads back.

watchtower calls PutLogEvents before the stream exists and creates it only after a
ResourceNotFoundException, so this also proves waggle answers that error as botocore expects.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import botocore.config
import pytest
import watchtower
from botocore.exceptions import ClientError

from support import new_trace_id, unique

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDWAGGLETEST",
    "AWS_SECRET_ACCESS_KEY": "not-checked",
    "AWS_DEFAULT_REGION": "eu-west-1",
}
AWS_CLI = Path(sys.executable).with_name("aws")


@pytest.fixture(scope="module")
def logs(shared_waggle):
    return boto3.client(
        "logs",
        endpoint_url=shared_waggle.aws,
        region_name=AWS_ENV["AWS_DEFAULT_REGION"],
        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def aws(waggle, *args: str) -> dict:
    """The AWS CLI against waggle's AWS port, JSON out."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **AWS_ENV}
    result = subprocess.run(
        [str(AWS_CLI), "--endpoint-url", waggle.aws, "--output", "json", "logs", *args],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode == 0, f"aws logs {' '.join(args)}: {result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip() else {}


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def now_ms() -> int:
    return int(time.time() * 1000)


def wait_query(logs, query_id: str) -> dict:
    deadline = time.monotonic() + 10
    while True:
        result = logs.get_query_results(queryId=query_id)
        if result["status"] not in ("Scheduled", "Running") or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def rows(result: dict) -> list[dict]:
    return [{cell["field"]: cell["value"] for cell in row} for row in result["results"]]


def test_watchtower_ships_and_cli_reads_back(shared_waggle, logs):
    group = unique("/cruddur/watchtower")
    stream = unique("web-1")
    # Starts with a letter: the JSON line's last field must never look like a status code (`5*`) to
    # the space-delimited pattern below, whatever the random id.
    trace_id = "a" + new_trace_id().hex()[1:]
    handler = watchtower.CloudWatchLogHandler(
        log_group_name=group, log_stream_name=stream, boto3_client=logs, send_interval=60, create_log_group=True,
    )
    logger = logging.getLogger(unique("cruddur-backend"))
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    logger.info("HomeActivities")
    logger.warning("slow request took 1500ms")
    logger.error("ERROR disk full on /dev/sda1")
    logger.info(json.dumps({"level": "INFO", "path": "/api/activities/home", "latency": 120, "trace_id": trace_id}))
    logger.info(json.dumps({"level": "ERROR", "path": "/api/messages", "latency": 30}))
    logger.info('127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534')
    handler.flush()
    handler.close()

    groups = aws(shared_waggle, "describe-log-groups", "--log-group-name-prefix", group)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group]
    assert groups[0]["arn"] == f"arn:aws:logs:eu-west-1:000000000000:log-group:{group}:*"

    streams = aws(shared_waggle, "describe-log-streams", "--log-group-name", group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [stream], "watchtower created its stream after ResourceNotFound"
    assert streams[0]["lastEventTimestamp"] >= streams[0]["firstEventTimestamp"] > now_ms() - 60_000

    events = aws(shared_waggle, "get-log-events", "--log-group-name", group, "--log-stream-name", stream,
                 "--start-from-head")["events"]
    messages = [e["message"] for e in events]
    assert messages[0] == "HomeActivities" and len(messages) == 6
    assert all(e["ingestionTime"] >= e["timestamp"] - 5 for e in events)

    def filtered(pattern: str) -> list[str]:
        out = aws(shared_waggle, "filter-log-events", "--log-group-name", group, "--filter-pattern", pattern)
        return [e["message"] for e in out["events"]]

    assert filtered("ERROR") == [messages[2], messages[4]]
    assert filtered('"disk full"') == [messages[2]]
    assert filtered("?slow ?disk") == [messages[1], messages[2]]
    assert filtered("ERROR -disk") == [messages[4]]
    assert filtered('{ $.level = "INFO" && $.latency > 100 }') == [messages[3]]
    assert filtered("{ $.latency < 100 }") == [messages[4]]
    assert filtered("[ip, user, username, timestamp, request, status_code = 404, bytes > 1000]") == [messages[5]]
    assert filtered("[ip, ..., status_code = 5*, bytes]") == []

    # The JSON line carries a trace id: it shows up in the trace.
    trace = shared_waggle.trace(trace_id)
    assert [log["body"] for log in trace["logs"]] == [messages[3]]
    assert trace["logs"][0]["dataset"] == group

    started = aws(shared_waggle, "start-query", "--log-group-name", group,
                  "--start-time", str(int(time.time()) - 600), "--end-time", str(int(time.time()) + 60),
                  "--query-string", "fields @timestamp, @message | filter @message like /ERROR/ | sort @timestamp asc")
    deadline = time.monotonic() + 10
    while True:
        result = aws(shared_waggle, "get-query-results", "--query-id", started["queryId"])
        if result["status"] == "Complete" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert result["status"] == "Complete"
    assert [row["@message"] for row in rows(result)] == [messages[2], messages[4]]
    assert result["statistics"]["recordsScanned"] == 6


def test_put_log_events_rules(shared_waggle, logs):
    group, stream = unique("rules"), "s"
    logs.create_log_group(logGroupName=group)
    with pytest.raises(ClientError) as missing:
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": now_ms(), "message": "x"}])
    assert error_code(missing) == "ResourceNotFoundException"
    assert isinstance(missing.value, logs.exceptions.ResourceNotFoundException)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)

    def put(events):
        return logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)

    now = now_ms()
    with pytest.raises(ClientError) as unordered:
        put([{"timestamp": now, "message": "b"}, {"timestamp": now - 1000, "message": "a"}])
    assert error_code(unordered) == "InvalidParameterException"
    with pytest.raises(ClientError) as spanning:
        put([{"timestamp": now - 25 * 3600_000, "message": "a"}, {"timestamp": now, "message": "b"}])
    assert error_code(spanning) == "InvalidParameterException"
    with pytest.raises(ClientError) as oversize:
        put([{"timestamp": now, "message": "x" * 200_000} for _ in range(6)])
    assert error_code(oversize) == "InvalidParameterException"
    assert "Upload too large" in str(oversize.value)
    with pytest.raises(ClientError) as too_many:
        put([{"timestamp": now, "message": f"m{i}"} for i in range(10_001)])
    assert error_code(too_many) == "InvalidParameterException"

    day = 86_400_000
    too_old = put([{"timestamp": now - 15 * day, "message": "ancient"}, {"timestamp": now - 15 * day + 1, "message": "ancient 2"}])
    assert too_old["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2}
    too_new = put([{"timestamp": now, "message": "kept"}, {"timestamp": now + 3 * 3600_000, "message": "future"}])
    assert too_new["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    full = put([{"timestamp": now + i, "message": f"m{i}"} for i in range(10_000)])
    assert "rejectedLogEventsInfo" not in full

    # None of the refused calls stored anything; the rejected events are not there either.
    page = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True, limit=3)
    assert [e["message"] for e in page["events"]] == ["kept", "m0", "m1"]
    tail = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=2)
    assert [e["message"] for e in tail["events"]] == ["m9998", "m9999"]
    back = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=2, nextToken=tail["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == ["m9996", "m9997"]
    paginator = logs.get_paginator("filter_log_events")
    total = sum(len(p["events"]) for p in paginator.paginate(logGroupName=group, PaginationConfig={"PageSize": 3000}))
    assert total == 10_001

    # Retention: set, visible, enforced on the way in.
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert described["retentionInDays"] == 1
    expired = put([{"timestamp": now - day - 60_000, "message": "expired"}, {"timestamp": now - 3_600_000, "message": "fresh"}])
    assert expired["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}
    logs.delete_retention_policy(logGroupName=group)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]

    logs.delete_log_stream(logGroupName=group, logStreamName=stream)
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_log_events(logGroupName=group, logStreamName=stream)
    logs.delete_log_group(logGroupName=group)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []


def test_logs_insights_stats_and_parse(shared_waggle, logs):
    group, stream = unique("insights"), "s"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    base = (now_ms() // 60_000 - 3) * 60_000
    events = [
        {"timestamp": base + 1_000, "message": json.dumps({"path": "/a", "latency": 10})},
        {"timestamp": base + 2_000, "message": json.dumps({"path": "/a", "latency": 30})},
        {"timestamp": base + 61_000, "message": json.dumps({"path": "/b", "latency": 100})},
        {"timestamp": base + 62_000, "message": "GET /c status=500 took 40ms"},
    ]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    window = {"logGroupName": group, "startTime": base // 1000 - 60, "endTime": base // 1000 + 600}

    started = logs.start_query(queryString="stats count(*) as n, avg(latency) as mean, pct(latency, 50) as p50 by bin(1m)", **window)
    result = wait_query(logs, started["queryId"])
    assert result["status"] == "Complete"
    assert [(r["n"], r.get("mean"), r.get("p50")) for r in rows(result)] == [("2", "20", "10"), ("2", "100", "100")]

    started = logs.start_query(queryString='parse @message "GET * status=* took *ms" as path, status, took '
                                           "| filter ispresent(status) | fields path, status, took", **window)
    result = wait_query(logs, started["queryId"])
    assert [(r["path"], r["status"], r["took"]) for r in rows(result)] == [("/c", "500", "40")]

    started = logs.start_query(queryString="fields path, latency | filter latency >= 30 | sort latency desc | limit 1", **window)
    assert [r["latency"] for r in rows(wait_query(logs, started["queryId"]))] == ["100"]

    with pytest.raises(ClientError) as malformed:
        logs.start_query(queryString="stats wat(x)", **window)
    assert error_code(malformed) == "MalformedQueryException"
    stopped = logs.stop_query(queryId=started["queryId"])
    assert stopped["success"] is False, "a finished query cannot be stopped"


def test_unknown_target_is_a_botocore_error(shared_waggle):
    import requests

    r = requests.post(shared_waggle.aws + "/", data="{}", headers={
        "X-Amz-Target": "Logs_20140328.PutMetricFilter", "Content-Type": "application/x-amz-json-1.1"})
    assert r.status_code == 400
    assert r.json()["__type"] == "UnknownOperationException"
    r = requests.post(shared_waggle.aws + "/", data="{}", headers={"X-Amz-Target": "Kinesis_20131202.PutRecord"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/x-amz-json-1.1"
