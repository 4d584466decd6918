#!/usr/bin/env bash
# The local stack without Docker: PostgreSQL (Debian's package), Apache Kafka in KRaft
# mode (jars from Maven Central, run with the installed Java) and SeaweedFS's S3 server
# (built with the installed Go from the Go module proxy).
#
#   deploy/local/infra.sh install   # fetch/build what is missing (cached, see below)
#   deploy/local/infra.sh start     # install, start all three, wait until healthy
#   deploy/local/infra.sh stop      # stop what `start` started (by its PIDs)
#   deploy/local/infra.sh status
#   deploy/local/infra.sh env       # the environment variables the services read
#
# Downloads and builds are cached in $CRM_BULK_CACHE (default ~/.cache/crm-bulk), so a
# second start takes seconds. Data, PIDs and logs live in $CRM_BULK_STATE (default
# /var/lib/crm-bulk as root, ~/.local/state/crm-bulk otherwise); logs in $STATE/logs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${CRM_BULK_CACHE:-$HOME/.cache/crm-bulk}
if [ "$(id -u)" = 0 ]; then STATE=${CRM_BULK_STATE:-/var/lib/crm-bulk}; else STATE=${CRM_BULK_STATE:-$HOME/.local/state/crm-bulk}; fi
LOGS=$STATE/logs
RUN=$STATE/run

PG_PORT=${CRM_BULK_PG_PORT:-15432}
PG_USER=crm_bulk
PG_PASSWORD=${CRM_BULK_PG_PASSWORD:-crm-bulk-dev}
KAFKA_PORT=${CRM_BULK_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${CRM_BULK_KAFKA_CONTROLLER_PORT:-19093}
S3_PORT=${CRM_BULK_S3_PORT:-18333}
# SeaweedFS's internal servers, pinned so that nothing collides with another instance.
SW_MASTER_PORT=${CRM_BULK_SW_MASTER_PORT:-19333}
SW_VOLUME_PORT=${CRM_BULK_SW_VOLUME_PORT:-18080}
SW_FILER_PORT=${CRM_BULK_SW_FILER_PORT:-18888}
S3_ACCESS_KEY=${CRM_BULK_S3_ACCESS_KEY:-crmbulkdev}
S3_SECRET_KEY=${CRM_BULK_S3_SECRET_KEY:-crm-bulk-dev-secret-key}

KAFKA_VERSION=4.1.1
KAFKA_LIBS=$CACHE/kafka-$KAFKA_VERSION/libs
# The pseudo-version in deploy/local/seaweedfs/go.mod; the binary is cached per version.
SEAWEED_VERSION=$(sed -n 's/^require github.com\/seaweedfs\/seaweedfs \(.*\)$/\1/p' "$HERE/seaweedfs/go.mod")
WEED=$CACHE/bin/weed-$SEAWEED_VERSION

say() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

as_root_or_die() {
  [ "$(id -u)" = 0 ] || die "$1 is missing; install it (as root: apt-get install $2) and run again"
}

apt_install() {
  as_root_or_die "$1" "$2"
  say "installing $2 from Debian's packages"
  if [ ! -f "$CACHE/.apt-updated" ] || [ -n "$(find "$CACHE/.apt-updated" -mmin +720 2>/dev/null)" ]; then
    apt-get update -q >/dev/null
    mkdir -p "$CACHE" && touch "$CACHE/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $2 >/dev/null
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

install_postgres() {
  pg_bin >/dev/null || apt_install "PostgreSQL" "postgresql"
  pg_bin >/dev/null || die "PostgreSQL's binaries were not found under /usr/lib/postgresql"
}

install_kafka() {
  command -v java >/dev/null || apt_install "Java" "openjdk-17-jre-headless"
  if [ -f "$KAFKA_LIBS/.complete" ]; then return; fi
  command -v mvn >/dev/null || apt_install "Maven" "maven"
  say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central (once)"
  local build=$CACHE/kafka-build
  rm -rf "$build" "$KAFKA_LIBS" && mkdir -p "$build"
  cp "$HERE/kafka/pom.xml" "$build/pom.xml"
  mvn -q -B -f "$build/pom.xml" package -Dkafka.version="$KAFKA_VERSION" -Djars.dir="$KAFKA_LIBS" \
    >"$CACHE/kafka-build.log" 2>&1 || die "mvn failed; see $CACHE/kafka-build.log"
  ls "$KAFKA_LIBS"/kafka_2.13-*.jar >/dev/null 2>&1 || die "the Kafka jars are missing after mvn"
  touch "$KAFKA_LIBS/.complete"
}

install_seaweedfs() {
  if [ -x "$WEED" ]; then return; fi
  command -v go >/dev/null || die "Go is missing: this machine kind ships it; install Go 1.26 or newer"
  say "building SeaweedFS $SEAWEED_VERSION with Go (once; a few minutes)"
  local build=$CACHE/seaweedfs-build
  rm -rf "$build" && mkdir -p "$build" "$CACHE/bin"
  cp "$HERE/seaweedfs/go.mod" "$HERE/seaweedfs/go.sum" "$HERE/seaweedfs/tools.go" "$build/"
  (cd "$build" && GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$WEED.tmp" github.com/seaweedfs/seaweedfs/weed) \
    >"$CACHE/seaweedfs-build.log" 2>&1 || die "go build of SeaweedFS failed; see $CACHE/seaweedfs-build.log"
  mv "$WEED.tmp" "$WEED"
}

install_all() {
  mkdir -p "$CACHE" "$STATE" "$LOGS" "$RUN"
  install_postgres
  install_kafka
  install_seaweedfs
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # what seconds command...
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.3
  done
}

# --- PostgreSQL ----------------------------------------------------------------------
PG_DATA=$STATE/postgres/data
PG_SOCKETS=$STATE/postgres/run

pg_as_owner() { # PostgreSQL refuses to run as root: use its system user then.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bin; bin=$(pg_bin)
  mkdir -p "$STATE/postgres" "$PG_SOCKETS"
  [ "$(id -u)" = 0 ] && chown -R postgres: "$STATE/postgres" && chmod 755 "$STATE" "$STATE/postgres"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    say "creating the PostgreSQL cluster in $PG_DATA"
    local pwfile; pwfile=$(mktemp); printf '%s\n' "$PG_PASSWORD" >"$pwfile"; chmod 644 "$pwfile"
    pg_as_owner "$bin/initdb" -D "$PG_DATA" -U "$PG_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >"$LOGS/postgres-initdb.log" 2>&1 \
      || { rm -f "$pwfile"; die "initdb failed; see $LOGS/postgres-initdb.log"; }
    rm -f "$pwfile"
  fi
  if pg_as_owner "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    say "PostgreSQL already running"
  else
    touch "$LOGS/postgres.log"; [ "$(id -u)" = 0 ] && chown postgres: "$LOGS/postgres.log"
    pg_as_owner "$bin/pg_ctl" -D "$PG_DATA" -l "$LOGS/postgres.log" -w -t 60 start \
      -o "-p $PG_PORT -k $PG_SOCKETS -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null || die "PostgreSQL did not start; see $LOGS/postgres.log"
  fi
  wait_for postgres 30 "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" || die "PostgreSQL is not ready; see $LOGS/postgres.log"
}

stop_postgres() {
  local bin; bin=$(pg_bin) || return 0
  [ -f "$PG_DATA/postmaster.pid" ] || return 0
  pg_as_owner "$bin/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
}

# --- Kafka ---------------------------------------------------------------------------
KAFKA_DATA=$STATE/kafka/data
KAFKA_PROPS=$STATE/kafka/server.properties

start_kafka() {
  if pid_alive "$RUN/kafka.pid"; then say "Kafka already running"; return; fi
  mkdir -p "$STATE/kafka"
  sed -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
      -e "s#@DATA_DIR@#$KAFKA_DATA#g" "$HERE/kafka/server.properties.template" >"$KAFKA_PROPS"
  local java_opts=(-Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true
    -Dkafka.logs.dir="$LOGS" -Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties")
  if [ ! -f "$KAFKA_DATA/meta.properties" ]; then
    say "formatting Kafka's storage in $KAFKA_DATA"
    # `--cluster-id=…` in one argument: a random id may start with "-" (1 in 64), which
    # the tool would otherwise take for an option.
    local cluster_id
    cluster_id=$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
      --cluster-id="$cluster_id" -c "$KAFKA_PROPS" >"$LOGS/kafka-format.log" 2>&1 || die "formatting Kafka failed; see $LOGS/kafka-format.log"
  fi
  nohup java "${java_opts[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" >"$LOGS/kafka.out" 2>&1 &
  echo $! >"$RUN/kafka.pid"
  wait_for kafka 90 kafka_ready || die "Kafka did not start; see $LOGS/kafka.out and $LOGS/kafka.log"
}

kafka_ready() {
  pid_alive "$RUN/kafka.pid" || die "Kafka exited; see $LOGS/kafka.out and $LOGS/kafka.log"
  port_open "$KAFKA_PORT" && grep -q "Kafka Server started\|\[KafkaRaftServer nodeId=1\] Kafka Server started" "$LOGS/kafka.log" 2>/dev/null
}

# --- SeaweedFS (S3) ------------------------------------------------------------------
SW_DATA=$STATE/seaweedfs

start_seaweedfs() {
  if pid_alive "$RUN/seaweedfs.pid"; then say "SeaweedFS already running"; return; fi
  mkdir -p "$SW_DATA"
  # With an identity configured, SeaweedFS checks every signature and pre-signed URL.
  AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY \
  nohup "$WEED" mini -dir="$SW_DATA" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$SW_MASTER_PORT" -volume.port="$SW_VOLUME_PORT" -filer.port="$SW_FILER_PORT" \
    -s3.port="$S3_PORT" -admin.ui=false -admin.port=18646 -admin.port.legacy=0 -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 \
    -master.telemetry=false -master.volumeSizeLimitMB=64 -volume.max=0 >"$LOGS/seaweedfs.log" 2>&1 &
  echo $! >"$RUN/seaweedfs.pid"
  wait_for seaweedfs 90 seaweedfs_ready || die "SeaweedFS did not start; see $LOGS/seaweedfs.log"
}

seaweedfs_ready() {
  pid_alive "$RUN/seaweedfs.pid" || die "SeaweedFS exited; see $LOGS/seaweedfs.log"
  curl -fsS -o /dev/null "http://127.0.0.1:$S3_PORT/healthz" 2>/dev/null
}

stop_pid() { # name pidfile
  local pidfile=$2 pid
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && { say "$1 did not stop in 20 s; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$pidfile"
}

print_env() {
  cat <<EOF
export CRM_BULK_PG_HOST=127.0.0.1 CRM_BULK_PG_PORT=$PG_PORT CRM_BULK_PG_USER=$PG_USER
export CRM_BULK_KAFKA=127.0.0.1:$KAFKA_PORT
export CRM_BULK_S3_ENDPOINT=127.0.0.1:$S3_PORT
export CRM_BULK_LOGS=$LOGS
EOF
}

status() {
  local bin; bin=$(pg_bin || true)
  if [ -n "$bin" ] && "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then say "PostgreSQL  up    127.0.0.1:$PG_PORT"; else say "PostgreSQL  down"; fi
  if pid_alive "$RUN/kafka.pid" && port_open "$KAFKA_PORT"; then say "Kafka       up    127.0.0.1:$KAFKA_PORT"; else say "Kafka       down"; fi
  if pid_alive "$RUN/seaweedfs.pid" && curl -fsS -o /dev/null "http://127.0.0.1:$S3_PORT/healthz" 2>/dev/null; then say "S3          up    http://127.0.0.1:$S3_PORT"; else say "S3          down"; fi
  say "logs in $LOGS"
}

case "${1:-}" in
  install) install_all ;;
  start)
    started=$SECONDS
    install_all
    start_postgres
    start_kafka
    start_seaweedfs
    say "ready in $((SECONDS - started)) s"
    status
    ;;
  stop)
    stop_pid SeaweedFS "$RUN/seaweedfs.pid"
    stop_pid Kafka "$RUN/kafka.pid"
    stop_postgres
    say "stopped"
    ;;
  status) status ;;
  env) print_env ;;
  *) echo "usage: $0 install|start|stop|status|env" >&2; exit 2 ;;
esac
