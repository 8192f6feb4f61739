/**
 * The embedded writer's MERGE, read back by delta-rs, equals the applyImage oracle (MemoryBackend)
 * row for row, every column exact, across many batches, both delete modes, and replays.
 */
import { afterAll, describe, expect, it } from "vitest";
import { testTable } from "../../destination-databricks-delta/src/plan/testing.js";
import type { DeleteMode } from "../../destination-databricks-delta/src/plan/types.js";
import { tombstoneTableRef } from "../../destination-databricks-delta/src/plan/names.js";
import { deltaRsRead, sortRows } from "../peers/delta-rs.js";
import { MemoryBackend, canonRows, localBackend, mergeBatch, prep, randomFragments, splitBatches, tempDir } from "./helpers.js";

const dirs: (() => void)[] = [];
afterAll(() => {
  for (const d of dirs) d();
});

describe.each(["hard", "soft"] as DeleteMode[])("MERGE (%s deletes) read by delta-rs equals the oracle", (deleteMode) => {
  it.each([1, 2, 3])("random workload seed %i, small files, replayed prefix", async (seed) => {
    const { path, cleanup } = tempDir(`delta-merge-${deleteMode}-`);
    dirs.push(cleanup);
    const spec = testTable(deleteMode);
    const backend = localBackend(path, {
      target_file_rows: 16,
      checkpoint_interval: 5,
      compaction_min_small_files: 6,
      small_file_rows: 8,
    });
    const oracle = new MemoryBackend();
    const p = prep(spec, deleteMode);
    await backend.prepareStream(p);
    await oracle.prepareStream(p);
    const frags = randomFragments(seed, 400, 40);
    const batches = splitBatches(frags, seed, 60);
    let n = 0;
    for (const b of batches) {
      const batch = mergeBatch(spec, deleteMode, b, `b${n++}`);
      await backend.apply(batch);
      await oracle.apply(batch);
    }
    // Crash replay: the second half of the batches again (guard makes them no-ops).
    for (const b of batches.slice(Math.floor(batches.length / 2)))
      await backend.apply(mergeBatch(spec, deleteMode, b, `r${n++}`));
    await backend.finishStream(p);
    const got = await deltaRsRead(`${path}/shop/orders`);
    const want = canonRows(oracle.rowsOf(spec.ref), spec);
    expect(got.rows.length).toBe(want.length);
    expect(sortRows(got.rows, spec.keyColumns)).toEqual(sortRows(want, spec.keyColumns));
    if (deleteMode === "hard") {
      const tomb = await deltaRsRead(`${path}/shop/${tombstoneTableRef(spec.ref).name}`);
      const oracleTombs = oracle.table(spec.ref)!.tombstones;
      expect(tomb.rows.length).toBe(oracleTombs.size);
    }
  });
});
