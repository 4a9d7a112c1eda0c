#!/usr/bin/env bash
# Install everything and run the whole test suite (the README's test command; CI runs it).
# The console tests drive Debian's chromium with Playwright (never `playwright install`):
# it is installed with apt when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
pip install -q -e '.[test]'
python -m pytest -n 2 "$@"
