#!/usr/bin/env bash
# Installs a package's npm dependencies from its committed lock file, only when the lock file
# changed since the last install (a stamp in node_modules remembers it). Used by the build and
# setup scripts: scripts/npm-ci.sh DIR NAME (NAME prefixes the messages).
set -euo pipefail
dir="$1" name="$2"

if ! command -v npm >/dev/null 2>&1; then
    echo "$name: npm not found; install Node.js 18+ (on Debian: apt-get install nodejs npm)" >&2
    exit 1
fi
cd "$dir"
stamp="node_modules/.package-lock-$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ]; then
    npm ci --no-audit --no-fund --loglevel=error
    touch "$stamp"
fi
