#!/usr/bin/env bash
# Runs the product: the local stack, the three services (in the background, logs in the
# stack's log folder) and a demo account with sample contacts, whose token is printed.
#   bash deploy/local/run.sh          # start everything
#   bash deploy/local/run.sh stop     # stop the services and the stack
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
eval "$(bash deploy/local/infra.sh env)"
RUN_DIR=$(dirname "$CRM_BULK_LOGS")/run

stop_services() {
  for svc in importer export contacts; do
    pidfile=$RUN_DIR/$svc.pid
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      kill -TERM "$(cat "$pidfile")"
      for _ in $(seq 1 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.2; done
    fi
    rm -f "$pidfile"
  done
}

if [ "${1:-}" = stop ]; then
  stop_services
  bash deploy/local/infra.sh stop
  exit 0
fi

bash deploy/local/python-env.sh
bash deploy/local/infra.sh start
stop_services
declare -A ports=([contacts]=8001 [export]=8002 [importer]=8003)
for svc in contacts export importer; do
  nohup .venv/bin/python -m "services.$svc" >"$CRM_BULK_LOGS/$svc.log" 2>&1 &
  echo $! >"$RUN_DIR/$svc.pid"
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "http://127.0.0.1:${ports[$svc]}/healthz" 2>/dev/null && break
    kill -0 "$(cat "$RUN_DIR/$svc.pid")" 2>/dev/null || { tail -n 5 "$CRM_BULK_LOGS/$svc.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "[run] $svc     http://127.0.0.1:${ports[$svc]}  (log: $CRM_BULK_LOGS/$svc.log)"
done
.venv/bin/contacts-admin demo --contacts "${CRM_BULK_DEMO_CONTACTS:-500}"
