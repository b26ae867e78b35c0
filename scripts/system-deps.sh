#!/usr/bin/env bash
# Installs what the test suite needs beyond pip: Debian's chromium (browser tests) and the
# live map's npm packages. Idempotent; never downloads a browser of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: chromium missing and no apt-get; browser tests will be skipped" >&2
  fi
fi
if [ -f airwarn/serve/web/package.json ] && command -v npm >/dev/null 2>&1; then
  (cd airwarn/serve/web && { [ -f package-lock.json ] && npm ci --no-audit --no-fund -s || npm install --no-audit --no-fund -s; })
fi
