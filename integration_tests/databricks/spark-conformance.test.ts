/**
 * Conformance on real Spark + Delta: the backend's generated SQL runs on the open-source Spark Thrift
 * server (started by .ci/services.sh, one JVM per CI run) through SparkThriftCompatClient, dialect
 * `spark-oss` (``parquet.`<dir>` `` staging in a local folder, `spark_catalog` names). Final tables are
 * read back with delta-rs AND with Spark, and compared with the applyImage oracle (MemoryBackend).
 * Smoke set in CI; the full set with SPARK_FULL=1 (`npm run test:spark`).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "@cdc-delta/shared";
import { databricksTargetSchema } from "../../destination-databricks-delta/src/config.js";
import { createDatabricksBackend } from "../../destination-databricks-delta/src/databricks/index.js";
import { DatabricksSqlClient } from "../../destination-databricks-delta/src/databricks/driver/client.js";
import { metadataColumns } from "../../destination-databricks-delta/src/plan/columns.js";
import { MemoryBackend } from "../../destination-databricks-delta/src/plan/memory-backend.js";
import { testTable } from "../../destination-databricks-delta/src/plan/testing.js";
import type {
  DeleteMode,
  DestinationBackend,
  MergeBatch,
  StreamPreparation,
  TableSpec,
} from "../../destination-databricks-delta/src/plan/types.js";
import { getService, tools } from "../services/endpoints.js";
import { historyBatches, makeFragments, mergeBatches, observableColumns, oracleRows, slices, sortRows } from "./workload.js";

const FULL = process.env.SPARK_FULL === "1";
const sts = getService("sparkThrift");
const schema = `cdc_conf_${Date.now().toString(36)}`;
const stageDir = mkdtempSync(join(tmpdir(), "spark-stage-"));
const q = (s: string) => `\`${s.replaceAll("`", "``")}\``;

const cfg = databricksTargetSchema.parse({
  type: "databricks",
  dialect: "spark-oss",
  https: false,
  server_hostname: sts.host,
  port: sts.port,
  http_path: `/${sts.path}`,
  auth: { type: "basic", username: sts.user, password: sts.password },
  schema,
  staging_local_path: stageDir,
  max_concurrency: 2,
  // delta-rs (deltalake 1.6.6) cannot read tables with the deletionVectors reader feature: DVs off
  // here so both readers check every table; the DV variant is read by Spark only (full set).
  table_properties: { "delta.enableDeletionVectors": "false" },
});
const cfgDv = databricksTargetSchema.parse({ ...cfg, table_properties: {} });
const driverOver = {
  driver: {
    timeouts: {
      connectMs: 30_000,
      executeMs: 120_000,
      pollMs: 300_000,
      socketMs: 300_000,
      closeMs: 10_000,
      warehouseStartMs: 60_000,
    },
    retry: { attempts: 3, baseMs: 200, maxMs: 1_000 },
  },
};

let spark: DatabricksSqlClient;

beforeAll(async () => {
  spark = new DatabricksSqlClient({
    host: sts.host,
    port: sts.port,
    path: `/${sts.path}`,
    auth: { kind: "basic", username: sts.user, password: sts.password },
    flavor: "spark-thrift",
    ...driverOver.driver,
  });
  await spark.execute(`CREATE SCHEMA IF NOT EXISTS ${q("spark_catalog")}.${q(schema)}`);
});
afterAll(async () => {
  if (!process.env.KEEP_SPARK_TABLES)
    await spark?.execute(`DROP SCHEMA IF EXISTS ${q("spark_catalog")}.${q(schema)} CASCADE`).catch(() => undefined);
  await spark?.close();
});

async function run(b: DestinationBackend, mem: MemoryBackend, prep: StreamPreparation, batches: MergeBatch[]) {
  await b.prepareStream(prep);
  await mem.prepareStream(prep);
  for (const batch of batches) {
    await b.apply(batch);
    await mem.apply(batch);
  }
  await b.finishStream(prep);
  await mem.finishStream(prep);
}

function fqn(table: string) {
  return `${q("spark_catalog")}.${q(schema)}.${q(table)}`;
}

async function readWithSpark(table: TableSpec, name: string) {
  const cols = observableColumns(table);
  const sel = cols
    .map((c) =>
      table.columns.find((x) => x.name === c)?.type.kind === "timestamp"
        ? `CAST(unix_micros(${q(c)}) AS STRING) AS ${q(c)}`
        : `CAST(${q(c)} AS STRING) AS ${q(c)}`,
    )
    .join(", ");
  const r = await spark.execute(`SELECT ${sel} FROM ${fqn(name)}`, { rows: true });
  return sortRows(
    table,
    r.rows.map((row) => Object.fromEntries(cols.map((c) => [c, (row[c] as string | null) ?? null]))),
  );
}

async function readWithDeltaRs(table: TableSpec, name: string) {
  const detail = await spark.execute(`DESCRIBE DETAIL ${fqn(name)}`, { rows: true });
  const loc = String(detail.rows[0]?.location).replace(/^file:/, "");
  const out = execFileSync(tools().python, [join(import.meta.dirname, "delta_rows.py"), loc], {
    encoding: "utf8",
    timeout: 120_000,
  });
  const { rows } = JSON.parse(out) as { rows: Record<string, string | null>[] };
  const cols = observableColumns(table);
  return sortRows(
    table,
    rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null]))),
  );
}

async function expectConforms(table: TableSpec, mem: MemoryBackend) {
  const want = oracleRows(mem, table);
  expect(await readWithDeltaRs(table, table.ref.name)).toEqual(want);
  expect(await readWithSpark(table, table.ref.name)).toEqual(want);
}

const seeds = FULL ? [11, 12, 13] : [11];
const modes: DeleteMode[] = ["hard", "soft"];

describe.each(modes)("Spark + Delta conformance (%s deletes)", (mode) => {
  for (const seed of seeds) {
    it(`seed ${seed}: merges with families, deletes, re-inserts and a crash replay match the oracle (delta-rs and Spark)`, {
      timeout: 900_000,
    }, async () => {
      const table: TableSpec = { ...testTable(mode), ref: { namespace: schema, name: `orders_${mode}_${seed}` } };
      const b = createDatabricksBackend(cfg, silentLogger(), driverOver);
      const mem = new MemoryBackend();
      try {
        await run(
          b,
          mem,
          { table, mode: "append_dedup", deleteMode: mode, generationId: 0n, truncate: false },
          mergeBatches(table, mode, slices(makeFragments(seed, FULL ? 60 : 30), seed, true, FULL ? 5 : 3)),
        );
      } finally {
        await b.close();
      }
      await expectConforms(table, mem);
    });
  }
});

describe("check on Spark", () => {
  it("the mini sync (create, stage, MERGE, read back, drop) passes and leaves no table", { timeout: 600_000 }, async () => {
    const b = createDatabricksBackend(cfg, silentLogger(), driverOver);
    try {
      await b.check();
    } finally {
      await b.close();
    }
    const r = await spark.execute(`SHOW TABLES IN ${q("spark_catalog")}.${q(schema)} LIKE '_cdc_check_*'`, { rows: true });
    expect(r.rows).toEqual([]);
  });
});

// The full set is registered only under SPARK_FULL=1 (`npm run test:spark`); CI runs the smoke set above.
if (FULL)
  describe("Spark + Delta conformance (full set)", () => {
    it("deletion vectors enabled (the Databricks default): Spark reads the oracle's rows", { timeout: 900_000 }, async () => {
      for (const mode of modes) {
        const table: TableSpec = { ...testTable(mode), ref: { namespace: schema, name: `orders_dv_${mode}` } };
        const b = createDatabricksBackend(cfgDv, silentLogger(), driverOver);
        const mem = new MemoryBackend();
        try {
          await run(
            b,
            mem,
            { table, mode: "append_dedup", deleteMode: mode, generationId: 0n, truncate: false },
            mergeBatches(table, mode, slices(makeFragments(51, 40), 51, true, 4)),
          );
        } finally {
          await b.close();
        }
        expect(await readWithSpark(table, table.ref.name)).toEqual(oracleRows(mem, table));
      }
    });

    it("overwrite: temp table + INSERT OVERWRITE swap", { timeout: 900_000 }, async () => {
      const mode: DeleteMode = "hard";
      const table: TableSpec = { ...testTable(mode), ref: { namespace: schema, name: "orders_overwrite" } };
      const b = createDatabricksBackend(cfg, silentLogger(), driverOver);
      const mem = new MemoryBackend();
      try {
        await run(
          b,
          mem,
          { table, mode: "append_dedup", deleteMode: mode, generationId: 1n, truncate: false, target: "main" },
          mergeBatches(table, mode, slices(makeFragments(21, 30), 21, false, 3), "main", 1n),
        );
        await run(
          b,
          mem,
          { table, mode: "overwrite", deleteMode: mode, generationId: 2n, truncate: true, target: "overwrite_temp" },
          mergeBatches(table, mode, slices(makeFragments(22, 40), 22, true, 4), "overwrite_temp", 2n),
        );
      } finally {
        await b.close();
      }
      await expectConforms(table, mem);
    });

    it("append (idempotent history MERGE) under replay", { timeout: 900_000 }, async () => {
      const base = testTable("soft");
      const table: TableSpec = {
        ref: { namespace: schema, name: "orders_history" },
        keyColumns: base.keyColumns,
        columns: [
          ...base.columns.filter((c) => !c.name.startsWith("_")),
          ...metadataColumns({ softDelete: false, history: true }),
        ],
      };
      const frags = makeFragments(31, 60);
      const b = createDatabricksBackend(cfg, silentLogger(), driverOver);
      const mem = new MemoryBackend();
      try {
        await run(
          b,
          mem,
          { table, mode: "append", deleteMode: "hard", generationId: 0n, truncate: false },
          historyBatches(table, slices(frags, 31, true, 4), true),
        );
      } finally {
        await b.close();
      }
      const n = await spark.execute(`SELECT CAST(count(*) AS STRING) AS n FROM ${fqn("orders_history")}`, { rows: true });
      expect(Number(n.rows[0]?.n)).toBe(frags.length);
    });

    it("awkward identifiers (backticks, reserved words, unicode, mixed case) and a mid-stream new column", {
      timeout: 900_000,
    }, async () => {
      const mode: DeleteMode = "soft";
      const base = testTable(mode);
      const rename: Record<string, string> = {
        region: "Région`Code",
        id: "select",
        a1: "order",
        a2: "MixedCase",
        b1: "名前",
        c1: "from",
      };
      const table: TableSpec = {
        // Spark's session catalog accepts only [A-Za-z0-9_] table names (INVALID_ATTRIBUTE_NAME_SYNTAX for
        // a backtick); column names are where the awkward identifiers go.
        ref: { namespace: schema, name: "Ord_Ers_Mixed" },
        keyColumns: base.keyColumns.map((k) => rename[k] ?? k),
        columns: base.columns.map((c) => ({ ...c, name: rename[c.name] ?? c.name })),
      };
      const frags = makeFragments(41, 40).map((f) => ({
        ...f,
        values: new Map([...f.values].map(([k, v]) => [rename[k] ?? k, v])),
      }));
      const b = createDatabricksBackend(cfg, silentLogger(), driverOver);
      const mem = new MemoryBackend();
      try {
        await run(
          b,
          mem,
          { table, mode: "append_dedup", deleteMode: mode, generationId: 0n, truncate: false },
          mergeBatches(table, mode, slices(frags, 41, true, 4)),
        );
        const wider: TableSpec = {
          ...table,
          columns: [
            ...table.columns,
            {
              name: "Late_Col",
              sourceName: "late",
              type: { kind: "string" },
              nullable: true,
              family: "fa",
              keyIndex: null,
              metadata: { "cdc.placeholder": "true" },
            },
          ],
        };
        await b.prepareStream({ table: wider, mode: "append_dedup", deleteMode: mode, generationId: 0n, truncate: false });
      } finally {
        await b.close();
      }
      const want = oracleRows(mem, table);
      expect(await readWithDeltaRs(table, table.ref.name)).toEqual(want);
      expect(await readWithSpark(table, table.ref.name)).toEqual(want);
    });
  });
