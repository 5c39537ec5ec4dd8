#!/usr/bin/env bash
# How fast waggle's console is with many spans stored: builds the console and a release waggle,
# fills a data directory with `waggle-bench load` (N realistic spans over the last hours, through a
# real waggle), serves it, then times four views in headless Chromium (bench/console_timing.mjs):
# home, a HEATMAP over every dataset, P99 by app.user_id (top 10) and a trace. Medians over RUNS
# cold page loads; prints a Markdown table.
#
# Settings (environment): SPANS=1000000, HOURS=2 of event time, RUNS=7, KEEP=1 keeps the temporary
# directory.
set -euo pipefail

bench_name=console
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
spans="${SPANS:-1000000}" hours="${HOURS:-2}" runs="${RUNS:-7}"

echo "==> console and browser" >&2
logged "$work/console.log" scripts/build-console.sh >&2
logged "$work/browser.log" scripts/setup-browser.sh >&2
build_release

echo "==> waggle-bench load, $spans spans over $hours h" >&2
logged "$work/load.log" "$bench" load --waggle "$waggle" --data-dir "$work/data" --spans "$spans" --hours "$hours" \
    --flush >"$work/load.json"

echo "==> waggle serve" >&2
background "$work/waggle.log" env RUST_LOG=warn "$waggle" serve --data-dir "$work/data" \
    --otlp-grpc-addr 127.0.0.1:0 --otlp-http-addr 127.0.0.1:0 --web-addr 127.0.0.1:0 --aws-addr 127.0.0.1:0 \
    --xray-daemon-addr 127.0.0.1:0 --retention-check-interval 1h
web="$(address_in "$work/waggle.log" "Web + API" "$pid")"

echo "==> console_timing.mjs, $runs cold loads per view" >&2
logged "$work/timing.log" node bench/console_timing.mjs "http://$web" "$runs" >"$work/timing.json"

"${PYTHON:-python3}" - "$work/timing.json" "$work/load.json" <<'PY'
import json, sys
timing, load = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
fmt = lambda v: "–" if v is None else f"{v:.0f}"
print(f"Console, {load['spans_acknowledged']:,} spans stored; medians of {timing['runs']} cold page loads (ms)\n")
print("| view | first paint | data drawn (loaded) | slowest API call | drawing results |")
print("|---|---:|---:|---:|---:|")
for name, view in timing["views"].items():
    print(f"| {name} | {fmt(view['paint_ms'])} | {fmt(view['loaded_ms'])} | {fmt(view['api_ms'])} | {fmt(view['draw_ms'])} |")
PY
echo "run-console: done in ${SECONDS} s" >&2
