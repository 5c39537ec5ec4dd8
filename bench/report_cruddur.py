"""The Markdown report of bench/run-cruddur.sh: Cruddur's throughput and latency per telemetry mode.

Reads the script's table of measurements (one row per mode and run: the wrk outputs of the warm-up
and of the measured run, the CPU ticks cruddur (user and system) and waggle used during the
measured run, the rows waggle gained while that cruddur ran, and cruddur's log) and prints a table
of medians over the runs, the throughput overhead of exporting (otlp) against telemetry off, and
what waggle received.
"""

import argparse
import csv
import re
import statistics
import sys

from benchlib import spread

# Spans of one `GET /api/activities/home`: the server span, the custom home-activities-mock-data
# span and its two SQL statements (crates/cruddur/src/activities.rs). The request's log line is a
# log, not a span event (crates/cruddur/src/main.rs).
SPANS_PER_REQUEST = 4
TARGET_OVERHEAD = 0.10
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
MODES = {
    "off": "telemetry off (`OTEL_SDK_DISABLED=true`)",
    "otlp": "exporting to waggle (OTLP/HTTP protobuf, batch)",
    "sampled-off": "OTLP exporter, sampler `always_off`",
}


def parse_wrk(path):
    """requests/s, p50 and p99 (ms), completed requests and error counts of one wrk --latency output."""
    text = open(path).read()

    def number(pattern):
        match = re.search(pattern, text, re.MULTILINE)
        if not match:
            sys.exit(f"report_cruddur: no {pattern!r} in {path}:\n{text}")
        return match

    def percentile(label):
        match = number(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$")
        return float(match[1]) * UNITS[match[2]]

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "rps": float(number(r"Requests/sec:\s+([\d.]+)")[1]),
        "p50": percentile("50"),
        "p99": percentile("99"),
        "requests": int(number(r"(\d+) requests in")[1]),
        "errors": errors + (int(bad[1]) if bad else 0),
    }


def dropped_spans(log_path):
    """Spans the SDK's batch processor dropped (queue full), as it logs them at shutdown."""
    counts = re.findall(r"dropped_span_count=(\d+)", open(log_path).read())
    return sum(int(count) for count in counts)


def per_request_us(results, seconds):
    """Median over the runs of `seconds(run)` (cruddur's CPU time) per measured request, in µs."""
    return statistics.median(seconds(r) / r["requests"] * 1e6 for r in results)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("measures", help="measures.tsv written by run-cruddur.sh")
    parser.add_argument("--ticks-per-second", type=float, default=100.0, help="getconf CLK_TCK")
    parser.add_argument("--seconds", type=float, required=True, help="length of a measured run")
    args = parser.parse_args()

    by_mode = {}
    for row in csv.DictReader(open(args.measures), delimiter="\t"):
        measured, warmup = parse_wrk(row["measured"]), parse_wrk(row["warmup"])
        by_mode.setdefault(row["mode"], []).append(
            {
                **measured,
                "sent": measured["requests"] + warmup["requests"],
                "errors": measured["errors"] + warmup["errors"],
                "user_s": int(row["cruddur_user_ticks"]) / args.ticks_per_second,
                "system_s": int(row["cruddur_system_ticks"]) / args.ticks_per_second,
                "waggle_s": int(row["waggle_ticks"]) / args.ticks_per_second,
                "rows": int(row["rows"]),
                "dropped": dropped_spans(row["log"]),
            }
        )

    base = by_mode.get("off")
    base_rps = statistics.median(r["rps"] for r in base) if base else None
    print(
        "| mode | requests/s | p50 ms | p99 ms | throughput vs off | cruddur CPU µs / request (user + system) "
        "| waggle CPU, % of a core |"
    )
    print("|---|---|---|---|---|---|---|")
    for mode, results in by_mode.items():
        rps = statistics.median(r["rps"] for r in results)
        ratio = f"{rps / base_rps:.3f}" if base_rps else ""
        total = per_request_us(results, lambda r: r["user_s"] + r["system_s"])
        user = per_request_us(results, lambda r: r["user_s"])
        system = per_request_us(results, lambda r: r["system_s"])
        cpu_us = f"{total:.0f} ({user:.0f} + {system:.0f})"
        waggle = statistics.median(r["waggle_s"] / args.seconds * 100 for r in results)
        print(
            f"| {MODES.get(mode, mode)} | {spread([r['rps'] for r in results])} "
            f"| {statistics.median(r['p50'] for r in results):.2f} "
            f"| {statistics.median(r['p99'] for r in results):.2f} | {ratio} | {cpu_us} | {waggle:.1f} |"
        )
    print()
    runs = max(len(results) for results in by_mode.values())
    print(f"Medians of {runs} runs (min–max); p50 and p99 are the medians of each run's.")

    for mode, results in by_mode.items():
        if mode != "off" and base:
            paired = [1 - r["rps"] / b["rps"] for r, b in zip(results, base)]
            overhead = 1 - statistics.median(r["rps"] for r in results) / base_rps
            verdict = "met" if overhead <= TARGET_OVERHEAD else "**not met**"
            print(
                f"- Throughput overhead of {mode} vs off: **{overhead:.1%}** (per pair of alternating runs: "
                f"{', '.join(f'{p:.1%}' for p in paired)}); target at most {TARGET_OVERHEAD:.0%}: {verdict}."
            )
        sent = sum(r["sent"] for r in results)
        rows = sum(r["rows"] for r in results)
        dropped = sum(r["dropped"] for r in results)
        errors = sum(r["errors"] for r in results)
        line = f"- {mode}: {sent:,} requests sent (warm-ups included)"
        if mode != "off":
            line += (
                f"; waggle received {rows:,} rows (`GET /api/datasets`), {rows / sent:.3f} per request against "
                f"{SPANS_PER_REQUEST} spans made per request; the SDK reported {dropped:,} spans dropped (queue full)"
            )
        print(line + (f"; **{errors:,} errors or non-2xx answers**." if errors else "; no errors."))


if __name__ == "__main__":
    main()
