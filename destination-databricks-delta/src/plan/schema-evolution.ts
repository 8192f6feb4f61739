/**
 * P7 schema evolution planning (destination-delta.md §3): diff the table a backend found against
 * the TableSpec it was asked to prepare. Backends call this in prepareStream and execute the plan
 * (create; ADD COLUMNS before any MERGE; placeholder re-type by CAST rewrite; widening only where
 * supported) or throw the config errors. Dropped columns stay (NULL in new rows); nothing is ever
 * dropped. Names match case-insensitively.
 */
import { configError } from "@cdc-delta/shared";
import { COL_UPDATED_LOGICAL, COL_UPDATED_WALL } from "./columns.js";
import { META_PLACEHOLDER } from "./names.js";
import { deltaTypeName } from "./type-map.js";
import type { ColumnDef, DeltaType, TableSpec } from "./types.js";

export interface SchemaChange {
  /** The table does not exist: create it with every column of the spec. */
  create: boolean;
  /** Columns to add (nullable), in spec order, before any data that needs them. */
  add: ColumnDef[];
  /** Existing STRING placeholders to re-type once to their discovered type (CAST rewrite). */
  retypePlaceholders: { existing: ColumnDef; to: ColumnDef }[];
  /** Safe widenings (INT→BIGINT, FLOAT→DOUBLE, DECIMAL growing): ALTER COLUMN TYPE or CAST rewrite. */
  widen: { existing: ColumnDef; to: ColumnDef }[];
  /** Existing columns absent from the spec: kept, NULL in new rows. */
  kept: ColumnDef[];
  /** Spec columns whose table column differs only in case: write to the table's name. */
  caseMapped: { existing: ColumnDef; spec: ColumnDef }[];
  /** Spec placeholders whose table column already has a type: write with a CAST to that type. */
  placeholderOverTyped: { existing: ColumnDef; spec: ColumnDef }[];
  /** Unsupported changes (narrowing, incompatible types, missing key/metadata columns). */
  errors: string[];
  /** Nothing to do. */
  unchanged: boolean;
}

const sameType = (a: DeltaType, b: DeltaType) => deltaTypeName(a) === deltaTypeName(b);

/** Is `to` a lossless widening of `from` (destination-delta.md §3 P7)? */
export function isWidening(from: DeltaType, to: DeltaType): boolean {
  if (from.kind === "integer" && to.kind === "long") return true;
  if ((from.kind === "integer" || from.kind === "long") && to.kind === "decimal") {
    return to.precision - to.scale >= (from.kind === "integer" ? 10 : 19);
  }
  if (from.kind === "decimal" && to.kind === "decimal") {
    return to.scale >= from.scale && to.precision - to.scale >= from.precision - from.scale && !sameType(from, to);
  }
  if (from.kind === "integer" && to.kind === "double") return true;
  if (from.kind === "date" && to.kind === "timestamp_ntz") return true;
  return false;
}

export const isPlaceholder = (c: ColumnDef): boolean => c.metadata[META_PLACEHOLDER] === "true";

export function planSchemaEvolution(existing: readonly ColumnDef[] | null, spec: TableSpec): SchemaChange {
  const out: SchemaChange = {
    create: existing === null,
    add: [],
    retypePlaceholders: [],
    widen: [],
    kept: [],
    caseMapped: [],
    placeholderOverTyped: [],
    errors: [],
    unchanged: false,
  };
  if (existing === null) return out;
  const table = `${spec.ref.namespace ? `${spec.ref.namespace}.` : ""}${spec.ref.name}`;
  const byLower = new Map(existing.map((c) => [c.name.toLowerCase(), c]));
  for (const req of [COL_UPDATED_WALL, COL_UPDATED_LOGICAL]) {
    if (!byLower.has(req))
      out.errors.push(`table ${table} lacks ${req}: it was not created by this destination; refusing to write to it`);
  }
  const specLower = new Set<string>();
  for (const col of spec.columns) {
    const lower = col.name.toLowerCase();
    specLower.add(lower);
    const ex = byLower.get(lower);
    if (!ex) {
      if (col.keyIndex !== null)
        out.errors.push(`table ${table} lacks primary key column ${col.name}; the key cannot change without a reset`);
      else if (!col.nullable) out.errors.push(`table ${table} lacks the required column ${col.name}`);
      else out.add.push(col);
      continue;
    }
    if (ex.name !== col.name) out.caseMapped.push({ existing: ex, spec: col });
    if (sameType(ex.type, col.type)) continue;
    if (isPlaceholder(col)) {
      out.placeholderOverTyped.push({ existing: ex, spec: col });
    } else if (isPlaceholder(ex) && ex.type.kind === "string") {
      out.retypePlaceholders.push({ existing: ex, to: col });
    } else if (isWidening(ex.type, col.type)) {
      out.widen.push({ existing: ex, to: col });
    } else {
      out.errors.push(
        `table ${table} column ${ex.name} is ${deltaTypeName(ex.type)} but the catalog now says ${deltaTypeName(col.type)}: narrowing or incompatible type changes need a reset of the stream`,
      );
    }
  }
  for (const ex of existing) if (!specLower.has(ex.name.toLowerCase())) out.kept.push(ex);
  out.unchanged =
    out.add.length === 0 && out.retypePlaceholders.length === 0 && out.widen.length === 0 && out.errors.length === 0;
  return out;
}

/** Throw the plan's errors as one config error. */
export function assertSchemaChangeAllowed(change: SchemaChange): void {
  if (change.errors.length > 0) throw configError(change.errors.join("; "));
}
