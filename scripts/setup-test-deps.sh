#!/usr/bin/env bash
# `npm test`'s pre-step: the browser smoke test drives Debian's Chromium through playwright-core
# (no downloaded browser builds on these machines). Installs it when missing and we are root;
# otherwise says what to install. Idempotent.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "gradguard: installing Debian's chromium for the browser smoke test"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
else
  echo "gradguard: the browser smoke test needs Chromium: install Debian's 'chromium' package (apt-get install -y chromium)" >&2
  exit 1
fi
