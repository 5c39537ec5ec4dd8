#!/usr/bin/env bash
# Prepares the headless browser test (tests/browser): Debian's Chromium at /usr/bin/chromium when
# missing, and playwright-core from the committed lock file (only when it changed). Idempotent.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ ! -x /usr/bin/chromium ]; then
    echo "setup-browser: installing Debian's chromium"
    if [ "$(id -u)" -eq 0 ]; then
        sudo=""
    elif command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "setup-browser: /usr/bin/chromium is missing and neither root nor sudo is available:" \
            "install the 'chromium' package" >&2
        exit 1
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

"$repo/scripts/npm-ci.sh" "$repo/tests/browser" setup-browser
