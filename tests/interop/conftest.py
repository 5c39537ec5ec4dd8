"""Start and stop a real waggle server for the interop tests.

The binary is `$WAGGLE_BIN`, else `$CARGO_TARGET_DIR/debug/waggle`, else `<repo>/target/debug/waggle`.
Every server listens on 127.0.0.1 only, on free ports, with its own temporary data dir.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
HEALTH_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0

# Never route loopback traffic through a proxy, whatever the environment says.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def waggle_bin() -> Path:
    if os.environ.get("WAGGLE_BIN"):
        return Path(os.environ["WAGGLE_BIN"])
    if os.environ.get("CARGO_TARGET_DIR"):
        return Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "waggle"
    return REPO / "target" / "debug" / "waggle"


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def waggle_up_command(data_dir: Path) -> tuple[list[str], dict[str, str]]:
    """`waggle up` on free 127.0.0.1 ports: the command and its URLs by name (web, aws, otlp_http,
    otlp_grpc, xray_daemon as host:port, backend, frontend)."""
    grpc, http, web, backend, frontend, aws, xray = free_ports(7)
    command = [
        str(waggle_bin()), "up",
        "--data-dir", str(data_dir),
        "--otlp-grpc-addr", f"127.0.0.1:{grpc}",
        "--otlp-http-addr", f"127.0.0.1:{http}",
        "--web-addr", f"127.0.0.1:{web}",
        "--aws-addr", f"127.0.0.1:{aws}",
        "--xray-daemon-addr", f"127.0.0.1:{xray}",
        "--cruddur-backend-addr", f"127.0.0.1:{backend}",
        "--cruddur-frontend-addr", f"127.0.0.1:{frontend}",
    ]
    urls = {
        "web": f"http://127.0.0.1:{web}", "aws": f"http://127.0.0.1:{aws}",
        "otlp_http": f"http://127.0.0.1:{http}", "otlp_grpc": f"http://127.0.0.1:{grpc}",
        "xray_daemon": f"127.0.0.1:{xray}",
        "backend": f"http://127.0.0.1:{backend}", "frontend": f"http://127.0.0.1:{frontend}",
    }
    return command, urls


def wait_until_healthy(proc, session, url: str, what: str, timeout: float, details) -> None:
    """Polls `url` until it answers 200; fails (killing `proc`) if `proc` exits or time runs out.
    `details()` is appended to the failure: the command, the process's output."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            pytest.fail(f"{what} exited with code {code} before it was healthy\n{details()}", pytrace=False)
        try:
            r = session.get(url, timeout=2)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}: {r.text[:200]}"
        except requests.RequestException as e:
            last = repr(e)
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    pytest.fail(f"{what} was not healthy within {timeout:.0f}s (last: {last})\n{details()}", pytrace=False)


def stop_process(proc, what: str, sig: int, timeout: float, details) -> None:
    """Sends `sig` and waits; on a timeout kills `proc` and fails with `details()`."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"{what} did not exit within {timeout:.0f}s of signal {sig}\n{details()}", pytrace=False)


class Waggle:
    """One waggle process (and its restarts) on one data dir.

    Ports are picked once and kept across restarts, like a real deployment.
    """

    def __init__(self, data_dir: Path, log_dir: Path, args: list[str]):
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.args = list(args)
        http_port, grpc_port, web_port, aws_port, xray_port = free_ports(5)
        self.otlp_http_addr = f"127.0.0.1:{http_port}"
        self.otlp_grpc_addr = f"127.0.0.1:{grpc_port}"
        self.web_addr = f"127.0.0.1:{web_port}"
        self.aws_addr = f"127.0.0.1:{aws_port}"
        # The X-Ray daemon listens on this port over both UDP and TCP.
        self.xray_daemon_addr = f"127.0.0.1:{xray_port}"
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.stderr_path: Path | None = None
        self.session = requests.Session()
        self.session.trust_env = False

    # -- addresses -------------------------------------------------------------------------------
    @property
    def otlp_http(self) -> str:
        """Base URL of the OTLP/HTTP receiver, e.g. http://127.0.0.1:4318"""
        return f"http://{self.otlp_http_addr}"

    @property
    def web(self) -> str:
        return f"http://{self.web_addr}"

    @property
    def aws(self) -> str:
        """Base URL of the AWS port (CloudWatch Logs, X-Ray API), e.g. http://127.0.0.1:4566"""
        return f"http://{self.aws_addr}"

    # -- lifecycle -------------------------------------------------------------------------------
    def command(self, args: list[str]) -> list[str]:
        return [
            str(waggle_bin()),
            "serve",
            "--data-dir", str(self.data_dir),
            "--otlp-http-addr", self.otlp_http_addr,
            "--otlp-grpc-addr", self.otlp_grpc_addr,
            "--web-addr", self.web_addr,
            "--aws-addr", self.aws_addr,
            "--xray-daemon-addr", self.xray_daemon_addr,
            *args,
        ]

    def start(self, args: list[str] | None = None) -> "Waggle":
        """Start (again) on the same data dir and ports; `args` replaces the extra flags if given."""
        assert self.proc is None or self.proc.poll() is not None, "waggle is already running"
        if args is not None:
            self.args = list(args)
        binary = waggle_bin()
        if not binary.exists():
            pytest.fail(
                f"waggle binary not found at {binary}: build it with `cargo build -p waggle` "
                "or point WAGGLE_BIN (or CARGO_TARGET_DIR) at it",
                pytrace=False,
            )
        self.starts += 1
        self.stderr_path = self.log_dir / f"waggle-stderr-{self.starts}.log"
        # Only the flags configure the server: no config file or WAGGLE_* settings from the caller.
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAGGLE_")}
        env.setdefault("RUST_BACKTRACE", "1")
        env.setdefault("NO_COLOR", "1")  # plain stderr in the log files
        env.setdefault("XDG_DATA_HOME", str(self.log_dir / "xdg-data"))
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.command(self.args),
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                env=env,
            )
        self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT_S) -> None:
        details = lambda: f"command: {' '.join(self.command(self.args))}\n{self.stderr_tail()}"  # noqa: E731
        wait_until_healthy(self.proc, self.session, f"{self.web}/api/health", "waggle", timeout, details)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> int:
        """Send `sig` and wait for the exit; returns the exit code. Fails if it does not exit."""
        assert self.proc is not None
        stop_process(self.proc, "waggle", sig, timeout, self.stderr_tail)
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: a crash, no chance to flush anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self, args: list[str] | None = None) -> "Waggle":
        code = self.stop()
        assert code == 0, f"waggle exited with code {code} on SIGTERM\n{self.stderr_tail()}"
        return self.start(args)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr_tail(self, max_bytes: int = 8000) -> str:
        if self.stderr_path is None or not self.stderr_path.exists():
            return "(no stderr)"
        data = self.stderr_path.read_bytes()[-max_bytes:]
        return "---- waggle stderr (tail) ----\n" + data.decode("utf-8", "replace") + "\n------------------------------"

    # -- read API ----------------------------------------------------------------------------------
    def api(self, path: str, **params) -> requests.Response:
        return self.session.get(f"{self.web}{path}", params=params or None, timeout=10)

    def get_trace(self, trace_id: str) -> requests.Response:
        return self.api(f"/api/traces/{trace_id}")

    def trace(self, trace_id: str, wait: float = 2.0) -> dict:
        """GET /api/traces/{id}, expecting 200. A 404 is retried for `wait` seconds."""
        deadline = time.monotonic() + wait
        while True:
            r = self.get_trace(trace_id)
            if r.status_code != 404 or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        assert r.status_code == 200, f"GET /api/traces/{trace_id}: HTTP {r.status_code} {r.text[:500]}"
        return r.json()


class WaggleFactory:
    def __init__(self, tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.servers: list[Waggle] = []

    def __call__(self, *args: str, start: bool = True) -> Waggle:
        base = self.tmp_path_factory.mktemp("waggle")
        data_dir = base / "data"
        data_dir.mkdir()
        w = Waggle(data_dir, base, list(args))
        self.servers.append(w)
        if start:
            w.start()
        return w

    def close(self) -> None:
        problems = []
        for w in self.servers:
            if w.proc is None or w.proc.poll() is not None:
                continue  # never started, or stopped/killed on purpose (or crashed: the test saw it)
            w.proc.send_signal(signal.SIGTERM)
            try:
                w.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                w.proc.kill()
                w.proc.wait()
                problems.append(f"waggle did not exit within {STOP_TIMEOUT_S:.0f}s of SIGTERM\n{w.stderr_tail()}")
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def waggle_factory(tmp_path_factory):
    """Call with extra CLI flags to get a started server on a fresh data dir; stopped at teardown."""
    f = WaggleFactory(tmp_path_factory)
    yield f
    f.close()


@pytest.fixture
def waggle(waggle_factory) -> Waggle:
    """A fresh server with default flags, for one test."""
    return waggle_factory()


@pytest.fixture(scope="module")
def module_waggle_factory(tmp_path_factory):
    """Like waggle_factory, but the servers live for the whole test module."""
    f = WaggleFactory(tmp_path_factory)
    yield f
    f.close()


@pytest.fixture(scope="module")
def shared_waggle(module_waggle_factory) -> Waggle:
    """One default server for a whole test module (tests isolate themselves by unique ids and datasets)."""
    return module_waggle_factory()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Attach the stderr of every server the failing test used to its report."""
    if call.when != "call" or call.excinfo is None:
        return
    servers = []
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, Waggle):
            servers.append(value)
        elif isinstance(value, WaggleFactory):
            servers.extend(value.servers)
    seen = set()
    for w in servers:
        if id(w) in seen:
            continue
        seen.add(id(w))
        item.add_report_section("call", f"waggle {w.web_addr} stderr", w.stderr_tail())
