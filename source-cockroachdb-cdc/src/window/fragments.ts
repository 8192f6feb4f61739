/**
 * From a window's sorted changes of one stream to emitted fragments: dedupe by (HLC, key, family)
 * keeping the highest schema id, then the family rules of changefeed-files.md §7: a primary-family
 * delete is a row delete (every family's delete fragment is emitted as a delete); a non-primary
 * family delete without one means that family became all NULL (an upsert with every column NULL).
 */
import { type JsonObject, type JsonValue, type Logger, stringifyJsonLossless } from "@cdc-delta/shared";
import { parseLine } from "../decode/json.js";
import { type Change, compareKeys } from "./order.js";

export interface StreamShape {
  stream: string;
  /** Primary key columns in ordinal order, when known. */
  pk: string[] | undefined;
  /** Family holding the primary key columns; undefined when unknown or the table has no families. */
  primaryFamily: string | undefined;
  /** Columns per family (non-key), from the catalog and learned from fragments. */
  familyColumns: Map<string, Set<string>>;
  /** Columns whose values are CockroachDB BYTES (`\x`+hex in JSON) and are emitted as base64. */
  bytesColumns: Set<string>;
}

/** Adds the column names of a family's row image to what the shape knows of that family. */
export function learnFamily(shape: StreamShape, family: string, after: Record<string, unknown>): void {
  let set = shape.familyColumns.get(family);
  if (!set) shape.familyColumns.set(family, (set = new Set()));
  for (const k in after) set.add(k);
}

export interface Fragment {
  change: Change;
  op: "upsert" | "delete";
  /** Record data as an object, or (`dataText`) as exact JSON text. */
  data: Record<string, unknown> | undefined;
  dataText?: string;
}

/** Record data text for an upsert carried as exact text: missing PK columns, the row, the `_cdc_*` fields. */
function upsertText(c: Change): string {
  const text = c.afterText as string;
  const tail = `"_cdc_op":"upsert","_cdc_updated":"${c.updated}","_cdc_family":${c.family === null ? "null" : JSON.stringify(c.family)}}`;
  // Usual case: a non-empty object text ending in `<value>}`: append the fields in place.
  const last = text.charCodeAt(text.length - 2);
  if (!c.missingPk && last !== 123 && last !== 32 && last !== 10 && last !== 9 && last !== 13)
    return `${text.slice(0, -1)},${tail}`;
  const inner = text.slice(1, -1).trim();
  let head = "";
  if (c.missingPk) {
    // Missing PK values come from `key`, in PK ordinal order.
    head = c.missingPk.map((k) => `${JSON.stringify(k)}:${stringifyJsonLossless(c.key[pkIndex(c, k)] ?? null)}`).join(",");
  }
  const body = head && inner ? `${head},${inner}` : head || inner;
  return `{${body}${body ? "," : ""}${tail}`;
}

let currentPk: string[] | undefined;
function pkIndex(_c: Change, k: string): number {
  return currentPk ? currentPk.indexOf(k) : -1;
}

function upsertFragment(shape: StreamShape, c: Change): Fragment {
  if (c.afterText !== undefined) {
    if (shape.bytesColumns.size === 0 || c.encoded) return { change: c, op: "upsert", data: undefined, dataText: upsertText(c) };
    c.after = parseLine(c.afterText) as JsonObject; // BYTES values need rewriting: take the object path
  }
  const data = c.after as Record<string, unknown>;
  const pk = shape.pk;
  if (pk) for (let i = 0; i < pk.length; i++) if (!((pk[i] as string) in data)) data[pk[i] as string] = c.key[i] ?? null;
  return { change: c, op: "upsert", data: finishData(shape, data, c, "upsert") };
}

export interface FragmentStats {
  duplicates: number;
  conflictingDuplicates: number;
  skippedUnknownFamilyDeletes: number;
}

function hexToBase64(v: JsonValue): JsonValue {
  if (typeof v === "string" && v.startsWith("\\x")) return Buffer.from(v.slice(2), "hex").toString("base64");
  if (Array.isArray(v)) return v.map(hexToBase64);
  return v;
}

function isPrimaryFamily(shape: StreamShape, family: string | null): boolean {
  if (family === null) return true;
  if (shape.primaryFamily !== undefined) return family === shape.primaryFamily;
  if (family === "primary") return true;
  const cols = shape.familyColumns.get(family);
  return !!(cols && shape.pk && shape.pk.length > 0 && shape.pk.every((k) => cols.has(k)));
}

function keyColumns(shape: StreamShape, c: Change): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  shape.pk?.forEach((k, i) => {
    out[k] = c.key[i] ?? null;
  });
  return out;
}

export function finishData(
  shape: StreamShape,
  data: Record<string, unknown>,
  c: Change,
  op: "upsert" | "delete",
): Record<string, unknown> {
  if (shape.bytesColumns.size)
    for (const col of shape.bytesColumns) if (col in data) data[col] = hexToBase64(data[col] as JsonValue);
  data._cdc_op = op;
  data._cdc_updated = c.updated;
  data._cdc_family = c.family;
  return data;
}

/**
 * Deduplicated, family-resolved fragments, in (HLC, key, family) order, in batches (one async hop
 * per batch, not per record). Record data is built in place from each change's `after`.
 */
export async function* fragments(
  sorted: AsyncIterable<Change[]>,
  shape: StreamShape,
  logger: Logger,
  stats: FragmentStats,
  batchSize = 1024,
): AsyncGenerator<Fragment[]> {
  let group: Change[] = [];
  let prev: Change | undefined;
  let out: Fragment[] = [];
  const pkSet = new Set(shape.pk ?? []);
  currentPk = shape.pk;
  const flush = (): void => {
    if (group.length === 0) return;
    if (group.length === 1 && (group[0] as Change).family === null) {
      const c = group[0] as Change;
      group = [];
      if (c.after !== null) out.push(upsertFragment(shape, c));
      else out.push({ change: c, op: "delete", data: finishData(shape, keyColumns(shape, c), c, "delete") });
      return;
    }
    // Learn family columns from upserts first (the same change may hold the columns of a deleted family elsewhere).
    for (const c of group) {
      if (c.after && c.afterText === undefined && c.family !== null) learnFamily(shape, c.family, c.after);
    }
    const rowDelete = group.some((c) => c.after === null && isPrimaryFamily(shape, c.family));
    for (const c of group) {
      if (c.after !== null) {
        // PK columns are in every fragment (JSON `after` has them only in their own family).
        out.push(upsertFragment(shape, c));
      } else if (rowDelete || c.family === null) {
        out.push({ change: c, op: "delete", data: finishData(shape, keyColumns(shape, c), c, "delete") });
      } else {
        const cols = shape.familyColumns.get(c.family);
        if (!cols || cols.size === 0) {
          stats.skippedUnknownFamilyDeletes++;
          logger.warnRateLimited(
            `famdel:${shape.stream}`,
            `stream ${shape.stream}: delete of family ${c.family} at ${c.updated} but that family's columns are unknown; skipped (run discover with the CockroachDB connection or schema.json)`,
          );
          continue;
        }
        const data: Record<string, unknown> = keyColumns(shape, c);
        for (const col of cols) if (!pkSet.has(col)) data[col] = null;
        out.push({ change: c, op: "upsert", data: finishData(shape, data, c, "upsert") });
      }
    }
    group = [];
  };
  for await (const changes of sorted)
    for (const c of changes) {
      if (prev && prev.hlcKey === c.hlcKey && compareKeys(prev.key, c.key) === 0) {
        if (prev.family === c.family) {
          stats.duplicates++;
          const payload = (x: Change) => x.afterText ?? stringifyJsonLossless(x.after);
          if (prev.schemaId === c.schemaId && payload(prev) !== payload(c)) {
            stats.conflictingDuplicates++;
            logger.warnRateLimited(
              `dupdiff:${shape.stream}`,
              `stream ${shape.stream}: two copies of key ${stringifyJsonLossless(c.key)} at ${c.updated} (family ${c.family}) differ; kept the first in file order`,
            );
          }
          continue;
        }
      } else {
        flush();
        if (out.length >= batchSize) {
          yield out;
          out = [];
        }
      }
      group.push(c);
      prev = c;
    }
  flush();
  if (out.length) yield out;
}

export type { JsonObject };
