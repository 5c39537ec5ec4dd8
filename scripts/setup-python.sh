#!/usr/bin/env bash
# Create <repo>/.venv and install the interop test dependencies (tests/interop/requirements.txt).
# Idempotent: pip runs only when the requirements changed since the last successful install.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
req="$repo/tests/interop/requirements.txt"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
    echo "setup-python: $python not found; install CPython 3.9+ or set PYTHON=/path/to/python3" >&2
    exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
    if ! "$python" -m venv "$venv" >/dev/null; then
        echo "setup-python: '$python -m venv $venv' failed (on Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
fi

hash="$(sha256sum "$req" | cut -d' ' -f1)"
stamp="$venv/.requirements-$hash"
if [ -f "$stamp" ]; then
    exit 0
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup-python: pip install -r $req failed (see above)" >&2
    exit 1
fi
rm -f "$venv"/.requirements-*
touch "$stamp"
echo "setup-python: installed $req into $venv"
