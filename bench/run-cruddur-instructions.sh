#!/usr/bin/env bash
# What tracing costs Cruddur, counted rather than timed: the instructions Cruddur executes per
# `GET /api/activities/home` with telemetry off, exporting to a real waggle, and sampled off, under
# valgrind's callgrind (Debian's `valgrind`, installed with apt-get when missing). Instruction
# counts repeat within about 1% from run to run where requests/s on a shared 2-core machine spread
# by a third (bench/run-cruddur.sh), so a change to the instrumentation can be judged by them. They
# leave out the kernel (syscalls, context switches) and waggle's own ingest, which only
# run-cruddur.sh's throughput and CPU columns see.
#
# For each mode: cruddur runs under callgrind with instrumentation off, gets WARMUP requests, then
# REQUESTS more with it on (one connection, one request at a time), and 6 s more so the batch
# exporter's 5 s timer sends what is left; the total over REQUESTS is the figure. Modes as in
# run-cruddur.sh. About 2 minutes after the build.
#
# Settings (environment): REQUESTS=1000, WARMUP=300, MODES="off otlp sampled-off" (the first is
# the baseline of the last column), KEEP=1 keeps the callgrind outputs (then try
# `callgrind_annotate --inclusive=yes $dir/callgrind-otlp.out`).
set -euo pipefail

bench_name=cruddur-instructions
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
requests="${REQUESTS:-1000}" warmup="${WARMUP:-300}"
read -r -a modes <<<"${MODES:-off otlp sampled-off}"
while read -r name; do unset "$name"; done < <(compgen -e | grep '^OTEL_' || true)

build_release cruddur

debian_package valgrind

# send URL N: N sequential requests on one keep-alive connection, as the demo user.
send() {
    python3 - "$1" "$2" <<'EOF'
import http.client, sys, urllib.parse
url, count = urllib.parse.urlsplit(sys.argv[1]), int(sys.argv[2])
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
for _ in range(count):
    connection.request("GET", url.path, headers={"X-Cruddur-User": "andrewbrown"})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"run-cruddur-instructions: {url.path} answered {response.status}")
EOF
}

echo "==> waggle serve" >&2
background "$work/waggle.log" env RUST_LOG=warn "$waggle" serve --data-dir "$work/data" \
    --otlp-grpc-addr 127.0.0.1:0 --otlp-http-addr 127.0.0.1:0 --web-addr 127.0.0.1:0 \
    --aws-addr 127.0.0.1:0 --xray-daemon-addr 127.0.0.1:0 --retention-check-interval 1h
waggle_otlp="$(address_in "$work/waggle.log" "OTLP/HTTP" "$pid")"
database_url="sqlite://$work/cruddur.db?mode=rwc"

printf '| mode | instructions / request | vs %s |\n|---|---|---|\n' "${modes[0]}"
first=""
for mode in "${modes[@]}"; do
    cruddur_telemetry "$mode" "$waggle_otlp"
    echo "==> $mode: $warmup requests, then $requests counted" >&2
    out="$work/callgrind-$mode.out"
    background "$work/cruddur-$mode.log" env RUST_LOG=info,sqlx=warn "${telemetry[@]}" \
        valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" "$release/cruddur" \
        --backend-addr 127.0.0.1:0 --frontend-addr 127.0.0.1:0 --database-url "$database_url"
    cruddur_pid="$pid"
    # Under valgrind, start-up (and seeding a fresh database) takes a while.
    for ((i = 0; i < 600; i++)); do
        grep -q "backend=http://" "$work/cruddur-$mode.log" && break
        sleep 0.1
    done
    url="http://$(address_in "$work/cruddur-$mode.log" "backend=" "$cruddur_pid")/api/activities/home"
    send "$url" "$warmup"
    callgrind_control -i on "$cruddur_pid" >/dev/null
    send "$url" "$requests"
    sleep 6
    callgrind_control -i off "$cruddur_pid" >/dev/null
    stop "$cruddur_pid"
    total="$(awk '/^totals:/ { print $2; exit }' "$out")"
    per_request=$((total / requests))
    [ -n "$first" ] || first="$per_request"
    python3 -c 'import sys; n, first = int(sys.argv[2]), int(sys.argv[3]); print(f"| {sys.argv[1]} | {n:,} | {(n / first - 1) * 100:+.1f}% |")' \
        "$mode" "$per_request" "$first"
done
echo "run-cruddur-instructions: done in ${SECONDS} s" >&2
