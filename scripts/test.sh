#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests, then the interop suite that drives the real
# Python OpenTelemetry SDK (and other real clients) against a running waggle.
# Installs what it needs itself (a Python venv with pinned clients) on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

echo "==> Python test clients (.venv)"
scripts/setup-python.sh

echo "==> waggle console (ui/, embedded by the build below)"
scripts/build-console.sh

echo "==> cargo build"
cargo build --workspace --all-targets --locked

echo "==> cargo test"
cargo test --workspace --locked

echo "==> interop tests (real clients against a running waggle)"
export WAGGLE_BIN="$CARGO_TARGET_DIR/debug/waggle"
.venv/bin/python -m pytest tests/interop -q -p no:cacheprovider "$@"
