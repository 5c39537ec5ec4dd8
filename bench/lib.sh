# Shared by the bench/run-*.sh drivers; source it after `set -euo pipefail`, with $bench_name set
# (used in messages and the temporary directory's name). It defines:
#   $repo, $work        the repository (now the working directory) and a fresh temporary directory,
#                       removed on exit unless KEEP=1
#   logged LOG CMD...   runs CMD with its stderr in LOG; on failure shows LOG's tail and stops
#   build_release [PKG...]  builds waggle and PKG... (release; default waggle-bench), copies the
#                       binaries into $release (in $work); sets $waggle and $bench (waggle-bench)
#   background LOG CMD...  starts CMD with its stdout and stderr in LOG; sets $pid; stopped on exit
#   stop PID            asks a process started by `background` to stop (SIGTERM) and waits for it
#   address_in LOG LABEL PID  waits for `LABEL http://ADDR` in a server's LOG; prints ADDR
#   bench_venv          installs bench/requirements.txt into bench/.venv (once per change); sets $python
#   debian_package CMD [PACKAGE]  installs Debian's PACKAGE (default CMD) with apt-get when CMD is missing
#   cruddur_telemetry MODE OTLP_ADDR  sets $telemetry to the OTEL_* variables of a Cruddur benchmark
#                       mode: off, otlp (exporting to waggle at OTLP_ADDR) or sampled-off, each
#                       optionally followed by +NAME=VALUE settings of the SDK's own
#                       (otlp+OTEL_BSP_MAX_EXPORT_BATCH_SIZE=64)

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"

work="$(mktemp -d "${TMPDIR:-/tmp}/waggle-$bench_name-XXXXXX")"
started=()

on_exit() {
    local pid
    for pid in "${started[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap on_exit EXIT

logged() {
    local log="$1"
    shift
    if ! "$@" 2>"$log"; then
        tail -n 20 "$log" >&2
        echo "run-$bench_name: failed: $*" >&2
        exit 1
    fi
}

build_release() {
    local package packages=(-p waggle)
    for package in "${@:-waggle-bench}"; do packages+=(-p "$package"); done
    echo "==> cargo build --release --locked ${packages[*]}" >&2
    cargo build --release --locked "${packages[@]}"
    # Copied aside, so that another build into a shared CARGO_TARGET_DIR cannot swap a binary
    # between two runs of the benchmark.
    release="$work/bin"
    mkdir -p "$release"
    for package in waggle "${@:-waggle-bench}"; do cp "$CARGO_TARGET_DIR/release/$package" "$release/"; done
    waggle="$release/waggle"
    bench="$release/waggle-bench"
}

background() {
    local log="$1"
    shift
    : >"$log" # exists at once, for whoever waits for a line in it
    "$@" >"$log" 2>&1 &
    pid=$!
    started+=("$pid")
}

stop() {
    local pid="$1" kept=() other
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for other in "${started[@]}"; do [ "$other" = "$pid" ] || kept+=("$other"); done
    started=("${kept[@]}")
}

bench_venv() {
    echo "==> bench/.venv" >&2
    local venv="$repo/bench/.venv"
    [ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
    local stamp="$venv/.requirements-$(sha256sum bench/requirements.txt | cut -d' ' -f1)"
    if [ ! -f "$stamp" ]; then
        logged "$work/pip.log" "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r bench/requirements.txt
        rm -f "$venv"/.requirements-*
        touch "$stamp"
    fi
    python="$venv/bin/python"
}

# The host:port printed after LABEL (`LABEL http://host:port`) in LOG, waiting up to 20 s for the
# process PID to print it.
address_in() {
    local log="$1" label="$2" pid="$3" address="" i
    for ((i = 0; i < 200; i++)); do
        address="$(grep -o "$label *http://[0-9.:]*" "$log" | head -n 1 | sed 's|.*http://||')" || true
        if [ -n "$address" ]; then
            echo "$address"
            return
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$log" >&2
    echo "run-$bench_name: $log names no '$label' address" >&2
    exit 1
}

debian_package() {
    local command="$1" package="${2:-$1}" as_root=()
    command -v "$command" >/dev/null && return
    echo "==> apt-get install $package" >&2
    [ "$(id -u)" = 0 ] || as_root=(sudo)
    if ! "${as_root[@]}" apt-get install -y -qq "$package" >"$work/apt.log" 2>&1; then
        logged "$work/apt.log" "${as_root[@]}" apt-get update -qq >&2
        logged "$work/apt.log" env DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "$package" >&2
    fi
}

cruddur_telemetry() {
    local mode="${1%%+*}" setting settings=()
    # MODE+NAME=VALUE+...: a mode with SDK settings of its own, to compare with the plain mode.
    [[ "$1" != *+* ]] || IFS=+ read -r -a settings <<<"${1#*+}"
    for setting in ${settings[@]+"${settings[@]}"}; do
        [[ "$setting" == OTEL_*=* ]] || {
            echo "run-$bench_name: mode $1: $setting is no OTEL_NAME=VALUE setting" >&2
            exit 1
        }
    done
    case "$mode" in
        off) telemetry=(OTEL_SDK_DISABLED=true) ;;
        otlp | sampled-off)
            # What `waggle up` sets (crates/waggle/src/demo.rs), less CRUDDUR_DEMO.
            telemetry=(OTEL_SERVICE_NAME=cruddur-backend OTEL_EXPORTER_OTLP_ENDPOINT="http://$2"
                OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=local OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)
            [ "$mode" = otlp ] || telemetry+=(OTEL_TRACES_SAMPLER=always_off)
            ;;
        *) echo "run-$bench_name: unknown mode $1 (off, otlp, sampled-off)" >&2; exit 1 ;;
    esac
    telemetry+=(${settings[@]+"${settings[@]}"})
}
