/**
 * From a configured catalog stream to what the destination does with it: the write mode, the target
 * TableSpec (user columns typed by plan/type-map, then metadata columns), how each record field is
 * coerced, and the StreamPreparation handed to the backend. Mode and generation rules of
 * destination-delta.md §3 P6 and airbyte-protocol.md §4.
 */
import { type ConfiguredAirbyteStream, configError, descriptorKey } from "@cdc-delta/shared";
import { CDC_RECORD_FIELDS, isMetadataColumn, metadataColumns } from "./columns.js";
import {
  assertDistinctTables,
  META_ORIGINAL_NAME,
  META_PLACEHOLDER,
  META_SOURCE_TYPE,
  sanitizeColumnName,
  tableRef,
} from "./names.js";
import { type ColumnType, columnTypeOf, type PropertySchema } from "./type-map.js";
import type { ColumnDef, DeleteMode, StreamPreparation, TableSpec, WriteMode } from "./types.js";

export interface FieldPlan {
  column: ColumnDef;
  type: ColumnType;
}

export interface StreamPlan {
  name: string;
  namespace: string | null;
  /** descriptorKey(name, namespace): how states and records find the stream. */
  streamKey: string;
  mode: WriteMode;
  /** true: records fold per key into merge batches; false: one history row per record. */
  merge: boolean;
  deleteMode: DeleteMode;
  syncMode: "full_refresh" | "incremental";
  prep: StreamPreparation;
  /** Same object as prep.table; grows when placeholders are added mid-sync. */
  table: TableSpec;
  /** Record fields by source name. */
  fields: Map<string, FieldPlan>;
  keySourceNames: string[];
  keyNames: string[];
  generationId: bigint;
  syncId: bigint | null;
  warnings: string[];
}

export interface PlanOptions {
  deleteMode: DeleteMode;
  tombstoneRetentionDays: number;
}

const ssd = (cs: ConfiguredAirbyteStream) => {
  const ns = cs.stream.namespace ?? null;
  return { name: cs.stream.name, namespace: ns, label: descriptorKey({ name: cs.stream.name, namespace: ns }) };
};

function primaryKey(cs: ConfiguredAirbyteStream, label: string): string[] {
  const pk = cs.primary_key && cs.primary_key.length > 0 ? cs.primary_key : (cs.stream.source_defined_primary_key ?? []);
  return pk.map((path) => {
    if (path.length !== 1 || typeof path[0] !== "string") {
      throw configError(`stream "${label}": primary key path ${JSON.stringify(path)} is not a top-level field`);
    }
    return path[0];
  });
}

export function planStream(cs: ConfiguredAirbyteStream, opts: PlanOptions): StreamPlan {
  const { name, namespace, label } = ssd(cs);
  const dsm = cs.destination_sync_mode;
  if (dsm === "update" || dsm === "soft_delete") {
    throw configError(
      `stream "${label}": destination_sync_mode "${dsm}" is not supported (use append, append_dedup or overwrite)`,
    );
  }
  const gen = cs.generation_id ?? 0;
  const minGen = cs.minimum_generation_id ?? 0;
  if (minGen !== 0 && minGen !== gen) {
    throw configError(
      `stream "${label}": minimum_generation_id ${minGen} with generation_id ${gen} asks for a hybrid refresh, which is not supported (minimum must be 0 or equal to generation_id)`,
    );
  }
  const truncate = minGen > 0 && minGen === gen;
  const keySourceNames = primaryKey(cs, label);
  if (dsm === "append_dedup" && keySourceNames.length === 0) {
    throw configError(
      `stream "${label}": append_dedup needs a primary key (configured primary_key or source_defined_primary_key)`,
    );
  }
  const warnings: string[] = [];
  const mode: WriteMode = dsm;
  const merge = dsm === "append_dedup" || (dsm === "overwrite" && keySourceNames.length > 0);
  if (dsm === "overwrite" && cs.sync_mode === "incremental") {
    warnings.push(
      `stream "${label}": incremental source with overwrite destination: the table will keep only this sync's changes (use append_dedup to keep the full table)`,
    );
  }
  if (dsm === "overwrite" && keySourceNames.length === 0) {
    warnings.push(`stream "${label}": overwrite without a primary key keeps one row per record (history)`);
  }
  const props = (cs.stream.json_schema.properties ?? {}) as Record<string, PropertySchema>;
  for (const k of keySourceNames) {
    if (!(k in props)) throw configError(`stream "${label}": primary key field "${k}" is not in the stream schema`);
  }
  const fields = new Map<string, FieldPlan>();
  const lowerNames = new Map<string, string>();
  const makeColumn = (source: string, prop: PropertySchema, keyIndex: number | null): FieldPlan => {
    const { name: colName, changed } = sanitizeColumnName(source);
    const lower = colName.toLowerCase();
    if (isMetadataColumn(colName)) {
      throw configError(`stream "${label}": field "${source}" collides with the destination's metadata column ${colName}`);
    }
    const other = lowerNames.get(lower);
    if (other !== undefined) {
      throw configError(
        `stream "${label}": fields "${other}" and "${source}" map to the same column name (column names match case-insensitively)`,
      );
    }
    lowerNames.set(lower, source);
    const type = columnTypeOf(prop);
    const metadata: Record<string, string> = {};
    if (changed) metadata[META_ORIGINAL_NAME] = source;
    const ann = prop["x-cockroachdb"];
    if (ann?.type) metadata[META_SOURCE_TYPE] = ann.type;
    const column: ColumnDef = {
      name: colName,
      sourceName: source,
      type: type.type,
      nullable: keyIndex === null,
      family: ann?.family ?? null,
      keyIndex,
      metadata,
    };
    return { column, type };
  };
  const userColumns: ColumnDef[] = [];
  keySourceNames.forEach((k, i) => {
    const fp = makeColumn(k, props[k] as PropertySchema, i);
    fields.set(k, fp);
    userColumns.push(fp.column);
  });
  for (const [source, prop] of Object.entries(props)) {
    if (CDC_RECORD_FIELDS.has(source) || fields.has(source)) continue;
    const fp = makeColumn(source, prop ?? {}, null);
    fields.set(source, fp);
    userColumns.push(fp.column);
  }
  const history = !merge;
  const table: TableSpec = {
    ref: tableRef(name, namespace),
    columns: [...userColumns, ...metadataColumns({ softDelete: opts.deleteMode === "soft", history })],
    keyColumns: keySourceNames.map((k) => (fields.get(k) as FieldPlan).column.name),
  };
  const target = dsm === "overwrite" || truncate ? "overwrite_temp" : "main";
  const syncId = cs.sync_id === undefined || cs.sync_id === null ? null : BigInt(cs.sync_id);
  const prep: StreamPreparation = {
    table,
    mode,
    deleteMode: opts.deleteMode,
    generationId: BigInt(gen),
    truncate,
    tombstoneRetentionDays: opts.tombstoneRetentionDays,
    target,
    ...(syncId === null ? {} : { syncId }),
  };
  return {
    name,
    namespace,
    streamKey: label,
    mode,
    merge,
    deleteMode: opts.deleteMode,
    syncMode: cs.sync_mode,
    prep,
    table,
    fields,
    keySourceNames,
    keyNames: table.keyColumns,
    generationId: BigInt(gen),
    syncId,
    warnings,
  };
}

/** Plans for every configured stream; two streams on one table is a config error. */
export function planCatalog(streams: ConfiguredAirbyteStream[], opts: PlanOptions): StreamPlan[] {
  const plans = streams.map((s) => planStream(s, opts));
  const keys = new Set<string>();
  for (const p of plans) {
    if (keys.has(p.streamKey)) throw configError(`stream "${p.streamKey}" is configured twice`);
    keys.add(p.streamKey);
  }
  assertDistinctTables(plans.map((p) => ({ stream: p.streamKey, ref: p.table.ref })));
  return plans;
}

/**
 * A field first seen in a record mid-sync (P7): a nullable STRING placeholder, flagged in column
 * metadata, inserted before the metadata columns. Returns the new field plan; the caller must let
 * the backend evolve the table (prepareStream) before the next batch of this stream.
 */
export function addPlaceholder(plan: StreamPlan, source: string, family: string | null): FieldPlan {
  const { name: colName, changed } = sanitizeColumnName(source);
  const lower = colName.toLowerCase();
  if (isMetadataColumn(colName)) {
    throw configError(
      `stream "${plan.streamKey}": record field "${source}" collides with the destination's metadata column ${colName}`,
    );
  }
  for (const c of plan.table.columns) {
    if (c.name.toLowerCase() === lower) {
      throw configError(
        `stream "${plan.streamKey}": record field "${source}" collides with column "${c.name}" (column names match case-insensitively)`,
      );
    }
  }
  const metadata: Record<string, string> = { [META_PLACEHOLDER]: "true" };
  if (changed) metadata[META_ORIGINAL_NAME] = source;
  const column: ColumnDef = {
    name: colName,
    sourceName: source,
    type: { kind: "string" },
    nullable: true,
    family,
    keyIndex: null,
    metadata,
  };
  const firstMeta = plan.table.columns.findIndex((c) => isMetadataColumn(c.name));
  const at = firstMeta < 0 ? plan.table.columns.length : firstMeta;
  // A new TableSpec object: batches already handed out keep the spec they were built with.
  const table: TableSpec = {
    ...plan.table,
    columns: [...plan.table.columns.slice(0, at), column, ...plan.table.columns.slice(at)],
  };
  plan.table = table;
  plan.prep = { ...plan.prep, table };
  const fp: FieldPlan = { column, type: { type: { kind: "string" }, coerce: "string", label: "STRING (placeholder)" } };
  plan.fields.set(source, fp);
  return fp;
}
