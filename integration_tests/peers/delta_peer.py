#!/usr/bin/env python3
"""delta-rs peer for interop tests: read tables exactly, create/append/merge tables as an independent writer.

Values printed as JSON lines, exact: integers (long, int, date days, timestamp µs) and decimal unscaled
values as decimal strings, binary as base64, doubles as JSON numbers (NaN/Infinity as strings).

  delta_peer.py read <path> [--version N]        -> {"version":..,"schema":[[name,type,nullable],..]} then one row per line
  delta_peer.py write <path> <mode> <schema.json> < rows.jsonl   (mode: append|overwrite; rows in the same encoding)
  delta_peer.py merge <path> <keys,comma> < rows.jsonl            (upsert by key, rows in the same encoding)
  delta_peer.py checkpoint <path>                               (create a classic checkpoint)
"""
import base64
import decimal
import json
import math
import os
import sys

import pyarrow as pa

decimal.getcontext().prec = 120  # exact scaleb for DECIMAL(38, s)
from deltalake import DeltaTable, write_deltalake


def enc_col(arr: pa.ChunkedArray):
    t = arr.type
    if pa.types.is_timestamp(t):
        if t.unit != "us":
            arr = arr.cast(pa.timestamp("us", tz=t.tz))
        return [None if v is None else str(v) for v in arr.cast(pa.int64()).to_pylist()]
    if pa.types.is_date32(t):
        return [None if v is None else str(v) for v in arr.cast(pa.int32()).to_pylist()]
    if pa.types.is_decimal(t):
        return [None if v is None else str(int(v.scaleb(t.scale))) for v in arr.to_pylist()]
    if pa.types.is_integer(t):
        return [None if v is None else str(v) for v in arr.to_pylist()]
    if pa.types.is_floating(t):
        out = []
        for v in arr.to_pylist():
            if v is None or not (math.isnan(v) or math.isinf(v)):
                out.append(v)
            else:
                out.append("NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity"))
        return out
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return [None if v is None else base64.b64encode(v).decode() for v in arr.to_pylist()]
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return arr.to_pylist()
    return arr.to_pylist()


def type_name(t):
    if pa.types.is_timestamp(t):
        return "timestamp" if t.tz else "timestamp_ntz"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    return str(t)


def storage_options():
    # Azure (Azurite) credentials for az:// paths, from the environment.
    raw = os.environ.get("DELTA_PEER_STORAGE_OPTIONS")
    return json.loads(raw) if raw else None


def cmd_read(path, version=None):
    dt = DeltaTable(path, version=version, storage_options=storage_options())
    tbl = dt.to_pyarrow_table()
    schema = [[f.name, type_name(f.type), f.nullable] for f in tbl.schema]
    print(json.dumps({"version": dt.version(), "schema": schema, "numRows": tbl.num_rows}))
    cols = {f.name: enc_col(tbl.column(f.name)) for f in tbl.schema}
    names = list(cols.keys())
    for i in range(tbl.num_rows):
        print(json.dumps({n: cols[n][i] for n in names}))


def arrow_type(name):
    if name == "long":
        return pa.int64()
    if name == "integer":
        return pa.int32()
    if name == "double":
        return pa.float64()
    if name == "boolean":
        return pa.bool_()
    if name == "string":
        return pa.string()
    if name == "binary":
        return pa.binary()
    if name == "date":
        return pa.date32()
    if name == "timestamp":
        return pa.timestamp("us", tz="UTC")
    if name == "timestamp_ntz":
        return pa.timestamp("us")
    if name.startswith("decimal("):
        p, s = name[8:-1].split(",")
        return pa.decimal128(int(p), int(s))
    raise ValueError(name)


def dec_value(t, v):
    if v is None:
        return None
    if pa.types.is_timestamp(t) or pa.types.is_date32(t):
        return int(v)
    if pa.types.is_decimal(t):
        return decimal.Decimal(int(v)).scaleb(-t.scale)
    if pa.types.is_integer(t):
        return int(v)
    if pa.types.is_floating(t):
        return float(v)
    if pa.types.is_binary(t):
        return base64.b64decode(v)
    return v


def read_rows(schema):
    rows = [json.loads(line) for line in sys.stdin if line.strip()]
    arrays = []
    for name, tname, nullable in schema:
        t = arrow_type(tname)
        vals = [dec_value(t, r.get(name)) for r in rows]
        if pa.types.is_timestamp(t):
            arrays.append(pa.array(vals, pa.int64()).cast(t))
        elif pa.types.is_date32(t):
            arrays.append(pa.array(vals, pa.int32()).cast(t))
        else:
            arrays.append(pa.array(vals, t))
    fields = [pa.field(n, arrow_type(tn), nullable=nl) for n, tn, nl in schema]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def cmd_write(path, mode, schema_file):
    schema = json.load(open(schema_file))
    tbl = read_rows(schema)
    write_deltalake(path, tbl, mode=mode)
    print(json.dumps({"version": DeltaTable(path).version()}))


def cmd_merge(path, keys, schema_file):
    schema = json.load(open(schema_file))
    tbl = read_rows(schema)
    dt = DeltaTable(path)
    pred = " AND ".join(f"t.{k} = s.{k}" for k in keys.split(","))
    dt.merge(source=tbl, predicate=pred, source_alias="s", target_alias="t").when_matched_update_all().when_not_matched_insert_all().execute()
    print(json.dumps({"version": DeltaTable(path).version()}))


def cmd_checkpoint(path):
    dt = DeltaTable(path)
    dt.create_checkpoint()
    print(json.dumps({"version": dt.version()}))


def main():
    a = sys.argv[1:]
    if a[0] == "read":
        cmd_read(a[1], int(a[3]) if len(a) > 3 and a[2] == "--version" else None)
    elif a[0] == "write":
        cmd_write(a[1], a[2], a[3])
    elif a[0] == "merge":
        cmd_merge(a[1], a[2], a[3])
    elif a[0] == "checkpoint":
        cmd_checkpoint(a[1])
    else:
        sys.exit(f"unknown command {a[0]}")


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    sys.stderr.flush()
    # delta-rs/pyarrow threads can abort the interpreter at exit; skip interpreter teardown.
    os._exit(0)
