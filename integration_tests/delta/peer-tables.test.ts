/**
 * Interop both ways with delta-rs: tables created (and checkpointed, and merged into) by delta-rs are
 * read and merged into by the embedded writer; the result, read by delta-rs, equals the oracle.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalStore } from "../../destination-databricks-delta/src/delta/store/local.js";
import { DeltaTable } from "../../destination-databricks-delta/src/delta/table/delta-table.js";
import { deltaTypeName } from "../../destination-databricks-delta/src/plan/type-map.js";
import { keyString } from "../../destination-databricks-delta/src/plan/apply-image.js";
import { testTable } from "../../destination-databricks-delta/src/plan/testing.js";
import { tombstoneSpec, tombstoneToRow } from "../../destination-databricks-delta/src/delta/table/layout.js";
import type { DeleteMode, TableSpec } from "../../destination-databricks-delta/src/plan/types.js";
import { deltaRsCheckpoint, deltaRsMerge, deltaRsRead, deltaRsWrite, sortRows } from "../peers/delta-rs.js";
import { MemoryBackend, canonRows, localBackend, mergeBatch, prep, randomFragments, splitBatches, tempDir } from "./helpers.js";

const dirs: (() => void)[] = [];
afterAll(() => {
  for (const d of dirs) d();
});

function schemaFile(dir: string, spec: TableSpec, name: string): string {
  const f = join(dir, `${name}.schema.json`);
  writeFileSync(
    f,
    JSON.stringify(spec.columns.map((c) => [c.name, deltaTypeName(c.type), c.keyIndex !== null ? false : c.nullable])),
  );
  return f;
}

describe.each(["hard", "soft"] as DeleteMode[])("tables created by delta-rs (%s deletes)", (deleteMode) => {
  it("are read through delta-rs checkpoints, merged into, and read back equal to the oracle", async () => {
    const { path, cleanup } = tempDir("delta-peer-");
    dirs.push(cleanup);
    const spec = testTable(deleteMode);
    const oracle = new MemoryBackend();
    const p = prep(spec, deleteMode);
    await oracle.prepareStream(p);
    const batches = splitBatches(randomFragments(7, 300, 30), 7, 50);
    const half = Math.floor(batches.length / 2);
    for (const [i, b] of batches.slice(0, half).entries()) await oracle.apply(mergeBatch(spec, deleteMode, b, `o${i}`));
    // delta-rs writes the oracle's state (two commits) and checkpoints it.
    const main = join(path, "shop", "orders");
    const rows = canonRows(oracle.rowsOf(spec.ref), spec);
    const sf = schemaFile(path, spec, "main");
    await deltaRsWrite(main, "append", sf, rows.slice(0, 10));
    await deltaRsWrite(main, "append", sf, rows.slice(10));
    await deltaRsCheckpoint(main);
    if (deleteMode === "hard") {
      const tspec = tombstoneSpec(spec);
      const trows = [...oracle.table(spec.ref)!.tombstones.entries()].map(([, t]) => t);
      const keyed = [...oracle.table(spec.ref)!.tombstones.keys()];
      expect(keyed.length).toBeGreaterThan(0);
      // tombstone rows need their keys: recover them from the fragments
      const keys = new Map<string, [string, bigint]>();
      for (const b of batches) for (const f of b) keys.set(keyString(f.key), f.key as [string, bigint]);
      const tRows = keyed.map((k, i) => tombstoneToRow(spec.keyColumns, keys.get(k)!, trows[i]!));
      await deltaRsWrite(
        join(path, "shop", "orders__cdc_tombstones"),
        "append",
        schemaFile(path, tspec, "tomb"),
        canonRows(tRows, tspec),
      );
    }
    const snap = await new DeltaTable(new LocalStore(main), "orders").snapshot();
    expect(snap?.checkpointVersion).toBe(1);
    expect(snap?.files.size).toBeGreaterThanOrEqual(2);

    const backend = localBackend(path, { target_file_rows: 8 });
    await backend.prepareStream(p);
    for (const [i, b] of batches.slice(half).entries()) {
      const batch = mergeBatch(spec, deleteMode, b, `n${i}`);
      await backend.apply(batch);
      await oracle.apply(batch);
    }
    // delta-rs merges into the table the embedded writer wrote; then the writer goes on.
    const live = canonRows(oracle.rowsOf(spec.ref), spec)
      .slice(0, 3)
      .map((r) => ({ ...r, b1: `peer-${r.id}` }));
    await deltaRsMerge(main, spec.keyColumns, sf, live);
    for (const r of oracle.rowsOf(spec.ref).slice(0, 3)) r.b1 = `peer-${r.id}`;
    const extra = randomFragments(8, 60, 30).map((f) => ({
      ...f,
      hlc: { wall: f.hlc.wall + 10_000_000n, logical: f.hlc.logical },
    }));
    await backend.apply(mergeBatch(spec, deleteMode, extra, "after-peer"));
    await oracle.apply(mergeBatch(spec, deleteMode, extra, "after-peer"));

    const got = await deltaRsRead(main);
    expect(sortRows(got.rows, spec.keyColumns)).toEqual(sortRows(canonRows(oracle.rowsOf(spec.ref), spec), spec.keyColumns));
  });
});
