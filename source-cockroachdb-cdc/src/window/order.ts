/**
 * The total order of a window's changes: (HLC, key, family), then schema id descending (so that of
 * copies differing only in schema id the first, i.e. the highest, wins), then input position.
 */
import { isLosslessNumber, type JsonObject, type JsonValue, numberText } from "@cdc-delta/shared";

export interface Change {
  /** hlcSortKey of `updated`: fixed-width text whose string order is the HLC order. */
  hlcKey: string;
  /** The HLC text exactly as the changefeed wrote it (emitted verbatim as `_cdc_updated`). */
  updated: string;
  key: JsonValue[];
  family: string | null;
  schemaId: number;
  after: JsonObject | null;
  /** Exact JSON text of `after` (JSON fast path); then `after` is only a non-null marker. */
  afterText?: string;
  /** PK columns absent from `after` (non-primary family fragments), to be added from `key`. */
  missingPk?: string[];
  /** `afterText` needs no BYTES rewriting (Parquet rows are converted at decode). */
  encoded?: boolean;
  /** Position of the input file in the window's input list and line within it (ties, errors). */
  fileOrder: number;
  line: number;
}

function rank(v: JsonValue): number {
  if (v === null) return 0;
  if (typeof v === "boolean") return 1;
  if (typeof v === "number" || typeof v === "bigint" || isLosslessNumber(v)) return 2;
  if (typeof v === "string") return 3;
  return 4;
}

function compareNumeric(
  a: number | bigint | import("@cdc-delta/shared").LosslessNumber,
  b: number | bigint | import("@cdc-delta/shared").LosslessNumber,
): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  const ta = numberText(a);
  const tb = numberText(b);
  const ia = /^-?\d+$/.test(ta);
  const ib = /^-?\d+$/.test(tb);
  if (ia && ib) {
    const x = BigInt(ta);
    const y = BigInt(tb);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = Number(ta);
  const y = Number(tb);
  if (x !== y && !Number.isNaN(x) && !Number.isNaN(y)) return x < y ? -1 : 1;
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

/** Deterministic order of key values: null < bool < number < string < other (by text). */
export function compareKeyValue(a: JsonValue, b: JsonValue): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return a === b ? 0 : a ? 1 : -1;
    case 2:
      return compareNumeric(a as number, b as number);
    case 3:
      return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    default: {
      const x = JSON.stringify(a, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
      const y = JSON.stringify(b, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}

export function compareKeys(a: JsonValue[], b: JsonValue[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareKeyValue(a[i] as JsonValue, b[i] as JsonValue);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

export function compareFamily(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/** A fragment's identity: HLC (as its sort key), key, family. */
export interface Position {
  hlcKey: string;
  key: JsonValue[];
  family: string | null;
}

/** (HLC, key, family): the emission order and the identity of a fragment. */
export function comparePosition(a: Position, b: Position): number {
  if (a.hlcKey !== b.hlcKey) return a.hlcKey < b.hlcKey ? -1 : 1;
  return compareKeys(a.key, b.key) || compareFamily(a.family, b.family);
}

/** Full sort order: position, then higher schema id first, then input order. */
export function compareChanges(a: Change, b: Change): number {
  return comparePosition(a, b) || b.schemaId - a.schemaId || a.fileOrder - b.fileOrder || a.line - b.line;
}
