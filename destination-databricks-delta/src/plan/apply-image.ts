/**
 * THE merge result (destination-delta.md §3 P2–P4), as a pure function over one key. Every backend
 * must produce exactly what `applyImage` produces for each key of a batch: the embedded writer calls
 * it row by row, the SQL backends are tested against it (plan/memory-backend.ts runs it).
 *
 * Guard (P3): an image applies only if ge(image.hlc, stored hlc); older images are no-ops (replays),
 * equal ones are re-applied (one HLC may straddle two flushes).
 * Family scope (P2): an upsert writes only `present` columns; other columns keep stored values.
 * Re-insert (P4): `reset` and gt(image, stored) NULL every user column outside `present`.
 * Equal HLC: only `image.latest` columns are written (families folded at exactly that HLC).
 * hard deletes (P4): the tombstone is written (guarded by ge against the old tombstone) and the row
 * removed (guarded by ge against the row); an upsert not strictly newer (gt) than the tombstone is
 * dropped, so a replayed older upsert never resurrects a deleted row.
 * soft deletes: the row stays with user columns NULL and `_cdc_deleted_at` = delete wall time (µs);
 * a delete of an unknown key inserts such a tombstone row; an upsert (ge) clears `_cdc_deleted_at`.
 */
import { compareHlc, formatHlc, type Hlc } from "@cdc-delta/shared";
import {
  COL_DELETED_AT,
  COL_EXTRACTED_AT,
  COL_GENERATION_ID,
  COL_META,
  COL_RAW_ID,
  COL_UPDATED,
  COL_UPDATED_LOGICAL,
  COL_UPDATED_WALL,
  isMetadataColumn,
} from "./columns.js";
import type { Cell, DeleteMode, Image, KeyState, StoredRow, TableSpec, Tombstone } from "./types.js";

/** The HLC stored in a row's `_cdc_updated_wall` / `_cdc_updated_logical`. */
export function rowHlc(row: StoredRow): Hlc {
  const wall = row[COL_UPDATED_WALL];
  const logical = row[COL_UPDATED_LOGICAL];
  if (typeof wall !== "bigint" || typeof logical !== "number") {
    throw new Error(`stored row lacks ${COL_UPDATED_WALL}/${COL_UPDATED_LOGICAL}`);
  }
  return { wall, logical };
}

/** Delete time of an image: its HLC wall time in microseconds (floor). */
export function deletedAtMicros(hlc: Hlc): bigint {
  return hlc.wall / 1000n;
}

/** A soft-mode tombstone row is not a live row. */
export function isLiveRow(row: StoredRow | null): boolean {
  return row !== null && (row[COL_DELETED_AT] ?? null) === null;
}

function metadataCells(image: Image, deleteMode: DeleteMode, deleted: boolean): StoredRow {
  const out: StoredRow = {
    [COL_UPDATED]: formatHlc(image.hlc),
    [COL_UPDATED_WALL]: image.hlc.wall,
    [COL_UPDATED_LOGICAL]: image.hlc.logical,
    [COL_RAW_ID]: image.rawId,
    [COL_EXTRACTED_AT]: image.extractedAtMicros,
    [COL_META]: image.airbyteMeta,
    [COL_GENERATION_ID]: image.generationId,
  };
  if (deleteMode === "soft") out[COL_DELETED_AT] = deleted ? deletedAtMicros(image.hlc) : null;
  return out;
}

/** A row with every column of `table` NULL (empty object without a table). */
function blankRow(table: TableSpec | undefined): StoredRow {
  const row: StoredRow = {};
  if (table) for (const c of table.columns) row[c.name] = null;
  return row;
}

function userColumns(row: StoredRow, table: TableSpec | undefined): string[] {
  const names = new Set<string>();
  if (table) for (const c of table.columns) if (!isMetadataColumn(c.name)) names.add(c.name);
  for (const k of Object.keys(row)) if (!isMetadataColumn(k)) names.add(k);
  return [...names];
}

function writeUpsert(stored: StoredRow | null, image: Image, deleteMode: DeleteMode, table: TableSpec | undefined): StoredRow {
  const row = stored ? { ...stored } : blankRow(table);
  if (stored && image.reset && compareHlc(image.hlc, rowHlc(stored)) > 0) {
    for (const c of userColumns(row, table)) if (!image.present.has(c)) row[c] = null;
  }
  const latestOnly = stored !== null && image.latest !== undefined && compareHlc(image.hlc, rowHlc(stored)) === 0;
  for (const [c, v] of image.values) if (!latestOnly || image.latest?.has(c)) row[c] = v;
  return Object.assign(row, metadataCells(image, deleteMode, false));
}

function softTombstoneRow(stored: StoredRow | null, image: Image, table: TableSpec | undefined): StoredRow {
  const row = stored ? { ...stored } : blankRow(table);
  for (const [c, v] of image.values) row[c] = v; // key columns
  for (const c of userColumns(row, table)) if (!image.present.has(c)) row[c] = null;
  return Object.assign(row, metadataCells(image, "soft", true));
}

/**
 * The state of one key after applying one image. Pure: never mutates its inputs. With `table`, new
 * rows carry every column of the table (NULL when absent); without, only the columns seen.
 */
export function applyImage(state: KeyState, image: Image, deleteMode: DeleteMode, table?: TableSpec): KeyState {
  const { row, tombstone } = state;
  const rowGuard = row === null || compareHlc(image.hlc, rowHlc(row)) >= 0;
  if (deleteMode === "soft") {
    if (!rowGuard) return state;
    return {
      row: image.op === "delete" ? softTombstoneRow(row, image, table) : writeUpsert(row, image, "soft", table),
      tombstone,
    };
  }
  if (image.op === "delete") {
    const newTomb: Tombstone =
      tombstone === null || compareHlc(image.hlc, tombstone.hlc) >= 0
        ? { hlc: image.hlc, deletedAtMicros: deletedAtMicros(image.hlc), generationId: image.generationId }
        : tombstone;
    return { row: rowGuard ? null : row, tombstone: newTomb };
  }
  if (tombstone !== null && compareHlc(image.hlc, tombstone.hlc) <= 0) return state;
  if (!rowGuard) return state;
  return { row: writeUpsert(row, image, "hard", table), tombstone };
}

/** Hard mode: drop a tombstone older than the retention (P4; retention > the source's replay window). */
export function pruneTombstone(state: KeyState, nowMicros: bigint, retentionDays: number): KeyState {
  if (state.tombstone === null) return state;
  const limit = nowMicros - BigInt(Math.round(retentionDays * 86_400)) * 1_000_000n;
  return state.tombstone.deletedAtMicros < limit ? { row: state.row, tombstone: null } : state;
}

/** Serialise a key (cells in key order) to a Map key; distinct typed values give distinct strings. */
export function keyString(key: readonly Cell[]): string {
  let out = "";
  for (const c of key) {
    if (c === null) out += "N;";
    else if (typeof c === "bigint") out += `i${c};`;
    else if (typeof c === "number") out += `n${c};`;
    else if (typeof c === "boolean") out += c ? "T;" : "F;";
    else if (typeof c === "string") out += `s${c.length}:${c};`;
    else out += `b${Buffer.from(c).toString("hex")};`;
  }
  return out;
}
