/**
 * discover: one stream per table. Schema sources, in precedence order: the CockroachDB catalog over
 * pg, `_metadata/schema.json` (seed layout), Parquet file schemas, inference from JSON rows (`key`
 * values matched to `after` columns). Columns are the union over sources, families and versions.
 */
import {
  type AirbyteCatalog,
  type AirbyteStream,
  configError,
  isLosslessNumber,
  type Logger,
  numberText,
  parseJsonLossless,
} from "@cdc-delta/shared";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import type { SourceConfig } from "../config.js";
import { decompressStream } from "../decode/compression.js";
import { parseLine, readJsonLines } from "../decode/json.js";
import { type Feed, findFeeds } from "../layout/feeds.js";
import { classify, type DataFile } from "../layout/names.js";
import { openStore } from "../storage/index.js";
import type { ObjectStore } from "../storage/types.js";
import { connect, type SqlClient, tableSchemaFromSql } from "./pg.js";
import { parseShowCreateTable } from "./show-create.js";
import { type ColumnInfo, inferDdlType, NON_FINITE_NUMBER, streamJsonSchema, type TableSchema, UNKNOWN_ARRAY } from "./types.js";

const SAMPLE_ROWS = 2000;

interface TableScan {
  table: string;
  families: Set<string | null>;
  samples: DataFile[];
  formats: Set<string>;
}

export async function scanFeed(store: ObjectStore, tables: string[]): Promise<Map<string, TableScan>> {
  const out = new Map<string, TableScan>();
  const perGroup = new Map<string, DataFile[]>();
  for await (const o of store.list({})) {
    const c = classify(o.key, o.size);
    if (c.kind !== "data") continue;
    if (tables.length && !tables.includes(c.table)) continue;
    let t = out.get(c.table);
    if (!t) out.set(c.table, (t = { table: c.table, families: new Set(), samples: [], formats: new Set() }));
    t.families.add(c.family);
    t.formats.add(c.format);
    const g = `${c.table}\u0000${c.family}\u0000${c.schemaId}`;
    const list = perGroup.get(g) ?? [];
    // First two files and the latest of every (table, family, schema version).
    if (list.length < 2) list.push(c);
    else list[2] = c;
    perGroup.set(g, list);
  }
  for (const [g, files] of perGroup) out.get(g.split("\u0000")[0] as string)?.samples.push(...files);
  return out;
}

function mergeType(a: string | undefined, b: string | undefined): string | undefined {
  if (!a || a === UNKNOWN_ARRAY) return b ?? a;
  if (!b || a === b || b === UNKNOWN_ARRAY) return a;
  if (a === NON_FINITE_NUMBER) return isNumericDdl(b) ? b : "STRING";
  if (b === NON_FINITE_NUMBER) return isNumericDdl(a) ? a : "STRING";
  if (a === "BYTES" || b === "BYTES") return "STRING";
  if (a.endsWith("[]") && b.endsWith("[]")) return `${mergeType(a.slice(0, -2), b.slice(0, -2))}[]`;
  const num = ["INT8", "DECIMAL", "FLOAT8"];
  if (num.includes(a) && num.includes(b))
    return a === "FLOAT8" || b === "FLOAT8" ? (a === "DECIMAL" || b === "DECIMAL" ? "DECIMAL" : "FLOAT8") : "DECIMAL";
  if (a === "JSONB" || b === "JSONB") return "JSONB";
  return "STRING";
}

async function inferFromJson(store: ObjectStore, scan: TableScan): Promise<TableSchema> {
  const cols = new Map<string, { type?: string; family: string | null; order: number }>();
  let pkCandidates: string[][] | undefined;
  let order = 0;
  let keyArity = 0;
  for (const f of scan.samples.filter((x) => x.format === "ndjson")) {
    let rows = 0;
    for await (const batch of readJsonLines(decompressStream(await store.read(f.key), f.codec), f.key)) {
      for (const r of batch) {
        keyArity = r.key.length;
        if (!r.after) continue;
        // Exact values (the fast path's parsed image may round big numbers).
        if (r.afterText !== undefined) r.after = parseLine(r.afterText) as typeof r.after;
        for (const [k, v] of Object.entries(r.after)) {
          const c = cols.get(k) ?? { family: f.family, order: order++ };
          c.type = mergeType(c.type, inferDdlType(v));
          cols.set(k, c);
        }
        const cands = r.key.map((kv) =>
          Object.keys(r.after ?? {}).filter((col) => sameValue((r.after as Record<string, unknown>)[col], kv)),
        );
        if (cands.every((x) => x.length > 0)) {
          pkCandidates = pkCandidates ? pkCandidates.map((prev, i) => prev.filter((x) => cands[i]?.includes(x))) : cands;
        }
        if (++rows >= SAMPLE_ROWS) break;
      }
      if (rows >= SAMPLE_ROWS) break;
    }
  }
  const pk: string[] = [];
  if (pkCandidates?.every((c) => c.length > 0)) {
    for (const c of pkCandidates) {
      const pick = c.find((x) => !pk.includes(x));
      if (pick) pk.push(pick);
    }
  }
  if (pk.length !== keyArity) pk.length = 0;
  const families = [...scan.families].filter((f): f is string => f !== null);
  const primaryFamily = families.length
    ? (families.find((f) => pk.length > 0 && pk.every((k) => cols.get(k)?.family === f)) ??
      (families.includes("primary") ? "primary" : null))
    : null;
  const columns: ColumnInfo[] = [...cols.entries()]
    .sort((a, b) => a[1].order - b[1].order)
    .map(([name, c]) => ({ name, type: finalType(c.type), nullable: !pk.includes(name), family: c.family }));
  return { table: scan.table, columns, primaryKey: pk, primaryFamily, source: "json" };
}

function isNumericDdl(t: string): boolean {
  return t === "INT8" || t === "DECIMAL" || t === "FLOAT8";
}

/** Inference leftovers: only non-finite numbers seen → FLOAT8; only empty arrays → STRING[]; nothing → STRING. */
function finalType(t: string | undefined): string {
  if (t === NON_FINITE_NUMBER) return "FLOAT8";
  if (t === UNKNOWN_ARRAY) return "STRING[]";
  return t ?? "STRING";
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const num = (x: unknown) =>
    typeof x === "number" || typeof x === "bigint" ? String(x) : isLosslessNumber(x) ? numberText(x as never) : undefined;
  const na = num(a);
  return na !== undefined && na === num(b);
}

function parquetDdl(el: {
  type?: string;
  type_length?: number;
  converted_type?: string;
  logical_type?: { type: string; unit?: string };
  precision?: number;
  scale?: number;
}): string {
  if (el.converted_type === "DECIMAL" || el.logical_type?.type === "DECIMAL") {
    const p = el.precision ?? 0;
    const s = el.scale ?? 0;
    if (p >= 2147483647 || p === 0) return "DECIMAL";
    return `DECIMAL(${p},${s === p ? 0 : s})`;
  }
  if (el.logical_type?.type === "UUID" || (el.type === "FIXED_LEN_BYTE_ARRAY" && el.type_length === 16)) return "UUID";
  if (el.logical_type?.type === "TIME" || el.converted_type === "TIME_MICROS") return "TIME";
  if (el.converted_type === "UTF8" || el.logical_type?.type === "STRING" || el.converted_type === "ENUM") return "STRING";
  if (el.converted_type === "JSON") return "JSONB";
  switch (el.type) {
    case "INT32":
      return "INT4";
    case "INT64":
      return "INT8";
    case "FLOAT":
      return "FLOAT4";
    case "DOUBLE":
      return "FLOAT8";
    case "BOOLEAN":
      return "BOOL";
    case "BYTE_ARRAY":
      return "BYTES";
    default:
      return "STRING";
  }
}

function textType(v: string): string | null {
  if (/^\d{4,}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}(:\d{2})?$/.test(v)) return "TIMESTAMPTZ";
  if (/^\d{4,}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/.test(v)) return "TIMESTAMP";
  if (/^\d{4,}-\d{2}-\d{2}$/.test(v)) return "DATE";
  if (/^\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}(:\d{2})?$/.test(v)) return "TIMETZ";
  try {
    JSON.parse(v);
    return /^[[{]/.test(v) ? "JSONB" : "JSONB?";
  } catch {
    return null;
  }
}

async function fromParquet(store: ObjectStore, scan: TableScan): Promise<TableSchema | undefined> {
  const files = scan.samples.filter((x) => x.format === "parquet");
  if (!files.length) return undefined;
  const columns: ColumnInfo[] = [];
  for (const f of files) {
    const chunks: Buffer[] = [];
    for await (const c of await store.read(f.key)) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    let md: ReturnType<typeof parquetMetadata>;
    try {
      md = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
    } catch (e) {
      throw configError(`${f.key}: corrupt or truncated Parquet file (${(e as Error).message})`);
    }
    const s = md.schema;
    let i = 1;
    for (let c = 0; c < (s[0]?.num_children ?? 0); c++) {
      const el = s[i];
      if (!el) break;
      let leaf = el;
      let j = i + 1;
      let isList = false;
      if ((el.num_children ?? 0) > 0) {
        isList = true;
        let depth = el.num_children ?? 0;
        while (j < s.length && depth > 0) {
          const x = s[j] as typeof el;
          depth += (x.num_children ?? 0) - 1;
          if (!x.num_children) leaf = x;
          j++;
        }
      }
      i = j;
      if (el.name.startsWith("__crdb__")) continue;
      if (columns.some((x) => x.name === el.name)) continue;
      const ddl = parquetDdl(leaf as never);
      columns.push({ name: el.name, type: isList ? `${ddl}[]` : ddl, nullable: true, family: f.family });
    }
  }
  // Parquet types are physical: refine text columns from sampled values, and infer the primary key
  // from delete rows (they carry only key values, changefeed-files.md §6), in table order.
  const refined = new Map<string, string | null>();
  const deleteKeys = new Set<string>();
  let deletes = 0;
  for (const f of files.slice(0, 24)) {
    const chunks: Buffer[] = [];
    for await (const c of await store.read(f.key)) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    const rows = (await parquetReadObjects({ file: ab, rowEnd: SAMPLE_ROWS, compressors })) as Record<string, unknown>[];
    for (const r of rows) {
      if (r.__crdb__event_type === "d") {
        const nonNull = Object.keys(r).filter((k) => !k.startsWith("__crdb__") && r[k] !== null && r[k] !== undefined);
        if (deletes++ === 0) for (const k of nonNull) deleteKeys.add(k);
        else for (const k of [...deleteKeys]) if (!nonNull.includes(k)) deleteKeys.delete(k);
        continue;
      }
      for (const c of columns) {
        if (c.type !== "STRING") continue;
        const v = r[c.name];
        if (typeof v !== "string") continue;
        const guess = textType(v);
        const prev = refined.get(c.name);
        // "JSONB?" (a JSON scalar) is compatible with JSONB; JSONB needs one object/array.
        const merged =
          prev === undefined
            ? guess
            : prev === guess
              ? prev
              : (prev === "JSONB" && guess === "JSONB?") || (prev === "JSONB?" && guess === "JSONB")
                ? "JSONB"
                : null;
        refined.set(c.name, merged);
      }
    }
  }
  for (const c of columns) {
    const g = refined.get(c.name);
    if (g && g !== "JSONB?") c.type = g;
  }
  const primaryKey = deletes > 0 ? columns.filter((c) => deleteKeys.has(c.name)).map((c) => c.name) : [];
  return { table: scan.table, columns, primaryKey, primaryFamily: null, source: "parquet" };
}

async function fromSchemaJson(root: ObjectStore, feed: Feed, table: string): Promise<TableSchema | undefined> {
  if (!feed.schemaJsonKey) return undefined;
  const info = await root.stat(feed.schemaJsonKey);
  if (!info) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of await root.read(feed.schemaJsonKey)) chunks.push(c as Buffer);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (e) {
    throw configError(`${feed.schemaJsonKey}: not valid JSON (${(e as Error).message})`);
  }
  const cols = Array.isArray(doc.columns) ? (doc.columns as Record<string, unknown>[]) : [];
  let families: TableSchema | undefined;
  if (typeof doc.create_statement === "string" && doc.create_statement) {
    try {
      families = parseShowCreateTable(doc.create_statement, table);
    } catch {
      families = undefined;
    }
  }
  const pk = Array.isArray(doc.primary_keys) ? (doc.primary_keys as unknown[]).map(String) : (families?.primaryKey ?? []);
  const columns: ColumnInfo[] = cols.map((c) => ({
    name: String(c.name),
    type: String(c.type ?? "STRING"),
    nullable: c.nullable !== false,
    family: families?.columns.find((x) => x.name === c.name)?.family ?? null,
  }));
  return { table, columns, primaryKey: pk, primaryFamily: families?.primaryFamily ?? null, source: "schema.json" };
}

/** Merge schema sources; the first has precedence for types, keys and families. */
export function mergeSchemas(table: string, sources: (TableSchema | undefined)[]): TableSchema {
  const present = sources.filter((s): s is TableSchema => !!s);
  const columns: ColumnInfo[] = [];
  for (const s of present) {
    for (const c of s.columns) {
      const existing = columns.find((x) => x.name === c.name);
      if (!existing) columns.push({ ...c });
      else if (existing.family === null && c.family !== null) existing.family = c.family;
    }
  }
  const primaryKey = present.find((s) => s.primaryKey.length)?.primaryKey ?? [];
  const primaryFamily = present.find((s) => s.primaryFamily)?.primaryFamily ?? null;
  for (const c of columns) if (primaryKey.includes(c.name)) c.nullable = false;
  return {
    table,
    columns,
    primaryKey,
    primaryFamily,
    source: present.length === 1 ? (present[0] as TableSchema).source : "merged",
  };
}

export function toAirbyteStream(name: string, t: TableSchema, pkOverride: string[] | undefined): AirbyteStream {
  const pk = pkOverride ?? t.primaryKey;
  const schema = { ...t, primaryKey: pk };
  const stream: Record<string, unknown> = {
    name,
    json_schema: streamJsonSchema(schema),
    supported_sync_modes: ["full_refresh", "incremental"],
    source_defined_cursor: true,
    default_cursor_field: ["_cdc_updated"],
    is_resumable: true,
  };
  if (pk.length) stream.source_defined_primary_key = pk.map((k) => [k]);
  return stream as AirbyteStream;
}

export async function discover(config: SourceConfig, logger: Logger, storeOverride?: ObjectStore): Promise<AirbyteCatalog> {
  const root = storeOverride ?? (await openStore(config.storage));
  const feeds = await findFeeds(root, config.layout);
  let sql: SqlClient | undefined;
  if (config.cockroachdb) sql = await connect(config.cockroachdb.connection_string, config.cockroachdb.timeout_seconds);
  const streams: AirbyteStream[] = [];
  try {
    for (const feed of feeds) {
      const scans = await scanFeed(feed.store, feed.layout === "seed" ? [] : config.tables);
      if (feed.layout === "seed" && config.tables.length && !config.tables.includes(feed.targetTable as string)) continue;
      for (const scan of scans.values()) {
        const name = feed.layout === "seed" ? (feed.targetTable as string) : scan.table;
        if (streams.some((s) => s.name === name))
          throw configError(`two feeds map to the stream name ${name}; filter tables or use separate connections`);
        const fromSql = sql ? await tableSchemaFromSql(sql, scan.table) : undefined;
        if (sql && !fromSql) logger.warn(`table ${scan.table} not found over the CockroachDB connection; using the files`);
        const merged = mergeSchemas(scan.table, [
          fromSql,
          await fromSchemaJson(root, feed, scan.table),
          await fromParquet(feed.store, scan),
          await inferFromJson(feed.store, scan),
        ]);
        if (merged.primaryKey.length === 0 && !config.primary_keys[name])
          logger.warn(`stream ${name}: primary key unknown; set primary_keys.${name} (required for Parquet feeds and deletes)`);
        streams.push(toAirbyteStream(name, merged, config.primary_keys[name]));
      }
    }
  } finally {
    await sql?.end();
  }
  if (streams.length === 0)
    logger.warn(
      `no changefeed data files found under ${root.description}${config.tables.length ? ` for tables ${config.tables.join(", ")}` : ""}`,
    );
  void parseJsonLossless;
  return { streams };
}
