#!/usr/bin/env bash
# Smoke check of every test peer listed in .services/endpoints.json (run after .ci/services.sh start).
#   bash integration_tests/services/smoke.sh [azurite postgres moto fakeGcs sparkThrift tools]
# Exit 0 when every requested check passed; prints one line per check.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
EP="$REPO/.services/endpoints.json"
PY="$REPO/.ci/.venv/bin/python"
HERE="$REPO/integration_tests/services"
[[ -f "$EP" ]] || { echo "no $EP: run .ci/services.sh start"; exit 1; }

jq_() { node -e "const e=require(process.argv[1]); const v=process.argv[2].split('.').reduce((o,k)=>o==null?o:o[k], e); if (v==null) process.exit(3); console.log(v)" "$EP" "$1"; }
listed() { jq_ "services.$1.port" >/dev/null 2>&1; }

smoke_azurite() { node "$HERE/smoke-azurite.mjs" "$(jq_ services.azurite.connectionString)"; }

smoke_postgres() {
  local out
  out=$(psql -h "$(jq_ services.postgres.host)" -p "$(jq_ services.postgres.port)" -U postgres -d cdc -tAc 'select 1') && [[ "$out" == 1 ]] \
    && echo "postgres ok: select 1 on database cdc"
}

smoke_moto() {
  "$PY" - "$(jq_ services.moto.url)" <<'EOF'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
s3.create_bucket(Bucket="smoke")
s3.put_object(Bucket="smoke", Key="a/b.ndjson", Body=b"hello")
assert s3.get_object(Bucket="smoke", Key="a/b.ndjson")["Body"].read() == b"hello"
print("moto ok: create_bucket/put_object/get_object with boto3", boto3.__version__)
EOF
}

smoke_fakeGcs() {
  local u b out
  u=$(jq_ services.fakeGcs.url); b="smoke-$RANDOM"
  curl -sf -X POST -H 'Content-Type: application/json' -d "{\"name\":\"$b\"}" "$u/storage/v1/b?project=test-project" >/dev/null \
    && curl -sf -X POST --data-binary 'hello' -H 'Content-Type: text/plain' "$u/upload/storage/v1/b/$b/o?uploadType=media&name=x/y.txt" >/dev/null \
    && out=$(curl -sf "$u/storage/v1/b/$b/o/x%2Fy.txt?alt=media") && [[ "$out" == hello ]] \
    && echo "fakeGcs ok: bucket create, media upload, download (JSON API over http)"
}

smoke_sparkThrift() {
  local sh jdbc wh t out
  sh=$(jq_ tools.sparkHome); jdbc=$(jq_ services.sparkThrift.jdbcUrl); wh=$(jq_ services.sparkThrift.warehouseDir)
  t="smoke_$RANDOM"
  out=$(SPARK_HOME="$sh" "$sh/bin/beeline" -u "$jdbc" -n cdc -p cdc --silent=true --outputformat=csv2 -e "
    CREATE TABLE $t (id BIGINT, name STRING) USING DELTA;
    INSERT INTO $t VALUES (1, 'a'), (2, 'b');
    MERGE INTO $t t USING (SELECT 2L AS id, 'B' AS name UNION ALL SELECT 3L, 'c') s ON t.id = s.id
      WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *;
    SELECT concat_ws(':', collect_list(concat(id, '=', name))) AS r FROM (SELECT * FROM $t ORDER BY id);" 2>&1)
  grep -q '^1=a:2=B:3=c$' <<<"$out" || { echo "sparkThrift FAILED:"; echo "$out" | grep -v '^WARNING' | head -n 20; return 1; }
  echo "sparkThrift ok: CREATE TABLE USING DELTA, INSERT, MERGE, SELECT via beeline (HTTP transport)"
  out=$("$PY" "$HERE/delta_read.py" "$wh/$t") || { echo "deltalake FAILED: $out"; return 1; }
  node -e 'const o=JSON.parse(process.argv[1]); const r=o.rows.sort((a,b)=>a.id-b.id).map(x=>x.id+"="+x.name).join(":");
    if (r!=="1=a:2=B:3=c") { console.log("deltalake FAILED: "+r); process.exit(1) }
    console.log("deltalake ok: delta-rs read the Spark table at version "+o.version+": "+r)' "$out" || return 1
  SPARK_HOME="$sh" "$sh/bin/beeline" -u "$jdbc" -n cdc -p cdc --silent=true -e "DROP TABLE $t" >/dev/null 2>&1 || true
}

smoke_tools() {
  local ok=0
  "$REPO/.services/venv-pyairbyte/bin/python" -c 'import airbyte, importlib.metadata as m; print("pyairbyte ok:", m.version("airbyte"))' || ok=1
  if [[ -x "$REPO/.services/venv-tap-airbyte/bin/tap-airbyte" ]]; then
    "$REPO/.services/venv-tap-airbyte/bin/tap-airbyte" --about --format=json >/dev/null && echo "tap-airbyte ok: --about" || ok=1
  else echo "tap-airbyte: not installed"; ok=1; fi
  echo "hadolint ok: $("$REPO/.ci/.venv/bin/hadolint" --version)" || ok=1
  "$PY" -c 'import duckdb, pyarrow, deltalake, pyspark, delta; print("python ok: duckdb", duckdb.__version__, "pyarrow", pyarrow.__version__, "deltalake", deltalake.__version__, "pyspark", pyspark.__version__)' || ok=1
  command -v zstd >/dev/null && echo "zstd ok: $(zstd --version)" || ok=1
  return $ok
}

checks=("$@"); ((${#checks[@]})) || checks=(azurite postgres moto fakeGcs sparkThrift tools)
pass=0; fail=0
for c in "${checks[@]}"; do
  if [[ "$c" != tools ]] && ! listed "$c"; then echo "$c FAILED: not listed in $EP (not started)"; fail=$((fail+1)); continue; fi
  if "smoke_$c"; then pass=$((pass+1)); else echo "$c FAILED"; fail=$((fail+1)); fi
done
echo "smoke: $pass passed, $fail failed"
((fail == 0))
