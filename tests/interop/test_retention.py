"""Retention by event time: expired events are not returned and their segments are deleted.

The server runs with a 1 h max age checked every second, and flushes small segments, so that data
timestamped about an hour ago lands in segments of its own and ages out during the test.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import support
from support import assert_trace

FLAGS = [
    "--retention-max-age", "1h",
    "--retention-check-interval", "1s",
    "--flush-max-rows", "10",
    "--flush-interval", "1s",
]
HOUR_NS = 3600 * 1_000_000_000
EXPIRES_IN_S = 8  # the "almost expired" data is this many seconds short of the max age when sent


def segment_stats(data_dir: Path) -> tuple[int, int]:
    """(files, bytes) under DATA_DIR/segments (the whole data dir if there is no such folder)."""
    root = data_dir / "segments"
    if not root.is_dir():
        root = data_dir
    files = size = 0
    for dirpath, _, names in os.walk(root):
        for n in names:
            try:
                size += os.path.getsize(os.path.join(dirpath, n))
                files += 1
            except FileNotFoundError:
                pass  # deleted while we walked
    return files, size


def wait_for(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def send(w, svc: str, n_requests: int, start_ns: int, tag: str) -> dict[str, list[dict]]:
    """n_requests requests of one 10-span trace each; returns the expected spans by trace id."""
    reqs = []
    for n in range(n_requests):
        req, _ = support.trace_batch(svc, 1, 10, tag=f"{tag}-{n}", start_ns=start_ns + n * 1_000_000)
        # With --flush-max-rows 10, a few requests fill what may wait in memory while the flusher
        # catches up: waggle answers 503 with Retry-After, and a client retries, as OTel SDKs do.
        for _ in range(20):
            resp = support.post_traces(w, req)
            if resp.status_code != 503:
                break
            time.sleep(float(resp.headers.get("Retry-After", "1")))
        support.assert_accepted(resp)
        reqs.append(req)
    return support.expected_spans(*reqs)


def wait_stable(data_dir: Path, quiet_s: float = 1.5, timeout: float = 10) -> tuple[int, int]:
    """Segment stats once they have stopped changing for quiet_s."""
    last, since = segment_stats(data_dir), time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = segment_stats(data_dir)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return last


def assert_gone(w, trace_ids, why: str) -> None:
    for tid in trace_ids:
        r = w.get_trace(tid)
        assert r.status_code == 404, f"{why}: trace {tid} answered {r.status_code}: {r.text[:300]}"


def test_retention_by_event_time(waggle_factory):
    w = waggle_factory(*FLAGS)
    data = w.data_dir

    # 1. Current data, flushed into segments.
    fresh = send(w, support.unique("retention-fresh"), 3, support.now_ns() - 1_000_000_000, "fresh")
    assert wait_for(lambda: segment_stats(data)[0] > 0, 10), (
        f"no segment files under {data} after 10s with --flush-max-rows 10 --flush-interval 1s: "
        f"{sorted(str(p.relative_to(data)) for p in data.rglob('*'))}"
    )
    base_files, base_bytes = wait_stable(data)

    # 2. Already expired on arrival (2 h old): accepted, never returned.
    expired = send(w, support.unique("retention-expired"), 3, support.now_ns() - 2 * HOUR_NS, "expired")
    assert_gone(w, expired, "2 h old data with a 1 h max age")

    # 3. Almost expired: readable now, in segments of its own, then ages out.
    soon_sent = time.monotonic()
    soon = send(w, support.unique("retention-soon"), 3, support.now_ns() - HOUR_NS + EXPIRES_IN_S * 10**9, "soon")
    for tid, spans in soon.items():
        assert_trace(w, tid, spans)
    peak = [segment_stats(data)]

    def grew():
        peak.append(segment_stats(data))
        return peak[-1][0] > base_files

    assert wait_for(grew, EXPIRES_IN_S - 2, 0.1), (
        f"the almost-expired data never reached a segment file (files {base_files} before, {peak[-1]} now)"
    )
    peak_files = max(f for f, _ in peak)
    peak_bytes = max(b for _, b in peak)

    # 4. After the max age passes: not returned, and its segments deleted at the next check.
    remaining = EXPIRES_IN_S - (time.monotonic() - soon_sent)
    time.sleep(max(0.0, remaining))
    assert wait_for(lambda: all(w.get_trace(t).status_code == 404 for t in soon), 5), (
        f"data older than the max age is still returned: "
        f"{[(t, w.get_trace(t).status_code) for t in soon]}"
    )
    # Only the current data's segments are left (as many as before, or fewer if the server compacts).
    assert wait_for(lambda: segment_stats(data)[0] <= base_files and segment_stats(data)[1] < peak_bytes, 8), (
        f"segments of expired data were not deleted: {base_files} files / {base_bytes} bytes of current data, "
        f"{peak_files} / {peak_bytes} at the peak, {segment_stats(data)} now"
    )
    after_files, after_bytes = segment_stats(data)
    print(f"segments (files, bytes): fresh {base_files, base_bytes}, peak {peak_files, peak_bytes}, "
          f"after expiry {after_files, after_bytes}")

    # Current data untouched.
    for tid, spans in fresh.items():
        assert_trace(w, tid, spans)
    assert_gone(w, expired, "expired data")

    # 5. The same after a restart: nothing expired comes back (not even from a write-ahead log).
    w.restart()
    for tid, spans in fresh.items():
        assert_trace(w, tid, spans)
    assert_gone(w, soon, "after restart, expired data")
    assert_gone(w, expired, "after restart, expired data")
    time.sleep(2.5)  # two retention checks
    files, size = segment_stats(data)
    assert files <= after_files and size <= max(after_bytes, base_bytes) * 2, (
        f"segments grew back after restart: {after_files} files / {after_bytes} bytes before, {files} / {size} now"
    )
