"""Drive the built connectors through PyAirbyte (the `airbyte` package), offline, no Docker.

Usage: python pyairbyte_run.py <job.json>
job = {"source_exe", "source_config", "cache_db", "out_dir",
       "dest_exe"?, "dest_config"?, "steps": ["check", "read", "write"]}
Writes to out_dir:
  read-<stream>.ndjson   every row PyAirbyte put in its DuckDB cache (write_strategy append)
  result.json            {"check": ..., "streams": {name: rows}, "write": {...}, "version": ...}
"""
import json
import os
import sys

os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")  # no registry, no telemetry
os.environ.setdefault("DO_NOT_TRACK", "1")

import airbyte as ab  # noqa: E402
from airbyte.caches import DuckDBCache  # noqa: E402


def jsonable(v):
    import base64
    import datetime
    import decimal

    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(v).decode()
    return str(v)


def main():
    job = json.load(open(sys.argv[1]))
    out = job["out_dir"]
    result = {"version": getattr(ab, "__version__", None)}
    src = ab.get_source(
        "source-cockroachdb-cdc",
        config=json.load(open(job["source_config"])),
        local_executable=job["source_exe"],
        install_if_missing=False,
    )
    steps = job.get("steps", ["check", "read"])
    if "check" in steps:
        src.check()  # raises on FAILED
        result["check"] = "SUCCEEDED"
    src.select_all_streams()
    result["discovered"] = src.get_available_streams()
    if "read" in steps:
        cache = DuckDBCache(db_path=job["cache_db"], schema_name="main")
        rr = src.read(cache=cache, write_strategy="append")
        result["streams"] = {}
        for name in rr.streams:
            # straight from DuckDB: what PyAirbyte stored, every column, exact types
            table = cache.processor.normalizer.normalize(name)
            with cache.processor.get_sql_connection() as conn:
                cur = conn.exec_driver_sql(f'SELECT * FROM main."{table}"')
                cols = list(cur.keys())
                n = 0
                with open(os.path.join(out, f"read-{name}.ndjson"), "w") as f:
                    for row in cur:
                        f.write(json.dumps(dict(zip(cols, row)), default=jsonable) + "\n")
                        n += 1
            result["streams"][name] = n
    if "write" in steps:
        dst = ab.get_destination(
            "destination-databricks-delta",
            config=json.load(open(job["dest_config"])),
            local_executable=job["dest_exe"],
            install_if_missing=False,
        )
        dst.check()
        wr = dst.write(src, cache=False, state_cache=False)
        result["write"] = {"ok": True, "summary": str(wr)[:500]}
    json.dump(result, open(os.path.join(out, "result.json"), "w"), default=jsonable)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)
