"""Headless Chromium clicks through Cruddur's frontend; its spans and the backend's form one trace.

tests/browser/cruddur.spec.mjs (playwright-core driving Debian's /usr/bin/chromium) does the clicking;
this test prepares everything (scripts/setup-browser.sh, scripts/build-frontend.sh), starts waggle and
cruddur, runs it, then asserts through waggle's API: user action (browser) -> fetch (browser) ->
request span (backend) -> SQL spans, all under one trace id, each linked to its parent.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from conftest import REPO
from cruddur_support import cruddur_factory  # noqa: F401  (fixture)

FRONTEND = "cruddur-frontend"
BACKEND = "cruddur-backend"


def run_script(*command: str, timeout: float = 600) -> None:
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}", pytrace=False)


@pytest.fixture(scope="module")
def browser_ready():
    """Chromium, playwright-core and the built frontend (each step is skipped when already done)."""
    run_script("scripts/setup-browser.sh")
    run_script("scripts/build-frontend.sh")


def all_spans(waggle, dataset: str) -> list[dict]:
    """Every span of every trace whose root is in `dataset`."""
    listed = waggle.api("/api/traces", dataset=dataset, limit=1000).json()["traces"]
    spans = []
    for entry in listed:
        spans.extend(waggle.trace(entry["trace_id"])["spans"])
    return spans


def find_chain(spans: list[dict], action: str, request_name: str, status: int):
    """(action span, fetch span, request span) linked parent to child, or None."""
    by_id = {s["span_id"]: s for s in spans}
    for request in spans:
        attrs = request["attributes"]
        if not (request["service_name"] == BACKEND and request["kind"] == "server" and request["name"] == request_name
                and attrs.get("http.response.status_code") == status):
            continue
        fetch = by_id.get(request["parent_span_id"])
        if not fetch or fetch["service_name"] != FRONTEND or fetch["kind"] != "client":
            continue
        parent = by_id.get(fetch["parent_span_id"])
        if parent and parent["service_name"] == FRONTEND and parent["name"] == action:
            return parent, fetch, request
    return None


def test_browser_and_backend_spans_share_one_trace(browser_ready, waggle, cruddur_factory):
    app = cruddur_factory(waggle, FRONTEND_OTEL_EXPORTER_OTLP_ENDPOINT=waggle.otlp_http)
    env = {**os.environ, "CRUDDUR_FRONTEND_URL": app.frontend}
    run = subprocess.run(
        ["node", str(REPO / "tests" / "browser" / "cruddur.spec.mjs")],
        env=env, capture_output=True, text=True, timeout=180,
    )
    assert run.returncode == 0, f"browser run failed:\n{run.stdout}\n{run.stderr}\n{app.logs()}"
    json.loads(run.stdout.strip().splitlines()[-1])

    expected = {
        "post": ("user-action post-activity", "POST /api/activities", 200),
        "invalid post": ("user-action post-activity", "POST /api/activities", 422),
        "home": ("page-view /", "GET /api/activities/home", 200),
        "notifications": ("page-view /notifications", "GET /api/activities/notifications", 200),
        "user feed": ("page-view /@{handle}", "GET /api/activities/@{handle}", 200),
        "message groups": ("page-view /messages", "GET /api/message_groups", 200),
        "send message": ("user-action send-message", "POST /api/messages", 200),
    }
    chains: dict = {}
    deadline = time.monotonic() + 30
    while True:
        spans = all_spans(waggle, FRONTEND)
        chains = {key: find_chain(spans, *want) for key, want in expected.items()}
        if all(chains.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    missing = [key for key, chain in chains.items() if chain is None]
    names = sorted({(s["service_name"], s["name"]) for s in spans})
    assert not missing, f"no browser -> backend trace for {missing}; spans seen: {names}"

    for key, (action, fetch, request) in chains.items():
        trace_ids = {action["trace_id"], fetch["trace_id"], request["trace_id"]}
        assert len(trace_ids) == 1, f"{key}: spans in different traces {trace_ids}"
        assert action["attributes"]["app.user_id"] == "andrewbrown", key
        assert fetch["attributes"]["app.user_id"] == "andrewbrown", key
        assert request["attributes"]["app.user_id"] == "andrewbrown", key
        assert action["resource"]["service.name"] == FRONTEND

    # The backend's work hangs under its request span in the same trace.
    home_request = chains["home"][2]
    home_trace = waggle.trace(home_request["trace_id"])["spans"]
    custom = [s for s in home_trace if s["name"] == "home-activities-mock-data"]
    assert custom and custom[0]["parent_span_id"] == home_request["span_id"]
    assert any(s["attributes"].get("db.system") == "sqlite" and s["parent_span_id"] == custom[0]["span_id"]
               for s in home_trace)

    # A rejected post is an error on both sides.
    action, _, request = chains["invalid post"]
    assert request["status_code"] == 2
    assert action["status_code"] == 2

    # The page load itself is traced by the document-load instrumentation.
    loads = [s for s in spans if s["service_name"] == FRONTEND and s["name"] == "documentLoad"]
    assert loads and loads[0]["attributes"]["app.user_id"] == "andrewbrown"
