/**
 * The backend-neutral merge contract: "what to merge" (built by plan/) is handed to a backend that
 * knows "how to execute it" (delta/ = embedded Delta writer, databricks/ = SQL warehouse).
 * `applyImage` (plan/apply-image.ts) defines the result of every merge and is the oracle for the
 * backends' tests.
 */
import type { Hlc } from "@cdc-delta/shared";

/** Delta column types this destination writes (destination-delta.md §2). */
export type DeltaType =
  | { kind: "long" }
  | { kind: "integer" }
  | { kind: "double" }
  | { kind: "boolean" }
  | { kind: "string" }
  | { kind: "binary" }
  | { kind: "date" }
  | { kind: "timestamp" }
  | { kind: "timestamp_ntz" }
  | { kind: "decimal"; precision: number; scale: number };

/**
 * A typed cell. Per DeltaType: long → bigint; integer → number; double → number (NaN/±Infinity
 * allowed); boolean → boolean; string → string; binary → Uint8Array; date → number (days since
 * 1970-01-01); timestamp / timestamp_ntz → bigint (microseconds since epoch, UTC); decimal → bigint
 * (unscaled value at the column's scale). null = SQL NULL.
 */
export type Cell = null | boolean | number | bigint | string | Uint8Array;

export interface ColumnDef {
  /** Column name as written to the table (sanitised; see plan/names). */
  name: string;
  /** Name of the field in record.data it comes from. */
  sourceName: string;
  type: DeltaType;
  nullable: boolean;
  /** Column family (null: single-family table, or a metadata column). */
  family: string | null;
  /** Position in the primary key (0-based ordinal order), or null. */
  keyIndex: number | null;
  /** Stored in Delta column metadata (e.g. original name, `cdc.placeholder`). */
  metadata: Record<string, string>;
}

/** Target table identity; `path` segments are sanitised already. */
export interface TableRef {
  namespace: string | null;
  name: string;
}

export interface TableSpec {
  ref: TableRef;
  /** User columns (keys first, in ordinal order) then the project's metadata columns, in table order. */
  columns: ColumnDef[];
  /** Names of key columns, ordinal order. */
  keyColumns: string[];
}

export type DeleteMode = "hard" | "soft";
export type WriteMode = "append_dedup" | "append" | "append_fast" | "overwrite";

/**
 * One folded change of one key within a buffer (destination-delta.md §3 P1): `values` has a typed
 * cell for every `present` user column; `reset` = an upsert followed a delete in this buffer.
 * Column names are table names (ColumnDef.name). `present`/`values` always include the key
 * columns (a delete image: only them). `hlc` = highest folded fragment (delete or upsert).
 * Metadata columns are not in `values`: they derive from hlc/rawId/extractedAtMicros/... (see
 * plan/columns.ts and plan/apply-image.ts).
 */
export interface Image {
  key: Cell[];
  op: "upsert" | "delete";
  hlc: Hlc;
  present: ReadonlySet<string>;
  values: ReadonlyMap<string, Cell>;
  reset: boolean;
  /**
   * Added later (optional; absent = all of `present`): the present columns whose fragments are at
   * exactly `hlc` (keys included). When the stored row's HLC EQUALS image.hlc, only these columns
   * are written: a replayed slice cut in the middle of one HLC may hold an older version of a
   * family whose newer version (same HLC as the row) is already stored. SQL: a second mask
   * `_cdc_latest`; `SET c = CASE WHEN present(c) AND (gt(s,t) OR latest(c)) THEN s.c ...`.
   */
  latest?: ReadonlySet<string>;
  /** Metadata of the newest folded fragment. */
  rawId: string;
  extractedAtMicros: bigint;
  airbyteMeta: string;
  generationId: bigint;
}

/** A stored row: every column of the table by name (user + metadata columns). */
export type StoredRow = Record<string, Cell>;

export interface Tombstone {
  hlc: Hlc;
  deletedAtMicros: bigint;
  generationId: bigint;
}

/** What the tables hold for one key: the main-table row and (hard mode) its tombstone. */
export interface KeyState {
  row: StoredRow | null;
  tombstone: Tombstone | null;
}

/** One fragment as a history row (append modes): all columns + `_cdc_op`, `_cdc_family`. */
export interface HistoryRow {
  values: StoredRow;
}

/** A unit of work for a backend: one contiguous slice of one stream, applied in one commit. */
export type MergeBatch =
  | {
      kind: "merge";
      table: TableSpec;
      deleteMode: DeleteMode;
      images: Image[];
      target: "main" | "overwrite_temp";
      batchId: string;
    }
  | {
      kind: "history";
      table: TableSpec;
      rows: HistoryRow[];
      /** true: insert-only MERGE on (pk, _cdc_updated_wall, _cdc_updated_logical, _cdc_family <=>). */
      idempotent: boolean;
      batchId: string;
      /** Added later (optional): "overwrite_temp" = append + truncate (min gen == gen) goes to the temp table. Absent = "main". */
      target?: "main" | "overwrite_temp";
    };

export interface StreamPreparation {
  table: TableSpec;
  mode: WriteMode;
  deleteMode: DeleteMode;
  generationId: bigint;
  /** minimum_generation_id == generation_id (> 0): the stream's data replaces older generations. */
  truncate: boolean;
  /** Added later (optional): hard mode, prune tombstones older than this many days (default 7). */
  tombstoneRetentionDays?: number;
  /** Added later (optional): Airbyte sync_id of this sync, if the catalog gave one. */
  syncId?: bigint;
  /**
   * Added later (optional): where merge batches of this stream go. "overwrite_temp" for overwrite,
   * and for append_dedup/append with truncate; the temp table replaces the target in finishStream.
   */
  target?: "main" | "overwrite_temp";
}

export interface DestinationBackend {
  /**
   * Create or evolve the target (and tombstone / temp tables); never concurrently with a merge of it.
   * Called once per stream before its first batch, and AGAIN mid-sync (between two batches of the
   * stream, never concurrently) when records brought columns missing in the catalog: the spec is
   * then a superset with nullable STRING placeholders inserted before the metadata columns
   * (metadata `cdc.placeholder: "true"`).
   * Use plan/schema-evolution.ts `planSchemaEvolution(existingColumns, spec)` to diff.
   */
  prepareStream(prep: StreamPreparation): Promise<void>;
  /** Apply one batch; resolves only once it is durable (a committed Delta version). */
  apply(batch: MergeBatch): Promise<{ version?: number; rowsWritten: number }>;
  /** End of a stream's input in this sync (overwrite: atomic swap of the temp table). */
  finishStream(prep: StreamPreparation): Promise<void>;
  /** Verify connectivity/permissions end to end (check command). */
  check(): Promise<void>;
  close(): Promise<void>;
}
