"""Dump every Delta table under a folder with delta-rs (deltalake), independent of the destination.

Usage: python read_delta.py <root>
Output (stdout, one JSON object per line):
  {"table": <name>, "path": <dir>, "version": n, "files": n, "schema": [[col, arrow type], ...], "count": n}
  {"t": <name>, "r": {col: value, ...}}   one per row
Values: int64 -> decimal string; timestamp -> microseconds since epoch as a string ("us:<n>");
date -> days since epoch (int); decimal -> str(Decimal); binary -> base64; float NaN/Inf -> string.
"""
import base64
import json
import math
import os
import sys

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable


def tables(root):
    for dirpath, dirnames, _ in os.walk(root):
        if "_delta_log" in dirnames:
            yield dirpath
            dirnames[:] = []


def column_values(col, typ):
    if pa.types.is_timestamp(typ):
        # to microseconds regardless of stored unit
        unit = typ.unit
        ints = col.cast(pa.int64()).to_pylist()
        f = {"s": 1_000_000, "ms": 1000, "us": 1, "ns": None}[unit]
        return [None if v is None else ("us:%d" % (v * f if f else v // 1000)) for v in ints]
    if pa.types.is_date32(typ):
        return col.cast(pa.int32()).to_pylist()
    if pa.types.is_date64(typ):
        return [None if v is None else v // 86_400_000 for v in col.cast(pa.int64()).to_pylist()]
    if pa.types.is_integer(typ):
        return [None if v is None else str(v) for v in col.to_pylist()]
    if pa.types.is_decimal(typ):
        return [None if v is None else str(v) for v in col.to_pylist()]
    if pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
        return [None if v is None else base64.b64encode(v).decode() for v in col.to_pylist()]
    if pa.types.is_floating(typ):
        out = []
        for v in col.to_pylist():
            if v is None or math.isfinite(v):
                out.append(v)
            elif math.isnan(v):
                out.append("NaN")
            else:
                out.append("Infinity" if v > 0 else "-Infinity")
        return out
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_boolean(typ):
        return col.to_pylist()
    return [None if v is None else str(v) for v in col.to_pylist()]


def main():
    root = sys.argv[1]
    w = sys.stdout.write
    for path in sorted(tables(root)):
        dt = DeltaTable(path)
        t = dt.to_pyarrow_table()
        name = os.path.basename(path.rstrip("/"))
        w(json.dumps({"table": name, "path": path, "version": dt.version(), "files": len(dt.file_uris()),
                      "schema": [[f.name, str(f.type)] for f in t.schema], "count": t.num_rows}) + "\n")
        cols = [(f.name, column_values(t.column(f.name), f.type)) for f in t.schema]
        for i in range(t.num_rows):
            w(json.dumps({"t": name, "r": {n: vals[i] for n, vals in cols}}) + "\n")


if __name__ == "__main__":
    code = 0
    try:
        main()
    except Exception as e:  # noqa: BLE001
        sys.stderr.write("read_delta: %s: %s\n" % (type(e).__name__, e))
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
