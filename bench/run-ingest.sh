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

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
runs="${WAGGLE_RUNS:-3}" seconds="${BENCH_SECONDS:-30}" rows="${ROWS:-200000}" repeats="${REPEATS:-3}"
pool="${POOL:-$((800 * seconds))}"

work="$(mktemp -d "${TMPDIR:-/tmp}/waggle-ingest-XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then trap 'echo "kept $work" >&2' EXIT; else trap 'rm -rf "$work"' EXIT; fi
if [ "$(stat -f -c %T "$work")" = tmpfs ]; then
    echo "run-ingest: warning: $work is tmpfs, so fsync costs nothing; set TMPDIR to a disk" >&2
fi

# Runs a command with its stderr in a log; on failure shows the log's tail and stops.
logged() {
    local log="$1"
    shift
    if ! "$@" 2>"$log"; then
        tail -n 20 "$log" >&2
        echo "run-ingest: failed: $*" >&2
        exit 1
    fi
}

echo "==> cargo build --release" >&2
cargo build --release --locked -p waggle -p waggle-bench
waggle="$CARGO_TARGET_DIR/release/waggle"
bench="$CARGO_TARGET_DIR/release/waggle-bench"

echo "==> bench/.venv" >&2
venv="$repo/bench/.venv"
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
stamp="$venv/.requirements-$(sha256sum bench/requirements.txt | cut -d' ' -f1)"
if [ ! -f "$stamp" ]; then
    logged "$work/pip.log" "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
    rm -f "$venv"/.requirements-*
    touch "$stamp"
fi

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
"$venv/bin/python" bench/compare_ingest.py "$work/spans.parquet" --rows "$rows" --repeats "$repeats" \
    --workdir "$work" --waggle-json "$work/waggle.json" --waggle-single-json "$work/single.json"
echo "run-ingest: done in ${SECONDS} s" >&2
