#!/usr/bin/env bash
# What tracing costs Cruddur: requests/s and p50/p99 latency of `GET /api/activities/home` with
# telemetry off and with its spans exported to a real waggle, measured by `wrk` (Debian's package,
# installed with apt-get when missing) in a separate process. Builds release waggle and cruddur,
# starts `waggle serve` on a fresh data directory, then for each run and each mode, in turn, starts
# cruddur, warms it up, measures (and reads cruddur's user and system CPU time and waggle's CPU
# time from /proc), stops it (it flushes its last spans) and counts what waggle received
# (`GET /api/datasets`). bench/report_cruddur.py prints a Markdown table. About 4 minutes
# after the build.
#
# Modes: off (OTEL_SDK_DISABLED=true), otlp (batch export over OTLP/HTTP protobuf to waggle, as
# `waggle up` runs cruddur, without CRUDDUR_DEMO's faults), sampled-off (the same exporter, but
# OTEL_TRACES_SAMPLER=always_off: spans are made and dropped, none exported).
#
# Settings (environment): RUNS=3 per mode, BENCH_SECONDS=20 per run after WARMUP_SECONDS=5,
# CONNECTIONS=16 and THREADS=1 of wrk, MODES="off otlp sampled-off" (a mode may add SDK settings:
# otlp+OTEL_BSP_MAX_EXPORT_BATCH_SIZE=64), DB=file (a SQLite file, pooled connections; DB=memory is
# cruddur's default in-memory SQLite, one connection that serialises every query), NICE=-10 runs
# waggle, cruddur and wrk at that priority (root only; on a machine shared with other work, so that
# it takes less of their CPU), PIN=1 runs cruddur on CPU 0 and waggle and wrk on the other CPUs
# (taskset; at least 2 CPUs): the app's cores are then its own, as they are when its spans go to
# Honeycomb, so the overhead measured is the app's, and waggle's ingest shows only in its own CPU
# column. KEEP=1 keeps the temporary directory (wrk outputs, logs, waggle's data).
set -euo pipefail

bench_name=cruddur
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runs="${RUNS:-3}" seconds="${BENCH_SECONDS:-20}" warmup="${WARMUP_SECONDS:-5}"
connections="${CONNECTIONS:-16}" threads="${THREADS:-1}"
read -r -a modes <<<"${MODES:-off otlp sampled-off}"
case "${DB:-file}" in
    file) database_url="sqlite://$work/cruddur.db?mode=rwc" ;;
    memory) database_url="sqlite::memory:" ;;
    *) echo "run-cruddur: DB must be file or memory" >&2; exit 1 ;;
esac
# The modes are this script's alone: no OTEL_* setting of the caller's leaks into cruddur.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^OTEL_' || true)

build_release cruddur

debian_package wrk

# Rows waggle holds, over every dataset (the OTLP receiver has acknowledged them: they are in the WAL).
waggle_rows() {
    "${PYTHON:-python3}" -c 'import json, sys, urllib.request as u
answer = u.build_opener(u.ProxyHandler({})).open(sys.argv[1], timeout=10)
print(sum(dataset["rows"] for dataset in json.load(answer)["datasets"]))' "http://$waggle_web/api/datasets"
}

# User and system CPU time of a process so far, in clock ticks: "user system".
cpu_ticks_split() {
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12, $13 }'
}

# CPU time (user + system) of a process so far, in clock ticks.
cpu_ticks() {
    cpu_ticks_split "$1" | awk '{ print $1 + $2 }'
}

app_cpus=() rest_cpus=()
if [ "${PIN:-0}" = 1 ]; then
    cpus="$(nproc)"
    [ "$cpus" -ge 2 ] || { echo "run-cruddur: PIN=1 needs at least 2 CPUs, this machine has $cpus" >&2; exit 1; }
    app_cpus=(taskset -c 0) rest_cpus=(taskset -c "1-$((cpus - 1))")
    echo "==> pinned: cruddur on CPU 0; waggle and wrk on CPUs 1-$((cpus - 1))" >&2
fi

if [ "${NICE:-0}" != 0 ]; then
    echo "==> renice $NICE (waggle, cruddur and wrk)" >&2
    renice -n "$NICE" -p $$ >/dev/null
fi

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "==> waggle serve" >&2
background "$work/waggle.log" "${rest_cpus[@]}" env RUST_LOG=warn "$waggle" serve --data-dir "$work/data" \
    --otlp-grpc-addr 127.0.0.1:0 --otlp-http-addr 127.0.0.1:0 --web-addr 127.0.0.1:0 --retention-check-interval 1h
waggle_pid="$pid"
waggle_otlp="$(address_in "$work/waggle.log" "OTLP/HTTP" "$waggle_pid")"
waggle_web="$(address_in "$work/waggle.log" "Web + API" "$waggle_pid")"

# start_cruddur MODE LOG: cruddur on free ports with MODE's telemetry; sets $pid and $url.
start_cruddur() {
    local telemetry
    cruddur_telemetry "$1" "$waggle_otlp"
    background "$2" "${app_cpus[@]}" env RUST_LOG=info,sqlx=warn "${telemetry[@]}" "$release/cruddur" \
        --backend-addr 127.0.0.1:0 --frontend-addr 127.0.0.1:0 --database-url "$database_url"
    url="http://$(address_in "$2" "backend=" "$pid")/api/activities/home"
}

load() {
    "${rest_cpus[@]}" wrk -t"$threads" -c"$connections" -d"$1s" --latency -H 'X-Cruddur-User: andrewbrown' "$url"
}

echo "==> database ($database_url), seeded by a cruddur with telemetry off" >&2
start_cruddur off "$work/seed.log"
stop "$pid"

echo "==> wrk -t$threads -c$connections, ${warmup} s warm-up + ${seconds} s, $runs runs of: ${modes[*]}" >&2
measures="$work/measures.tsv"
printf 'mode\trun\twarmup\tmeasured\tcruddur_user_ticks\tcruddur_system_ticks\twaggle_ticks\trows\tlog\n' \
    >"$measures"
for ((run = 1; run <= runs; run++)); do
    for mode in "${modes[@]}"; do
        rows_before="$(waggle_rows)"
        start_cruddur "$mode" "$work/cruddur-$mode-$run.log"
        load "$warmup" >"$work/warmup-$mode-$run.txt"
        read -r user_before system_before < <(cpu_ticks_split "$pid")
        waggle_cpu="$(cpu_ticks "$waggle_pid")"
        load "$seconds" >"$work/wrk-$mode-$run.txt"
        read -r user_after system_after < <(cpu_ticks_split "$pid")
        waggle_cpu="$(($(cpu_ticks "$waggle_pid") - waggle_cpu))"
        stop "$pid"
        rows="$(($(waggle_rows) - rows_before))"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$run" "$work/warmup-$mode-$run.txt" \
            "$work/wrk-$mode-$run.txt" "$((user_after - user_before))" "$((system_after - system_before))" \
            "$waggle_cpu" "$rows" "$work/cruddur-$mode-$run.log" >>"$measures"
        echo "    run $run $mode: $(grep -h 'Requests/sec' "$work/wrk-$mode-$run.txt"), waggle +$rows rows," \
            "load average $(cut -d' ' -f1 /proc/loadavg)" >&2
    done
done
stop "$waggle_pid"

"${PYTHON:-python3}" bench/report_cruddur.py "$measures" --ticks-per-second "$(getconf CLK_TCK)" \
    --seconds "$seconds"
echo
echo "Load average (1, 5, 15 min) before the measurements: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)."
echo "run-cruddur: done in ${SECONDS} s" >&2
