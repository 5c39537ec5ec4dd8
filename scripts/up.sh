#!/usr/bin/env bash
# Builds and runs the whole system: waggle (every receiver and the web port, embedded store in the
# default data directory), the Cruddur demo app (backend :4567, browser frontend :3000) wired to it,
# and demo traffic. Extra arguments go to `waggle up` (--no-demo runs waggle alone).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
scripts/build-frontend.sh
scripts/build-console.sh
cargo build --release --locked -p waggle -p cruddur
exec "$CARGO_TARGET_DIR/release/waggle" up "$@"
