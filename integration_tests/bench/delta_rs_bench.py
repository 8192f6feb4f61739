#!/usr/bin/env python3
"""delta-rs side of `npm run bench:destination` (timings only, no assertions).

  delta_rs_bench.py merge <table> <keys,comma> <src.parquet>...   -> {"seconds": s, "rows": n, "merges": k}
Each source file is one batch, merged with when_matched_update_all / when_not_matched_insert_all.
"""
import json
import os
import sys
import time

import pyarrow.parquet as pq
from deltalake import DeltaTable


def main():
    cmd, table, keys, *files = sys.argv[1:]
    assert cmd == "merge"
    pred = " AND ".join(f"t.{k} = s.{k}" for k in keys.split(","))
    total = 0.0
    rows = 0
    for f in files:
        src = pq.read_table(f)
        t0 = time.perf_counter()
        dt = DeltaTable(table)
        dt.merge(source=src, predicate=pred, source_alias="s", target_alias="t").when_matched_update_all().when_not_matched_insert_all().execute()
        total += time.perf_counter() - t0
        rows += src.num_rows
    print(json.dumps({"seconds": total, "rows": rows, "merges": len(files)}))


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)
