#!/usr/bin/env bash
# Test peers on loopback, data under <repo>/.services/ (git-ignored).
#   bash .ci/services.sh start  [svc...]   start (default: all), wait until ready, write endpoints.json
#   bash .ci/services.sh stop   [svc...]   stop (default: all)
#   bash .ci/services.sh status [svc...]   show state, rewrite endpoints.json from what is up
# Services: azurite postgres moto fakeGcs sparkThrift
# Needs .ci/install.sh first. Exit code of start/status: 0 when every requested service is up, 1 otherwise
# (SERVICES_ALLOW_PARTIAL=1: start exits 0 anyway; failed services are still absent from endpoints.json).
# AZURITE_DEBUG=1 writes Azurite's request log to .services/logs/azurite-debug.log.
# Ports can be overridden: AZURITE_PORT POSTGRES_PORT MOTO_PORT FAKE_GCS_PORT SPARK_THRIFT_PORT.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SVC="$REPO/.services"
RUN="$SVC/run"; LOGS="$SVC/logs"; DATA="$SVC/data"
ENDPOINTS="$SVC/endpoints.json"
mkdir -p "$RUN" "$LOGS" "$DATA"

ALL=(azurite postgres moto fakeGcs sparkThrift)
HOST=127.0.0.1
AZURITE_PORT=${AZURITE_PORT:-10000}
POSTGRES_PORT=${POSTGRES_PORT:-5432}
MOTO_PORT=${MOTO_PORT:-5000}
FAKE_GCS_PORT=${FAKE_GCS_PORT:-4443}
SPARK_THRIFT_PORT=${SPARK_THRIFT_PORT:-10001}
SPARK_DRIVER_MEMORY=${SPARK_DRIVER_MEMORY:-1g}
AZURITE_ACCOUNT=devstoreaccount1
AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
VENV="$REPO/.ci/.venv"

log() { echo "[$(date -u +%H:%M:%S)] services: $*"; }

# ------------------------------------------------------------------ helpers
pidfile() { echo "$RUN/$1.pid"; }
pid_alive() { local f; f=$(pidfile "$1"); [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
http_code() { curl -s -o /dev/null -m 3 -w '%{http_code}' "$@" 2>/dev/null || true; }
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r | head -n 1; }
spark_home() { "$VENV/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'; }
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# launch <name> <cmd...>: detached (own session), stdout/err to logs/<name>.log, pid to run/<name>.pid
launch() {
  local name=$1; shift
  setsid nohup "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$(pidfile "$name")"
}

# ready_<svc>: 0 when the service answers its own protocol
ready_azurite() { [[ "$(http_code "http://$HOST:$AZURITE_PORT/$AZURITE_ACCOUNT?comp=list")" =~ ^[234] ]]; }
ready_postgres() { "$(pg_bindir)/pg_isready" -q -h "$HOST" -p "$POSTGRES_PORT" -d cdc -U postgres 2>/dev/null; }
ready_moto() { [[ "$(http_code "http://$HOST:$MOTO_PORT/moto-api/data.json")" == 200 ]]; }
ready_fakeGcs() { [[ "$(http_code "http://$HOST:$FAKE_GCS_PORT/storage/v1/b")" == 200 ]]; }
# HiveServer2 HTTP mode answers a bare GET on the servlet path (with 401/405/500) once the servlet is up
# (a bare HTTP probe makes HS2 log a stack trace, so: port open + our JVM alive + its "started" line)
ready_sparkThrift() {
  port_open "$SPARK_THRIFT_PORT" && pid_alive sparkThrift && grep -q 'HiveThriftServer2 started' "$LOGS/sparkThrift.log" 2>/dev/null
}

svc_port() {
  case $1 in
    azurite) echo "$AZURITE_PORT" ;; postgres) echo "$POSTGRES_PORT" ;; moto) echo "$MOTO_PORT" ;;
    fakeGcs) echo "$FAKE_GCS_PORT" ;; sparkThrift) echo "$SPARK_THRIFT_PORT" ;;
  esac
}
svc_port_var() {
  case $1 in azurite) echo AZURITE_PORT ;; postgres) echo POSTGRES_PORT ;; moto) echo MOTO_PORT ;;
    fakeGcs) echo FAKE_GCS_PORT ;; sparkThrift) echo SPARK_THRIFT_PORT ;; esac
}
svc_timeout() { case $1 in sparkThrift) echo "${SPARK_START_TIMEOUT:-300}" ;; *) echo "${SERVICE_START_TIMEOUT:-60}" ;; esac; }

# ------------------------------------------------------------------ start_<svc>
start_azurite() {
  local bin="$REPO/node_modules/.bin/azurite-blob"
  [[ -x "$bin" ]] || { log "azurite: $bin missing (run .ci/install.sh)"; return 1; }
  mkdir -p "$DATA/azurite"
  # --skipApiVersionCheck: @azure/storage-blob may send a newer x-ms-version than this Azurite knows
  local dbg=(); [[ "${AZURITE_DEBUG:-0}" == 1 ]] && dbg=(--debug "$LOGS/azurite-debug.log")
  launch azurite "$bin" --blobHost "$HOST" --blobPort "$AZURITE_PORT" \
    --location "$DATA/azurite" "${dbg[@]}" --skipApiVersionCheck --disableProductStyleUrl
}

# PostgreSQL runs as the postgres user when we are root. It cannot reach a repo inside a private
# (mode 700) folder such as `mktemp -d` makes; its data, socket and log then live in a /tmp folder
# of their own, keyed by the repo path.
PG_HOME="$SVC"
if [[ $(id -u) -eq 0 ]] && ! runuser -u postgres -- test -x "$REPO" 2>/dev/null; then
  PG_HOME="/tmp/cdc-postgres-$(printf '%s' "$REPO" | md5sum | cut -c1-12)"
fi
PG_DATA="$PG_HOME/data/postgres"; PG_SOCK="$PG_HOME/run/pg-socket"; PG_LOG="$PG_HOME/logs/postgres.log"

start_postgres() {
  local bin pgdata="$PG_DATA" sock="$PG_SOCK"
  bin=$(pg_bindir); [[ -x "$bin/postgres" ]] || { log "postgres: no server binaries (run .ci/install.sh)"; return 1; }
  mkdir -p "$pgdata" "$sock" "$(dirname "$PG_LOG")"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$pgdata" "$sock"; chown postgres: "$PG_LOG" 2>/dev/null || true
    [[ "$PG_HOME" == "$SVC" ]] || chown -R postgres: "$PG_HOME"
  fi
  chmod 700 "$pgdata"
  if [[ ! -f "$pgdata/PG_VERSION" ]]; then
    as_pg "$bin/initdb" -D "$pgdata" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >>"$PG_LOG" 2>&1 \
      || as_pg "$bin/initdb" -D "$pgdata" -U postgres --auth=trust --encoding=UTF8 --no-locale >>"$PG_LOG" 2>&1
  fi
  touch "$PG_LOG"; [[ $(id -u) -eq 0 ]] && chown postgres: "$PG_LOG"
  as_pg "$bin/pg_ctl" -D "$pgdata" -l "$PG_LOG" -w -t 60 \
    -o "-p $POSTGRES_PORT -c listen_addresses=$HOST -k $sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null 9>&-
  head -n 1 "$pgdata/postmaster.pid" > "$(pidfile postgres)"
  as_pg "$bin/psql" -h "$HOST" -p "$POSTGRES_PORT" -U postgres -d postgres -tAc "select 1 from pg_database where datname='cdc'" | grep -q 1 \
    || as_pg "$bin/createdb" -h "$HOST" -p "$POSTGRES_PORT" -U postgres cdc
}

start_moto() {
  [[ -x "$VENV/bin/moto_server" ]] || { log "moto: $VENV/bin/moto_server missing (run .ci/install.sh)"; return 1; }
  launch moto env AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
    "$VENV/bin/moto_server" -H "$HOST" -p "$MOTO_PORT"
}

start_fakeGcs() {
  local bin="$SVC/bin/fake-gcs-server"
  [[ -x "$bin" ]] || { log "fakeGcs: $bin missing (run .ci/install.sh)"; return 1; }
  mkdir -p "$DATA/fake-gcs"
  launch fakeGcs "$bin" -scheme http -host "$HOST" -port "$FAKE_GCS_PORT" -backend filesystem \
    -filesystem-root "$DATA/fake-gcs" -public-host "$HOST:$FAKE_GCS_PORT" \
    -external-url "http://$HOST:$FAKE_GCS_PORT" -log-level warn
}

start_sparkThrift() {
  local sh jars d="$DATA/spark"
  [[ -x "$VENV/bin/python" ]] || { log "sparkThrift: $VENV missing (run .ci/install.sh)"; return 1; }
  sh=$(spark_home)
  [[ -f $(ls "$sh"/jars/spark-hive-thriftserver_*.jar 2>/dev/null | head -n 1) ]] || { log "sparkThrift: pyspark has no spark-hive-thriftserver jar"; return 1; }
  jars=$(ls "$SVC"/spark-jars/*.jar 2>/dev/null | paste -sd, -)
  [[ -n "$jars" ]] || { log "sparkThrift: no Delta jars in $SVC/spark-jars (run .ci/install.sh)"; return 1; }
  mkdir -p "$d/warehouse" "$d/tmp" "$d/derby"
  # one JVM, local[2]; embedded Derby metastore under .services; no network resolution at all
  ( cd "$d" && export SPARK_HOME="$sh" PYSPARK_PYTHON="$VENV/bin/python" SPARK_LOCAL_IP="$HOST" SPARK_LOG_DIR="$LOGS" \
    && launch sparkThrift "$sh/bin/spark-submit" \
      --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2 \
      --name cdc-spark-thrift --master 'local[2]' --driver-memory "$SPARK_DRIVER_MEMORY" \
      --jars "$jars" --driver-class-path "${jars//,/:}" \
      --driver-java-options "-Dderby.system.home=$d/derby -Djava.io.tmpdir=$d/tmp" \
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
      --conf "spark.sql.warehouse.dir=$d/warehouse" \
      --conf spark.ui.enabled=false \
      --conf spark.driver.bindAddress="$HOST" --conf spark.driver.host="$HOST" \
      --conf spark.sql.shuffle.partitions=2 \
      --conf spark.databricks.delta.snapshotPartitions=2 \
      --conf "spark.local.dir=$d/tmp" \
      --conf "spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName=$d/metastore_db;create=true" \
      --hiveconf hive.server2.transport.mode=http \
      --hiveconf hive.server2.thrift.http.port="$SPARK_THRIFT_PORT" \
      --hiveconf hive.server2.thrift.http.path=cliservice \
      --hiveconf hive.server2.thrift.bind.host="$HOST" \
      --hiveconf hive.server2.authentication=NONE \
      --hiveconf hive.server2.enable.doAs=false \
      spark-internal )
}

stop_postgres() {
  local bin; bin=$(pg_bindir)
  if [[ -f "$PG_DATA/postmaster.pid" ]]; then
    as_pg "$bin/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -f "$(pidfile postgres)"
}

stop_generic() {
  local name=$1 pid
  pid_alive "$name" || { rm -f "$(pidfile "$name")"; return 0; }
  pid=$(cat "$(pidfile "$name")")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$(pidfile "$name")"
}

is_up() { "ready_$1"; }

do_start() {
  local name=$1 t0 timeout port
  if is_up "$name"; then log "$name: already up on $HOST:$(svc_port "$name")"; return 0; fi
  port=$(svc_port "$name")
  if port_open "$port"; then
    log "$name: FAILED: port $HOST:$port is taken by something that is not a ready $name (set $(svc_port_var "$name")?)"; return 1
  fi
  t0=$(date +%s%N)
  : > "$LOGS/$name.log"
  if ! "start_$name"; then log "$name: FAILED to launch (see $LOGS/$name.log)"; return 1; fi
  timeout=$(svc_timeout "$name")
  while ! is_up "$name"; do
    if [[ "$name" != postgres ]] && ! pid_alive "$name"; then
      log "$name: FAILED: process exited; last log lines:"; tail -n 20 "$LOGS/$name.log" | sed 's/^/    /'; return 1
    fi
    if (( ($(date +%s%N) - t0) / 1000000000 > timeout )); then
      log "$name: FAILED: not ready after ${timeout}s; last log lines:"; tail -n 20 "$LOGS/$name.log" | sed 's/^/    /'
      stop_one "$name"; return 1
    fi
    sleep 0.3
  done
  log "$name: up on $HOST:$port in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

stop_one() { case $1 in postgres) stop_postgres ;; *) stop_generic "$1" ;; esac; }

json_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

entry() { # entry <svc>: the JSON object for one service
  local p; p=$(svc_port "$1")
  case $1 in
    azurite) cat <<EOF
{"host":"$HOST","port":$p,"url":"http://$HOST:$p/$AZURITE_ACCOUNT","accountName":"$AZURITE_ACCOUNT","accountKey":"$AZURITE_KEY",
   "connectionString":"DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY;BlobEndpoint=http://$HOST:$p/$AZURITE_ACCOUNT;"}
EOF
    ;;
    postgres) cat <<EOF
{"host":"$HOST","port":$p,"user":"postgres","password":"","database":"cdc","url":"postgres://postgres@$HOST:$p/cdc","socketDir":$(json_str "$PG_SOCK")}
EOF
    ;;
    moto) cat <<EOF
{"host":"$HOST","port":$p,"url":"http://$HOST:$p","region":"us-east-1","accessKeyId":"test","secretAccessKey":"test","forcePathStyle":true}
EOF
    ;;
    fakeGcs) cat <<EOF
{"host":"$HOST","port":$p,"url":"http://$HOST:$p","projectId":"test-project","storageApiBase":"http://$HOST:$p/storage/v1","uploadApiBase":"http://$HOST:$p/upload/storage/v1"}
EOF
    ;;
    sparkThrift) cat <<EOF
{"host":"$HOST","port":$p,"url":"http://$HOST:$p/cliservice","transportMode":"http","path":"cliservice","https":false,"user":"cdc","password":"cdc",
   "jdbcUrl":"jdbc:hive2://$HOST:$p/default;transportMode=http;httpPath=cliservice","warehouseDir":$(json_str "$DATA/spark/warehouse"),
   "beeline":$(json_str "$(spark_home)/bin/beeline"),"pid":$(cat "$(pidfile sparkThrift)" 2>/dev/null || echo null)}
EOF
    ;;
  esac
}

write_endpoints() {
  local s first=1 tmp="$ENDPOINTS.tmp.$$" sh
  sh=$(spark_home 2>/dev/null || echo "")
  {
    echo "{"
    echo "  \"generatedAt\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
    echo "  \"repo\": $(json_str "$REPO"),"
    echo "  \"services\": {"
    for s in "${ALL[@]}"; do
      is_up "$s" || continue
      ((first)) || echo ","
      first=0
      printf '    "%s": %s' "$s" "$(entry "$s")"
    done
    echo ""
    echo "  },"
    echo "  \"tools\": {"
    echo "    \"python\": $(json_str "$VENV/bin/python"),"
    echo "    \"pyairbytePython\": $(json_str "$SVC/venv-pyairbyte/bin/python"),"
    echo "    \"tapAirbyte\": $(json_str "$SVC/venv-tap-airbyte/bin/tap-airbyte"),"
    echo "    \"hadolint\": $(json_str "$VENV/bin/hadolint"),"
    echo "    \"sparkHome\": $(json_str "$sh"),"
    echo "    \"deltaJars\": [$(ls "$SVC"/spark-jars/*.jar 2>/dev/null | while read -r j; do json_str "$j"; echo -n ,; done | sed 's/,$//')]"
    echo "  }"
    echo "}"
  } > "$tmp"
  mv "$tmp" "$ENDPOINTS"
}

resolve_names() {
  local n ok
  if (($# == 0)); then echo "${ALL[@]}"; return; fi
  for n in "$@"; do
    ok=0; for s in "${ALL[@]}"; do [[ "$n" == "$s" ]] && ok=1; done
    ((ok)) || { echo "unknown service '$n' (known: ${ALL[*]})" >&2; exit 2; }
  done
  echo "$@"
}

cmd=${1:-status}; shift || true
# one start/stop at a time (several engineers/tests may call this concurrently)
if [[ "$cmd" == start || "$cmd" == stop ]]; then
  exec 9>"$RUN/.lock"
  flock -w 600 9 || { log "could not take $RUN/.lock within 600s"; exit 1; }
fi
read -r -a names <<< "$(resolve_names "$@")"
case $cmd in
  start)
    failed=()
    for n in "${names[@]}"; do do_start "$n" || failed+=("$n"); done
    write_endpoints
    log "endpoints written to $ENDPOINTS"
    if ((${#failed[@]})); then
      log "NOT STARTED: ${failed[*]} (absent from endpoints.json)"
      [[ "${SERVICES_ALLOW_PARTIAL:-0}" == 1 ]] || exit 1
    fi
    ;;
  stop)
    for n in "${names[@]}"; do stop_one "$n"; log "$n: stopped"; done
    write_endpoints
    ;;
  status)
    rc=0
    for n in "${names[@]}"; do
      if is_up "$n"; then log "$n: up on $HOST:$(svc_port "$n") (pid $(cat "$(pidfile "$n")" 2>/dev/null || echo '?'))"
      else log "$n: DOWN"; rc=1; fi
    done
    write_endpoints
    exit $rc
    ;;
  *) echo "usage: $0 start|stop|status [${ALL[*]}]" >&2; exit 2 ;;
esac
