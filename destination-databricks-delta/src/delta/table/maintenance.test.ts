import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeCheckpoint } from "../log/checkpoint-write.js";
import { loadSnapshot } from "../log/snapshot.js";
import { optimize } from "../ops/compact.js";
import { tableDir } from "../paths.js";
import { LocalStore } from "../store/local.js";
import { DeltaTable } from "./delta-table.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "delta-maint-"));
  dirs.push(d);
  return d;
}
const fields = [
  { name: "id", type: { kind: "long" as const }, nullable: false, metadata: {} },
  { name: "v", type: { kind: "decimal" as const, precision: 20, scale: 3 }, nullable: true, metadata: {} },
];

async function tableWithFiles(n: number) {
  const root = tmp();
  const t = new DeltaTable(new LocalStore(root), "t");
  await t.ensureSchema(fields);
  for (let i = 0; i < n; i++) {
    await t.commit(
      async (snap) => ({
        actions: [{ add: await t.writeDataFile(snap.fields, [{ id: BigInt(n - i), v: BigInt(i) * 1000n }], new Set(["id"])) }],
        readsData: false,
      }),
      {
        operation: "WRITE",
      },
    );
  }
  return { root, t };
}

describe("checkpoints", () => {
  it("our classic checkpoint replaces the JSON before it (the commits may be gone)", async () => {
    const { root, t } = await tableWithFiles(4);
    const snap = (await t.snapshot())!;
    await writeCheckpoint(t, snap);
    for (let v = 0; v <= 4; v++) rmSync(join(root, "_delta_log", `${String(v).padStart(20, "0")}.json`));
    const back = (await loadSnapshot(new LocalStore(root)))!;
    expect(back.version).toBe(4);
    expect(back.checkpointVersion).toBe(4);
    expect([...back.files.keys()].sort()).toEqual([...snap.files.keys()].sort());
    expect(back.fields).toEqual(snap.fields);
    expect(back.files.get([...snap.files.keys()][0]!)?.stats).toBe(snap.files.get([...snap.files.keys()][0]!)?.stats);
  });
});

describe("compaction", () => {
  it("rewrites small files key-sorted with dataChange:false, same rows", async () => {
    const { t } = await tableWithFiles(6);
    const res = await optimize(t, ["id"], { smallRows: 10, targetRows: 100 });
    expect(res?.removed).toBe(6);
    expect(res?.added).toBe(1);
    const snap = (await t.snapshot())!;
    expect(snap.files.size).toBe(1);
    const add = [...snap.files.values()][0]!;
    expect(add.dataChange).toBe(false);
    const rows = await t.readDataFile(add, ["id", "v"]);
    expect(rows.map((r) => r.id)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
  });
});

describe("paths", () => {
  it("sanitises namespace and table segments", () => {
    expect(tableDir({ namespace: null, name: "orders" })).toBe("default/orders");
    expect(tableDir({ namespace: "..", name: "a/b\u0001" })).toBe("__/a_b_");
  });
});
