/** DatabricksBackend with a scripted executor: statement order, bounded concurrency, error mapping. */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isConnectorError, silentLogger } from "@cdc-delta/shared";
import { describe, expect, it } from "vitest";
import { foldFragments } from "../plan/fold.js";
import { fragment, hlc, testTable } from "../plan/testing.js";
import type { TableSpec } from "../plan/types.js";
import { DatabricksBackend } from "./backend.js";
import { type ExecOptions, type ExecResult, SqlExecutionError, type SqlExecutor } from "./driver/client.js";
import { LocalDirStore } from "./staging/store.js";

class Script implements SqlExecutor {
  static active = 0;
  static maxActive = 0;
  constructor(
    private readonly log: string[],
    private readonly fail?: (sql: string) => unknown,
  ) {}
  async execute(sql: string, _o?: ExecOptions): Promise<ExecResult> {
    Script.active++;
    Script.maxActive = Math.max(Script.maxActive, Script.active);
    try {
      await new Promise((r) => setTimeout(r, 2));
      this.log.push(sql.split("\n")[0]!.slice(0, 120));
      const f = this.fail?.(sql);
      if (f) throw f;
      if (sql.startsWith("DESCRIBE TABLE")) {
        const err = { response: { sqlState: "42P01", errorMessage: "[TABLE_OR_VIEW_NOT_FOUND]" }, message: "not found" };
        throw new SqlExecutionError(
          { class: "missing_object", retryable: false, sqlState: "42P01", message: "not found" },
          "describe",
          1,
          err,
        );
      }
      return { rows: [], columns: [], attempts: 1 };
    } finally {
      Script.active--;
    }
  }
  async close() {}
}

function make(log: string[], fail?: (sql: string) => unknown, maxConcurrency = 3) {
  const root = mkdtempSync(join(tmpdir(), "bk-"));
  const b = new DatabricksBackend(
    { dialect: "databricks", catalog: "Main", defaultSchema: "shop", maxConcurrency, endpointDescription: "test" },
    () => new Script(log, fail),
    new LocalDirStore(root),
    silentLogger(),
  );
  return { b, root };
}

const table = (name: string, mode: "hard" | "soft" = "hard"): TableSpec => ({
  ...testTable(mode),
  ref: { namespace: "Shop", name },
});

describe("DatabricksBackend (scripted executor)", () => {
  it("hard mode: create schema/tables, prune, then tombstone MERGE before MERGE; staging purged", async () => {
    const log: string[] = [];
    const { b, root } = make(log);
    const t = table("orders");
    await b.prepareStream({ table: t, mode: "append_dedup", deleteMode: "hard", generationId: 0n, truncate: false });
    const images = foldFragments(
      [fragment(["eu", 1n], "upsert", hlc(10), "fa", { a1: "x", a2: 1n }), fragment(["eu", 2n], "delete", hlc(11), "fa")],
      t.keyColumns,
    );
    await b.apply({ kind: "merge", table: t, deleteMode: "hard", images, target: "main", batchId: "b1" });
    expect(log).toEqual([
      "CREATE SCHEMA IF NOT EXISTS `main`.`shop`",
      "DESCRIBE TABLE `main`.`shop`.`orders`",
      expect.stringMatching(/^CREATE TABLE IF NOT EXISTS `main`.`shop`.`orders` \(/),
      "DESCRIBE TABLE `main`.`shop`.`orders`",
      "DESCRIBE TABLE `main`.`shop`.`orders__cdc_tombstones`",
      expect.stringMatching(/^CREATE TABLE IF NOT EXISTS `main`.`shop`.`orders__cdc_tombstones`/),
      "DESCRIBE TABLE `main`.`shop`.`orders__cdc_tombstones`",
      expect.stringMatching(/^DELETE FROM `main`.`shop`.`orders__cdc_tombstones` WHERE `_cdc_updated_wall` < \d+$/),
      "MERGE INTO `main`.`shop`.`orders__cdc_tombstones` AS t",
      "MERGE INTO `main`.`shop`.`orders` AS t",
    ]);
    const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files).toEqual([]);
    await b.close();
  });

  it("staging is purged even when the MERGE fails; errors map to failure types", async () => {
    const log: string[] = [];
    const perm = new SqlExecutionError(
      { class: "permission", retryable: false, sqlState: "42501", message: "no MODIFY" },
      "merge",
      1,
      null,
    );
    const conflict = new SqlExecutionError(
      { class: "conflict", retryable: true, sqlState: "2D521", message: "concurrent" },
      "merge",
      6,
      null,
    );
    let which: unknown = perm;
    const { b, root } = make(log, (sql) => (sql.startsWith("MERGE") ? which : undefined));
    const t = table("o2", "soft");
    await b.prepareStream({ table: t, mode: "append_dedup", deleteMode: "soft", generationId: 0n, truncate: false });
    const images = foldFragments([fragment(["eu", 1n], "upsert", hlc(10), "fa", { a1: "x", a2: 1n })], t.keyColumns);
    const e1 = await b
      .apply({ kind: "merge", table: t, deleteMode: "soft", images, target: "main", batchId: "b1" })
      .catch((x) => x);
    expect(isConnectorError(e1) && e1.failureType).toBe("config_error");
    which = conflict;
    const e2 = await b
      .apply({ kind: "merge", table: t, deleteMode: "soft", images, target: "main", batchId: "b2" })
      .catch((x) => x);
    expect(isConnectorError(e2) && e2.failureType).toBe("transient_error");
    expect(readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())).toEqual([]);
    await b.close();
  });

  it("200 streams: statements never exceed max_concurrency sessions", async () => {
    const log: string[] = [];
    Script.maxActive = 0;
    const { b } = make(log, undefined, 4);
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const t = table(`s${i}`, "soft");
        await b.prepareStream({ table: t, mode: "append_dedup", deleteMode: "soft", generationId: 0n, truncate: false });
        const images = foldFragments([fragment(["eu", BigInt(i)], "upsert", hlc(10), "fa", { a1: "x", a2: 1n })], t.keyColumns);
        await b.apply({ kind: "merge", table: t, deleteMode: "soft", images, target: "main", batchId: "b" });
      }),
    );
    expect(Script.maxActive).toBeLessThanOrEqual(4);
    expect(log.filter((l) => l.startsWith("MERGE")).length).toBe(200);
    await b.close();
  });

  it("table name mapping, lowercase names, overwrite swap and temp drop", async () => {
    const log: string[] = [];
    const root = mkdtempSync(join(tmpdir(), "bk-"));
    const b = new DatabricksBackend(
      {
        dialect: "spark-oss",
        catalog: "ignored",
        defaultSchema: "d",
        maxConcurrency: 1,
        endpointDescription: "t",
        tableNameMapping: { "Shop.ow": "Renamed" },
      },
      () => new Script(log),
      new LocalDirStore(root),
      silentLogger(),
    );
    const t = table("ow", "soft");
    const prep = {
      table: t,
      mode: "overwrite" as const,
      deleteMode: "soft" as const,
      generationId: 5n,
      truncate: true,
      target: "overwrite_temp" as const,
    };
    await b.prepareStream(prep);
    await b.finishStream(prep);
    expect(log.filter((l) => /^(INSERT|DROP)/.test(l))).toEqual([
      expect.stringMatching(/^INSERT OVERWRITE TABLE `spark_catalog`.`shop`.`renamed` \(/),
      "DROP TABLE IF EXISTS `spark_catalog`.`shop`.`ow__tmp_g5`",
    ]);
    await b.close();
  });
});
