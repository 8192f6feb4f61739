/**
 * The check command: a mini sync on a unique `_cdc_check_<uuid>` table (create, stage one Parquet
 * file, guarded MERGE from it, read back), dropped and purged in `finally`. Every failure becomes a
 * config error with its own message: bad token, no access to the warehouse, unknown warehouse or
 * host, warehouse not available in time, missing privilege (schema, table, volume).
 */
import { randomUUID } from "node:crypto";
import { configError, isConnectorError, transientError } from "@cdc-delta/shared";
import { metadataColumns } from "../plan/columns.js";
import type { TableSpec } from "../plan/types.js";
import type { DatabricksBackend } from "./backend.js";
import { SqlExecutionError, type ExecOptions, type ExecResult } from "./driver/client.js";
import { classifyDriverError } from "./driver/errors.js";
import { layoutOf } from "./sql/columns.js";
import {
  createSchemaSql,
  createTableSql,
  ddlColumn,
  dropTableSql,
  mergeSql,
  mergeStageColumns,
  renderTable,
  selectOneSql,
} from "./sql/statements.js";
import { writeStageParquet } from "./staging/parquet.js";
import { imageRows } from "./staging/rows.js";
import type { StagingStore } from "./staging/store.js";
import type { DatabricksBackendOptions } from "./backend.js";

export interface CheckContext {
  options: DatabricksBackendOptions;
  store: StagingStore;
  exec(sql: string, opts?: ExecOptions): Promise<ExecResult>;
  props: Record<string, string>;
}

export function connectFailureMessage(e: unknown, o: DatabricksBackendOptions): string {
  const c = e instanceof SqlExecutionError ? e.classified : classifyDriverError(e);
  const where = o.endpointDescription;
  if (c.class === "auth" && c.httpStatus === 403) {
    return `the credentials were accepted but have no access to the SQL warehouse at ${where} (HTTP 403): grant the user or service principal CAN USE on the warehouse`;
  }
  if (c.class === "auth")
    return `Databricks rejected the credentials for ${where} (HTTP 401): check the personal access token or the service principal's client id and OAuth secret`;
  if (c.class === "not_found")
    return `no SQL warehouse at ${where} (HTTP 404): check server_hostname and http_path (Connection details of the warehouse)`;
  if (/ENOTFOUND|EAI_AGAIN/.test(c.message)) return `cannot resolve the host of ${where}: check server_hostname`;
  if (c.class === "timeout" || c.class === "transient") {
    return `the SQL warehouse at ${where} did not become available within ${o.warehouseStartTimeoutS ?? 600} s (it may be stopped and still starting, or unreachable): start it, or raise connect_timeout_s (last error: ${c.message})`;
  }
  return `cannot run a query on ${where}: ${c.message}`;
}

function privilegeMessage(e: unknown, what: string, grant: string): string | undefined {
  const c = e instanceof SqlExecutionError ? e.classified : classifyDriverError(e);
  if (c.class === "permission" || (c.class === "auth" && c.httpStatus === 403))
    return `missing privilege to ${what}: ${grant} (${c.message})`;
  if (c.class === "missing_object") return `cannot ${what}: ${c.message}`;
  return undefined;
}

export async function checkDatabricks(backend: DatabricksBackend, ctx: CheckContext): Promise<void> {
  const o = ctx.options;
  try {
    await ctx.exec(selectOneSql, { rows: true, label: "check: SELECT 1" });
  } catch (e) {
    throw configError(connectFailureMessage(e, o), { internal: String((e as Error).message ?? e), cause: e });
  }
  const ref = { namespace: null, name: `_cdc_check_${randomUUID().replaceAll("-", "")}` };
  const name = backend.tableName(ref);
  const spec: TableSpec = {
    ref,
    keyColumns: ["id"],
    columns: [
      { name: "id", sourceName: "id", type: { kind: "long" }, nullable: false, family: null, keyIndex: 0, metadata: {} },
      { name: "v", sourceName: "v", type: { kind: "string" }, nullable: true, family: null, keyIndex: null, metadata: {} },
      ...metadataColumns({ softDelete: true, history: false }),
    ],
  };
  const dir = `_cdc_check_${randomUUID()}`;
  let created = false;
  const step = async (what: string, grant: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      if (isConnectorError(e)) throw e;
      const p = privilegeMessage(e, what, grant);
      if (p) throw configError(p, { cause: e });
      const c = e instanceof SqlExecutionError ? e.classified : classifyDriverError(e);
      if (c.retryable) throw transientError(`check could not ${what}: ${c.message}`, { cause: e });
      throw configError(`check could not ${what}: ${c.message}`, { cause: e });
    }
  };
  try {
    // CREATE SCHEMA IF NOT EXISTS may be refused to users who only USE an existing schema: the
    // CREATE TABLE below then tells whether the schema is usable.
    await ctx.exec(createSchemaSql(name.catalog, name.schema), { label: "check: schema" }).catch((e) => {
      if (!(e instanceof SqlExecutionError && e.classified.class === "permission")) throw e;
    });
    await step(
      `create a table in ${name.catalog}.${name.schema}`,
      `CREATE TABLE on schema ${name.catalog}.${name.schema}`,
      async () => {
        await ctx.exec(createTableSql(name, spec.columns.map(ddlColumn), { properties: ctx.props }), {
          label: "check: create table",
        });
        created = true;
      },
    );
    const l = layoutOf(spec);
    const bytes = writeStageParquet(
      mergeStageColumns(l),
      imageRows(l, [
        {
          key: [1n],
          op: "upsert",
          hlc: { wall: BigInt(Date.now()) * 1_000_000n, logical: 0 },
          present: new Set(["id", "v"]),
          values: new Map<string, null | string | bigint>([
            ["id", 1n],
            ["v", "ok"],
          ]),
          reset: false,
          rawId: randomUUID(),
          extractedAtMicros: BigInt(Date.now()) * 1000n,
          airbyteMeta: '{"changes":[]}',
          generationId: 0n,
        },
      ]),
    );
    await step(
      `write to the staging location ${ctx.store.description}`,
      "WRITE VOLUME on the staging volume (or write access to the external location)",
      () => ctx.store.put(dir, "part-check.parquet", bytes),
    );
    await step(
      `MERGE from the staging location into ${renderTable(name)}`,
      "READ VOLUME on the staging volume (or READ FILES on the external location) and MODIFY on the table",
      () =>
        ctx.exec(mergeSql({ target: name, layout: l, source: ctx.store.source(dir), deleteMode: "soft" }), {
          label: "check: merge",
        }),
    );
    let n = -1;
    await step(`read back ${renderTable(name)}`, "SELECT on the table", async () => {
      const r = await ctx.exec(`SELECT CAST(count(*) AS STRING) AS \`n\` FROM ${renderTable(name)}`, {
        rows: true,
        label: "check: count",
      });
      n = Number((r.rows[0] as Record<string, unknown> | undefined)?.n);
    });
    if (n !== 1)
      throw configError(
        `check: the staged row did not arrive in ${renderTable(name)} (count ${n}); the warehouse cannot read the staging location?`,
      );
  } finally {
    if (created) await ctx.exec(dropTableSql(name), { label: "check: drop" }).catch(() => undefined);
    await ctx.store.purge(dir).catch(() => undefined);
  }
}
