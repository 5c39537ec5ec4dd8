# Shared by the bench/run-*.sh drivers; source it after `set -euo pipefail`, with $bench_name set
# (used in messages and the temporary directory's name). It defines:
#   $repo, $work        the repository (now the working directory) and a fresh temporary directory,
#                       removed on exit unless KEEP=1
#   logged LOG CMD...   runs CMD with its stderr in LOG; on failure shows LOG's tail and stops
#   build_release       builds waggle and waggle-bench (release); sets $waggle and $bench
#   bench_venv          installs bench/requirements.txt into bench/.venv (once per change); sets $python

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"

work="$(mktemp -d "${TMPDIR:-/tmp}/waggle-$bench_name-XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then trap 'echo "kept $work" >&2' EXIT; else trap 'rm -rf "$work"' EXIT; fi

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
    echo "==> cargo build --release" >&2
    cargo build --release --locked -p waggle -p waggle-bench
    waggle="$CARGO_TARGET_DIR/release/waggle"
    bench="$CARGO_TARGET_DIR/release/waggle-bench"
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
