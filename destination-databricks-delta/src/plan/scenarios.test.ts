/** destination-delta.md §8 scenarios 1–10 and 26 at the plan level, on the memory (oracle) backend. */
import { describe, expect, it } from "vitest";
import { applyImage } from "./apply-image.js";
import { type Fragment, foldFragments } from "./fold.js";
import { MemoryBackend } from "./memory-backend.js";
import { fragment, hlc, observable, testTable } from "./testing.js";
import type { DeleteMode, StoredRow, TableSpec } from "./types.js";

const K1: [string, bigint] = ["eu", 1n];
const K2: [string, bigint] = ["us", 2n];
const T = (n: number, l = 0) => hlc(1_700_000_000_000_000_000n + BigInt(n) * 1_000_000_000n, l);

async function run(mode: DeleteMode, buffers: Fragment[][], backend = new MemoryBackend(), table: TableSpec = testTable(mode)) {
  await backend.prepareStream({ table, mode: "append_dedup", deleteMode: mode, generationId: 0n, truncate: false });
  let i = 0;
  for (const b of buffers) {
    await backend.apply({
      kind: "merge",
      table,
      deleteMode: mode,
      images: foldFragments(b, table.keyColumns),
      target: "main",
      batchId: `b${i++}`,
    });
  }
  return {
    backend,
    rows: backend.rowsOf(table.ref).map((r) => observable(r) as StoredRow),
    tombstones: backend.table(table.ref)?.tombstones,
  };
}

const fa = (a1: string | null, a2: bigint | null = null) => ({ a1, a2 });

describe("§8 scenarios (plan level)", () => {
  it("1. three families at one HLC → one row; one family at two HLCs → newest wins", async () => {
    const { rows } = await run("hard", [
      [
        fragment(K1, "upsert", T(1), "fa", fa("a", 1n)),
        fragment(K1, "upsert", T(1), "fb", { b1: "b" }),
        fragment(K1, "upsert", T(1), "fc", { c1: 100n }),
        fragment(K1, "upsert", T(2), "fa", fa("a2", 2n)),
      ],
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ a1: "a2", a2: 2n, b1: "b", c1: 100n, _cdc_updated: "1700000002000000000.0000000000" });
  });

  it("2. a partial-family update leaves other families untouched; 3. explicit NULL and an all-null family are written", async () => {
    const { rows } = await run("hard", [
      [fragment(K1, "upsert", T(1), "fa", fa("a", 1n)), fragment(K1, "upsert", T(1), "fb", { b1: "b" })],
      [fragment(K1, "upsert", T(2), "fb", { b1: null })],
      [fragment(K1, "upsert", T(3), "fa", fa(null, null))],
    ]);
    expect(rows[0]).toMatchObject({ a1: null, a2: null, b1: null });
    const { rows: r2 } = await run("hard", [
      [fragment(K1, "upsert", T(1), "fa", fa("a", 1n)), fragment(K1, "upsert", T(1), "fb", { b1: "b" })],
      [fragment(K1, "upsert", T(2), "fb", { b1: "b2" })],
    ]);
    expect(r2[0]).toMatchObject({ a1: "a", a2: 1n, b1: "b2" });
  });

  const history: Fragment[] = [
    fragment(K1, "upsert", T(1), "fa", fa("a", 1n)),
    fragment(K1, "upsert", T(1), "fb", { b1: "b" }),
    fragment(K2, "upsert", T(2), "fa", fa("z", 9n)),
    fragment(K1, "upsert", T(3), "fc", { c1: 5n }),
    fragment(K1, "delete", T(4), "fa"),
    fragment(K1, "delete", T(4), "fb"),
    fragment(K1, "delete", T(4), "fc"),
    fragment(K1, "upsert", T(5), "fb", { b1: "again" }),
    fragment(K2, "upsert", T(6), "fb", { b1: "y" }),
  ];

  it.each<DeleteMode>(["hard", "soft"])(
    "4. replay after a crash cut at every record index → identical table (%s)",
    async (mode) => {
      const expected = (await run(mode, [history])).rows;
      for (let cut = 0; cut <= history.length; cut++) {
        for (let resume = 0; resume <= cut; resume++) {
          const { rows } = await run(mode, [history.slice(0, cut), history.slice(resume)]);
          expect(rows).toEqual(expected);
        }
      }
    },
  );

  it("5. an out-of-order duplicate within and across buffers has no effect", async () => {
    const base = [fragment(K1, "upsert", T(1), "fa", fa("a", 1n)), fragment(K1, "upsert", T(2), "fa", fa("new", 2n))];
    const dupOld = fragment(K1, "upsert", T(1), "fa", fa("a", 1n));
    expect((await run("hard", [[...base, dupOld]])).rows[0]).toMatchObject({ a1: "new" });
    expect((await run("hard", [base, [dupOld]])).rows[0]).toMatchObject({ a1: "new" });
  });

  it.each<DeleteMode>(["hard", "soft"])("6. delete, then a replayed older upsert → no resurrection (%s)", async (mode) => {
    const up = fragment(K1, "upsert", T(1), "fa", fa("a", 1n));
    const { rows } = await run(mode, [[up], [fragment(K1, "delete", T(2), "fa")], [up]]);
    if (mode === "hard") expect(rows).toEqual([]);
    else expect(rows[0]).toMatchObject({ a1: null, _cdc_deleted_at: T(2).wall / 1000n });
  });

  it("6b. after tombstone pruning, a replay older than the retention could resurrect (why retention > replay window)", async () => {
    const up = fragment(K1, "upsert", T(1), "fa", fa("a", 1n));
    const table = testTable("hard");
    const { backend } = await run("hard", [[up], [fragment(K1, "delete", T(2), "fa")]]);
    backend.pruneTombstones(table.ref, T(2).wall / 1000n + 8n * 86_400_000_000n, 7);
    expect(backend.table(table.ref)?.tombstones.size).toBe(0);
  });

  it("7. re-insert after delete with absent families → NULL (within one buffer and across a flush)", async () => {
    const seq = [
      fragment(K1, "upsert", T(1), "fa", fa("a", 1n)),
      fragment(K1, "upsert", T(1), "fb", { b1: "b" }),
      fragment(K1, "delete", T(2), "fa"),
      fragment(K1, "delete", T(2), "fb"),
      fragment(K1, "upsert", T(3), "fa", fa("new", 3n)),
    ];
    for (const mode of ["hard", "soft"] as DeleteMode[]) {
      for (const buffers of [[seq], [seq.slice(0, 2), seq.slice(2)], [seq.slice(0, 4), seq.slice(4)]]) {
        const { rows } = await run(mode, buffers);
        expect(rows[0]).toMatchObject({ a1: "new", a2: 3n, b1: null });
      }
    }
  });

  it("8. equal-HLC fragments split over two flushes → both applied", async () => {
    const { rows } = await run("hard", [
      [fragment(K1, "upsert", T(1), "fa", fa("a", 1n))],
      [fragment(K1, "upsert", T(1), "fb", { b1: "b" })],
    ]);
    expect(rows[0]).toMatchObject({ a1: "a", b1: "b" });
  });

  it("9. delete of an unseen key → tombstone; delete + insert in one buffer", async () => {
    const hard = await run("hard", [[fragment(K2, "delete", T(1), "fa")]]);
    expect(hard.rows).toEqual([]);
    expect(hard.tombstones?.size).toBe(1);
    const soft = await run("soft", [[fragment(K2, "delete", T(1), "fa")]]);
    expect(soft.rows[0]).toMatchObject({ region: "us", id: 2n, a1: null, _cdc_deleted_at: T(1).wall / 1000n });
    const both = await run("hard", [[fragment(K2, "delete", T(1), "fa"), fragment(K2, "upsert", T(2), "fa", fa("x", 1n))]]);
    expect(both.rows[0]).toMatchObject({ a1: "x", b1: null });
  });

  it("10. composite key in non-alphabetical ordinal order is kept in key order", () => {
    const table = testTable();
    expect(table.keyColumns).toEqual(["region", "id"]);
    const [image] = foldFragments([fragment(["zz", 1n], "upsert", T(1), "fa", fa("a"))], table.keyColumns);
    expect(image?.key).toEqual(["zz", 1n]);
    const s = applyImage({ row: null, tombstone: null }, image as never, "hard", table);
    expect(Object.keys(s.row ?? {}).slice(0, 2)).toEqual(["region", "id"]);
  });

  it("26. default hard delete: row gone, the tombstone blocks a replayed upsert; soft keeps tombstone rows", async () => {
    const seq = [fragment(K1, "upsert", T(1), "fa", fa("a", 1n)), fragment(K1, "delete", T(2), "fa")];
    const hard = await run("hard", [seq, [seq[0] as Fragment]]);
    expect(hard.rows).toEqual([]);
    expect([...(hard.tombstones?.values() ?? [])][0]).toMatchObject({ hlc: T(2), deletedAtMicros: T(2).wall / 1000n });
    const soft = await run("soft", [seq, [seq[0] as Fragment]]);
    expect(soft.rows).toHaveLength(1);
    expect(soft.tombstones?.size).toBe(0);
  });
});
