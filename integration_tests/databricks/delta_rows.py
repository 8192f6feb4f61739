"""Read a Delta table with delta-rs; print {"rows": [...], "version": n} with every value as text:
integers and decimals as str, timestamps as integer microseconds since the epoch, bytes as hex.

Usage: python delta_rows.py <table-path>
Ends with os._exit (pyarrow/delta-rs threads can abort the interpreter at exit).
"""
import datetime
import decimal
import json
import os
import sys

from deltalake import DeltaTable

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def text(v):
    if v is None:
        return None
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return str((v - EPOCH) // datetime.timedelta(microseconds=1))
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, decimal.Decimal):
        return str(v)
    return str(v)


def main():
    t = DeltaTable(sys.argv[1])
    rows = [{k: text(v) for k, v in r.items()} for r in t.to_pyarrow_table().to_pylist()]
    sys.stdout.write(json.dumps({"version": t.version(), "rows": rows}) + "\n")
    return 0


if __name__ == "__main__":
    try:
        code = main()
    except Exception as e:  # noqa: BLE001
        sys.stderr.write(f"delta_rows: {type(e).__name__}: {e}\n")
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
