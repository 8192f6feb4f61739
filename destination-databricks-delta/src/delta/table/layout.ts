/**
 * Table specs -> Delta fields, the companion tables' shapes (`<table>__cdc_tombstones`,
 * `<table>__tmp_g<generation>`), and which columns carry statistics.
 */
import {
  COL_DELETED_AT,
  COL_GENERATION_ID,
  COL_UPDATED,
  COL_UPDATED_LOGICAL,
  COL_UPDATED_WALL,
  TOMBSTONE_SUFFIX,
} from "../../plan/columns.js";
import type { ColumnDef, StoredRow, TableSpec, Tombstone } from "../../plan/types.js";
import { formatHlc } from "@cdc-delta/shared";
import type { DeltaField } from "../log/schema.js";

export function fieldsOf(columns: readonly ColumnDef[]): DeltaField[] {
  return columns.map((c) => ({
    name: c.name,
    type: c.type,
    nullable: c.keyIndex !== null ? false : c.nullable,
    metadata: { ...c.metadata },
  }));
}

export function statsColumnsOf(spec: TableSpec): Set<string> {
  return new Set([...spec.keyColumns, COL_UPDATED_WALL]);
}

export function tombstoneSpec(spec: TableSpec): TableSpec {
  const keyCols = spec.keyColumns.map((k) => {
    const c = spec.columns.find((x) => x.name === k);
    if (!c) throw new Error(`key column ${k} missing from table ${spec.ref.name}`);
    return { ...c, nullable: false, family: null };
  });
  const meta = (name: string, type: ColumnDef["type"], nullable: boolean): ColumnDef => ({
    name,
    sourceName: name,
    type,
    nullable,
    family: null,
    keyIndex: null,
    metadata: {},
  });
  return {
    ref: { namespace: spec.ref.namespace, name: `${spec.ref.name}${TOMBSTONE_SUFFIX}` },
    keyColumns: [...spec.keyColumns],
    columns: [
      ...keyCols,
      meta(COL_UPDATED, { kind: "string" }, false),
      meta(COL_UPDATED_WALL, { kind: "long" }, false),
      meta(COL_UPDATED_LOGICAL, { kind: "integer" }, false),
      meta(COL_DELETED_AT, { kind: "timestamp" }, false),
      meta(COL_GENERATION_ID, { kind: "long" }, true),
    ],
  };
}

export function tempTableName(name: string, generationId: bigint): string {
  return `${name}__tmp_g${generationId}`;
}

export function tombstoneToRow(keyColumns: readonly string[], key: readonly StoredRow[string][], t: Tombstone): StoredRow {
  const row: StoredRow = {};
  keyColumns.forEach((k, i) => {
    row[k] = key[i] ?? null;
  });
  row[COL_UPDATED] = formatHlc(t.hlc);
  row[COL_UPDATED_WALL] = t.hlc.wall;
  row[COL_UPDATED_LOGICAL] = t.hlc.logical;
  row[COL_DELETED_AT] = t.deletedAtMicros;
  row[COL_GENERATION_ID] = t.generationId;
  return row;
}

export function rowToTombstone(row: StoredRow): Tombstone {
  const wall = row[COL_UPDATED_WALL];
  const logical = row[COL_UPDATED_LOGICAL];
  const at = row[COL_DELETED_AT];
  const gen = row[COL_GENERATION_ID];
  if (typeof wall !== "bigint" || typeof logical !== "number") throw new Error("tombstone row lacks its HLC");
  return {
    hlc: { wall, logical },
    deletedAtMicros: typeof at === "bigint" ? at : wall / 1000n,
    generationId: typeof gen === "bigint" ? gen : 0n,
  };
}
