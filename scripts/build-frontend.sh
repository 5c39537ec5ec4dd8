#!/usr/bin/env bash
# Builds Cruddur's browser frontend into crates/cruddur/frontend/dist (served by `cruddur` on :3000):
# npm ci from the committed lock file (only when it changed), a type check, then one esbuild bundle.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
frontend="$repo/crates/cruddur/frontend"
cd "$frontend"

"$repo/scripts/npm-ci.sh" "$frontend" build-frontend

npx --no-install tsc --noEmit
rm -rf dist
mkdir -p dist
cp public/* dist/
npx --no-install esbuild src/main.ts --bundle --minify --sourcemap --target=es2020 --outfile=dist/app.js --log-level=warning
echo "build-frontend: built $frontend/dist"
