"""waggle's console in a real browser: every tests/browser/console/*.spec.mjs runs in Debian's headless
Chromium (playwright-core) against one `waggle up` with its demo traffic, as a newcomer would open it.

The specs click through the pages and check what they show; screenshots land in
tests/browser/artifacts/console/. Any browser console error fails a spec. The console is the one
embedded in the waggle binary (scripts/build-console.sh before `cargo build`; scripts/test.sh does
both), or the build in $WAGGLE_CONSOLE_DIR when set, for console development.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import REPO, stop_process, wait_until_healthy, waggle_bin, waggle_up_command

SPECS = sorted((REPO / "tests" / "browser" / "console").glob("*.spec.mjs"))
DEMO_WAIT_S = 150.0
SLOW_USER = "garek"


class ConsoleSite:
    """A running `waggle up`: its web and AWS URLs, Cruddur's frontend and backend, its log."""

    def __init__(self, web: str, aws: str, frontend: str, backend: str, log: Path):
        self.web, self.aws, self.frontend, self.backend, self.log = web, aws, frontend, backend, log
        self.session = requests.Session()
        self.session.trust_env = False

    def query(self, spec: dict) -> dict:
        created = self.session.post(f"{self.web}/1/queries/cruddur-backend", json=spec, timeout=10)
        created.raise_for_status()
        ran = self.session.post(f"{self.web}/1/query_results/cruddur-backend", json={"query_id": created.json()["id"]}, timeout=30)
        ran.raise_for_status()
        return ran.json()["data"]

    def demo_is_ready(self) -> bool:
        """Enough demo traffic for every page: the slow user on top, errors, log lines."""
        by_user = self.query({
            "calculations": [{"op": "P99", "column": "duration_ms"}, {"op": "COUNT"}],
            "filters": [{"column": "app.user_id", "op": "exists"}, {"column": "span.kind", "op": "=", "value": "server"}],
            "breakdowns": ["app.user_id"],
            "orders": [{"op": "P99", "column": "duration_ms", "order": "descending"}],
            "time_range": 3600,
        })["results"]
        total = sum(row["data"]["COUNT"] for row in by_user)
        errors = self.query({
            "calculations": [{"op": "COUNT"}],
            "filters": [{"column": "http.response.status_code", "op": ">=", "value": 500}],
            "time_range": 3600,
        })["results"][0]["data"]["COUNT"]
        return bool(by_user) and by_user[0]["data"]["app.user_id"] == SLOW_USER and total >= 150 and errors >= 2


def ready(site: ConsoleSite) -> bool:
    try:
        return site.demo_is_ready()
    except requests.HTTPError as error:
        if error.response is not None and error.response.status_code == 404:
            return False  # no dataset yet
        raise


@pytest.fixture(scope="module")
def console_site(tmp_path_factory):
    """`waggle up` on free ports with demo traffic, once enough has arrived for every page."""
    # Chromium and playwright-core; Cruddur's frontend, which the trace and map specs open.
    for script in ("scripts/setup-browser.sh", "scripts/build-frontend.sh"):
        result = subprocess.run([script], cwd=REPO, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            pytest.fail(f"{script} failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    tmp = tmp_path_factory.mktemp("console")
    command, urls = waggle_up_command(tmp / "data")
    log_path = tmp / "waggle-up.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    site = ConsoleSite(urls["web"], urls["aws"], urls["frontend"], urls["backend"], log_path)
    details = lambda: f"{' '.join(command)}\n{log_path.read_text(errors='replace')[-3000:]}"  # noqa: E731
    try:
        wait_until_healthy(proc, site.session, f"{site.web}/api/health", "waggle up", 60, details)
        page = site.session.get(f"{site.web}/", timeout=5)
        if page.status_code != 200:
            pytest.fail(f"the console is not built into {waggle_bin()}: run scripts/build-console.sh, then "
                        f"rebuild waggle (scripts/test.sh does both)", pytrace=False)
        deadline = time.monotonic() + DEMO_WAIT_S
        while not ready(site):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the demo traffic did not fill waggle within {DEMO_WAIT_S:.0f}s\n{details()}", pytrace=False)
            time.sleep(1)
        yield site
    finally:
        stop_process(proc, "waggle up", signal.SIGINT, 30, details)
        log.close()


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name.removesuffix(".spec.mjs") for spec in SPECS])
def test_console_page(console_site, spec: Path):
    env = {
        **os.environ,
        "WAGGLE_URL": console_site.web,
        "WAGGLE_AWS_URL": console_site.aws,
        "CRUDDUR_FRONTEND_URL": console_site.frontend,
        "CRUDDUR_BACKEND_URL": console_site.backend,
    }
    run = subprocess.run(["node", str(spec)], cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, f"{spec.name} failed:\n{run.stdout}\n{run.stderr}"
    json.loads(run.stdout.strip().splitlines()[-1])
