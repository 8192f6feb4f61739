import * as C from "../../plan/columns.js";
import type { ColumnDef, DeltaType, TableSpec } from "../../plan/types.js";
import { SqlTextError } from "./quote.js";

/** Project metadata columns (destination-delta.md §2; names owned by plan/columns.ts). */
export const META = {
  updated: C.COL_UPDATED,
  wall: C.COL_UPDATED_WALL,
  logical: C.COL_UPDATED_LOGICAL,
  deletedAt: C.COL_DELETED_AT,
  op: C.COL_OP,
  family: C.COL_FAMILY,
  rawId: C.COL_RAW_ID,
  extractedAt: C.COL_EXTRACTED_AT,
  meta: C.COL_META,
  generation: C.COL_GENERATION_ID,
} as const;

export const METADATA_COLUMNS: ReadonlySet<string> = new Set(Object.values(META));

/** Staging-only control columns (never target columns). */
export const STAGE = { op: "_cdc_op", present: "_cdc_present", latest: "_cdc_latest", reset: "_cdc_reset" } as const;

export const META_TYPES: Record<string, DeltaType> = {
  [META.updated]: { kind: "string" },
  [META.wall]: { kind: "long" },
  [META.logical]: { kind: "integer" },
  [META.deletedAt]: { kind: "timestamp" },
  [META.op]: { kind: "string" },
  [META.family]: { kind: "string" },
  [META.rawId]: { kind: "string" },
  [META.extractedAt]: { kind: "timestamp" },
  [META.meta]: { kind: "string" },
  [META.generation]: { kind: "long" },
};

export interface SqlColumn {
  name: string;
  type: DeltaType;
  nullable: boolean;
  /** DDL only: stored as a JSON column comment. */
  metadata?: Record<string, string>;
}

/** A table spec split into the roles the statement builders need. */
export interface TableLayout {
  keys: ColumnDef[];
  /** Non-key user columns in table order; `_cdc_present` position i+1 is `users[i]`. */
  users: ColumnDef[];
  /** Metadata columns present in the spec, in table order. */
  meta: ColumnDef[];
  all: ColumnDef[];
  /** Type of the staged Parquet column when it differs from the table's (placeholders); CAST in SQL. */
  stageTypes?: ReadonlyMap<string, DeltaType>;
  /** Table column name → spec (image) column name when they differ in case. */
  specNames?: ReadonlyMap<string, string>;
}

export function layoutOf(spec: TableSpec): TableLayout {
  const byName = new Map(spec.columns.map((c) => [c.name, c]));
  const lower = new Map<string, string>();
  for (const c of spec.columns) {
    const k = c.name.toLowerCase();
    const prev = lower.get(k);
    if (prev !== undefined)
      throw new SqlTextError(`columns ${JSON.stringify(prev)} and ${JSON.stringify(c.name)} collide case-insensitively`);
    lower.set(k, c.name);
  }
  const keys = spec.keyColumns.map((k) => {
    const c = byName.get(k);
    if (!c) throw new SqlTextError(`key column ${JSON.stringify(k)} is not a column of the table`);
    return c;
  });
  if (keys.length === 0) throw new SqlTextError(`table ${spec.ref.name} has no key columns`);
  const keySet = new Set(spec.keyColumns);
  const users: ColumnDef[] = [];
  const meta: ColumnDef[] = [];
  for (const c of spec.columns) {
    if (keySet.has(c.name)) continue;
    if (METADATA_COLUMNS.has(c.name)) meta.push(c);
    else if (c.name === STAGE.present || c.name === STAGE.reset || c.name === STAGE.latest) {
      throw new SqlTextError(`column name ${c.name} is reserved by the destination`);
    } else users.push(c);
  }
  for (const required of [META.updated, META.wall, META.logical]) {
    if (!byName.has(required)) throw new SqlTextError(`table ${spec.ref.name} lacks ${required}`);
  }
  return { keys, users, meta, all: spec.columns };
}

export const hasColumn = (l: TableLayout, name: string): boolean => l.all.some((c) => c.name === name);
