/**
 * The Databricks backend end to end against the fake warehouse (real driver, TLS, Files API staging
 * into a stand-in volume, DuckDB executing the translated MERGEs), compared with the applyImage oracle
 * (MemoryBackend) on emulator-like workloads with replays — also under injected faults.
 */
import { mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "@cdc-delta/shared";
import { databricksTargetSchema } from "../../destination-databricks-delta/src/config.js";
import { createDatabricksBackend } from "../../destination-databricks-delta/src/databricks/index.js";
import { MemoryBackend } from "../../destination-databricks-delta/src/plan/memory-backend.js";
import { testTable } from "../../destination-databricks-delta/src/plan/testing.js";
import type {
  DeleteMode,
  DestinationBackend,
  MergeBatch,
  StreamPreparation,
  TableSpec,
} from "../../destination-databricks-delta/src/plan/types.js";
import { FakeWarehouse } from "./fake-warehouse/server.js";
import { selfSignedCert } from "./fake-warehouse/tls.js";
import {
  cellText,
  historyBatches,
  makeFragments,
  mergeBatches,
  observableColumns,
  oracleRows,
  slices,
  sortRows,
} from "./workload.js";

const TOKEN = "dapi-backend";
const tls = selfSignedCert();
const volumesRoot = mkdtempSync(join(tmpdir(), "fake-volumes-"));
const wh = new FakeWarehouse({ personality: "databricks", token: TOKEN, tls, volumesRoot });

function config(over: Record<string, unknown> = {}) {
  return databricksTargetSchema.parse({
    type: "databricks",
    server_hostname: "127.0.0.1",
    port: wh.port,
    http_path: wh.path,
    auth: { type: "pat", token: TOKEN },
    catalog: "cdc_test",
    schema: "shop",
    staging_volume_path: "/Volumes/cdc_test/shop/stage",
    custom_ca_cert: tls.cert,
    max_concurrency: 2,
    ...over,
  });
}

const fast = {
  driver: {
    timeouts: { connectMs: 3_000, executeMs: 3_000, pollMs: 5_000, socketMs: 8_000, closeMs: 1_000, warehouseStartMs: 2_000 },
    retry: { attempts: 5, baseMs: 10, maxMs: 50 },
  },
};

function backend(over: Record<string, unknown> = {}): DestinationBackend {
  return createDatabricksBackend(config(over), silentLogger(), fast);
}

async function readTable(table: TableSpec, name: string): Promise<Record<string, string | null>[]> {
  const cols = observableColumns(table);
  const sel = cols
    .map((c) => {
      const k = table.columns.find((x) => x.name === c)?.type.kind;
      return k === "timestamp" ? `CAST(epoch_us("${c}") AS VARCHAR) AS "${c}"` : `CAST("${c}" AS VARCHAR) AS "${c}"`;
    })
    .join(", ");
  const rows = (await wh.rawQuery(`SELECT ${sel} FROM "cdc_test"."shop"."${name}"`)) as Record<string, string | null>[];
  return sortRows(
    table,
    rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null]))),
  );
}

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

beforeAll(() => wh.start());
afterAll(() => wh.stop());

describe.each<DeleteMode>(["hard", "soft"])("merge workloads vs the applyImage oracle (%s deletes)", (mode) => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: families, deletes, re-inserts, replay`, async () => {
      const table: TableSpec = { ...testTable(mode), ref: { namespace: "shop", name: `orders_${mode}_${seed}` } };
      const frags = makeFragments(seed, 60);
      const batches = mergeBatches(table, mode, slices(frags, seed));
      const b = backend();
      const mem = new MemoryBackend();
      try {
        await run(b, mem, { table, mode: "append_dedup", deleteMode: mode, generationId: 0n, truncate: false }, batches);
      } finally {
        await b.close();
      }
      expect(await readTable(table, table.ref.name)).toEqual(oracleRows(mem, table));
    });
  }

  it("under faults: lost replies, conflicts, 503s, a failed upload — same result", async () => {
    const table: TableSpec = { ...testTable(mode), ref: { namespace: "shop", name: `orders_${mode}_faults` } };
    const frags = makeFragments(42, 50);
    const batches = mergeBatches(table, mode, slices(frags, 42));
    const b = backend();
    const mem = new MemoryBackend();
    wh.injectHttp(
      { method: "ExecuteStatement", sql: /MERGE INTO/, fault: { kind: "reset-after" }, times: 3 },
      { method: "ExecuteStatement", fault: { kind: "status", status: 503 }, times: 2 },
      { method: "FilesPUT", fault: { kind: "status", status: 503 }, times: 1 },
      { method: "FilesPUT", fault: { kind: "reset-before" }, times: 1 },
    );
    wh.injectStatement({
      sql: /MERGE INTO/,
      fault: { kind: "error", sqlState: "2D521", message: "[DELTA_CONCURRENT_APPEND] ConcurrentAppendException" },
      times: 2,
    });
    const before = wh.executed.length;
    try {
      await run(b, mem, { table, mode: "append_dedup", deleteMode: mode, generationId: 0n, truncate: false }, batches);
    } finally {
      await b.close();
      wh.clearFaults();
    }
    const merges = wh.executed.slice(before).filter((e) => e.sql.startsWith("MERGE INTO") && e.sql.includes(table.ref.name));
    expect(merges.filter((m) => !m.ok).length).toBe(2);
    expect(await readTable(table, table.ref.name)).toEqual(oracleRows(mem, table));
  });

  it("overwrite: temp table, swap, temp dropped", async () => {
    const table: TableSpec = { ...testTable(mode), ref: { namespace: "shop", name: `orders_${mode}_ow` } };
    const b = backend();
    const mem = new MemoryBackend();
    const prep: StreamPreparation = {
      table,
      mode: "overwrite",
      deleteMode: mode,
      generationId: 7n,
      truncate: true,
      target: "overwrite_temp",
    };
    try {
      // an older generation already in the table
      await run(
        b,
        mem,
        { ...prep, mode: "append_dedup", generationId: 6n, truncate: false, target: "main" },
        mergeBatches(table, mode, slices(makeFragments(5, 20), 5, false), "main", 6n),
      );
      await run(b, mem, prep, mergeBatches(table, mode, slices(makeFragments(6, 30), 6), "overwrite_temp", 7n));
    } finally {
      await b.close();
    }
    expect(await readTable(table, table.ref.name)).toEqual(oracleRows(mem, table));
    const tables = await wh.rawQuery(`SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'orders_${mode}_ow%'`);
    expect(tables.map((t) => t.table_name).sort()).toEqual(
      mode === "hard" ? [`orders_${mode}_ow`, `orders_${mode}_ow__cdc_tombstones`] : [`orders_${mode}_ow`],
    );
  });
});

describe("append (history) modes", () => {
  it("idempotent history survives a replay; staged files are purged", async () => {
    const base = testTable("soft");
    const { metadataColumns } = await import("../../destination-databricks-delta/src/plan/columns.js");
    const table: TableSpec = {
      ref: { namespace: "shop", name: "orders_hist" },
      keyColumns: base.keyColumns,
      columns: [...base.columns.filter((c) => !c.name.startsWith("_")), ...metadataColumns({ softDelete: false, history: true })],
    };
    const frags = makeFragments(9, 40);
    const b = backend();
    const mem = new MemoryBackend();
    try {
      await run(
        b,
        mem,
        { table, mode: "append", deleteMode: "hard", generationId: 0n, truncate: false },
        historyBatches(table, slices(frags, 9), true),
      );
    } finally {
      await b.close();
    }
    const n = await wh.rawQuery(`SELECT CAST(count(*) AS VARCHAR) AS n FROM "cdc_test"."shop"."orders_hist"`);
    expect(Number(n[0]?.n)).toBe(mem.rowsOf(table.ref).length);
    expect(Number(n[0]?.n)).toBe(frags.length);
    // every batch directory was purged after its commit
    const stage = join(volumesRoot, "Volumes/cdc_test/shop/stage");
    const left = readdirSync(stage, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(left).toEqual([]);
  });
});

describe("staging hygiene and schema evolution", () => {
  it("purges stale staging directories of earlier syncs at start, keeps recent ones", async () => {
    const stage = join(volumesRoot, "Volumes/cdc_test/shop/stage");
    const old = `s${Date.now() - 7 * 3600_000}-deadbeef`;
    const recent = `s${Date.now() - 60_000}-cafebabe`;
    mkdirSync(join(stage, old, "x"), { recursive: true });
    mkdirSync(join(stage, recent, "x"), { recursive: true });
    const table: TableSpec = { ...testTable("soft"), ref: { namespace: "shop", name: "orders_stale" } };
    const b = backend();
    try {
      await b.prepareStream({ table, mode: "append_dedup", deleteMode: "soft", generationId: 0n, truncate: false });
    } finally {
      await b.close();
    }
    const dirs = readdirSync(stage);
    expect(dirs).not.toContain(old);
    expect(dirs).toContain(recent);
  });

  it("a hung staging upload is cut off by upload_timeout_s and retried", async () => {
    const table: TableSpec = { ...testTable("soft"), ref: { namespace: "shop", name: "orders_hung" } };
    const b = createDatabricksBackend(config({ upload_timeout_s: 1 }), silentLogger(), fast);
    const mem = new MemoryBackend();
    const prep: StreamPreparation = { table, mode: "append_dedup", deleteMode: "soft", generationId: 0n, truncate: false };
    let uploadAndMergeMs = 0;
    try {
      await b.prepareStream(prep);
      await mem.prepareStream(prep);
      wh.injectHttp({ method: "FilesPUT", fault: { kind: "delay", ms: 20_000 } });
      const [batch] = mergeBatches(table, "soft", [makeFragments(3, 10)]);
      const t0 = Date.now();
      await b.apply(batch as MergeBatch);
      uploadAndMergeMs = Date.now() - t0;
      await mem.apply(batch as MergeBatch);
    } finally {
      wh.clearFaults();
      await b.close();
    }
    expect(uploadAndMergeMs).toBeLessThan(15_000); // cut at 1 s and retried; the hung PUT would take 20 s
    expect(wh.rpcLog.filter((m) => m === "FilesPUT").length).toBeGreaterThanOrEqual(2);
    expect(await readTable(table, table.ref.name)).toEqual(oracleRows(mem, table));
  });

  it("adds columns (ALTER TABLE ADD COLUMNS) before merging, idempotently", async () => {
    const table: TableSpec = { ...testTable("soft"), ref: { namespace: "shop", name: "orders_evolve" } };
    const wider: TableSpec = {
      ...table,
      columns: [
        ...table.columns,
        {
          name: "Note X",
          sourceName: "note",
          type: { kind: "string" },
          nullable: true,
          family: "fa",
          keyIndex: null,
          metadata: { "cdc.placeholder": "true" },
        },
      ],
    };
    const b = backend();
    try {
      await b.prepareStream({ table, mode: "append_dedup", deleteMode: "soft", generationId: 0n, truncate: false });
      await b.prepareStream({ table: wider, mode: "append_dedup", deleteMode: "soft", generationId: 0n, truncate: false });
      await b.prepareStream({ table: wider, mode: "append_dedup", deleteMode: "soft", generationId: 0n, truncate: false });
    } finally {
      await b.close();
    }
    const cols = await wh.rawQuery(`SELECT column_name FROM (DESCRIBE "cdc_test"."shop"."orders_evolve")`);
    expect(cols.map((c) => c.column_name)).toContain("Note X");
    expect(wh.executed.filter((e) => e.sql.startsWith("ALTER TABLE") && e.sql.includes("orders_evolve")).length).toBe(1);
  });
});

describe("check", () => {
  it("passes and leaves nothing behind", async () => {
    const b = backend();
    try {
      await b.check();
    } finally {
      await b.close();
    }
    const left = await wh.rawQuery(
      `SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '\\_cdc\\_check\\_%' ESCAPE '\\'`,
    );
    expect(left).toEqual([]);
  });

  const failure = async (over: Record<string, unknown>, inject?: () => void): Promise<string> => {
    const b = createDatabricksBackend(config(over), silentLogger(), {
      driver: { ...fast.driver, timeouts: { ...fast.driver.timeouts, warehouseStartMs: 500, connectMs: 800 } },
    });
    inject?.();
    try {
      await b.check();
      return "passed";
    } catch (e) {
      return `${(e as { failureType?: string }).failureType}: ${(e as Error).message}`;
    } finally {
      wh.clearFaults();
      await b.close();
    }
  };

  it("distinct messages: bad token, unknown warehouse, warehouse not starting, missing privilege", async () => {
    expect(await failure({ auth: { type: "pat", token: "nope" } })).toMatch(
      /^config_error: Databricks rejected the credentials .*HTTP 401/,
    );
    expect(await failure({ http_path: "/sql/1.0/warehouses/unknown" })).toMatch(/^config_error: no SQL warehouse at .*HTTP 404/);
    expect(
      await failure({}, () =>
        wh.injectHttp({ method: "OpenSession", fault: { kind: "status", status: 503, retryAfterS: 0 }, times: 1000 }),
      ),
    ).toMatch(/^config_error: the SQL warehouse at .* did not become available within/);
    expect(
      await failure({}, () =>
        wh.injectStatement({
          sql: /^CREATE TABLE/,
          fault: {
            kind: "error",
            sqlState: "42501",
            message: "[INSUFFICIENT_PERMISSIONS] User does not have CREATE TABLE on Schema 'cdc_test.shop'.",
          },
        }),
      ),
    ).toMatch(/^config_error: missing privilege to create a table in cdc_test\.shop: CREATE TABLE on schema/);
    expect(
      await failure({}, () => wh.injectHttp({ method: "FilesPUT", fault: { kind: "status", status: 403 }, times: 10 })),
    ).toMatch(/^config_error: .*staging location .*WRITE VOLUME/);
  });
});

void cellText;
