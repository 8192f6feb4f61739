/**
 * DatabricksBackend: the DestinationBackend over a SQL warehouse (destination-delta.md §3, §6).
 * prepareStream: CREATE SCHEMA/TABLE IF NOT EXISTS, DESCRIBE + planSchemaEvolution, ALTER TABLE ADD
 * COLUMNS, tombstone pruning. apply: dedupe → stage one Parquet file → (hard: tombstone MERGE) →
 * guarded MERGE (or history MERGE / COPY INTO) → purge the staged files. finishStream (overwrite):
 * INSERT OVERWRITE from the temp table, drop it. Statements of different streams run concurrently up
 * to `maxConcurrency` executors; one stream's statements are sequential (the core never overlaps them).
 */
import { randomUUID } from "node:crypto";
import { type ConnectorError, type Logger, configError, systemError, transientError } from "@cdc-delta/shared";
import { COL_FAMILY } from "../plan/columns.js";
import { tempTableRef, tombstoneTableRef } from "../plan/names.js";
import { assertSchemaChangeAllowed, planSchemaEvolution } from "../plan/schema-evolution.js";
import type {
  ColumnDef,
  DeleteMode,
  DeltaType,
  DestinationBackend,
  MergeBatch,
  StreamPreparation,
  TableRef,
  TableSpec,
} from "../plan/types.js";
import { type ClassifiedError, classifyDriverError } from "./driver/errors.js";
import { type ExecOptions, type ExecResult, SqlExecutionError, type SqlExecutor } from "./driver/client.js";
import { META, type TableLayout, layoutOf } from "./sql/columns.js";
import { describeTableSql, parseDescribe } from "./sql/describe.js";
import {
  type Dialect,
  type TableName,
  addColumnsSql,
  appendFastSql,
  createSchemaSql,
  createTableSql,
  ddlColumn,
  dropTableSql,
  historyMergeSql,
  mergeSql,
  mergeStageColumns,
  overwriteSwapSql,
  pruneTombstonesSql,
  selectOneSql,
  tombstoneColumns,
  tombstoneMergeSql,
} from "./sql/statements.js";
import { writeStageParquet } from "./staging/parquet.js";
import { dedupeImages, historyRows, imageRows } from "./staging/rows.js";
import { type StagingStore, newSyncDir, purgeStale, safeSegment } from "./staging/store.js";

export interface DatabricksBackendOptions {
  dialect: Dialect;
  catalog: string;
  defaultSchema: string;
  tableNameMapping?: Record<string, string>;
  tableProperties?: Record<string, string>;
  maxConcurrency: number;
  /** Stale staging directories are purged at start when older than this (default 6 h). */
  staleStagingAfterMs?: number;
  /** For check messages. */
  endpointDescription: string;
  warehouseStartTimeoutS?: number;
  now?: () => number;
}

export const DEFAULT_TABLE_PROPERTIES: Record<string, string> = {
  "delta.enableDeletionVectors": "true",
  "cdc.managed_by": "destination-databricks-delta",
};

interface TablePlan {
  name: TableName;
  layout: TableLayout;
}

interface StreamPlan {
  kind: "merge" | "history";
  deleteMode: DeleteMode;
  main: TablePlan;
  mainTomb?: TablePlan;
  temp?: TablePlan;
  tempTomb?: TablePlan;
  generationId: bigint;
}

/** A counting semaphore handing out executors from a lazily grown pool. */
class ExecutorPool {
  private readonly idle: SqlExecutor[] = [];
  private readonly all: SqlExecutor[] = [];
  private readonly waiters: ((e: SqlExecutor) => void)[] = [];
  constructor(
    private readonly make: () => SqlExecutor,
    private readonly size: number,
  ) {}
  async use<T>(fn: (e: SqlExecutor) => Promise<T>): Promise<T> {
    const e = await this.acquire();
    try {
      return await fn(e);
    } finally {
      this.release(e);
    }
  }
  private acquire(): Promise<SqlExecutor> {
    const e = this.idle.pop();
    if (e) return Promise.resolve(e);
    if (this.all.length < this.size) {
      const n = this.make();
      this.all.push(n);
      return Promise.resolve(n);
    }
    return new Promise((r) => this.waiters.push(r));
  }
  private release(e: SqlExecutor) {
    const w = this.waiters.shift();
    if (w) w(e);
    else this.idle.push(e);
  }
  async closeAll(): Promise<void> {
    await Promise.allSettled(this.all.map((e) => e.close()));
  }
}

const refKey = (r: TableRef) => `${r.namespace ?? ""}\u0000${r.name}`;

export class DatabricksBackend implements DestinationBackend {
  private readonly pool: ExecutorPool;
  private readonly streams = new Map<string, StreamPlan>();
  private readonly schemas = new Set<string>();
  /** Tombstones are pruned once per stream and sync (not again on a mid-sync re-prepare). */
  private readonly pruned = new Set<string>();
  private readonly syncDir: string;
  private stalePurged?: Promise<void>;
  private readonly props: Record<string, string>;

  constructor(
    private readonly o: DatabricksBackendOptions,
    makeExecutor: () => SqlExecutor,
    private readonly store: StagingStore,
    private readonly logger: Logger,
  ) {
    this.pool = new ExecutorPool(makeExecutor, Math.max(1, o.maxConcurrency));
    this.syncDir = newSyncDir(o.now?.() ?? Date.now());
    this.props = { ...DEFAULT_TABLE_PROPERTIES, ...o.tableProperties };
  }

  // ------------------------------------------------------------ names

  tableName(ref: TableRef): TableName {
    const mapped =
      this.o.tableNameMapping?.[ref.namespace ? `${ref.namespace}.${ref.name}` : ref.name] ?? this.o.tableNameMapping?.[ref.name];
    const table = (mapped ?? ref.name).toLowerCase();
    return {
      catalog: this.o.dialect === "spark-oss" ? "spark_catalog" : this.o.catalog.toLowerCase(),
      schema: (ref.namespace ?? this.o.defaultSchema).toLowerCase(),
      table,
    };
  }

  private exec(sql: string, opts: ExecOptions, what: string, table?: string): Promise<ExecResult> {
    return this.pool
      .use((e) => e.execute(sql, opts))
      .catch((err) => {
        throw this.toConnectorError(err, what, table);
      });
  }

  private toConnectorError(err: unknown, what: string, table?: string): ConnectorError | unknown {
    if (!(err instanceof SqlExecutionError)) return err;
    const c: ClassifiedError = err.classified;
    const where = table ? ` on ${table}` : "";
    // engines put whole stack traces into error messages: the user-facing line is the first one
    const brief = (c.message.split("\n")[0] ?? "")
      .replace(/^org\.apache\.hive\.service\.cli\.HiveSQLException: /, "")
      .slice(0, 600);
    const msg = `${what}${where} failed: ${brief}${c.sqlState ? ` (SQLSTATE ${c.sqlState})` : ""}`;
    const opts = { internal: err.message, cause: err.original };
    switch (c.class) {
      case "auth":
      case "not_found":
      case "permission":
      case "missing_object":
        return configError(msg, opts);
      case "transient":
      case "timeout":
      case "conflict":
        return transientError(`${msg} (gave up after ${err.attempts} attempts)`, opts);
      default:
        return systemError(msg, opts);
    }
  }

  // ------------------------------------------------------------ prepare

  private async ensureSchema(n: TableName): Promise<void> {
    const k = `${n.catalog}.${n.schema}`;
    if (this.schemas.has(k)) return;
    try {
      await this.pool.use((e) => e.execute(createSchemaSql(n.catalog, n.schema), { label: `create schema ${k}` }));
    } catch (e) {
      // users with USE SCHEMA but no CREATE SCHEMA: the CREATE TABLE that follows decides
      if (!(e instanceof SqlExecutionError && e.classified.class === "permission"))
        throw this.toConnectorError(e, "CREATE SCHEMA", k);
      this.logger.warn(`CREATE SCHEMA IF NOT EXISTS ${k} was refused (${e.classified.message}); assuming the schema exists`);
    }
    this.schemas.add(k);
  }

  private async describe(n: TableName): Promise<ColumnDef[] | null> {
    try {
      const r = await this.pool.use((e) => e.execute(describeTableSql(n), { rows: true, label: `describe ${n.table}` }));
      return parseDescribe(r.rows);
    } catch (e) {
      if (e instanceof SqlExecutionError && e.classified.class === "missing_object") return null;
      throw this.toConnectorError(e, "DESCRIBE TABLE", `${n.schema}.${n.table}`);
    }
  }

  /** Create or evolve one table; returns the effective layout (table names and types). */
  private async ensureTable(n: TableName, spec: TableSpec): Promise<TablePlan> {
    const label = `${n.schema}.${n.table}`;
    let existing = await this.describe(n);
    let change = planSchemaEvolution(existing, spec);
    assertSchemaChangeAllowed(change);
    if (change.create) {
      await this.exec(
        createTableSql(n, spec.columns.map(ddlColumn), { properties: this.props }),
        { label: `create ${label}` },
        "CREATE TABLE",
        label,
      );
      existing = (await this.describe(n)) ?? spec.columns;
      change = planSchemaEvolution(existing, spec);
    }
    if (change.widen.length > 0) {
      throw configError(
        `table ${label}: column type widening (${change.widen.map((w) => `${w.existing.name}→${w.to.type.kind}`).join(", ")}) is not supported by the databricks backend; reset the stream`,
      );
    }
    if (change.add.length > 0) {
      try {
        await this.exec(
          addColumnsSql(n, change.add.map(ddlColumn)),
          { label: `alter ${label}` },
          "ALTER TABLE ADD COLUMNS",
          label,
        );
      } catch (e) {
        // a rerun after an unknown outcome finds the columns already there
        const again = planSchemaEvolution(await this.describe(n), spec);
        if (again.add.length > 0) throw e;
      }
      existing = (await this.describe(n)) ?? existing;
      change = planSchemaEvolution(existing, spec);
    }
    return { name: n, layout: effectiveLayout(spec, existing ?? spec.columns) };
  }

  async prepareStream(prep: StreamPreparation): Promise<void> {
    this.stalePurged ??= purgeStale(
      this.store,
      this.syncDir,
      this.o.staleStagingAfterMs ?? 6 * 3600_000,
      this.o.now?.() ?? Date.now(),
    )
      .then((d) => {
        if (d.length > 0) this.logger.info(`purged ${d.length} stale staging directories from ${this.store.description}`);
      })
      .catch((e) => this.logger.warn(`could not purge stale staging directories: ${String(e)}`));
    await this.stalePurged;
    const kind = prep.mode === "append" || prep.mode === "append_fast" ? "history" : "merge";
    const useTemp = prep.target === "overwrite_temp" || (prep.target === undefined && prep.mode === "overwrite");
    const mainName = this.tableName(prep.table.ref);
    await this.ensureSchema(mainName);
    const main = await this.ensureTable(mainName, prep.table);
    const plan: StreamPlan = { kind, deleteMode: prep.deleteMode, main, generationId: prep.generationId };
    const hard = kind === "merge" && prep.deleteMode === "hard";
    if (hard)
      plan.mainTomb = await this.ensureTable(
        this.tableName(tombstoneTableRef(prep.table.ref)),
        tombstoneSpec(prep.table, main.layout),
      );
    if (useTemp) {
      const tref = tempTableRef(prep.table.ref, prep.generationId);
      plan.temp = await this.ensureTable(this.tableName(tref), { ...prep.table, ref: tref });
      if (hard)
        plan.tempTomb = await this.ensureTable(
          this.tableName(tombstoneTableRef(tref)),
          tombstoneSpec(prep.table, plan.temp.layout),
        );
    }
    if (hard && plan.mainTomb && !this.pruned.has(refKey(prep.table.ref))) {
      this.pruned.add(refKey(prep.table.ref));
      const days = prep.tombstoneRetentionDays ?? 7;
      const nowNs = BigInt(this.o.now?.() ?? Date.now()) * 1_000_000n;
      const before = nowNs - BigInt(Math.round(days * 86_400)) * 1_000_000_000n;
      await this.exec(
        pruneTombstonesSql(plan.mainTomb.name, before),
        { label: `prune ${mainName.table}` },
        "tombstone pruning",
        mainName.table,
      );
    }
    this.streams.set(refKey(prep.table.ref), plan);
  }

  // ------------------------------------------------------------ apply

  async apply(batch: MergeBatch): Promise<{ version?: number; rowsWritten: number }> {
    const plan = this.streams.get(refKey(batch.table.ref));
    if (!plan) throw systemError(`apply before prepareStream for ${batch.table.ref.name}`);
    const toTemp = batch.target === "overwrite_temp";
    const target = toTemp ? plan.temp : plan.main;
    const tomb = toTemp ? plan.tempTomb : plan.mainTomb;
    if (!target) throw systemError(`batch for the overwrite temp table of ${batch.table.ref.name}, which was not prepared`);
    const label = `${target.name.schema}.${target.name.table}`;
    const dir = `${this.syncDir}/${safeSegment(target.name.table)}-${safeSegment(batch.batchId)}-${randomUUID().slice(0, 8)}`;
    const l = target.layout;
    let rowsWritten: number;
    let bytes: Uint8Array;
    if (batch.kind === "merge") {
      const { images, duplicates } = dedupeImages(batch.images);
      if (duplicates > 0)
        this.logger.warn(`${label}: batch ${batch.batchId} held ${duplicates} duplicate keys; kept the newest image of each`);
      if (images.length === 0) return { rowsWritten: 0 };
      const cols = mergeStageColumns(l).map((c) => ({ ...c, type: l.stageTypes?.get(c.name) ?? c.type }));
      bytes = writeStageParquet(cols, imageRows(l, images));
      rowsWritten = images.length;
    } else {
      const { rows, duplicates } = historyRows(l, batch.rows);
      if (duplicates > 0) this.logger.debug(`${label}: ${duplicates} duplicate history rows dropped`);
      if (rows.length === 0) return { rowsWritten: 0 };
      const cols = l.all.map((c) => ({ name: c.name, nullable: true, type: l.stageTypes?.get(c.name) ?? c.type }));
      bytes = writeStageParquet(cols, rows);
      rowsWritten = rows.length;
    }
    try {
      await this.store.put(dir, `part-${randomUUID()}.parquet`, bytes);
    } catch (e) {
      const c = classifyDriverError(e);
      const msg = `staging upload to ${this.store.description} failed: ${c.message}`;
      throw c.class === "auth" || c.class === "permission" || c.class === "not_found"
        ? configError(msg, { cause: e })
        : transientError(msg, { cause: e });
    }
    const source = this.store.source(dir);
    try {
      if (batch.kind === "merge") {
        if (batch.deleteMode === "hard") {
          if (!tomb) throw systemError(`hard delete mode without a prepared tombstone table for ${label}`);
          await this.exec(
            tombstoneMergeSql(tomb.name, l, source),
            { label: `tombstones ${label} ${batch.batchId}` },
            "tombstone MERGE",
            label,
          );
          await this.exec(
            mergeSql({ target: target.name, layout: l, source, deleteMode: "hard", tombstones: tomb.name }),
            { label: `merge ${label} ${batch.batchId}` },
            "MERGE",
            label,
          );
        } else {
          await this.exec(
            mergeSql({ target: target.name, layout: l, source, deleteMode: "soft" }),
            { label: `merge ${label} ${batch.batchId}` },
            "MERGE",
            label,
          );
        }
      } else if (batch.idempotent) {
        await this.exec(
          historyMergeSql(target.name, l, source),
          { label: `history ${label} ${batch.batchId}` },
          "history MERGE",
          label,
        );
      } else {
        const sql = appendFastSql(this.o.dialect, target.name, l, source);
        // spark-oss INSERT is not idempotent: never rerun it blindly (COPY INTO skips loaded files)
        await this.exec(
          sql,
          { label: `append ${label} ${batch.batchId}`, noRetry: this.o.dialect === "spark-oss" },
          "append",
          label,
        );
      }
    } finally {
      await this.store
        .purge(dir)
        .catch((e) => this.logger.warn(`could not purge staging ${dir}: ${String(e)} (swept at a later start)`));
    }
    return { rowsWritten };
  }

  // ------------------------------------------------------------ finish (overwrite swap)

  async finishStream(prep: StreamPreparation): Promise<void> {
    const plan = this.streams.get(refKey(prep.table.ref));
    if (!plan?.temp) return;
    const label = `${plan.main.name.schema}.${plan.main.name.table}`;
    const swap = async (main: TablePlan, temp: TablePlan) => {
      const mainCols = new Set(main.layout.all.map((c) => c.name.toLowerCase()));
      const cols = temp.layout.all.map((c) => c.name).filter((c) => mainCols.has(c.toLowerCase()));
      await this.exec(
        overwriteSwapSql(main.name, temp.name, cols),
        { label: `swap ${main.name.table}` },
        "overwrite swap",
        label,
      );
    };
    await swap(plan.main, plan.temp);
    if (plan.mainTomb && plan.tempTomb) await swap(plan.mainTomb, plan.tempTomb);
    for (const t of [plan.temp, plan.tempTomb]) {
      if (t) await this.exec(dropTableSql(t.name), { label: `drop ${t.name.table}` }, "DROP TABLE", t.name.table);
    }
    this.streams.set(refKey(prep.table.ref), { ...plan, temp: undefined, tempTomb: undefined } as StreamPlan);
  }

  // ------------------------------------------------------------ check

  async check(): Promise<void> {
    const { checkDatabricks } = await import("./check.js");
    await checkDatabricks(this, this.checkContext());
  }

  /** @internal for check.ts */
  checkContext() {
    return {
      options: this.o,
      store: this.store,
      exec: (sql: string, opts: ExecOptions = {}) => this.pool.use((e) => e.execute(sql, opts)),
      props: this.props,
    };
  }

  async close(): Promise<void> {
    await this.pool.closeAll();
  }
}

/** The table's view of a spec: table names (case), table types (placeholders), staging types. */
export function effectiveLayout(spec: TableSpec, existing: readonly ColumnDef[]): TableLayout {
  const byLower = new Map(existing.map((c) => [c.name.toLowerCase(), c]));
  const stageTypes = new Map<string, DeltaType>();
  const specNames = new Map<string, string>();
  const columns = spec.columns.map((c) => {
    const ex = byLower.get(c.name.toLowerCase());
    if (!ex) return c;
    if (ex.name !== c.name) specNames.set(ex.name, c.name);
    const sameType = JSON.stringify(ex.type) === JSON.stringify(c.type);
    if (!sameType) stageTypes.set(ex.name, c.type);
    return { ...c, name: ex.name, type: sameType ? c.type : ex.type };
  });
  const keyColumns = spec.keyColumns.map((k) => byLower.get(k.toLowerCase())?.name ?? k);
  const l = layoutOf({ ...spec, columns, keyColumns });
  return { ...l, ...(stageTypes.size ? { stageTypes } : {}), ...(specNames.size ? { specNames } : {}) };
}

function tombstoneSpec(spec: TableSpec, l: TableLayout): TableSpec {
  const cols = tombstoneColumns(l);
  return {
    ref: tombstoneTableRef(spec.ref),
    keyColumns: l.keys.map((k) => k.name),
    columns: cols.map((c) => ({
      name: c.name,
      sourceName: c.name,
      type: c.type,
      nullable: c.nullable,
      family: null,
      keyIndex: l.keys.findIndex((k) => k.name === c.name) >= 0 ? l.keys.findIndex((k) => k.name === c.name) : null,
      metadata: {},
    })),
  };
}

export { META, COL_FAMILY, selectOneSql };
