/**
 * MERGE streams a file row group by row group (memory bounded by a row group, not by the file): a
 * file of several row groups, updated, deleted and inserted into across its groups, read back by
 * delta-rs, equals the applyImage oracle; a replay is a no-op.
 */
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { openParquet } from "../../destination-databricks-delta/src/delta/parquet/read.js";
import { DATA_ROW_GROUP_ROWS } from "../../destination-databricks-delta/src/delta/parquet/write.js";
import { tombstoneTableRef } from "../../destination-databricks-delta/src/plan/names.js";
import { fragment, hlc, testTable } from "../../destination-databricks-delta/src/plan/testing.js";
import type { Fragment } from "../../destination-databricks-delta/src/plan/fold.js";
import { deltaRsRead, sortRows } from "../peers/delta-rs.js";
import { MemoryBackend, canonRows, localBackend, mergeBatch, prep, randomFragments, tempDir } from "./helpers.js";

const dirs: (() => void)[] = [];
afterAll(() => {
  for (const d of dirs) d();
});

describe("MERGE into a file of several row groups", () => {
  it("rewrites it group by group, equal to the oracle (delta-rs read), replay a no-op", async () => {
    const { path, cleanup } = tempDir("delta-rowgroups-");
    dirs.push(cleanup);
    const spec = testTable("hard");
    const backend = localBackend(path);
    const oracle = new MemoryBackend();
    const p = prep(spec, "hard");
    await backend.prepareStream(p);
    await oracle.prepareStream(p);
    const rows = DATA_ROW_GROUP_ROWS * 2 + 1000;
    const first: Fragment[] = [];
    for (let i = 1; i <= rows; i++)
      first.push(
        fragment(["eu", BigInt(i)], "upsert", hlc(1_741_944_400_000_000_000n + BigInt(i)), "fa", {
          a1: `c${i}`,
          a2: BigInt(i),
        }),
      );
    const b0 = mergeBatch(spec, "hard", first, "b0");
    await backend.apply(b0);
    await oracle.apply(b0);
    const dataFiles = readdirSync(`${path}/shop/orders`).filter((f) => f.endsWith(".parquet"));
    expect(dataFiles.length).toBe(1);
    expect(openParquet(readFileSync(`${path}/shop/orders/${dataFiles[0]}`)).rowGroups.length).toBe(3);
    // updates, family-scoped upserts and deletes spread over all groups, plus inserts (keys > rows, "us")
    const second = randomFragments(7, 6000, rows + 2000);
    const b1 = mergeBatch(spec, "hard", second, "b1");
    await backend.apply(b1);
    await oracle.apply(b1);
    await backend.apply(mergeBatch(spec, "hard", second, "r1"));
    await backend.finishStream(p);
    const got = await deltaRsRead(`${path}/shop/orders`);
    const want = canonRows(oracle.rowsOf(spec.ref), spec);
    expect(got.rows.length).toBe(want.length);
    expect(sortRows(got.rows, spec.keyColumns)).toEqual(sortRows(want, spec.keyColumns));
    const tomb = await deltaRsRead(`${path}/shop/${tombstoneTableRef(spec.ref).name}`);
    expect(tomb.rows.length).toBe(oracle.table(spec.ref)!.tombstones.size);
  }, 120_000);
});
