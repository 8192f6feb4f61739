"""Independent Parquet inspection for the emulator tests (DuckDB + pyarrow, from PyPI).

Usage: python3 inspect_parquet.py FILE... ; prints one JSON object per file:
  {"file", "schema": [parquet_schema rows], "rows": [{col: text}], "pyarrow": {...}}
Values are rendered as text so JavaScript can compare them exactly: integers as decimal digits,
floats as repr / NaN / Infinity / -Infinity, booleans true/false, BLOBs as hex, UUIDs as text,
TIME as microseconds since midnight, lists as JSON arrays. DECIMAL columns are not read as values
(their bytes are ASCII text under a DECIMAL annotation: readers decode garbage or fail); the
JavaScript test checks those bytes directly.
"""
import datetime
import json
import math
import sys
import uuid

import duckdb
import pyarrow.parquet as pq


def render(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return repr(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, datetime.time):
        return str(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond)
    if isinstance(v, list):
        return [render(x) for x in v]
    return str(v)


def main():
    con = duckdb.connect()
    for f in sys.argv[1:]:
        cols = con.execute(
            "select name, type, type_length, repetition_type, num_children, converted_type, scale, precision, logical_type "
            "from parquet_schema(?)", [f]).fetchall()
        schema = [dict(zip(["name", "type", "type_length", "repetition_type", "num_children", "converted_type", "scale", "precision", "logical_type"], c)) for c in cols]
        readable = [c["name"] for c in schema[1:] if c["converted_type"] != "DECIMAL" and c["name"] not in ("list", "element")]
        sel = ", ".join('"' + n.replace('"', '""') + '"' for n in readable)
        rows = con.execute(f"select {sel} from read_parquet(?)", [f]).fetchall() if readable else []
        out = {"file": f, "schema": schema, "rows": [{n: render(v) for n, v in zip(readable, r)} for r in rows]}
        meta = pq.ParquetFile(f).metadata if not any(c["precision"] == 2147483647 for c in schema) else None
        if meta is not None:
            # Second reader: pyarrow's view of the physical schema and the codecs used.
            out["pyarrow"] = {
                "num_rows": meta.num_rows,
                "codecs": sorted({meta.row_group(g).column(c).compression for g in range(meta.num_row_groups) for c in range(meta.num_columns)}),
                "arrow_types": {fld.name: str(fld.type) for fld in pq.read_schema(f)},
            }
        print(json.dumps(out))


main()
