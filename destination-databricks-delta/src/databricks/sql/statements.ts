/**
 * Statement builders for both dialects (destination-delta.md §3 P4–P6, §6). Pure string builders:
 * identifiers through `quoteIdent`, the few literals through `sqlString`/`sqlInt`; explicit column
 * lists everywhere; every staged column CAST to its target type; every MERGE clause HLC-guarded.
 */
import type { ColumnDef, DeleteMode } from "../../plan/types.js";
import { META, META_TYPES, STAGE, type SqlColumn, type TableLayout, hasColumn } from "./columns.js";
import { quoteIdent, quotePathIdent, quoteParts, sqlInt, sqlString } from "./quote.js";
import { sqlType } from "./types.js";

export type Dialect = "databricks" | "spark-oss";

/** A three-part table name; spark-oss uses catalog `spark_catalog`. */
export interface TableName {
  catalog: string;
  schema: string;
  table: string;
}

export const renderTable = (n: TableName): string => quoteParts(n.catalog, n.schema, n.table);

/** Where a batch's staged parquet files are, as the engine reads them. */
export type StageSource =
  /** databricks: a UC volume directory (`/Volumes/c/s/v/...`) or an external cloud URI. */
  | { kind: "read_files"; uri: string }
  /** spark-oss: a directory path readable by the Spark driver/executors. */
  | { kind: "parquet_dir"; path: string };

export function sourceSql(src: StageSource): string {
  return src.kind === "read_files"
    ? `read_files(${sqlString(src.uri)}, format => 'parquet')`
    : `parquet.${quotePathIdent(src.path)}`;
}

const q = quoteIdent;
const col = (alias: string, name: string) => `${alias}.${q(name)}`;

// ---------------------------------------------------------------- DDL

export interface CreateTableOptions {
  properties?: Record<string, string>;
  comment?: string;
}

export function createSchemaSql(catalog: string, schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteParts(catalog, schema)}`;
}

function columnDdl(c: SqlColumn): string {
  const meta = c.metadata && Object.keys(c.metadata).length > 0 ? ` COMMENT ${sqlString(JSON.stringify(c.metadata))}` : "";
  return `${q(c.name)} ${sqlType(c.type)}${c.nullable ? "" : " NOT NULL"}${meta}`;
}

function propertiesSql(props: Record<string, string> | undefined): string {
  const entries = Object.entries(props ?? {});
  if (entries.length === 0) return "";
  return ` TBLPROPERTIES (${entries.map(([k, v]) => `${sqlString(k)} = ${sqlString(v)}`).join(", ")})`;
}

export function createTableSql(name: TableName, columns: SqlColumn[], opts: CreateTableOptions = {}): string {
  if (columns.length === 0) throw new Error("CREATE TABLE needs columns");
  const comment = opts.comment === undefined ? "" : ` COMMENT ${sqlString(opts.comment)}`;
  return `CREATE TABLE IF NOT EXISTS ${renderTable(name)} (${columns.map(columnDdl).join(", ")}) USING DELTA${comment}${propertiesSql(opts.properties)}`;
}

/** New columns are always nullable (Delta cannot add NOT NULL columns to existing rows); no DEFAULT. */
export function addColumnsSql(name: TableName, columns: SqlColumn[]): string {
  if (columns.length === 0) throw new Error("ADD COLUMNS needs columns");
  return `ALTER TABLE ${renderTable(name)} ADD COLUMNS (${columns.map((c) => columnDdl({ ...c, nullable: true })).join(", ")})`;
}

/** Column introspection: the result schema of an empty SELECT (works on every engine). */
export function probeColumnsSql(name: TableName): string {
  return `SELECT * FROM ${renderTable(name)} LIMIT 0`;
}

export function dropTableSql(name: TableName): string {
  return `DROP TABLE IF EXISTS ${renderTable(name)}`;
}

// ---------------------------------------------------------------- staged columns

/** Columns of a merge batch's staged parquet, in file order. */
export function mergeStageColumns(l: TableLayout): SqlColumn[] {
  return [
    ...l.keys.map(toSql),
    ...l.users.map((c) => ({ ...toSql(c), nullable: true })),
    { name: META.updated, type: META_TYPES[META.updated]!, nullable: false },
    { name: META.wall, type: META_TYPES[META.wall]!, nullable: false },
    { name: META.logical, type: META_TYPES[META.logical]!, nullable: false },
    { name: META.deletedAt, type: META_TYPES[META.deletedAt]!, nullable: true },
    { name: META.rawId, type: META_TYPES[META.rawId]!, nullable: false },
    { name: META.extractedAt, type: META_TYPES[META.extractedAt]!, nullable: false },
    { name: META.meta, type: META_TYPES[META.meta]!, nullable: false },
    { name: META.generation, type: META_TYPES[META.generation]!, nullable: true },
    { name: STAGE.op, type: { kind: "string" }, nullable: false },
    { name: STAGE.present, type: { kind: "string" }, nullable: false },
    { name: STAGE.latest, type: { kind: "string" }, nullable: false },
    { name: STAGE.reset, type: { kind: "boolean" }, nullable: false },
  ];
}

function toSql(c: ColumnDef): SqlColumn {
  return { name: c.name, type: c.type, nullable: c.nullable };
}

/** DDL view of a ColumnDef: metadata (original name, placeholder flag) kept as a JSON column comment. */
export function ddlColumn(c: ColumnDef): SqlColumn {
  return {
    name: c.name,
    type: c.type,
    nullable: c.nullable,
    ...(Object.keys(c.metadata).length > 0 ? { metadata: c.metadata } : {}),
  };
}

/** `SELECT CAST(s.`c` AS T) AS `c`, … FROM <source> AS s` — the typed, explicitly listed source. */
export function castedSource(cols: SqlColumn[], src: StageSource, alias = "s0"): string {
  const list = cols.map((c) => `CAST(${col(alias, c.name)} AS ${sqlType(c.type)}) AS ${q(c.name)}`).join(", ");
  return `SELECT ${list} FROM ${sourceSql(src)} AS ${alias}`;
}

// ---------------------------------------------------------------- guards

/** ge(a, b): a is at least as new as b (P3). */
export function guardGe(a: string, b: string): string {
  return `(${col(a, META.wall)} > ${col(b, META.wall)} OR (${col(a, META.wall)} = ${col(b, META.wall)} AND ${col(a, META.logical)} >= ${col(b, META.logical)}))`;
}

/** gt(a, b): a is strictly newer than b. */
export function guardGt(a: string, b: string): string {
  return `(${col(a, META.wall)} > ${col(b, META.wall)} OR (${col(a, META.wall)} = ${col(b, META.wall)} AND ${col(a, META.logical)} > ${col(b, META.logical)}))`;
}

const keyJoin = (keys: ColumnDef[], a: string, b: string) =>
  keys.map((k) => `${col(a, k.name)} = ${col(b, k.name)}`).join(" AND ");

/** Metadata columns copied from the image on every applied clause (besides `_cdc_deleted_at`). */
function copiedMeta(l: TableLayout): string[] {
  return [META.updated, META.wall, META.logical, META.rawId, META.extractedAt, META.meta, META.generation].filter((m) =>
    hasColumn(l, m),
  );
}

// ---------------------------------------------------------------- MERGE (P5)

export interface MergeSqlInput {
  target: TableName;
  layout: TableLayout;
  source: StageSource;
  deleteMode: DeleteMode;
  /** hard mode: the companion `<table>__cdc_tombstones`. */
  tombstones?: TableName;
}

/**
 * The main-table MERGE. soft: deletes become tombstone rows; hard: `THEN DELETE`, upserts not newer
 * than a stored tombstone are filtered out of the source, deletes of unknown keys insert nothing.
 */
export function mergeSql(m: MergeSqlInput): string {
  const { layout: l } = m;
  const stage = mergeStageColumns(l);
  const names = stage.map((c) => q(c.name)).join(", ");
  let using: string;
  if (m.deleteMode === "hard") {
    if (!m.tombstones) throw new Error("hard delete mode needs the tombstone table");
    using =
      `SELECT ${names} FROM (${castedSource(stage, m.source)}) AS s1 WHERE NOT (${col("s1", STAGE.op)} = 'upsert' AND EXISTS (` +
      `SELECT 1 FROM ${renderTable(m.tombstones)} AS d WHERE ${keyJoin(l.keys, "d", "s1")} AND ${guardGe("d", "s1")}))`;
  } else {
    using = castedSource(stage, m.source);
  }
  const ge = guardGe("s", "t");
  const gt = guardGt("s", "t");
  const metaSets = copiedMeta(l).map((c) => `t.${q(c)} = ${col("s", c)}`);
  const hasDeletedAt = hasColumn(l, META.deletedAt);

  const upsertSets = l.users.map(
    (c, i) =>
      `t.${q(c.name)} = CASE WHEN substr(${col("s", STAGE.present)}, ${i + 1}, 1) = '1' AND (${gt} OR substr(${col("s", STAGE.latest)}, ${i + 1}, 1) = '1') THEN ${col("s", c.name)} ` +
      `WHEN ${col("s", STAGE.reset)} AND ${gt} THEN NULL ELSE ${col("t", c.name)} END`,
  );
  if (hasDeletedAt) upsertSets.push(`t.${q(META.deletedAt)} = NULL`);
  upsertSets.push(...metaSets);

  const insertCols = [...l.keys, ...l.users].map((c) => c.name);
  if (hasDeletedAt) insertCols.push(META.deletedAt);
  insertCols.push(...copiedMeta(l));

  const parts = [`MERGE INTO ${renderTable(m.target)} AS t`, `USING (${using}) AS s`, `ON ${keyJoin(l.keys, "t", "s")}`];
  if (m.deleteMode === "soft") {
    const deleteSets = [
      ...l.users.map((c) => `t.${q(c.name)} = NULL`),
      ...(hasDeletedAt ? [`t.${q(META.deletedAt)} = ${col("s", META.deletedAt)}`] : []),
      ...metaSets,
    ];
    parts.push(`WHEN MATCHED AND ${col("s", STAGE.op)} = 'delete' AND ${ge} THEN UPDATE SET ${deleteSets.join(", ")}`);
  } else {
    parts.push(`WHEN MATCHED AND ${col("s", STAGE.op)} = 'delete' AND ${ge} THEN DELETE`);
  }
  parts.push(`WHEN MATCHED AND ${col("s", STAGE.op)} = 'upsert' AND ${ge} THEN UPDATE SET ${upsertSets.join(", ")}`);
  parts.push(
    `WHEN NOT MATCHED${m.deleteMode === "hard" ? ` AND ${col("s", STAGE.op)} = 'upsert'` : ""} THEN INSERT (${insertCols.map(q).join(", ")}) VALUES (${insertCols.map((c) => col("s", c)).join(", ")})`,
  );
  return parts.join("\n");
}

/** Columns of the companion tombstone table (hard mode). */
export function tombstoneColumns(l: TableLayout): SqlColumn[] {
  return [
    ...l.keys.map(toSql),
    { name: META.updated, type: META_TYPES[META.updated]!, nullable: false },
    { name: META.wall, type: META_TYPES[META.wall]!, nullable: false },
    { name: META.logical, type: META_TYPES[META.logical]!, nullable: false },
    { name: META.deletedAt, type: META_TYPES[META.deletedAt]!, nullable: false },
    { name: META.generation, type: META_TYPES[META.generation]!, nullable: true },
  ];
}

/** Hard mode, first statement: guarded upsert of the batch's deletes into the tombstone table. */
export function tombstoneMergeSql(tomb: TableName, l: TableLayout, source: StageSource): string {
  const stage = mergeStageColumns(l);
  const cols = tombstoneColumns(l).map((c) => c.name);
  const nonKey = cols.filter((c) => !l.keys.some((k) => k.name === c));
  return [
    `MERGE INTO ${renderTable(tomb)} AS t`,
    `USING (SELECT ${cols.map(q).join(", ")} FROM (${castedSource(stage, source)}) AS s1 WHERE ${col("s1", STAGE.op)} = 'delete') AS s`,
    `ON ${keyJoin(l.keys, "t", "s")}`,
    `WHEN MATCHED AND ${guardGe("s", "t")} THEN UPDATE SET ${nonKey.map((c) => `t.${q(c)} = ${col("s", c)}`).join(", ")}`,
    `WHEN NOT MATCHED THEN INSERT (${cols.map(q).join(", ")}) VALUES (${cols.map((c) => col("s", c)).join(", ")})`,
  ].join("\n");
}

/** Prune tombstones whose HLC wall time (ns) is older than `beforeWallNanos`. */
export function pruneTombstonesSql(tomb: TableName, beforeWallNanos: bigint): string {
  return `DELETE FROM ${renderTable(tomb)} WHERE ${q(META.wall)} < ${sqlInt(beforeWallNanos)}`;
}

// ---------------------------------------------------------------- history (P6 append)

/** `append`: insert-only MERGE on (pk, wall, logical, family) — replay-safe. */
export function historyMergeSql(target: TableName, l: TableLayout, source: StageSource): string {
  const cols = l.all.map(toSql);
  const names = cols.map((c) => c.name);
  const on = [
    keyJoin(l.keys, "t", "s"),
    `${col("t", META.wall)} = ${col("s", META.wall)}`,
    `${col("t", META.logical)} = ${col("s", META.logical)}`,
    `${col("t", META.family)} <=> ${col("s", META.family)}`,
  ].join(" AND ");
  return [
    `MERGE INTO ${renderTable(target)} AS t`,
    `USING (${castedSource(cols, source)}) AS s`,
    `ON ${on}`,
    `WHEN NOT MATCHED THEN INSERT (${names.map(q).join(", ")}) VALUES (${names.map((c) => col("s", c)).join(", ")})`,
  ].join("\n");
}

/**
 * `append_fast`: databricks `COPY INTO` (skips already-loaded files, so a rerun of the same batch is
 * safe); spark-oss has no COPY INTO: plain `INSERT INTO` (duplicates on replay, as documented).
 */
export function appendFastSql(dialect: Dialect, target: TableName, l: TableLayout, source: StageSource): string {
  const cols = l.all.map(toSql);
  const names = cols.map((c) => q(c.name)).join(", ");
  if (dialect === "databricks") {
    if (source.kind !== "read_files") throw new Error("databricks COPY INTO needs a read_files location");
    const casts = cols.map((c) => `CAST(${q(c.name)} AS ${sqlType(c.type)}) AS ${q(c.name)}`).join(", ");
    return `COPY INTO ${renderTable(target)} FROM (SELECT ${casts} FROM ${sqlString(source.uri)}) FILEFORMAT = PARQUET`;
  }
  return `INSERT INTO ${renderTable(target)} (${names}) ${castedSource(cols, source)}`;
}

// ---------------------------------------------------------------- overwrite (P6)

/**
 * Atomic swap of the overwrite temp table into the target: one `INSERT OVERWRITE` (a single Delta
 * commit replacing all rows; the target keeps its properties, constraints and history), then the
 * temp is dropped by the caller.
 */
export function overwriteSwapSql(target: TableName, temp: TableName, columns: string[]): string {
  const names = columns.map(q).join(", ");
  return `INSERT OVERWRITE TABLE ${renderTable(target)} (${names}) SELECT ${names} FROM ${renderTable(temp)}`;
}

/** Trivial query for connectivity checks. */
export const selectOneSql = "SELECT 1 AS `ok`";
