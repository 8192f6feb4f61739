/**
 * Every column type, history (append) idempotence and overwrite's atomic swap, written by the
 * embedded backend and read back by delta-rs.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { metadataColumns } from "../../destination-databricks-delta/src/plan/columns.js";
import { fragment, hlc, testTable } from "../../destination-databricks-delta/src/plan/testing.js";
import type { Cell, ColumnDef, HistoryRow, StoredRow, TableSpec } from "../../destination-databricks-delta/src/plan/types.js";
import { deltaRsRead, sortRows } from "../peers/delta-rs.js";
import { MemoryBackend, canonRows, localBackend, mergeBatch, prep, randomFragments, tempDir } from "./helpers.js";

const dirs: (() => void)[] = [];
afterAll(() => {
  for (const d of dirs) d();
});

const col = (name: string, type: ColumnDef["type"], keyIndex: number | null = null): ColumnDef => ({
  name,
  sourceName: name,
  type,
  nullable: keyIndex === null,
  family: null,
  keyIndex,
  metadata: name.includes(" ") ? { "cdc.original_name": name } : {},
});

describe("types", () => {
  it("every Delta type survives exactly (delta-rs read); timestamp_ntz upgrades the protocol to 3/7", async () => {
    const { path, cleanup } = tempDir("delta-types-");
    dirs.push(cleanup);
    const spec: TableSpec = {
      ref: { namespace: null, name: "types" },
      keyColumns: ["k"],
      columns: [
        col("k", { kind: "long" }, 0),
        col("i", { kind: "integer" }),
        col("d38", { kind: "decimal", precision: 38, scale: 10 }),
        col("d10", { kind: "decimal", precision: 10, scale: 2 }),
        col("ts", { kind: "timestamp" }),
        col("ntz", { kind: "timestamp_ntz" }),
        col("dt", { kind: "date" }),
        col("bin", { kind: "binary" }),
        col("Mixed Case ü", { kind: "string" }),
        col("f", { kind: "double" }),
        col("bo", { kind: "boolean" }),
        ...metadataColumns({ softDelete: false, history: false }),
      ],
    };
    const values: Record<string, Cell>[] = [
      {
        i: 2147483647,
        d38: 10n ** 38n - 1n,
        d10: -12345n,
        ts: 1741944413589793n,
        ntz: -62135596800000000n,
        dt: -719162,
        bin: new Uint8Array([0, 1, 255]),
        "Mixed Case ü": "😀 x",
        f: 1.5e300,
        bo: true,
      },
      {
        i: -1,
        d38: -(10n ** 38n - 1n),
        d10: 0n,
        ts: -1n,
        ntz: 253402300799999999n,
        dt: 2932896,
        bin: new Uint8Array(),
        "Mixed Case ü": "",
        f: Number.NaN,
        bo: false,
      },
      { i: null, d38: null, d10: null, ts: null, ntz: null, dt: null, bin: null, "Mixed Case ü": null, f: null, bo: null },
    ];
    const keys = [9223372036854775807n, -9223372036854775808n, 9007199254740993n];
    const frags = values.map((v, n) => {
      const f = fragment(["x", 0n], "upsert", hlc(1_700_000_000_000_000_000n + BigInt(n)), null, {});
      f.key = [keys[n]!];
      f.values = new Map<string, Cell>([["k", keys[n]!], ...Object.entries(v)]);
      return f;
    });
    const backend = localBackend(path);
    const oracle = new MemoryBackend();
    await backend.prepareStream(prep(spec, "hard"));
    await oracle.prepareStream(prep(spec, "hard"));
    await backend.apply(mergeBatch(spec, "hard", frags, "t1"));
    await oracle.apply(mergeBatch(spec, "hard", frags, "t1"));
    const got = await deltaRsRead(join(path, "default", "types"));
    expect(got.schema.find((s) => s[0] === "ntz")?.[1]).toBe("timestamp_ntz");
    expect(got.schema.find((s) => s[0] === "d38")?.[1]).toBe("decimal(38,10)");
    expect(sortRows(got.rows, ["k"])).toEqual(sortRows(canonRows(oracle.rowsOf(spec.ref), spec), ["k"]));
  });
});

describe("history (append)", () => {
  it("is idempotent under replay when asked, and keeps every fragment", async () => {
    const { path, cleanup } = tempDir("delta-history-");
    dirs.push(cleanup);
    const base = testTable("hard");
    const spec: TableSpec = {
      ...base,
      ref: { namespace: "shop", name: "orders_history" },
      columns: [...base.columns.filter((c) => !c.name.startsWith("_")), ...metadataColumns({ softDelete: false, history: true })],
    };
    const frags = randomFragments(3, 200, 20);
    const toRow = (f: (typeof frags)[number]): HistoryRow => {
      const v: StoredRow = Object.fromEntries(f.values);
      v._cdc_op = f.op;
      v._cdc_family = f.family;
      v._cdc_updated = `${f.hlc.wall}.${String(f.hlc.logical).padStart(10, "0")}`;
      v._cdc_updated_wall = f.hlc.wall;
      v._cdc_updated_logical = f.hlc.logical;
      v._airbyte_raw_id = f.rawId;
      v._airbyte_extracted_at = f.extractedAtMicros;
      v._airbyte_meta = f.airbyteMeta;
      v._airbyte_generation_id = 0n;
      return { values: v };
    };
    const rows = frags.map(toRow);
    const backend = localBackend(path, { target_file_rows: 40 });
    const oracle = new MemoryBackend();
    const p = prep(spec, "hard", { mode: "append" });
    await backend.prepareStream(p);
    await oracle.prepareStream(p);
    const batches = [rows.slice(0, 80), rows.slice(80, 150), rows.slice(60, 200), rows.slice(0, 200)];
    for (const [i, b] of batches.entries()) {
      const batch = { kind: "history" as const, table: spec, rows: b, idempotent: true, batchId: `h${i}` };
      await backend.apply(batch);
      await oracle.apply(batch);
    }
    const got = await deltaRsRead(join(path, "shop", "orders_history"));
    expect(got.rows.length).toBe(200);
    const order = ["_cdc_updated_wall", "_cdc_updated_logical", "region", "id", "_cdc_family"];
    expect(sortRows(got.rows, order)).toEqual(sortRows(canonRows(oracle.rowsOf(spec.ref), spec), order));
  });
});

describe("overwrite", () => {
  it("builds a temp table and swaps it in with one commit at finishStream", async () => {
    const { path, cleanup } = tempDir("delta-overwrite-");
    dirs.push(cleanup);
    const spec = testTable("hard");
    const backend = localBackend(path);
    await backend.prepareStream(prep(spec, "hard"));
    await backend.apply(mergeBatch(spec, "hard", randomFragments(1, 100, 50), "old"));
    const before = await deltaRsRead(join(path, "shop", "orders"));
    const p = prep(spec, "hard", { mode: "overwrite", generationId: 1n, truncate: true, target: "overwrite_temp" });
    const oracle = new MemoryBackend();
    await backend.prepareStream(p);
    await oracle.prepareStream(p);
    const frags = randomFragments(2, 60, 10).map((f) => ({ ...f, generationId: 1n }));
    await backend.apply(mergeBatch(spec, "hard", frags, "new", "overwrite_temp"));
    await oracle.apply(mergeBatch(spec, "hard", frags, "new", "overwrite_temp"));
    expect((await deltaRsRead(join(path, "shop", "orders"))).rows).toEqual(before.rows);
    await backend.finishStream(p);
    await oracle.finishStream(p);
    const after = await deltaRsRead(join(path, "shop", "orders"));
    expect(after.version).toBe(before.version + 1);
    expect(sortRows(after.rows, spec.keyColumns)).toEqual(sortRows(canonRows(oracle.rowsOf(spec.ref), spec), spec.keyColumns));
    expect(existsSync(join(path, "shop", "orders__tmp_g1"))).toBe(false);
    // The old version is still readable (time travel): nothing was overwritten in place.
    expect((await deltaRsRead(join(path, "shop", "orders"), before.version)).rows).toEqual(before.rows);
  });
});

describe("schema evolution", () => {
  it("adds columns before data, keeps dropped ones, re-types a STRING placeholder once (delta-rs read)", async () => {
    const { path, cleanup } = tempDir("delta-evolve-");
    dirs.push(cleanup);
    const base = testTable("hard");
    const backend = localBackend(path);
    await backend.prepareStream(prep(base, "hard"));
    await backend.apply(mergeBatch(base, "hard", randomFragments(4, 30, 5), "s1"));
    // mid-sync: records bring `extra`: a nullable STRING placeholder is appended
    const placeholder: ColumnDef = { ...col("extra", { kind: "string" }), metadata: { "cdc.placeholder": "true" } };
    const withPh: TableSpec = { ...base, columns: [...base.columns, placeholder] };
    await backend.prepareStream(prep(withPh, "hard"));
    const at = 1_800_000_000_000_000_000n;
    const frags = [
      fragment(["eu", 900n], "upsert", hlc(at), "fa", { a1: "x", a2: 1n, extra: "42" }),
      fragment(["eu", 901n], "upsert", hlc(at + 1n), "fa", { a1: "y", a2: 2n, extra: "not a number" }),
    ];
    await backend.apply(mergeBatch(withPh, "hard", frags, "s2"));
    // next sync: the catalog now types `extra` as BIGINT, and drops column b1 from the catalog
    const typed: TableSpec = {
      ...base,
      columns: [...base.columns.filter((c) => c.name !== "b1"), col("extra", { kind: "long" })],
    };
    await backend.prepareStream(prep(typed, "hard"));
    const got = await deltaRsRead(join(path, "shop", "orders"));
    expect(got.schema.find((s) => s[0] === "extra")?.[1]).toBe("int64");
    expect(got.schema.some((s) => s[0] === "b1")).toBe(true);
    const byId = new Map(got.rows.map((r) => [r.id, r]));
    expect(byId.get("900")?.extra).toBe("42");
    expect(byId.get("901")?.extra).toBe(null);
    expect(got.rows.length).toBeGreaterThan(2);
  });
});

describe("tombstone retention", () => {
  it("prunes tombstones older than the retention at stream start, keeps recent ones", async () => {
    const { path, cleanup } = tempDir("delta-prune-");
    dirs.push(cleanup);
    const spec = testTable("hard");
    const backend = localBackend(path);
    await backend.prepareStream(prep(spec, "hard"));
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const day = 86_400_000_000_000n;
    await backend.apply(
      mergeBatch(
        spec,
        "hard",
        [fragment(["eu", 1n], "delete", hlc(nowNs - 30n * day), "fa"), fragment(["eu", 2n], "delete", hlc(nowNs - day), "fa")],
        "d",
      ),
    );
    const tombs = join(path, "shop", "orders__cdc_tombstones");
    expect((await deltaRsRead(tombs)).rows.map((r) => r.id).sort()).toEqual(["1", "2"]);
    await backend.prepareStream(prep(spec, "hard", { tombstoneRetentionDays: 7 }));
    expect((await deltaRsRead(tombs)).rows.map((r) => r.id)).toEqual(["2"]);
  });
});
