#!/usr/bin/env bash
# Query speed of waggle next to DuckDB and ClickHouse (chdb) on the same spans, end to end: builds
# waggle, installs bench/.venv, fills a data directory with `waggle-bench load` (N spans of realistic
# shape over the last 2 hours, sent over OTLP/HTTP to a real waggle, then stopped), exports them to
# Parquet and runs bench/compare_query.py, which times waggle's engine (`waggle-bench query`),
# DuckDB and ClickHouse in-process on six queries, checks that the answers agree, and prints a
# Markdown table. About 10 minutes for 10M spans on 2 cores.
#
# Settings (environment): SPANS=10000000 spans (1000000 for a quick run), HOURS=2 of event time,
# RUNS=5 timed runs per query and system (after one warm-up), FLUSH=1 flushes waggle's in-memory head
# into segments before stopping it (by default the rows since the last flush stay in the write-ahead log
# and are replayed into the head, as a live server holds them), KEEP=1 keeps the temporary directory
# (data directory, spans.parquet, databases, JSON reports, logs).
set -euo pipefail

bench_name=query
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
spans="${SPANS:-10000000}" hours="${HOURS:-2}" runs="${RUNS:-5}"
flush=()
[ "${FLUSH:-0}" = 1 ] && flush=(--flush)

build_release
bench_venv

echo "==> waggle-bench load, $spans spans over $hours h" >&2
logged "$work/load.log" "$bench" load --waggle "$waggle" --data-dir "$work/data" --spans "$spans" --hours "$hours" \
    "${flush[@]}" >"$work/load.json"

echo "==> waggle export" >&2
# waggle-bench sends spans only (no events, links or logs), so the export holds exactly the spans sent.
logged "$work/export.log" "$waggle" export --data-dir "$work/data" --from "$((hours + 1))h" --to 0s \
    --out "$work/spans.parquet" >&2

echo "==> compare_query.py" >&2
"$python" bench/compare_query.py "$work/spans.parquet" --data-dir "$work/data" --waggle-bench "$bench" \
    --load-json "$work/load.json" --runs "$runs" --workdir "$work"
echo "run-query: done in ${SECONDS} s" >&2
