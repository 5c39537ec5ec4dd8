#!/usr/bin/env bash
# Storage and small-batch ingest of waggle next to DuckDB and ClickHouse (chdb), end to end:
# builds waggle, installs bench/.venv, runs `waggle-bench ingest`, exports the acknowledged spans to
# Parquet and loads exactly those rows into DuckDB and ClickHouse (bench/compare_ingest.py), which
# prints a Markdown table. Takes about 8 minutes on 2 cores.
#
# Settings (environment): WAGGLE_RUNS=3 runs of waggle-bench (the last is exported), BENCH_SECONDS=30
# per run, POOL=800 x BENCH_SECONDS distinct requests of 512 spans pre-built by waggle-bench (enough that
# no span repeats: repeated spans sit side by side once sorted and flatter ClickHouse's compression; about
# 150 KB of memory each), ROWS=200000 rows for the small-batch ingest, REPEATS=3 per DuckDB/ClickHouse
# measurement, KEEP=1 keeps the temporary directory (JSON reports, logs, spans.parquet).
set -euo pipefail

bench_name=ingest
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runs="${WAGGLE_RUNS:-3}" seconds="${BENCH_SECONDS:-30}" rows="${ROWS:-200000}" repeats="${REPEATS:-3}"
pool="${POOL:-$((800 * seconds))}"
if [ "$(stat -f -c %T "$work")" = tmpfs ]; then
    echo "run-ingest: warning: $work is tmpfs, so fsync costs nothing; set TMPDIR to a disk" >&2
fi

build_release
bench_venv

echo "==> waggle-bench ingest, 4 connections, ${seconds} s, $runs runs" >&2
logged "$work/waggle.log" "$bench" ingest --waggle "$waggle" --seconds "$seconds" --connections 4 --runs "$runs" \
    --pool "$pool" --data-dir "$work/data" >"$work/waggle.json"
echo "==> waggle-bench ingest, 1 connection, $rows spans, $runs runs" >&2
logged "$work/single.log" "$bench" ingest --waggle "$waggle" --spans "$rows" --connections 1 --runs "$runs" \
    >"$work/single.json"

echo "==> waggle export (the last run's data directory)" >&2
# The bench's spans are timestamped 'now' (within a second of its start); it sends no events or links,
# so the export holds exactly the acknowledged spans. compare_ingest.py checks the row count.
logged "$work/export.log" "$waggle" export --data-dir "$work/data" --from 2h --to 0s --out "$work/spans.parquet" >&2

echo "==> compare_ingest.py" >&2
"$python" bench/compare_ingest.py "$work/spans.parquet" --rows "$rows" --repeats "$repeats" \
    --workdir "$work" --waggle-json "$work/waggle.json" --waggle-single-json "$work/single.json"
echo "run-ingest: done in ${SECONDS} s" >&2
