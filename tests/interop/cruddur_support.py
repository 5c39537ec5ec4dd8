"""Start and stop the real `cruddur` binary next to a real waggle, and read its spans back.

The binary is `$CRUDDUR_BIN`, else `cruddur` beside `$WAGGLE_BIN`, else `$CARGO_TARGET_DIR/debug/cruddur`, else
`<repo>/target/debug/cruddur`.
Like waggle, each cruddur listens on 127.0.0.1 only, on free ports, with its own log files; its stdout
(where the console exporter prints spans) and stderr are kept for the assertions and failure reports.
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

from conftest import REPO, Waggle, free_ports, stop_process, wait_until_healthy

HEALTH_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0
USER_HEADER = "X-Cruddur-User"


def cruddur_bin() -> Path:
    if os.environ.get("CRUDDUR_BIN"):
        return Path(os.environ["CRUDDUR_BIN"])
    if os.environ.get("WAGGLE_BIN"):
        # Cargo builds both binaries into one directory.
        return Path(os.environ["WAGGLE_BIN"]).with_name("cruddur")
    if os.environ.get("CARGO_TARGET_DIR"):
        return Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "cruddur"
    return REPO / "target" / "debug" / "cruddur"


def traceparent(trace_id: str, parent_id: str) -> str:
    return f"00-{trace_id}-{parent_id}-01"


class Cruddur:
    """One cruddur process: backend and frontend listeners, telemetry configured by `env`."""

    def __init__(self, log_dir: Path, env: dict[str, str]):
        self.log_dir = log_dir
        backend_port, frontend_port = free_ports(2)
        self.backend_addr = f"127.0.0.1:{backend_port}"
        self.frontend_addr = f"127.0.0.1:{frontend_port}"
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.stdout_path = log_dir / "cruddur-stdout.log"
        self.stderr_path = log_dir / "cruddur-stderr.log"
        self.session = requests.Session()
        self.session.trust_env = False

    @property
    def backend(self) -> str:
        return f"http://{self.backend_addr}"

    @property
    def frontend(self) -> str:
        return f"http://{self.frontend_addr}"

    def command(self) -> list[str]:
        return [
            str(cruddur_bin()),
            "--backend-addr", self.backend_addr,
            "--frontend-addr", self.frontend_addr,
        ]

    def start(self) -> "Cruddur":
        binary = cruddur_bin()
        if not binary.exists():
            pytest.fail(
                f"cruddur binary not found at {binary}: build it with `cargo build -p cruddur` "
                "or point CRUDDUR_BIN (or CARGO_TARGET_DIR) at it",
                pytrace=False,
            )
        # Only `self.env` configures telemetry and the app: nothing inherited from the caller.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(
                ("OTEL_", "CRUDDUR_", "FRONTEND_", "DATABASE_URL", "BACKEND_URL", "RUST_LOG", "AWS_XRAY_")
            )
        }
        env.update({"RUST_BACKTRACE": "1", "NO_COLOR": "1", "RUST_LOG": "info"})
        env.update(self.env)
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        self.wait_healthy()
        return self

    def wait_healthy(self) -> None:
        # A health check with tracing headers of its own would add noise: plain request.
        wait_until_healthy(
            self.proc, self.session, f"{self.backend}/api/health-check", "cruddur", HEALTH_TIMEOUT_S, self.logs
        )

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit code (0 means every span was flushed)."""
        assert self.proc is not None
        stop_process(self.proc, "cruddur", signal.SIGTERM, STOP_TIMEOUT_S, self.logs)
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def logs(self, max_bytes: int = 6000) -> str:
        parts = []
        for path in (self.stderr_path, self.stdout_path):
            if path.exists():
                data = path.read_bytes()[-max_bytes:].decode("utf-8", "replace")
                parts.append(f"---- {path.name} (tail) ----\n{data}")
        return "\n".join(parts) or "(no output)"

    def request(
        self,
        method: str,
        path: str,
        *,
        user: str | None = None,
        body=None,
        headers: dict | None = None,
        raw: bytes | None = None,
    ) -> requests.Response:
        h = dict(headers or {})
        if user is not None:
            h[USER_HEADER] = user
        if raw is not None:
            h.setdefault("Content-Type", "application/json")
            return self.session.request(method, f"{self.backend}{path}", data=raw, headers=h, timeout=10)
        return self.session.request(method, f"{self.backend}{path}", json=body, headers=h, timeout=10)

    def console_spans(self) -> list[dict]:
        """Every span the console exporter printed to stdout (indented JSON objects, one after another)."""
        text = self.stdout_path.read_text("utf-8", "replace")
        decoder = json.JSONDecoder()
        spans, index = [], 0
        while True:
            start = text.find("{", index)
            if start < 0:
                return spans
            obj, index = decoder.raw_decode(text, start)
            spans.append(obj)


class CruddurFactory:
    def __init__(self, tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.apps: list[Cruddur] = []

    def __call__(self, waggle: Waggle | None = None, **env: str) -> Cruddur:
        """A started cruddur exporting to `waggle` over OTLP/HTTP (unless `env` says otherwise)."""
        base = {"OTEL_BSP_SCHEDULE_DELAY": "100", "DATABASE_URL": "sqlite::memory:"}
        if waggle is not None:
            base["OTEL_EXPORTER_OTLP_ENDPOINT"] = waggle.otlp_http
            base["OTEL_EXPORTER_OTLP_HEADERS"] = "x-honeycomb-team=interop-test-key"
        base.update(env)
        app = Cruddur(self.tmp_path_factory.mktemp("cruddur"), base)
        self.apps.append(app)
        return app.start()

    def close(self) -> None:
        for app in self.apps:
            app.kill()


@pytest.fixture
def cruddur_factory(tmp_path_factory):
    """Call with a waggle and env overrides to get a started cruddur; killed at teardown."""
    f = CruddurFactory(tmp_path_factory)
    yield f
    f.close()


@pytest.fixture(scope="module")
def module_cruddur_factory(tmp_path_factory):
    f = CruddurFactory(tmp_path_factory)
    yield f
    f.close()


def wait_for_spans(waggle: Waggle, trace_id: str, ready, timeout: float = 15.0) -> list[dict]:
    """The spans of `trace_id` once `ready(spans)` holds; fails with what arrived otherwise."""
    deadline = time.monotonic() + timeout
    spans: list[dict] = []
    while True:
        r = waggle.get_trace(trace_id)
        if r.status_code == 200:
            spans = r.json()["spans"]
            if ready(spans):
                return spans
        elif r.status_code != 404:
            raise AssertionError(f"GET /api/traces/{trace_id}: HTTP {r.status_code} {r.text[:300]}")
        if time.monotonic() >= deadline:
            names = [(s["name"], s["kind"], s["service_name"]) for s in spans]
            raise AssertionError(f"trace {trace_id} not complete after {timeout:.0f}s; spans so far: {names}")
        time.sleep(0.1)
