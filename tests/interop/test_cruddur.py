"""The real `cruddur` backend exporting to a real waggle: every endpoint, then its spans through waggle's API.

Each request carries a traceparent with a fresh trace id, so its trace is fetched by id and checked:
the server span (name, HTTP semantic-convention attributes, app.user_id, app.result_length, status),
its remote parent, the custom `home-activities-mock-data` span and the SQL client spans under it.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from conftest import free_ports
from cruddur_support import (  # noqa: F401  (fixtures are found by name)
    Cruddur,
    cruddur_factory,
    module_cruddur_factory,
    traceparent,
    wait_for_spans,
)
from support import new_span_id, new_trace_id

SERVICE = "cruddur-backend"
ACTIVITY = "68f126b0-1ceb-4a33-88be-d90fa7109eee"  # Andrew Brown's "Cloud is fun!" in the seed
SQLITE = "sqlite"


@pytest.fixture(scope="module")
def stack(module_waggle_factory, module_cruddur_factory):
    """One waggle and one cruddur exporting to it, for the whole module."""
    waggle = module_waggle_factory()
    app = module_cruddur_factory(waggle)
    return waggle, app


def traced_call(app: Cruddur, method: str, path: str, **kw):
    """Sends the request with a fresh remote parent; returns (response, trace id, remote parent id)."""
    trace_id, parent_id = new_trace_id().hex(), new_span_id().hex()
    headers = dict(kw.pop("headers", {}))
    headers["traceparent"] = traceparent(trace_id, parent_id)
    return app.request(method, path, headers=headers, **kw), trace_id, parent_id


def server_span(spans: list[dict]) -> dict:
    found = [s for s in spans if s["kind"] == "server"]
    assert len(found) == 1, f"expected one server span, got {[(s['name'], s['kind']) for s in spans]}"
    return found[0]


def has_server_span(spans: list[dict]) -> bool:
    return any(s["kind"] == "server" for s in spans)


def sql_spans(spans: list[dict]) -> list[dict]:
    return [s for s in spans if s["kind"] == "client" and "db.system" in s["attributes"]]


def ancestors(span: dict, spans: list[dict]) -> list[str]:
    by_id = {s["span_id"]: s for s in spans}
    chain, parent = [], span["parent_span_id"]
    while parent in by_id:
        chain.append(parent)
        parent = by_id[parent]["parent_span_id"]
    return chain


# (method, path, user, body, status, route, list endpoint?)
ENDPOINTS = [
    ("GET", "/api/health-check", None, None, 200, "/api/health-check", False),
    ("GET", "/api/activities/home", "andrewbrown", None, 200, "/api/activities/home", True),
    ("GET", "/api/activities/notifications", "andrewbrown", None, 200, "/api/activities/notifications", True),
    ("GET", "/api/activities/@worf", "garek", None, 200, "/api/activities/@{handle}", True),
    ("GET", "/api/activities/search?term=prune", "worf", None, 200, "/api/activities/search", True),
    ("POST", "/api/activities", "worf", {"message": "Today is a good day to trace", "ttl": "7-days"}, 200,
     "/api/activities", False),
    ("GET", f"/api/activities/{ACTIVITY}", "garek", None, 200, "/api/activities/{activity_uuid}", False),
    ("POST", f"/api/activities/{ACTIVITY}/reply", "garek", {"message": "A fine sentiment"}, 200,
     "/api/activities/{activity_uuid}/reply", False),
    ("GET", "/api/message_groups", "andrewbrown", None, 200, "/api/message_groups", True),
    ("GET", "/api/messages/@worf", "andrewbrown", None, 200, "/api/messages/@{handle}", True),
    ("POST", "/api/messages", "andrewbrown", {"user_receiver_handle": "worf", "message": "Qapla'"}, 200,
     "/api/messages", False),
    ("GET", "/rollbar/test", None, None, 200, "/rollbar/test", False),
]


@pytest.mark.parametrize("method,path,user,body,status,route,is_list", ENDPOINTS, ids=[e[1] for e in ENDPOINTS])
def test_endpoint_is_traced(stack, method, path, user, body, status, route, is_list):
    waggle, app = stack
    response, trace_id, parent_id = traced_call(app, method, path, user=user, body=body)
    assert response.status_code == status, response.text
    data = response.json()

    needs_sql = route != "/rollbar/test"
    spans = wait_for_spans(waggle, trace_id, lambda s: has_server_span(s) and (sql_spans(s) or not needs_sql))
    span = server_span(spans)
    attrs = span["attributes"]
    assert span["name"] == f"{method} {route}"
    assert span["parent_span_id"] == parent_id, "the request span continues the caller's trace"
    assert span["dataset"] == SERVICE and span["resource"]["service.name"] == SERVICE
    assert span["status_code"] == 0, span["status_message"]
    assert attrs["http.route"] == route
    assert attrs["http.request.method"] == method
    assert attrs["http.response.status_code"] == status
    assert attrs["url.path"] == path.split("?")[0]
    assert attrs["client.address"] == "127.0.0.1"
    assert attrs["user_agent.original"].startswith("python-requests/")
    if user is not None:
        assert attrs["app.user_id"] == user
    else:
        assert "app.user_id" not in attrs
    if is_list:
        assert isinstance(data, list)
        assert attrs["app.result_length"] == len(data)
    else:
        assert "app.result_length" not in attrs

    sql = sql_spans(spans)
    assert bool(sql) == needs_sql
    for statement_span in sql:
        assert span["span_id"] in ancestors(statement_span, spans), "SQL spans are children of the request"
        assert statement_span["attributes"]["db.system"] == SQLITE
        statement = statement_span["attributes"]["db.statement"]
        assert statement.split()[0] in ("SELECT", "INSERT", "UPDATE")
        # Values are bound as parameters or sanitized: none of the request's data is in the text.
        for secret in ("'", user or "andrewbrown", ACTIVITY, "prune"):
            assert secret not in statement, f"{secret!r} leaked into db.statement {statement!r}"
        assert statement_span["name"].split()[0] == statement.split()[0]


def test_home_has_the_bootcamp_custom_span(stack):
    waggle, app = stack
    before = datetime.now(timezone.utc)
    response, trace_id, _ = traced_call(app, "GET", "/api/activities/home", user="worf")
    assert response.status_code == 200
    feed = response.json()
    assert {a["handle"] for a in feed} >= {"andrewbrown", "worf", "garek"}
    cloud = next(a for a in feed if a["uuid"] == ACTIVITY)
    assert cloud["display_name"] == "Andrew Brown" and cloud["replies"][0]["handle"] == "worf"

    spans = wait_for_spans(waggle, trace_id, lambda s: len(sql_spans(s)) >= 2 and has_server_span(s))
    request = server_span(spans)
    custom = [s for s in spans if s["name"] == "home-activities-mock-data"]
    assert len(custom) == 1
    custom = custom[0]
    assert custom["parent_span_id"] == request["span_id"]
    assert custom["kind"] == "internal"
    assert custom["attributes"]["app.result_length"] == len(feed)
    now = datetime.fromisoformat(custom["attributes"]["app.now"].replace("Z", "+00:00"))
    assert abs((now - before).total_seconds()) < 60, custom["attributes"]["app.now"]
    for statement_span in sql_spans(spans):
        assert statement_span["parent_span_id"] == custom["span_id"], "the feed's SQL runs inside the custom span"


# (method, path, user, body or raw bytes, status, error codes, route or None for unmatched)
BAD_INPUT = [
    ("POST", "/api/activities", "worf", {}, 422, ["message_blank", "ttl_blank"], "/api/activities"),
    ("POST", "/api/activities", "worf", {"message": "x" * 281, "ttl": "1-day"}, 422, ["message_exceed_max_chars"],
     "/api/activities"),
    ("POST", "/api/activities", None, {"message": "hi", "ttl": "1-day"}, 422, ["user_handle_blank"], "/api/activities"),
    ("POST", "/api/activities", "worf", {"message": "hi", "ttl": "2-weeks"}, 422, ["ttl_invalid"], "/api/activities"),
    ("POST", "/api/activities", "worf", b"{not json", 400, ["invalid_json_body"], "/api/activities"),
    ("POST", "/api/messages", "worf", {"message": "m" * 1025}, 422,
     ["message_exceed_max_chars", "user_receiver_handle_blank"], "/api/messages"),
    ("POST", "/api/messages", "worf", {"message": "hi", "user_receiver_handle": "q"}, 422,
     ["user_receiver_handle_unknown"], "/api/messages"),
    ("POST", f"/api/activities/{ACTIVITY}/reply", "worf", {"message": ""}, 422, ["message_blank"],
     "/api/activities/{activity_uuid}/reply"),
    ("GET", "/api/activities/search?term=", None, None, 422, ["search_term_blank"], "/api/activities/search"),
    ("GET", "/api/activities/notifications", None, None, 422, ["user_handle_blank"], "/api/activities/notifications"),
    ("GET", "/api/activities/not-a-uuid", None, None, 422, ["activity_uuid_invalid"], "/api/activities/{activity_uuid}"),
    ("GET", "/api/activities/00000000-0000-4000-8000-000000000000", None, None, 404, ["activity_not_found"],
     "/api/activities/{activity_uuid}"),
    ("GET", "/api/activities/@nobody", None, None, 404, ["user_not_found"], "/api/activities/@{handle}"),
    ("GET", "/api/no/such/route", None, None, 404, ["route_not_found"], None),
    ("DELETE", "/api/activities/home", None, None, 405, ["method_not_allowed"], "/api/activities/home"),
]


@pytest.mark.parametrize("method,path,user,body,status,errors,route", BAD_INPUT,
                         ids=[f"{b[0]} {b[1][:40]} {b[5][0]}" for b in BAD_INPUT])
def test_bad_input_is_json_and_traced_as_error(stack, method, path, user, body, status, errors, route):
    waggle, app = stack
    raw = body if isinstance(body, bytes) else None
    response, trace_id, _ = traced_call(app, method, path, user=user, body=None if raw else body, raw=raw)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"] == errors

    span = server_span(wait_for_spans(waggle, trace_id, has_server_span))
    assert span["status_code"] == 2, "bad input is traced with error status"
    assert span["status_message"], "the status says what was wrong"
    assert span["attributes"]["http.response.status_code"] == status
    assert span["attributes"]["error.type"]
    if route is None:
        assert span["name"] == method and "http.route" not in span["attributes"]
    else:
        assert span["name"] == f"{method} {route}" and span["attributes"]["http.route"] == route
    if status in (404, 422):
        assert errors[0] in span["status_message"]
    assert not [e for e in span["events"] if e["name"] == "exception"], "client errors are not exceptions"


def test_xray_trace_header_is_continued(stack):
    waggle, app = stack
    epoch = f"{int(time.time()):08x}"
    rest = new_trace_id().hex()[8:]
    parent = new_span_id().hex()
    header = f"Root=1-{epoch}-{rest};Parent={parent};Sampled=1"
    response = app.request("GET", "/api/health-check", headers={"X-Amzn-Trace-Id": header})
    assert response.status_code == 200
    span = server_span(wait_for_spans(waggle, epoch + rest, has_server_span))
    assert span["parent_span_id"] == parent


def test_untraced_request_is_a_root_trace_listed_by_dataset(stack):
    waggle, app = stack
    assert app.request("GET", "/api/activities/@garek", user="bayko").status_code == 200

    def find():
        body = waggle.api("/api/traces", dataset=SERVICE, limit=1000).json()
        return [t for t in body["traces"] if t["root_name"] == "GET /api/activities/@{handle}"]

    deadline = time.monotonic() + 15
    while not find() and time.monotonic() < deadline:
        time.sleep(0.1)
    traces = find()
    assert traces, "a request without trace headers starts its own trace"
    spans = waggle.trace(traces[0]["trace_id"])["spans"]
    root = server_span(spans)
    assert root["parent_span_id"] is None
    assert root["attributes"]["app.user_id"] == "bayko"


def test_cors_preflight_allows_the_frontend_and_trace_headers(stack):
    _, app = stack
    origin = f"http://127.0.0.1:{app.frontend_addr.split(':')[1]}"
    r = app.session.options(
        f"{app.backend}/api/activities",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,traceparent,x-cruddur-user",
        },
        timeout=5,
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == origin
    allowed = r.headers["access-control-allow-headers"].lower()
    for name in ("traceparent", "x-cruddur-user", "content-type"):
        assert name in allowed
    evil = app.session.get(f"{app.backend}/api/health-check", headers={"Origin": "http://evil.example"}, timeout=5)
    assert "access-control-allow-origin" not in evil.headers


def test_frontend_listener_serves_config_and_pages(stack):
    waggle, app = stack
    config = app.session.get(f"{app.frontend}/config.js", timeout=5)
    assert config.status_code == 200
    assert config.headers["content-type"].startswith("text/javascript")
    assert f'"otlpTracesUrl":"{waggle.otlp_http}/v1/traces"' in config.text
    assert f'"backendUrl":"http://127.0.0.1:{app.backend_addr.split(":")[1]}"' in config.text


def test_console_exporter_prints_spans(cruddur_factory):
    app = cruddur_factory(None, OTEL_TRACES_EXPORTER="console", OTEL_SERVICE_NAME="cruddur-console")
    response, trace_id, parent_id = traced_call(app, "GET", "/api/activities/home", user="garek")
    assert response.status_code == 200
    assert app.stop() == 0
    printed = [s for s in app.console_spans() if s["context"]["trace_id"] == trace_id]
    by_name = {s["name"]: s for s in printed}
    request = by_name["GET /api/activities/home"]
    assert request["kind"] == "SpanKind.SERVER"
    assert request["parent_id"] == parent_id
    assert request["attributes"]["app.user_id"] == "garek"
    assert request["resource"]["attributes"]["service.name"] == "cruddur-console"
    custom = by_name["home-activities-mock-data"]
    assert custom["parent_id"] == request["context"]["span_id"]
    assert custom["attributes"]["app.result_length"] == len(response.json())
    assert any(s["attributes"].get("db.system") == SQLITE for s in printed)


def test_sigterm_flushes_pending_spans(waggle, cruddur_factory):
    # A batch delay far beyond the test: only the shutdown flush can deliver the span.
    app = cruddur_factory(waggle, OTEL_BSP_SCHEDULE_DELAY="600000")
    response, trace_id, _ = traced_call(app, "GET", "/api/message_groups", user="worf")
    assert response.status_code == 200
    assert app.stop() == 0, app.logs()
    span = server_span(wait_for_spans(waggle, trace_id, has_server_span, timeout=5))
    assert span["attributes"]["app.result_length"] == len(response.json())


@pytest.mark.parametrize("protocol", ["grpc", "http/json"])
def test_other_protocols_export_to_waggle(waggle, cruddur_factory, protocol):
    endpoint = f"http://{waggle.otlp_grpc_addr}" if protocol == "grpc" else waggle.otlp_http
    app = cruddur_factory(
        waggle,
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_SERVICE_NAME="cruddur-other-protocol",
    )
    response, trace_id, _ = traced_call(app, "GET", "/api/activities/home", user="coco")
    assert response.status_code == 200
    spans = wait_for_spans(waggle, trace_id, lambda s: has_server_span(s) and len(s) >= 4)
    assert {s["service_name"] for s in spans} == {"cruddur-other-protocol"}
    assert any(s["name"] == "home-activities-mock-data" for s in spans)
    assert server_span(spans)["attributes"]["app.result_length"] == len(response.json())


def test_sampler_env_always_off_exports_nothing(waggle, cruddur_factory):
    app = cruddur_factory(waggle, OTEL_TRACES_SAMPLER="always_off", OTEL_SERVICE_NAME="cruddur-unsampled")
    response, trace_id, _ = traced_call(app, "GET", "/api/health-check")
    assert response.status_code == 200
    assert app.stop() == 0
    assert waggle.get_trace(trace_id).status_code == 404
    datasets = {d["name"] for d in waggle.api("/api/datasets").json()["datasets"]}
    assert "cruddur-unsampled" not in datasets


def test_bad_telemetry_config_fails_at_start(tmp_path):
    import subprocess

    from cruddur_support import cruddur_bin

    backend, frontend = free_ports(2)
    result = subprocess.run(
        [str(cruddur_bin()), "--backend-addr", f"127.0.0.1:{backend}", "--frontend-addr", f"127.0.0.1:{frontend}"],
        env={"PATH": "/usr/bin:/bin", "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"},
        capture_output=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert b"carrier-pigeon" in result.stderr and b"http/protobuf" in result.stderr
