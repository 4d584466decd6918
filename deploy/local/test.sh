#!/usr/bin/env bash
# The whole test suite, set-up included: Python env, test tools, the local stack (left
# as found: started and stopped here unless it was already running), lint, types, tests.
#   bash deploy/local/test.sh [pytest args...]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
bash deploy/local/python-env.sh
bash deploy/local/test-tools.sh

# Leave the stack as found: stop it afterwards only if this run started it. (The status
# is read into a variable first: `grep -q` closing a pipe early fails it under pipefail.)
started_infra=0
status=$(bash deploy/local/infra.sh status 2>&1 || true)
case "$status" in *"Kafka       up"*) ;; *) started_infra=1 ;; esac
cleanup() { [ "$started_infra" = 1 ] && bash deploy/local/infra.sh stop || true; }
trap cleanup EXIT
bash deploy/local/infra.sh start

echo "== ruff" && .venv/bin/ruff check .
echo "== mypy (shared/)" && .venv/bin/mypy
echo "== pytest"
.venv/bin/python -m pytest -p no:cacheprovider "$@"
