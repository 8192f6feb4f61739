/**
 * Spark (the CI's Spark Thrift server + Delta, via beeline) reads tables the embedded writer
 * produced and equals the oracle; Spark MERGEs into such a table and the writer goes on.
 * CI runs the smoke set; `npm run test:spark` (SPARK_FULL=1) runs the full matrix.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSnapshot } from "../../destination-databricks-delta/src/delta/log/snapshot.js";
import { LocalStore } from "../../destination-databricks-delta/src/delta/store/local.js";
import { testTable } from "../../destination-databricks-delta/src/plan/testing.js";
import type { DeleteMode } from "../../destination-databricks-delta/src/plan/types.js";
import { deltaRsRead, sortRows } from "../peers/delta-rs.js";
import { sparkReadTables, sparkSql } from "../peers/spark.js";
import { MemoryBackend, canonRows, localBackend, mergeBatch, prep, randomFragments, splitBatches, tempDir } from "./helpers.js";

const FULL = process.env.SPARK_FULL === "1";
const dirs: (() => void)[] = [];
afterAll(() => {
  for (const d of dirs) d();
});

const matrix: { deleteMode: DeleteMode; seed: number; fileRows: number; checkpoint: number }[] = FULL
  ? (["hard", "soft"] as DeleteMode[]).flatMap((deleteMode) =>
      [21, 22, 23].flatMap((seed) => [4, 64].map((fileRows) => ({ deleteMode, seed, fileRows, checkpoint: seed % 2 ? 3 : 0 }))),
    )
  : [
      { deleteMode: "hard", seed: 21, fileRows: 8, checkpoint: 3 },
      { deleteMode: "soft", seed: 22, fileRows: 64, checkpoint: 0 },
    ];

describe("Spark reads the embedded writer's tables", () => {
  it(`${matrix.length} tables (merge, both delete modes, checkpoints) equal the oracle, read in one Spark session`, async () => {
    const { path, cleanup } = tempDir("delta-spark-");
    dirs.push(cleanup);
    const want = new Map<string, ReturnType<typeof canonRows>>();
    const tables = [];
    for (const [n, m] of matrix.entries()) {
      const root = join(path, `w${n}`);
      const spec = testTable(m.deleteMode);
      const backend = localBackend(root, { target_file_rows: m.fileRows, checkpoint_interval: m.checkpoint });
      const oracle = new MemoryBackend();
      await backend.prepareStream(prep(spec, m.deleteMode));
      await oracle.prepareStream(prep(spec, m.deleteMode));
      let i = 0;
      for (const b of splitBatches(randomFragments(m.seed, 200, 25), m.seed, 40)) {
        const batch = mergeBatch(spec, m.deleteMode, b, `b${i++}`);
        await backend.apply(batch);
        await oracle.apply(batch);
      }
      const tpath = join(root, "shop", "orders");
      const snap = await loadSnapshot(new LocalStore(tpath));
      tables.push({ name: `t${n}`, path: tpath, fields: snap!.fields });
      want.set(`t${n}`, sortRows(canonRows(oracle.rowsOf(spec.ref), spec), spec.keyColumns));
    }
    const got = await sparkReadTables(tables);
    for (const t of tables) expect(sortRows(got.get(t.name) ?? [], ["region", "id"]), t.name).toEqual(want.get(t.name));
  });

  it("Spark MERGEs into a table the writer made; the writer goes on; delta-rs reads the oracle's rows", async () => {
    const { path, cleanup } = tempDir("delta-spark-merge-");
    dirs.push(cleanup);
    const spec = testTable("hard");
    const backend = localBackend(path, { target_file_rows: 16 });
    const oracle = new MemoryBackend();
    await backend.prepareStream(prep(spec, "hard"));
    await oracle.prepareStream(prep(spec, "hard"));
    const batches = splitBatches(randomFragments(31, 200, 20), 31, 40);
    for (const [i, b] of batches.entries()) {
      const batch = mergeBatch(spec, "hard", b, `b${i}`);
      await backend.apply(batch);
      await oracle.apply(batch);
    }
    const tpath = join(path, "shop", "orders");
    const target = oracle.rowsOf(spec.ref).slice(0, 4);
    const values = target.map((r) => `('${r.region}', ${r.id})`).join(", ");
    await sparkSql(
      `MERGE INTO delta.\`${tpath}\` t USING (SELECT * FROM VALUES ${values} AS s(region, id)) s ON t.region = s.region AND t.id = s.id WHEN MATCHED THEN UPDATE SET t.b1 = concat('spark-', CAST(t.id AS STRING));`,
    );
    for (const r of target) r.b1 = `spark-${r.id}`;
    const more = randomFragments(32, 80, 20).map((f) => ({
      ...f,
      hlc: { wall: f.hlc.wall + 10_000_000n, logical: f.hlc.logical },
    }));
    await backend.apply(mergeBatch(spec, "hard", more, "after-spark"));
    await oracle.apply(mergeBatch(spec, "hard", more, "after-spark"));
    const got = await deltaRsRead(tpath);
    expect(sortRows(got.rows, spec.keyColumns)).toEqual(sortRows(canonRows(oracle.rowsOf(spec.ref), spec), spec.keyColumns));
  });
});

/** A typed cell as a Spark SQL literal (strings escaped; numbers through CAST from text). */
function sqlLiteral(v: unknown, kind: string, scale = 0): string {
  if (v === null || v === undefined) return "NULL";
  switch (kind) {
    case "string":
      // non-ASCII as \uXXXX escapes: beeline reads the script in the platform charset
      return `'${String(v)
        .replaceAll("\\", "\\\\")
        .replaceAll("'", "\\'")
        .replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`)}'`;
    case "long":
      return `CAST('${v}' AS BIGINT)`;
    case "integer":
      return `CAST('${v}' AS INT)`;
    case "timestamp":
      return `timestamp_micros(CAST('${v}' AS BIGINT))`;
    case "decimal": {
      const u = BigInt(v as bigint);
      const neg = u < 0n;
      const d = (neg ? -u : u).toString().padStart(scale + 1, "0");
      return `CAST('${neg ? "-" : ""}${d.slice(0, d.length - scale)}.${d.slice(d.length - scale)}' AS DECIMAL(38,${scale}))`;
    }
    default:
      throw new Error(`no literal for ${kind}`);
  }
}

describe("tables created by Spark", () => {
  it("Spark CREATE TABLE + INSERT, then the writer merges into it; delta-rs reads the oracle's rows", async () => {
    const { path, cleanup } = tempDir("delta-spark-create-");
    dirs.push(cleanup);
    const spec = testTable("soft");
    const oracle = new MemoryBackend();
    const p = prep(spec, "soft");
    await oracle.prepareStream(p);
    const batches = splitBatches(randomFragments(41, 160, 20), 41, 40);
    const half = Math.floor(batches.length / 2);
    for (const [i, b] of batches.slice(0, half).entries()) await oracle.apply(mergeBatch(spec, "soft", b, `o${i}`));
    const tpath = join(path, "shop", "orders");
    const ddlType = (c: (typeof spec.columns)[number]) =>
      c.type.kind === "decimal"
        ? `DECIMAL(${c.type.precision},${c.type.scale})`
        : c.type.kind === "long"
          ? "BIGINT"
          : c.type.kind === "integer"
            ? "INT"
            : c.type.kind.toUpperCase();
    const cols = spec.columns
      .map((c) => `\`${c.name}\` ${ddlType(c)}${c.keyIndex !== null || !c.nullable ? " NOT NULL" : ""}`)
      .join(", ");
    const values = oracle
      .rowsOf(spec.ref)
      .map(
        (r) =>
          `(${spec.columns.map((c) => sqlLiteral(r[c.name], c.type.kind, c.type.kind === "decimal" ? c.type.scale : 0)).join(", ")})`,
      )
      .join(",\n");
    await sparkSql(`CREATE TABLE delta.\`${tpath}\` (${cols}) USING DELTA;\nINSERT INTO delta.\`${tpath}\` VALUES ${values};`);
    const backend = localBackend(path, { target_file_rows: 8 });
    await backend.prepareStream(p);
    for (const [i, b] of batches.slice(half).entries()) {
      const batch = mergeBatch(spec, "soft", b, `n${i}`);
      await backend.apply(batch);
      await oracle.apply(batch);
    }
    const got = await deltaRsRead(tpath);
    expect(sortRows(got.rows, spec.keyColumns)).toEqual(sortRows(canonRows(oracle.rowsOf(spec.ref), spec), spec.keyColumns));
  });
});
