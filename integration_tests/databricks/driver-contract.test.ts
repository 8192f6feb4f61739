/**
 * Contract of the REAL @databricks/sql driver (through our adapter) against a local server speaking
 * the warehouse's Thrift-over-HTTP TCLIService protocol over TLS, backed by DuckDB, with injected
 * faults: 503/429, dropped connections (before and after execution), slow responses, slow RUNNING,
 * Delta conflicts (2D521), non-retryable 21506/42xxx, bad token, unknown warehouse, warehouse start.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DBSQLClient } from "@databricks/sql";
import {
  DatabricksSqlClient,
  type DriverOptions,
  SqlExecutionError,
} from "../../destination-databricks-delta/src/databricks/driver/client.js";
import { FakeWarehouse } from "./fake-warehouse/server.js";
import { selfSignedCert } from "./fake-warehouse/tls.js";

const TOKEN = "dapi-test-token";
const tls = selfSignedCert();

function clientFor(wh: FakeWarehouse, over: Partial<DriverOptions> = {}): DatabricksSqlClient {
  return new DatabricksSqlClient({
    host: "127.0.0.1",
    port: wh.port,
    path: wh.path,
    auth: { kind: "pat", token: TOKEN },
    flavor: "databricks",
    customCaCert: tls.cert,
    timeouts: { connectMs: 3_000, executeMs: 1_500, pollMs: 3_000, socketMs: 5_000, closeMs: 1_000, warehouseStartMs: 4_000 },
    retry: { attempts: 4, baseMs: 20, maxMs: 100 },
    ...over,
  });
}

describe("driver contract (fake warehouse over TLS)", () => {
  const wh = new FakeWarehouse({ personality: "databricks", token: TOKEN, tls });
  let c: DatabricksSqlClient;
  beforeAll(async () => {
    await wh.start();
    c = clientFor(wh);
    await c.execute("CREATE SCHEMA IF NOT EXISTS `cdc_test`.`s`");
    await c.execute("CREATE TABLE IF NOT EXISTS `cdc_test`.`s`.`t` (`id` BIGINT NOT NULL, `v` STRING) USING DELTA");
  });
  afterAll(async () => {
    await c?.close();
    await wh.stop();
  });

  it("runs statements and fetches rows through the stock client (TLS verified, Bearer token)", async () => {
    const r = await c.execute("SELECT CAST(1 AS STRING) AS `one`, 'it\\'s' AS `q`", { rows: true });
    expect(r.rows).toEqual([{ one: "1", q: "it's" }]);
  });

  it("retries ExecuteStatement on 503 and 429 (Retry-After) and succeeds", async () => {
    wh.injectHttp(
      { method: "ExecuteStatement", fault: { kind: "status", status: 503 }, times: 2 },
      { method: "ExecuteStatement", fault: { kind: "status", status: 429, retryAfterS: 0 } },
    );
    const before = c.stats.retries;
    const r = await c.execute("SELECT CAST(2 AS STRING) AS `x`", { rows: true });
    expect(r.rows).toEqual([{ x: "2" }]);
    expect(c.stats.retries - before).toBe(3);
  });

  it("retries a connection dropped before the server saw the statement", async () => {
    wh.injectHttp({ method: "ExecuteStatement", fault: { kind: "reset-before" } });
    const r = await c.execute("SELECT CAST(3 AS STRING) AS `x`", { rows: true });
    expect(r.rows).toEqual([{ x: "3" }]);
  });

  it("a slow response is cut off by the execute deadline and the statement re-run", async () => {
    wh.injectHttp({ method: "ExecuteStatement", fault: { kind: "delay", ms: 8_000 } });
    const t0 = Date.now();
    const r = await c.execute("SELECT CAST(4 AS STRING) AS `x`", { rows: true });
    expect(r.rows).toEqual([{ x: "4" }]);
    expect(Date.now() - t0).toBeLessThan(7_000); // cut at executeMs (1.5 s), re-run; the server would take 8 s
  });

  it("a statement RUNNING past the poll deadline is cancelled and re-run", async () => {
    wh.injectStatement({ sql: /CAST\(5 AS STRING\)/, fault: { kind: "slow", runningMs: 30_000 } });
    const t0 = Date.now();
    const r = await c.execute("SELECT CAST(5 AS STRING) AS `x`", { rows: true, pollMs: 700 });
    expect(r.rows).toEqual([{ x: "5" }]);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(wh.rpcLog).toContain("CancelOperation");
  });

  it("gives up with a timeout class when every attempt is slow", async () => {
    const quick = clientFor(wh, {
      timeouts: { connectMs: 3_000, executeMs: 400, pollMs: 3_000, socketMs: 5_000, closeMs: 500, warehouseStartMs: 2_000 },
    });
    wh.injectHttp({ method: "ExecuteStatement", fault: { kind: "delay", ms: 1_000 }, times: 10 });
    const e = await quick.execute("SELECT 6", { label: "slow forever" }).catch((x) => x);
    wh.clearFaults();
    await quick.close();
    expect(e).toBeInstanceOf(SqlExecutionError);
    expect((e as SqlExecutionError).classified.class).toBe("timeout");
    expect((e as SqlExecutionError).attempts).toBe(4);
  });

  it("retries Delta write conflicts (2D521) and never 21506 or 42xxx", async () => {
    wh.injectStatement({
      sql: /INSERT INTO/,
      fault: {
        kind: "error",
        sqlState: "2D521",
        message: "[DELTA_CONCURRENT_APPEND] ConcurrentAppendException: Files were added",
      },
      times: 2,
    });
    await c.execute("INSERT INTO `cdc_test`.`s`.`t` (`id`, `v`) VALUES (1, 'a')");
    const n = await c.execute("SELECT CAST(count(*) AS STRING) AS `n` FROM `cdc_test`.`s`.`t`", { rows: true });
    expect(n.rows).toEqual([{ n: "1" }]);

    wh.injectStatement({
      sql: /MERGE INTO/,
      fault: {
        kind: "error",
        sqlState: "21506",
        message: "[DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE] Cannot perform Merge",
      },
      times: 5,
    });
    const dup = await c.execute("MERGE INTO x").catch((x) => x);
    expect((dup as SqlExecutionError).classified.class).toBe("duplicate_source");
    expect((dup as SqlExecutionError).attempts).toBe(1);

    const syntax = await c.execute("SELEC nonsense").catch((x) => x);
    expect((syntax as SqlExecutionError).classified.sqlState).toBe("42000");
    expect((syntax as SqlExecutionError).attempts).toBe(1);
    wh.clearFaults();
  });

  it("reset AFTER execution (reply lost): the re-run guarded MERGE is a no-op", async () => {
    await c.execute(
      "CREATE TABLE IF NOT EXISTS `cdc_test`.`s`.`g` (`id` BIGINT NOT NULL, `v` STRING, `_cdc_updated_wall` BIGINT NOT NULL, `_cdc_updated_logical` INT NOT NULL) USING DELTA",
    );
    await c.execute("INSERT INTO `cdc_test`.`s`.`g` VALUES (1, 'old', 100, 0)");
    // a non-idempotent increment shows double application; the guard must prevent it
    const merge =
      "MERGE INTO `cdc_test`.`s`.`g` AS t USING (SELECT CAST(1 AS BIGINT) AS `id`, t2.`v` || '+' AS `v`, CAST(200 AS BIGINT) AS `_cdc_updated_wall`, CAST(0 AS INT) AS `_cdc_updated_logical` FROM `cdc_test`.`s`.`g` AS t2 WHERE t2.`id` = 1) AS s ON t.`id` = s.`id` " +
      "WHEN MATCHED AND (s.`_cdc_updated_wall` > t.`_cdc_updated_wall` OR (s.`_cdc_updated_wall` = t.`_cdc_updated_wall` AND s.`_cdc_updated_logical` > t.`_cdc_updated_logical`)) THEN UPDATE SET t.`v` = s.`v`, t.`_cdc_updated_wall` = s.`_cdc_updated_wall`";
    wh.injectHttp({ method: "ExecuteStatement", fault: { kind: "reset-after" }, sql: /MERGE INTO/ });
    const before = wh.executed.filter((e) => e.sql.startsWith("MERGE INTO `cdc_test`.`s`.`g`")).length;
    await c.execute(merge);
    // allow the first (lost-reply) execution to finish on the server
    await new Promise((r) => setTimeout(r, 200));
    const runs = wh.executed.filter((e) => e.sql.startsWith("MERGE INTO `cdc_test`.`s`.`g`")).length - before;
    expect(runs).toBe(2);
    const r = await c.execute("SELECT `v`, CAST(`_cdc_updated_wall` AS STRING) AS `w` FROM `cdc_test`.`s`.`g`", { rows: true });
    expect(r.rows).toEqual([{ v: "old+", w: "200" }]);
  });

  it("bad token: auth class, not retried", async () => {
    const bad = clientFor(wh, { auth: { kind: "pat", token: "wrong" } });
    const e = await bad.execute("SELECT 1").catch((x) => x);
    await bad.close();
    expect((e as SqlExecutionError).classified).toMatchObject({ class: "auth", httpStatus: 401 });
    expect(bad.stats.connects).toBe(1);
  });

  it("unknown warehouse path: not_found class, not retried", async () => {
    const bad = clientFor(wh, { path: "/sql/1.0/warehouses/nope" });
    const e = await bad.execute("SELECT 1").catch((x) => x);
    await bad.close();
    expect((e as SqlExecutionError).classified).toMatchObject({ class: "not_found", httpStatus: 404 });
  });

  it("an untrusted certificate is refused (TLS is verified)", async () => {
    const bad = clientFor(wh, { customCaCert: undefined, timeouts: { connectMs: 1_000, warehouseStartMs: 1 } });
    const e = await bad.execute("SELECT 1").catch((x) => x);
    await bad.close();
    expect(String((e as Error).message)).toMatch(/certificate|self.signed|SELF_SIGNED/i);
  });
});

describe("warehouse start", () => {
  it("retries OpenSession while the warehouse answers 503, within warehouseStartMs", async () => {
    const wh = new FakeWarehouse({ personality: "databricks", token: TOKEN, tls, startingForMs: 1_200 });
    await wh.start();
    const c = clientFor(wh);
    try {
      const r = await c.execute("SELECT CAST(1 AS STRING) AS `x`", { rows: true });
      expect(r.rows).toEqual([{ x: "1" }]);
      expect(c.stats.connects).toBeGreaterThan(1);
    } finally {
      await c.close();
      await wh.stop();
    }
  });
  it("fails with a transient class when the warehouse does not start in time", async () => {
    const wh = new FakeWarehouse({ personality: "databricks", token: TOKEN, tls, startingForMs: 60_000 });
    await wh.start();
    const c = clientFor(wh, { timeouts: { connectMs: 1_000, warehouseStartMs: 800 } });
    try {
      const t0 = Date.now();
      const e = await c.execute("SELECT 1").catch((x) => x);
      expect((e as SqlExecutionError).classified).toMatchObject({ class: "transient", httpStatus: 503 });
      expect(Date.now() - t0).toBeLessThan(8_000);
    } finally {
      await c.close();
      await wh.stop();
    }
  });
});

describe("SparkThriftCompatClient against an emulated open-source Spark Thrift server", () => {
  const sts = new FakeWarehouse({ personality: "spark-thrift", path: "/cliservice", basic: { user: "cdc", password: "cdc" } });
  beforeAll(() => sts.start());
  afterAll(() => sts.stop());

  it("the stock client cannot talk to it (HTTPS hard-coded)", async () => {
    const stock = new DBSQLClient();
    const e = await stock
      .connect({ host: "127.0.0.1", port: sts.port, path: "/cliservice", token: "x", telemetryEnabled: false })
      .then((cl) => cl.openSession())
      .catch((x) => x);
    expect(e).toBeTruthy();
    await stock.close().catch(() => undefined);
  });

  it("the shim connects over HTTP with Basic auth, protocol V10, and reads rows without resultFormat", async () => {
    const c = new DatabricksSqlClient({
      host: "127.0.0.1",
      port: sts.port,
      path: "/cliservice",
      auth: { kind: "basic", username: "cdc", password: "cdc" },
      flavor: "spark-thrift",
      timeouts: { connectMs: 3_000, executeMs: 3_000, pollMs: 3_000, socketMs: 5_000, closeMs: 1_000, warehouseStartMs: 2_000 },
      retry: { attempts: 2, baseMs: 10, maxMs: 20 },
    });
    try {
      const r = await c.execute("SELECT CAST(42 AS STRING) AS `answer`", { rows: true });
      expect(r.rows).toEqual([{ answer: "42" }]);
    } finally {
      await c.close();
    }
  });
});
