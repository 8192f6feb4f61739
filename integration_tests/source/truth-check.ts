/**
 * Fold the source's records (one per family fragment) into table contents and compare them with the
 * emulator's truth model, in the truth encoding (integration_tests/emulator/types.ts truthValue).
 */
import { isLosslessNumber } from "@cdc-delta/shared";
import type { ManifestTable, TruthState } from "../emulator/index.js";

export interface FoldedRow {
  live: boolean;
  updated: string;
  row: Record<string, unknown>;
}
export type Folded = Map<string, Map<string, FoldedRow>>;

const js = (v: unknown) =>
  JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}` : isLosslessNumber(x) ? (x as { value: string }).value : x));
const CDC = new Set(["_cdc_op", "_cdc_updated", "_cdc_family"]);

export function fold(folded: Folded, stream: string, data: Record<string, unknown>, table: ManifestTable): void {
  let t = folded.get(stream);
  if (!t) folded.set(stream, (t = new Map()));
  const key = JSON.stringify(table.primaryKey.map((k) => truthOf(typeOf(table, k), data[k])));
  const cur = t.get(key);
  if (data._cdc_op === "delete") {
    t.set(key, { live: false, updated: String(data._cdc_updated), row: {} });
    return;
  }
  const row = cur?.live ? cur.row : {};
  for (const [k, v] of Object.entries(data)) if (!CDC.has(k)) row[k] = v;
  t.set(key, { live: true, updated: String(data._cdc_updated), row });
}

function typeOf(t: ManifestTable, col: string): string {
  for (const v of [...t.schemaVersions].reverse()) {
    const c = v.columns.find((x) => x.name === col);
    if (c) return c.type;
  }
  return t.columns.find((c) => c.name === col)?.type ?? "STRING";
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object" && !isLosslessNumber(v)) {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  if (isLosslessNumber(v)) return Number((v as { value: string }).value);
  if (typeof v === "bigint") return Number(v);
  return v;
}

const pad6 = (s: string) =>
  s.replace(/(\d{2}:\d{2}:\d{2})(?:\.(\d+))?/, (_m, hms: string, f?: string) => `${hms}.${(f ?? "").padEnd(6, "0")}`);

/** A record value in the truth encoding for the column's DDL type. */
export function truthOf(ddl: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  const t = ddl.toUpperCase();
  if (t.endsWith("[]")) return Array.isArray(v) ? v.map((e) => truthOf(t.slice(0, -2), e)) : v;
  if (t === "INT8" || t === "INT" || t === "BIGINT")
    return typeof v === "bigint" || typeof v === "number" ? String(v) : isLosslessNumber(v) ? (v as { value: string }).value : v;
  if (t === "INT2" || t === "INT4") return Number(v);
  if (t.startsWith("DECIMAL") || t.startsWith("NUMERIC")) return isLosslessNumber(v) ? (v as { value: string }).value : String(v);
  if (t === "FLOAT4" || t === "FLOAT8")
    return isLosslessNumber(v) ? Number((v as { value: string }).value) : typeof v === "bigint" ? Number(v) : v;
  if (t === "TIME" || t === "TIMESTAMP" || t === "TIMESTAMPTZ") return pad6(String(v));
  if (t === "JSONB" || t === "JSON") return JSON.stringify(canonical(v));
  return v;
}

/** Differences between folded records and the truth at one RESOLVED (at most `limit`). */
export function diffTruth(
  folded: Folded,
  truth: TruthState,
  tables: ManifestTable[],
  streamOf: (table: string) => string,
  limit = 5,
): string[] {
  const out: string[] = [];
  for (const t of tables) {
    const mine = folded.get(streamOf(t.name)) ?? new Map<string, FoldedRow>();
    const want = truth.get(t.name) ?? new Map();
    for (const [k, tr] of want) {
      const got = mine.get(k);
      if (tr.op === "delete") {
        if (got?.live) out.push(`${t.name} ${k}: deleted in truth, live in records`);
        continue;
      }
      if (!got?.live) {
        out.push(`${t.name} ${k}: live in truth (updated ${tr.updated}), ${got ? "deleted" : "absent"} in records`);
        continue;
      }
      if (got.updated !== tr.updated) out.push(`${t.name} ${k}: updated ${got.updated} != truth ${tr.updated}`);
      for (const [col, tv] of Object.entries(tr.row ?? {})) {
        const mv = truthOf(typeOf(t, col), got.row[col]);
        const a =
          t.columns.find((c) => c.name === col)?.type.toUpperCase() === "JSONB" && typeof tv === "string"
            ? JSON.stringify(canonical(JSON.parse(tv)))
            : tv;
        if (js(mv) !== js(a)) out.push(`${t.name} ${k}.${col}: ${js(mv)} != truth ${js(a)}`);
      }
      if (out.length >= limit) return out;
    }
    for (const [k, got] of mine) if (got.live && !want.get(k)) out.push(`${t.name} ${k}: live in records, unknown to truth`);
  }
  return out.slice(0, limit);
}
