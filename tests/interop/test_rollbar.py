"""Rollbar with the real client: pyrollbar (plain and its Flask contrib) reports to waggle's web
port; the items come back through Rollbar's read API, grouped as Rollbar groups them."""

from __future__ import annotations

import json

import pytest
import requests
import rollbar
import rollbar.contrib.flask
from flask import Flask, got_request_exception

from support import new_trace_id, unique


def project_token(waggle) -> str:
    """The access token waggle created on first start (with every scope)."""
    state = json.loads((waggle.data_dir / "rollbar.json").read_text())
    return state["tokens"][0]["access_token"]


@pytest.fixture
def reporter(waggle):
    token = project_token(waggle)
    settings = {"endpoint": f"{waggle.web}/api/1/", "handler": "blocking", "root": "/nowhere", "capture_ip": False,
                "suppress_reinit_warning": True, "enabled": True}
    rollbar.init(token, environment="production", **settings)
    # pyrollbar keeps the token and environment of its first init(): set them for this server.
    rollbar.SETTINGS.update(settings, access_token=token, environment=unique("env"))
    yield token
    rollbar.SETTINGS["enabled"] = False


def api(waggle, token, path, method="GET", **kwargs):
    r = requests.request(method, f"{waggle.web}/api/1/{path}", headers={"X-Rollbar-Access-Token": token}, timeout=10,
                         **kwargs)
    assert r.status_code == 200, f"{method} {path}: {r.status_code} {r.text}"
    body = r.json()
    assert body["err"] == 0
    return body["result"]


def items(waggle, token, **params):
    env = rollbar.SETTINGS["environment"]
    return api(waggle, token, "items", params={"environment": env, **params})["items"]


def fail(kind: str):
    if kind == "value-a":
        raise ValueError("first line")
    elif kind == "value-b":
        raise ValueError("another line, another message")
    raise KeyError(kind)


def report(kind: str):
    try:
        fail(kind)
    except Exception:
        rollbar.report_exc_info()


def test_report_message_and_exceptions_grouped(waggle, reporter):
    rollbar.report_message("Hello World!", "warning")
    report("value-a")
    report("value-b")  # same stack, another line and message: the same item
    report("key")  # another exception class: a new item
    try:
        try:
            fail("key")
        except KeyError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError:
        rollbar.report_exc_info()

    listed = items(waggle, reporter)
    by_title = {item["title"]: item for item in listed}
    assert set(by_title) == {"Hello World!", "ValueError: first line", "KeyError: 'key'", "RuntimeError: wrapped"}
    assert by_title["Hello World!"]["level"] == "warning"
    assert by_title["ValueError: first line"]["total_occurrences"] == 2
    assert by_title["KeyError: 'key'"]["total_occurrences"] == 1
    assert all(item["status"] == "active" and item["environment"] == rollbar.SETTINGS["environment"] for item in listed)

    item = by_title["ValueError: first line"]
    assert api(waggle, reporter, f"item/{item['id']}")["total_occurrences"] == 2
    instances = api(waggle, reporter, f"item/{item['id']}/instances")["instances"]
    assert [i["data"]["body"]["trace"]["exception"]["message"] for i in instances] == [
        "another line, another message", "first line"]
    frames = instances[0]["data"]["body"]["trace"]["frames"]
    assert frames[-1]["method"] == "fail" and frames[-1]["lineno"] > 0
    assert instances[0]["data"]["notifier"]["name"] == "pyrollbar"

    chained = api(waggle, reporter, f"item/{by_title['RuntimeError: wrapped']['id']}/instances")["instances"][0]
    chain = chained["data"]["body"]["trace_chain"]
    assert [t["exception"]["class"] for t in chain] == ["RuntimeError", "KeyError"]

    assert [i["title"] for i in items(waggle, reporter, level="warning")] == ["Hello World!"]

    # Resolve, then a new occurrence reactivates it.
    patched = api(waggle, reporter, f"item/{item['id']}", method="PATCH", json={"status": "resolved"})
    assert patched["status"] == "resolved"
    assert [i["id"] for i in items(waggle, reporter, status="resolved")] == [item["id"]]
    report("value-a")
    again = api(waggle, reporter, f"item/{item['id']}")
    assert (again["status"], again["total_occurrences"]) == ("active", 3)


def test_flask_contrib_reports_failing_route(waggle, reporter):
    app = Flask(unique("cruddur"))

    @app.route("/api/activities/home")
    def home():
        raise ZeroDivisionError("division by zero")

    got_request_exception.connect(rollbar.contrib.flask.report_exception, app)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/api/activities/home?x=1", headers={"User-Agent": "interop"})
    assert response.status_code == 500

    [item] = items(waggle, reporter)
    assert item["title"] == "ZeroDivisionError: division by zero"
    assert item["framework"] == "flask"
    [instance] = api(waggle, reporter, f"item/{item['id']}/instances")["instances"]
    data = instance["data"]
    assert data["request"]["url"].endswith("/api/activities/home?x=1")
    assert data["request"]["method"] == "GET"
    assert data["context"] == "/api/activities/home"


def test_tokens_forms_and_trace_links(waggle):
    token = project_token(waggle)
    item = {"environment": "production", "level": "error", "body": {"message": {"body": "boom"}},
            "custom": {"trace_id": new_trace_id().hex()}}
    r = requests.post(f"{waggle.web}/api/1/item/", json={"access_token": "0" * 32, "data": item}, timeout=10)
    assert (r.status_code, r.json()) == (403, {"err": 1, "message": f"access token not found: {'0' * 32}"})
    assert r.headers["access-control-allow-origin"] == "*"
    r = requests.get(f"{waggle.web}/api/1/items", headers={"X-Rollbar-Access-Token": "nope"}, timeout=10)
    assert r.status_code == 403

    # A form post with the token in the header, as some clients send it.
    r = requests.post(f"{waggle.web}/api/1/item/", data={"payload": json.dumps({"data": item})},
                      headers={"X-Rollbar-Access-Token": token}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["err"] == 0 and r.json()["result"]["uuid"]
    trace = waggle.trace(item["custom"]["trace_id"])
    assert [log["body"] for log in trace["logs"]] == ["boom"]
    assert trace["logs"][0]["dataset"] == "rollbar"

    r = requests.post(f"{waggle.web}/api/1/item/", json={"access_token": token, "data": {"body": {}}}, timeout=10)
    assert r.status_code == 422 and r.json()["err"] == 1
    r = requests.post(f"{waggle.web}/api/1/item/", data="{not json", timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["err"] == 1
