/**
 * Per-file statistics (`add.stats`, a JSON string): numRecords, and minValues / maxValues /
 * nullCount for the columns merges prune on (key columns and `_cdc_updated_wall`). Written exactly
 * (bigint and decimal as JSON number text); strings only up to STRING_STATS_MAX chars (never a
 * truncated max); timestamps/binary/double bounds are not written (nullCount only).
 */
import { parseJsonLossless, isLosslessNumber } from "@cdc-delta/shared";
import type { Cell, DeltaType, StoredRow } from "../../plan/types.js";
import type { DeltaField } from "../log/schema.js";
import { compareCells } from "./cells.js";

const STRING_STATS_MAX = 64;
/** Readers (Spark, delta-rs) truncate string stats at 32 chars: a foreign max this long may be a prefix. */
const FOREIGN_TRUNCATION = 32;

export interface FileStats {
  numRecords: number;
  min: Map<string, Cell>;
  max: Map<string, Cell>;
  nullCount: Map<string, number>;
}

function boundable(t: DeltaType): boolean {
  return t.kind === "long" || t.kind === "integer" || t.kind === "string" || t.kind === "decimal" || t.kind === "date";
}

function decimalText(unscaled: bigint, scale: number): string {
  if (scale === 0) return unscaled.toString();
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  return `${neg ? "-" : ""}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function dateText(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

function jsonValue(t: DeltaType, v: Cell): string | undefined {
  switch (t.kind) {
    case "long":
      return typeof v === "bigint" || typeof v === "number" ? String(v) : undefined;
    case "integer":
      return typeof v === "number" ? String(v) : undefined;
    case "decimal":
      return typeof v === "bigint" ? decimalText(v, t.scale) : undefined;
    case "date":
      return typeof v === "number" ? JSON.stringify(dateText(v)) : undefined;
    case "string":
      return typeof v === "string" && v.length <= STRING_STATS_MAX ? JSON.stringify(v) : undefined;
    default:
      return undefined;
  }
}

/** Compute the stats JSON string for rows (columns = the ones worth pruning on). */
export function computeStats(
  fields: readonly DeltaField[],
  rows: readonly StoredRow[],
  statsColumns: ReadonlySet<string>,
): string {
  return computeStatsColumns(fields, (name) => (i) => rows[i]![name], rows.length, statsColumns);
}

export function computeStatsColumns(
  fields: readonly DeltaField[],
  column: (name: string) => (i: number) => Cell | undefined,
  length: number,
  statsColumns: ReadonlySet<string>,
): string {
  const acc = new StatsAccumulator(fields, statsColumns);
  acc.add(column, length);
  return acc.json();
}

/**
 * The stats of a file written in pieces: `add` each piece's rows, then `json()`. Keeps only the
 * running bounds and null counts, never the cells.
 */
export class StatsAccumulator {
  private readonly cols: { f: DeltaField; canBound: boolean; nulls: number; lo: Cell; hi: Cell }[] = [];
  private rows = 0;

  constructor(fields: readonly DeltaField[], statsColumns: ReadonlySet<string>) {
    for (const f of fields)
      if (statsColumns.has(f.name)) this.cols.push({ f, canBound: boundable(f.type), nulls: 0, lo: null, hi: null });
  }

  add(column: (name: string) => (i: number) => Cell | undefined, length: number): void {
    this.rows += length;
    for (const c of this.cols) {
      const get = column(c.f.name);
      let { nulls, lo, hi } = c;
      for (let i = 0; i < length; i++) {
        const v = get(i) ?? null;
        if (v === null) {
          nulls++;
          continue;
        }
        if (!c.canBound) continue;
        if (lo === null || compareCells(v, lo) < 0) lo = v;
        if (hi === null || compareCells(v, hi) > 0) hi = v;
      }
      c.nulls = nulls;
      c.lo = lo;
      c.hi = hi;
    }
  }

  json(): string {
    const mins: string[] = [];
    const maxs: string[] = [];
    const nulls: string[] = [];
    for (const { f, nulls: nullCount, lo, hi } of this.cols) {
      const key = JSON.stringify(f.name);
      nulls.push(`${key}:${nullCount}`);
      if (lo !== null && hi !== null) {
        const a = jsonValue(f.type, lo);
        const b = jsonValue(f.type, hi);
        if (a !== undefined && b !== undefined) {
          mins.push(`${key}:${a}`);
          maxs.push(`${key}:${b}`);
        }
      }
    }
    return `{"numRecords":${this.rows},"minValues":{${mins.join(",")}},"maxValues":{${maxs.join(",")}},"nullCount":{${nulls.join(",")}}}`;
  }
}

function fromJson(t: DeltaType, v: unknown, isMax: boolean): Cell | undefined {
  if (v === null || v === undefined) return undefined;
  switch (t.kind) {
    case "long":
      if (typeof v === "bigint") return v;
      if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
      return undefined;
    case "integer":
      return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined;
    case "decimal": {
      const text = isLosslessNumber(v) ? v.toString() : typeof v === "number" || typeof v === "bigint" ? String(v) : undefined;
      if (text === undefined) return undefined;
      return decimalFromText(text, t.scale, isMax);
    }
    case "date":
      return typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v)
        ? Math.round(Date.parse(`${v}T00:00:00Z`) / 86_400_000)
        : undefined;
    case "string":
      if (typeof v !== "string") return undefined;
      if (isMax && v.length >= FOREIGN_TRUNCATION) return undefined;
      return v;
    default:
      return undefined;
  }
}

/** Exact decimal text -> unscaled bigint at `scale` (bounds rounded outward if more digits). */
function decimalFromText(text: string, scale: number, isMax: boolean): bigint | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return undefined;
  if (m[4] !== undefined) return undefined;
  const frac = m[3] ?? "";
  const neg = m[1] === "-";
  let digits = m[2]! + frac.slice(0, scale).padEnd(scale, "0");
  let v = BigInt(digits);
  const rest = frac.slice(scale);
  if (rest !== "" && /[1-9]/.test(rest)) {
    // round outward so the bound still holds
    if (neg ? !isMax : isMax) v += 1n;
  }
  digits = "";
  return neg ? -v : v;
}

export function parseStats(stats: string | null | undefined, fields: readonly DeltaField[]): FileStats | null {
  if (!stats) return null;
  let j: Record<string, unknown>;
  try {
    j = parseJsonLossless(stats) as Record<string, unknown>;
  } catch {
    return null;
  }
  const minV = (j.minValues ?? {}) as Record<string, unknown>;
  const maxV = (j.maxValues ?? {}) as Record<string, unknown>;
  const nc = (j.nullCount ?? {}) as Record<string, unknown>;
  const out: FileStats = { numRecords: Number(j.numRecords ?? Number.NaN), min: new Map(), max: new Map(), nullCount: new Map() };
  for (const f of fields) {
    const lo = fromJson(f.type, minV[f.name], false);
    const hi = fromJson(f.type, maxV[f.name], true);
    if (lo !== undefined) out.min.set(f.name, lo);
    if (hi !== undefined) out.max.set(f.name, hi);
    const n = nc[f.name];
    if (typeof n === "number" || typeof n === "bigint") out.nullCount.set(f.name, Number(n));
  }
  return out;
}
