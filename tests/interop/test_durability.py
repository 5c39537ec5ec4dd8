"""Acknowledged data survives restarts and crashes.

A 2xx from OTLP means the data is durable: after SIGTERM + restart, and after SIGKILL in the middle
of a stream of requests + restart, every span of every acknowledged request reads back exactly.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

import support
from support import PROTOBUF, TEAM_HEADERS, assert_no_diff, assert_trace, diff, diff_records

SEND_FOR_S = 1.5  # ingest this long before the SIGKILL
SENDERS = 2  # concurrent connections, so the kill can land while several requests are in flight
MAX_REQUESTS_PER_SENDER = 1000  # a bound on the verification work however fast the server is
TRACES_PER_REQUEST, SPANS_PER_TRACE = 2, 100  # 200 spans per request, 2 lookups to verify it
# Round 1 flushes segments while ingesting, so the crash hits a mix of segments and WAL.
ROUND_FLAGS = [[], ["--flush-max-rows", "1000"], ["--flush-interval", "300ms"]]


def test_clean_restart_keeps_everything(waggle_factory):
    w = waggle_factory()
    svc = support.unique("durable-clean")
    reqs, log_reqs = [], []
    for n in range(4):
        req, tids = support.trace_batch(svc, 4, 6, tag=f"clean-{n}")
        support.assert_accepted(support.post_traces(w, req))
        reqs.append(req)
        t = support.now_ns() - 500_000_000
        logs = support.logs_request(
            [
                support.make_log(time_ns=t + i, body=f"log {i}", trace_id=bytes.fromhex(tid), span_id=support.new_span_id(),
                                 flags=1, attributes={"i": i})
                for i, tid in enumerate(tids)
            ],
            svc,
        )
        support.assert_accepted(support.post_logs(w, logs), "logs")
        log_reqs.append(logs)
    spans, logs = support.expected_spans(*reqs), support.expected_logs(*log_reqs)

    code = w.stop(signal.SIGTERM)
    assert code == 0, f"waggle exited with code {code} on SIGTERM\n{w.stderr_tail()}"
    w.start()
    for tid in spans:
        assert_trace(w, tid, spans[tid], logs[tid])

    # A second generation of data, and a second restart: both generations are there.
    req2, _ = support.trace_batch(svc, 3, 5, tag="clean-after")
    support.assert_accepted(support.post_traces(w, req2))
    spans.update(support.expected_spans(req2))
    w.restart()
    for tid in spans:
        assert_trace(w, tid, spans[tid], logs.get(tid, []))


class Sender(threading.Thread):
    """Posts protobuf batches back to back, recording which were acknowledged (2xx)."""

    def __init__(self, waggle, service: str, round_no: int, stop_event: threading.Event):
        super().__init__(daemon=True)
        self.url = f"{waggle.otlp_http}/v1/traces"
        self.service, self.round_no = service, round_no
        self.acked: list[tuple[object, list[str]]] = []
        self.unacked: list[tuple[object, list[str]]] = []
        self.statuses: dict[str, int] = {}
        self.stop_event = stop_event

    def run(self) -> None:
        session = requests.Session()
        session.trust_env = False
        headers = {"Content-Type": PROTOBUF, **TEAM_HEADERS}
        for n in range(MAX_REQUESTS_PER_SENDER):
            if self.stop_event.is_set():
                break
            req, tids = support.trace_batch(
                self.service, TRACES_PER_REQUEST, SPANS_PER_TRACE, tag=f"round{self.round_no}-{n}"
            )
            try:
                r = session.post(self.url, data=req.SerializeToString(), headers=headers, timeout=10)
                outcome = str(r.status_code)
                ok = 200 <= r.status_code < 300
            except requests.RequestException as e:
                outcome, ok = type(e).__name__, False
            self.statuses[outcome] = self.statuses.get(outcome, 0) + 1
            (self.acked if ok else self.unacked).append((req, tids))
            if not ok:
                time.sleep(0.01)
        session.close()


class Round:
    """The senders of one round, merged."""

    def __init__(self, senders: list[Sender]):
        self.acked = [b for s in senders for b in s.acked]
        self.unacked = [b for s in senders for b in s.unacked]
        self.statuses: dict[str, int] = {}
        for s in senders:
            for k, v in s.statuses.items():
                self.statuses[k] = self.statuses.get(k, 0) + v


def fetch_all(waggle, trace_ids: list[str], workers: int = 4) -> dict[str, requests.Response]:
    local = threading.local()

    def get(tid):
        if not hasattr(local, "s"):
            local.s = requests.Session()
            local.s.trust_env = False
        return tid, local.s.get(f"{waggle.web}/api/traces/{tid}", timeout=30)

    with ThreadPoolExecutor(workers) as pool:
        return dict(pool.map(get, trace_ids))


def verify_acknowledged(waggle, batches) -> int:
    """Every span of every acknowledged batch reads back exactly. Returns the number of traces checked."""
    expected = support.expected_spans(*[req for req, _ in batches])
    answers = fetch_all(waggle, list(expected))
    problems = []
    for tid, spans in expected.items():
        r = answers[tid]
        if r.status_code != 200:
            problems.append(f"trace {tid}: HTTP {r.status_code} {r.text[:200]}")
            continue
        problems += diff_records(spans, r.json().get("spans", []), f"trace {tid} spans")
    assert_no_diff(problems, f"acknowledged data after crash ({len(expected)} traces): ")
    return len(expected)


def verify_unacknowledged_sample(waggle, batches, k: int = 20) -> None:
    """Unacknowledged data may be missing, but what is there must be whole and exact."""
    rng = random.Random(7)
    sample = batches[-k // 2:] + rng.sample(batches[: -k // 2], min(k // 2, max(0, len(batches) - k // 2)))
    expected = support.expected_spans(*[req for req, _ in sample])
    answers = fetch_all(waggle, list(expected))
    problems = []
    for tid, spans in expected.items():
        r = answers[tid]
        if r.status_code == 404:
            continue
        if r.status_code != 200:
            problems.append(f"trace {tid}: HTTP {r.status_code} {r.text[:200]}")
            continue
        by_id = {s["span_id"]: s for s in spans}
        for got in r.json().get("spans", []):
            want = by_id.get(got.get("span_id"))
            if want is None:
                problems.append(f"trace {tid}: unknown span {got.get('span_id')}")
            else:
                problems += diff(want, support.documented_only(want, got), f"trace {tid} span {got['span_id']}")
    assert_no_diff(problems, "unacknowledged data after crash: ")


def listed_trace_ids(waggle, dataset: str) -> set[str]:
    ids, cursor = set(), None
    for _ in range(50):
        params = {"dataset": dataset, "limit": 1000, "start": time.time() - 3600, "end": time.time() + 60}
        if cursor:
            params["cursor"] = cursor
        r = waggle.api("/api/traces", **params)
        assert r.status_code == 200, r.text[:300]
        body = r.json()
        ids.update(t["trace_id"] for t in body["traces"])
        cursor = body.get("next_cursor")
        if not cursor:
            break
    return ids


def test_crash_mid_ingest_loses_nothing_acknowledged(waggle_factory):
    w = waggle_factory(*ROUND_FLAGS[0])
    history = []
    for round_no, _ in enumerate(ROUND_FLAGS):
        svc = support.unique(f"durable-crash-{round_no}")
        stop = threading.Event()
        senders = [Sender(w, svc, round_no, stop) for _ in range(SENDERS)]
        for s in senders:
            s.start()
        time.sleep(SEND_FOR_S)
        still_sending = all(s.is_alive() for s in senders)
        w.kill()
        stop.set()
        for s in senders:
            s.join(30)
            assert not s.is_alive(), "sender thread did not stop"
        sender = Round(senders)
        assert still_sending, "a sender ran out of requests before the kill: raise MAX_REQUESTS_PER_SENDER"
        assert len(sender.acked) >= 3, (
            f"round {round_no}: only {len(sender.acked)} requests acknowledged in {SEND_FOR_S}s "
            f"(outcomes {sender.statuses}); too few to test anything\n{w.stderr_tail()}"
        )

        w.start(ROUND_FLAGS[(round_no + 1) % len(ROUND_FLAGS)])
        checked = verify_acknowledged(w, sender.acked)
        if sender.unacked:
            verify_unacknowledged_sample(w, sender.unacked)
        acked_ids = {tid for _, tids in sender.acked for tid in tids}
        missing = acked_ids - listed_trace_ids(w, svc)
        assert not missing, f"round {round_no}: {len(missing)} acknowledged traces not listed, e.g. {sorted(missing)[:3]}"

        # Serves normally after recovery.
        req, [tid] = support.trace_batch(svc, 1, 3, tag="after-crash")
        support.assert_accepted(support.post_traces(w, req))
        assert_trace(w, tid, support.expected_spans(req)[tid])
        history.append((round_no, sender))
        print(f"round {round_no}: {len(sender.acked)} acked / {len(sender.unacked)} not "
              f"({sender.statuses}), {checked} traces verified")

    # Earlier rounds survived the later crashes too (a sample of each).
    rng = random.Random(11)
    for round_no, sender in history[:-1]:
        verify_acknowledged(w, rng.sample(sender.acked, min(10, len(sender.acked))))
