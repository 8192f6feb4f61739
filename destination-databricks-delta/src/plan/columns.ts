/**
 * The project's metadata columns (destination-delta.md §2) and their definitions. Every backend
 * writes them under these exact names; user columns may not collide with them (case-insensitive).
 */
import type { ColumnDef, DeltaType } from "./types.js";

export const COL_UPDATED = "_cdc_updated";
export const COL_UPDATED_WALL = "_cdc_updated_wall";
export const COL_UPDATED_LOGICAL = "_cdc_updated_logical";
export const COL_DELETED_AT = "_cdc_deleted_at";
export const COL_OP = "_cdc_op";
export const COL_FAMILY = "_cdc_family";
export const COL_RAW_ID = "_airbyte_raw_id";
export const COL_EXTRACTED_AT = "_airbyte_extracted_at";
export const COL_META = "_airbyte_meta";
export const COL_GENERATION_ID = "_airbyte_generation_id";

/** Record fields that carry CDC metadata rather than user columns. */
export const CDC_RECORD_FIELDS: ReadonlySet<string> = new Set([COL_OP, COL_UPDATED, COL_FAMILY]);

/** Every name reserved by the project (lowercase), user columns must not use them. */
export const RESERVED_COLUMNS: ReadonlySet<string> = new Set(
  [
    COL_UPDATED,
    COL_UPDATED_WALL,
    COL_UPDATED_LOGICAL,
    COL_DELETED_AT,
    COL_OP,
    COL_FAMILY,
    COL_RAW_ID,
    COL_EXTRACTED_AT,
    COL_META,
    COL_GENERATION_ID,
  ].map((c) => c.toLowerCase()),
);

/** Suffix of the companion tombstone table (hard delete mode). */
export const TOMBSTONE_SUFFIX = "__cdc_tombstones";

const meta = (name: string, type: DeltaType, nullable: boolean): ColumnDef => ({
  name,
  sourceName: name,
  type,
  nullable,
  family: null,
  keyIndex: null,
  metadata: {},
});

export interface MetadataColumnOptions {
  /** soft delete mode (merge tables only): `_cdc_deleted_at`. */
  softDelete: boolean;
  /** history tables (append modes): `_cdc_op`, `_cdc_family`. */
  history: boolean;
}

/** Metadata columns in table order, after the user columns. */
export function metadataColumns(opts: MetadataColumnOptions): ColumnDef[] {
  const cols: ColumnDef[] = [
    meta(COL_UPDATED, { kind: "string" }, false),
    meta(COL_UPDATED_WALL, { kind: "long" }, false),
    meta(COL_UPDATED_LOGICAL, { kind: "integer" }, false),
  ];
  if (opts.softDelete && !opts.history) cols.push(meta(COL_DELETED_AT, { kind: "timestamp" }, true));
  if (opts.history) cols.push(meta(COL_OP, { kind: "string" }, true), meta(COL_FAMILY, { kind: "string" }, true));
  cols.push(
    meta(COL_RAW_ID, { kind: "string" }, false),
    meta(COL_EXTRACTED_AT, { kind: "timestamp" }, false),
    meta(COL_META, { kind: "string" }, false),
    meta(COL_GENERATION_ID, { kind: "long" }, true),
  );
  return cols;
}

export function isMetadataColumn(name: string): boolean {
  return RESERVED_COLUMNS.has(name.toLowerCase());
}
