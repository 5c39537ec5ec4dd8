#!/usr/bin/env bash
# Builds Cruddur's browser frontend into crates/cruddur/frontend/dist (served by `cruddur` on :3000):
# npm ci from the committed lock file (only when it changed), a type check, then one esbuild bundle.
set -euo pipefail

frontend="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/crates/cruddur/frontend"
cd "$frontend"

if ! command -v npm >/dev/null 2>&1; then
    echo "build-frontend: npm not found; install Node.js 18+ (on Debian: apt-get install nodejs npm)" >&2
    exit 1
fi

stamp="node_modules/.package-lock-$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ]; then
    npm ci --no-audit --no-fund --loglevel=error
    touch "$stamp"
fi

npx --no-install tsc --noEmit
rm -rf dist
mkdir -p dist
cp public/* dist/
npx --no-install esbuild src/main.ts --bundle --minify --sourcemap --target=es2020 --outfile=dist/app.js --log-level=warning
echo "build-frontend: built $frontend/dist"
