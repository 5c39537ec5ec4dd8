#!/usr/bin/env bash
# Builds waggle (release) and runs the whole system: every receiver and the web port on the
# embedded store in the default data directory. Extra arguments go to `waggle up`.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --locked -p waggle
exec "$CARGO_TARGET_DIR/release/waggle" up "$@"
