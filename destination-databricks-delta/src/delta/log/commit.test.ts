import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalStore } from "../store/local.js";
import { DeltaTable } from "../table/delta-table.js";
import { parseActions, serializeActions, commitFileName } from "./actions.js";
import { commitTransaction } from "./commit.js";
import { loadSnapshot } from "./snapshot.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "delta-commit-"));
  dirs.push(d);
  return d;
}
const fields = [
  { name: "id", type: { kind: "long" as const }, nullable: false, metadata: {} },
  { name: "v", type: { kind: "string" as const }, nullable: true, metadata: {} },
];

describe("actions", () => {
  it("round-trips NDJSON and names versions with 20 digits", () => {
    const text = serializeActions([{ txn: { appId: "a", version: 3 } }, { other: { domainMetadata: { domain: "x" } } }]);
    expect(text.endsWith("\n")).toBe(true);
    expect(parseActions(text)).toEqual([{ txn: { appId: "a", version: 3 } }, { other: { domainMetadata: { domain: "x" } } }]);
    expect(commitFileName(7)).toBe("00000000000000000007.json");
  });
});

describe("atomic local commit", () => {
  it("putIfAbsent wins once; the loser sees false and no temp file is left", async () => {
    const store = new LocalStore(tmp());
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.putIfAbsent("_delta_log/00000000000000000000.json", Buffer.from(`{"n":${i}}\n`))),
    );
    expect(results.filter(Boolean).length).toBe(1);
    expect(readdirSync(join(store.root, "_delta_log"))).toEqual(["00000000000000000000.json"]);
  });

  it("concurrent appends from two writers all land, in distinct versions (lost races retried)", async () => {
    const root = tmp();
    const a = new DeltaTable(new LocalStore(root), "t");
    await a.ensureSchema(fields);
    const writers = Array.from({ length: 6 }, () => new DeltaTable(new LocalStore(root), "t"));
    await Promise.all(
      writers.map((w, i) =>
        w.commit(
          async (snap) => {
            const add = await w.writeDataFile(snap.fields, [{ id: BigInt(i), v: `w${i}` }], new Set(["id"]));
            return { actions: [{ add }], readsData: false };
          },
          { operation: "WRITE" },
        ),
      ),
    );
    const snap = await loadSnapshot(new LocalStore(root));
    expect(snap?.version).toBe(6);
    expect(snap?.files.size).toBe(6);
  });

  it("a lost race of a data-reading transaction recomputes from the new snapshot", async () => {
    const root = tmp();
    const t = new DeltaTable(new LocalStore(root), "t");
    await t.ensureSchema(fields);
    const stale = await t.snapshot();
    // A rival commits version 1.
    await t.commit(
      async () => ({ actions: [{ add: await t.writeDataFile(fields, [{ id: 1n, v: "x" }], new Set()) }], readsData: false }),
      { operation: "WRITE" },
    );
    let calls = 0;
    const res = await commitTransaction(
      new LocalStore(root),
      stale,
      async (snap) => {
        calls++;
        return { actions: [{ txn: { appId: "merge", version: snap!.files.size } }], readsData: true };
      },
      { operation: "MERGE" },
    );
    expect(res?.version).toBe(2);
    expect(calls).toBe(2);
    expect((await loadSnapshot(new LocalStore(root)))?.txns.get("merge")).toBe(1);
  });

  it("schema evolution appends columns, never drops, and refuses a retype", async () => {
    const t = new DeltaTable(new LocalStore(tmp()), "t");
    await t.ensureSchema(fields);
    const r = await t.ensureSchema([fields[0]!, { name: "w", type: { kind: "timestamp_ntz" }, nullable: true, metadata: {} }]);
    expect(r.added).toEqual(["w"]);
    const snap = await t.snapshot();
    expect(snap?.fields.map((f) => f.name)).toEqual(["id", "v", "w"]);
    expect(snap?.protocol).toEqual({
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ["timestampNtz"],
      writerFeatures: ["appendOnly", "invariants", "timestampNtz"],
    });
    await expect(t.ensureSchema([{ ...fields[0]!, type: { kind: "string" } }])).rejects.toThrow(/retyping/);
  });

  it("refuses tables with deletion vectors or column mapping", async () => {
    const store = new LocalStore(tmp());
    await store.putIfAbsent(
      "_delta_log/00000000000000000000.json",
      Buffer.from(
        serializeActions([
          {
            protocol: {
              minReaderVersion: 3,
              minWriterVersion: 7,
              readerFeatures: ["deletionVectors"],
              writerFeatures: ["deletionVectors"],
            },
          },
          {
            metaData: {
              id: "x",
              format: { provider: "parquet", options: {} },
              schemaString: '{"type":"struct","fields":[]}',
              partitionColumns: [],
              configuration: {},
            },
          },
        ]),
      ),
    );
    await expect(new DeltaTable(store, "t").snapshot()).rejects.toThrow(/deletionVectors/);
  });
});
