"""Read a Delta table with delta-rs and print it as one JSON object on stdout.

Usage: .ci/.venv/bin/python integration_tests/services/delta_read.py <table-path> [version]
Output: {"version": n, "schema": [[name, arrow type], ...], "rows": [{...}, ...], "files": n}
Non-JSON values (Decimal, datetime, bytes) are rendered with str(); bytes as hex.
Ends with os._exit: pyarrow/delta-rs threads can abort the interpreter at exit
("terminate called without an active exception", seen with deltalake 1.6.6 + pyarrow 24-26).
"""
import json
import os
import sys

from deltalake import DeltaTable


def _default(v):
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    return str(v)


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    version = int(sys.argv[2]) if len(sys.argv) > 2 else None
    t = DeltaTable(sys.argv[1], version=version)
    tbl = t.to_pyarrow_table()
    out = {
        "version": t.version(),
        "schema": [[f.name, str(f.type)] for f in tbl.schema],
        "rows": tbl.to_pylist(),
        "files": len(t.file_uris()),
    }
    sys.stdout.write(json.dumps(out, default=_default) + "\n")
    return 0


if __name__ == "__main__":
    try:
        code = main()
    except Exception as e:  # noqa: BLE001 - report any failure as one line
        sys.stderr.write(f"delta_read: {type(e).__name__}: {e}\n")
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
