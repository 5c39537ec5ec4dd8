#!/usr/bin/env bash
# Builds waggle's console (ui/) into ui/dist, which the waggle binary embeds when it is compiled
# (crates/waggle-console): npm ci from the committed lock file (only when it changed), a type check,
# then one esbuild bundle. Run it before `cargo build`; scripts/up.sh and scripts/test.sh do.
#
#   scripts/build-console.sh [OUT_DIR]   # default ui/dist; another directory for development, served
#                                        # by `WAGGLE_CONSOLE_DIR=OUT_DIR waggle up` without a rebuild
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ui="$repo/ui"
out="$(realpath -m "${1:-$ui/dist}")"
cd "$ui"

"$repo/scripts/npm-ci.sh" "$ui" build-console

npx --no-install tsc --noEmit
rm -rf "$out.new"
mkdir -p "$out.new/assets"
cp public/* "$out.new/"
npx --no-install esbuild src/main.tsx --bundle --minify --sourcemap --target=es2020 \
    --outfile="$out.new/assets/app.js" --log-level=warning
# Swap in one step: a waggle compiled meanwhile embeds the old build or the new one, never half.
rm -rf "$out"
mv "$out.new" "$out"
echo "build-console: built $out"
