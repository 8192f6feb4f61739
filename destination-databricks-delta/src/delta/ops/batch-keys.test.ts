import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyImage, keyString } from "../../plan/apply-image.js";
import { foldFragments } from "../../plan/fold.js";
import { fragment, hlc, observable, testTable } from "../../plan/testing.js";
import type { Cell, Image, StoredRow } from "../../plan/types.js";
import { DATA_ROW_GROUP_ROWS } from "../parquet/write.js";
import { LocalStore } from "../store/local.js";
import { DeltaTable } from "../table/delta-table.js";
import { fieldsOf, statsColumnsOf } from "../table/layout.js";
import { BatchKeys } from "./batch-keys.js";
import { mergeBatch } from "./merge.js";

const spec = testTable("hard");
const T0 = 1_741_944_400_000_000_000n;

function image(id: bigint | number, wall: bigint, values: Record<string, Cell> = {}, op: "upsert" | "delete" = "upsert"): Image {
  const f = fragment(["eu", id as bigint], op, hlc(wall), "fa", values);
  return foldFragments([f], spec.keyColumns)[0]!;
}

describe("BatchKeys", () => {
  it("orders keys, keeps several images of one key in input order, and tells 5 from 5n", () => {
    const a = image(7n, T0 + 2n, { a1: "second" });
    const b = image(3n, T0);
    const c = image(7n, T0 + 1n, { a1: "first" });
    const d = image(5, T0);
    const e = image(5n, T0);
    const batch = new BatchKeys([a, b, c, d, e]);
    expect(batch.keys).toEqual([
      ["eu", 3n],
      ["eu", 5],
      ["eu", 5n],
      ["eu", 7n],
    ]);
    expect(batch.images[0]).toBe(b);
    expect(batch.images[3]).toEqual([a, c]);
    expect(batch.indexOfId(`s2:eu|b5|`)).toBe(2);
    expect(batch.indexOfId(`s2:eu|b6|`)).toBe(-1);
  });

  it("matches key-sorted rows by merge join across row groups, and unsorted rows by lookup", () => {
    const batch = new BatchKeys([image(2n, T0), image(4n, T0), image(9n, T0)]);
    const m = batch.matcher();
    const g1 = [
      ["eu", "eu", "eu"],
      [1n, 2n, 3n],
    ];
    const g2 = [
      ["eu", "eu", "us"],
      [4n, 8n, 2n],
    ];
    expect([0, 1, 2].map((r) => m.at(g1, r))).toEqual([-1, 0, -1]);
    expect([0, 1, 2].map((r) => m.at(g2, r))).toEqual([1, -1, -1]);
    // out of order from here on: looked up by key id
    const g3 = [
      ["eu", "eu", "eu"],
      [9n, 2n, 5n],
    ];
    const u = batch.matcher();
    expect([0, 1, 2].map((r) => u.at(g3, r))).toEqual([2, 0, -1]);
  });
});

describe("mergeBatch over a data file that is not key-sorted", () => {
  it("updates, deletes and inserts exactly as applyImage does, row group by row group", async () => {
    const table = new DeltaTable(new LocalStore(mkdtempSync(join(tmpdir(), "merge-unsorted-"))), "orders");
    const fields = fieldsOf(spec.columns);
    await table.ensureSchema(fields);
    // stored rows: keys in a shuffled order, more than one row group
    const n = DATA_ROW_GROUP_ROWS + 500;
    const ids = Array.from({ length: n }, (_, i) => BigInt((i * 7919) % n));
    const stored = new Map<string, StoredRow>();
    for (const id of ids) {
      const row = applyImage({ row: null, tombstone: null }, image(id, T0 + id, { a1: `v${id}`, a2: id }), "hard", spec).row!;
      stored.set(keyString(["eu", id]), row);
    }
    const add = await table.writeDataFile(fields, [...stored.values()], statsColumnsOf(spec));
    await table.commit(async () => ({ actions: [{ add }], readsData: false }), { operation: "WRITE" });
    // the batch: updates (some older than the row: no-ops), deletes, inserts
    const batch: Image[] = [];
    for (let i = 0n; i < BigInt(n) + 50n; i += 37n) {
      if (i % 3n === 0n) batch.push(image(i, T0 + 10_000_000n + i, {}, "delete"));
      else batch.push(image(i, i % 2n === 0n ? T0 : T0 + 10_000_000n + i, { a1: `new${i}` }));
    }
    const expected = new Map(stored);
    for (const im of batch) {
      const k = keyString(im.key);
      const st = applyImage({ row: expected.get(k) ?? null, tombstone: null }, im, "hard", spec);
      if (st.row) expected.set(k, st.row);
      else expected.delete(k);
    }
    await mergeBatch({ main: table, tombstones: null, spec, deleteMode: "hard" }, batch);
    const snap = (await table.snapshot())!;
    const names = snap.fields.map((f) => f.name);
    const rows: StoredRow[] = [];
    for (const a of snap.files.values()) rows.push(...(await table.readDataFile(a, names)));
    const got = new Map(rows.map((r) => [keyString([r.region ?? null, r.id ?? null]), observable(r)]));
    expect(got.size).toBe(expected.size);
    for (const [k, row] of expected) expect(got.get(k), k).toEqual(observable(row));
  });
});
