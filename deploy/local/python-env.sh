#!/usr/bin/env bash
# Creates or refreshes the project's virtualenv in .venv with its pinned dependencies.
# uv (from PyPI) does the work; its cache (~/.cache/uv) makes a fresh clone take seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
UV_VERSION=0.13.8
PYTHON=${CRM_BULK_PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'

uv_bin() {
  if command -v uv >/dev/null && [ "$(uv --version | cut -d' ' -f2)" = "$UV_VERSION" ]; then command -v uv; return; fi
  local tools=${CRM_BULK_CACHE:-$HOME/.cache/crm-bulk}/uv-$UV_VERSION
  if [ ! -x "$tools/bin/uv" ]; then
    echo "[python] installing uv $UV_VERSION from PyPI (once)" >&2
    "$PYTHON" -m venv "$tools" && "$tools/bin/pip" install -q "uv==$UV_VERSION"
  fi
  echo "$tools/bin/uv"
}

UV=$(uv_bin)
stamp=.venv/.deps-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "[python] installing the project's dependencies into .venv" >&2
  [ -x .venv/bin/python ] || "$UV" venv -q -p "$PYTHON" .venv
  "$UV" pip install -q -p .venv/bin/python -e '.[dev]'
  rm -f .venv/.deps-* && touch "$stamp"
fi
