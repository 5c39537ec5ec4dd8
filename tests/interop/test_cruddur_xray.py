"""Cruddur's X-Ray segments, read back with the real AWS CLI.

Cruddur runs as the bootcamp configures its Flask app for X-Ray: `AWS_XRAY_DAEMON_ADDRESS` (waggle's
daemon port) and `AWS_XRAY_URL` for dynamic naming, so a request to `127.0.0.1:<port>` makes a
segment of that name. Sampling rules are created with `aws xray create-sampling-rule
--cli-input-json` before Cruddur starts, and each test waits until Cruddur logged that it fetched
them from the daemon's TCP port, so no request is decided by the local fallback rule.
"""

from __future__ import annotations

import json
import math
import os
import time
from datetime import datetime, timezone

from cruddur_support import Cruddur, cruddur_factory, traceparent, wait_for_spans  # noqa: F401  (fixtures by name)
from xray_support import aws, summaries, wait_for_traces, xray_client

OTLP_SERVICE = "cruddur-backend"
# Every request to the backend is named after its host (`127.0.0.1:<port>`), as `*4567*` does in
# the bootcamp's Gitpod workspace.
XRAY_URL = "127.0.0.1:*"
MOCK_DATA = "home-activities-mock-data"


def create_rule(waggle, tmp_path, name: str, priority: int, rate: float, reservoir: int, path: str,
                method: str = "GET") -> None:
    rule_file = tmp_path / f"{name}.json"
    rule_file.write_text(json.dumps({"SamplingRule": {
        "RuleName": name, "ResourceARN": "*", "Priority": priority, "FixedRate": rate, "ReservoirSize": reservoir,
        "ServiceName": "*", "ServiceType": "*", "Host": "*", "HTTPMethod": method, "URLPath": path, "Version": 1}}))
    aws(waggle, "create-sampling-rule", "--cli-input-json", f"file://{rule_file}")


def start_cruddur(cruddur_factory, waggle, *rules: str, **env: str) -> Cruddur:  # noqa: F811
    """Cruddur sending segments to `waggle`, once it fetched `rules` through the daemon's TCP port."""
    app = cruddur_factory(waggle, AWS_XRAY_DAEMON_ADDRESS=waggle.xray_daemon_addr, AWS_XRAY_URL=XRAY_URL, **env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        fetched = [line for line in app.stderr_path.read_text("utf-8", "replace").splitlines()
                   if "sampling rules fetched" in line]
        if fetched and all(rule in fetched[-1] for rule in rules):
            return app
        time.sleep(0.1)
    raise AssertionError(f"cruddur did not fetch the sampling rules {rules} from waggle\n{app.logs()}")


def xray_call(app: Cruddur, path: str, user: str | None = None):
    """A request whose remote parent has an X-Ray-style trace id (epoch seconds first); returns the
    response, the trace id in both spellings and the parent id."""
    trace_id = f"{int(time.time()):08x}{os.urandom(12).hex()}"
    parent_id = os.urandom(8).hex()
    response = app.request("GET", path, user=user, headers={"traceparent": traceparent(trace_id, parent_id)})
    return response, trace_id, f"1-{trace_id[:8]}-{trace_id[8:]}", parent_id


def ids(found: list[dict]) -> set[str]:
    return {summary["Id"] for summary in found}


def get_summaries(waggle, start: float, expression: str) -> list[dict]:
    answer = aws(waggle, "get-trace-summaries", "--start-time", str(start), "--end-time", str(time.time() + 60),
                 "--filter-expression", expression)
    return answer["TraceSummaries"]


def count_spans(waggle, dataset: str, column: str, value: str) -> int:
    """COUNT of the spans of `dataset` whose `column` is `value` (span events, such as the request's
    log line, left out), through the Honeycomb query API."""
    filters = [{"column": column, "op": "=", "value": value}, {"column": "meta.annotation_type", "op": "does-not-exist"}]
    spec = {"calculations": [{"op": "COUNT"}], "filters": filters, "time_range": 3600}
    created = waggle.session.post(f"{waggle.web}/1/queries/{dataset}", json=spec, timeout=30)
    assert created.status_code == 200, created.text
    result = waggle.session.post(f"{waggle.web}/1/query_results/{dataset}", json={"query_id": created.json()["id"]},
                                 timeout=30)
    assert result.status_code == 201, result.text
    rows = result.json()["data"]["results"]
    return sum(row["data"]["COUNT"] for row in rows)


def wait_for_count(waggle, dataset: str, column: str, value: str, expected: int, timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        count = count_spans(waggle, dataset, column, value)
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def test_requests_become_segments_with_the_bootcamp_subsegment(waggle, cruddur_factory, tmp_path):  # noqa: F811
    # Every activities request is sampled: a rule at rate 1, above the default rule.
    create_rule(waggle, tmp_path, "cruddur-activities", priority=1, rate=1.0, reservoir=0, path="/api/activities/*")
    app = start_cruddur(cruddur_factory, waggle, "cruddur-activities")
    name = app.backend_addr
    start = time.time() - 1
    home, home_trace, home_id, home_parent = xray_call(app, "/api/activities/home", user="worf")
    missing, _, missing_id, _ = xray_call(app, "/api/activities/@nobody")
    assert home.status_code == 200 and missing.status_code == 404
    feed = home.json()
    assert len(feed) > 0

    # (Health checks before the rules arrived may have segments too: only the activities count.)
    xray = xray_client(waggle)
    found = wait_for_traces(xray, start, f'service("{name}") AND http.url CONTAINS "/api/activities/"', 2)
    assert ids(found) == {home_id, missing_id}, found

    # Filter expressions through the aws CLI: the segment's and the subsegment's annotations.
    assert ids(get_summaries(waggle, start, f'service("{name}") AND annotation.user_id = "worf"')) == {home_id}
    assert ids(get_summaries(waggle, start, f"annotation.results_size = {len(feed)}")) == {home_id}
    assert ids(get_summaries(waggle, start, f'service("{name}") AND error AND http.status = 404')) == {missing_id}
    (summary,) = [s for s in found if s["Id"] == home_id]
    assert summary["Http"]["HttpMethod"] == "GET"
    assert summary["Http"]["HttpStatus"] == 200
    assert summary["Http"]["HttpURL"] == f"http://{name}/api/activities/home"
    assert summary["Annotations"]["user_id"][0]["AnnotationValue"]["StringValue"] == "worf"

    traces = aws(waggle, "batch-get-traces", "--trace-ids", home_id, missing_id)
    documents = {trace["Id"]: [json.loads(s["Document"]) for s in trace["Segments"]] for trace in traces["Traces"]}
    (segment,) = [d for d in documents[home_id] if d["name"] == name]
    # The same trace as the OTLP one: the X-Ray id is the W3C trace id, the parent the caller's span.
    assert segment["trace_id"] == home_id
    assert segment["parent_id"] == home_parent
    assert segment["http"]["request"]["method"] == "GET"
    assert segment["http"]["request"]["url"] == f"http://{name}/api/activities/home"
    assert segment["http"]["request"]["client_ip"] == "127.0.0.1"
    assert segment["http"]["response"]["status"] == 200
    assert segment["annotations"] == {"user_id": "worf"}
    assert "fault" not in segment and "error" not in segment
    (mock,) = [s for s in segment["subsegments"] if s["name"] == MOCK_DATA]
    assert mock["metadata"]["default"]["results-size"] == len(feed)
    now = datetime.fromisoformat(mock["metadata"]["default"]["now"].replace("Z", "+00:00"))
    assert abs((now - datetime.now(timezone.utc)).total_seconds()) < 60
    assert mock["annotations"] == {"results_size": len(feed)}
    queries = mock["subsegments"]
    assert len(queries) >= 2, queries
    for query in queries:
        assert query["namespace"] == "remote"
        assert query["sql"]["database_type"] == "sqlite"
        assert query["sql"]["sanitized_query"].startswith("SELECT")
    (not_found,) = [d for d in documents[missing_id] if d["name"] == name]
    assert not_found["error"] is True and not_found["http"]["response"]["status"] == 404

    # One store, no double counting: the segment and its subsegments are the OTLP spans (same ids)
    # filed under the segment's name. The trace view shows each span once (the OTLP row); each
    # dataset counts its own rows, so the OTLP dataset's counts are what they are without X-Ray.
    expected = 2 + len(queries)
    spans = wait_for_spans(waggle, home_trace, lambda found: len(found) >= expected)
    assert {s["dataset"] for s in spans} == {OTLP_SERVICE}
    by_id = {s["span_id"]: s for s in spans}
    assert len(by_id) == len(spans) == expected
    assert by_id.keys() == {segment["id"], mock["id"], *(query["id"] for query in queries)}
    assert by_id[segment["id"]]["name"] == "GET /api/activities/home"
    assert by_id[mock["id"]]["name"] == MOCK_DATA
    assert wait_for_count(waggle, OTLP_SERVICE, "trace.trace_id", home_trace, expected) == expected
    assert wait_for_count(waggle, name, "trace.trace_id", home_trace, expected) == expected


def test_centralized_sampling_rules_decide_and_statistics_reach_the_daemon(waggle, cruddur_factory, tmp_path):  # noqa: F811
    home_rule, users_rule, rate = "cruddur-home-none", "cruddur-users-fifth", 0.2
    create_rule(waggle, tmp_path, home_rule, priority=10, rate=0.0, reservoir=0, path="/api/activities/home")
    create_rule(waggle, tmp_path, users_rule, priority=20, rate=rate, reservoir=0, path="/api/activities/@*")
    # Statistics every second (the SDKs: 10); waggle still asks for a report per rule every 10 s.
    app = start_cruddur(cruddur_factory, waggle, home_rule, users_rule, CRUDDUR_XRAY_SAMPLING_TARGETS_INTERVAL="1")
    name = app.backend_addr
    start = time.time() - 1
    home_requests, user_requests = 40, 150
    for _ in range(home_requests):
        assert app.request("GET", "/api/activities/home").status_code == 200
    for _ in range(user_requests):
        assert app.request("GET", "/api/activities/@andrewbrown").status_code == 200

    # The statistics Cruddur reported through SamplingTargets, summed by waggle.
    deadline = time.monotonic() + 40
    while True:
        stats = {s["RuleName"]: s for s in aws(waggle, "get-sampling-statistic-summaries")["SamplingStatisticSummaries"]}
        done = (stats.get(home_rule, {}).get("RequestCount") == home_requests
                and stats.get(users_rule, {}).get("RequestCount") == user_requests)
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert done, f"statistics never added up to the requests sent: {stats}\n{app.logs()}"
    assert stats[home_rule]["SampledCount"] == 0 and stats[home_rule]["BorrowCount"] == 0
    sampled = stats[users_rule]["SampledCount"]
    assert stats[users_rule]["BorrowCount"] == 0, "a rule without reservoir never borrows"
    spread = 4 * math.sqrt(user_requests * rate * (1 - rate))
    assert user_requests * rate - spread <= sampled <= user_requests * rate + spread, sampled

    # Exactly the sampled requests reached waggle as segments; none of the home feed's.
    xray = xray_client(waggle)
    users_filter = f'service("{name}") AND http.url CONTAINS "/api/activities/@andrewbrown"'
    assert len(wait_for_traces(xray, start, users_filter, sampled)) == sampled
    assert summaries(xray, start, f'service("{name}") AND http.url CONTAINS "/api/activities/home"') == []
    # X-Ray sampling is X-Ray's own: OTLP still has every request.
    home_route = "GET /api/activities/home"
    assert wait_for_count(waggle, OTLP_SERVICE, "name", home_route, home_requests) == home_requests

    # A rule changed through the API reaches the SDK without waiting for the 5-minute rules poll:
    # the targets answer's LastRuleModification makes it fetch the rules again.
    aws(waggle, "update-sampling-rule", "--sampling-rule-update",
        json.dumps({"RuleName": home_rule, "FixedRate": 1.0}))
    deadline = time.monotonic() + 40
    while not summaries(xray, start, f'service("{name}") AND http.url CONTAINS "/api/activities/home"'):
        assert time.monotonic() < deadline, f"the updated rule never applied\n{app.logs()}"
        assert app.request("GET", "/api/activities/home").status_code == 200
        time.sleep(0.5)
