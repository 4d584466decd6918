#!/usr/bin/env bash
# What only the test suite needs beyond the stack: LibreOffice (headless) to write and
# read files as a real spreadsheet program does.
set -euo pipefail
if ! command -v soffice >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "[test-tools] LibreOffice is missing: apt-get install libreoffice-calc-nogui" >&2; exit 1; }
  echo "[test-tools] installing LibreOffice (headless) from Debian's packages (once)" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libreoffice-calc-nogui >/dev/null
fi
