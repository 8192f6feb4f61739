/**
 * Fold a stream of RECORD fragments the way the destination's append_dedup must (destination-delta.md
 * §3, P1–P4, independently re-implemented): per key, in arrival order, an upsert writes its family's
 * columns, a delete removes the row, an upsert after a delete starts a fresh row. Gives the expected
 * "current rows" to compare with the truth model (same shape as a Delta dump).
 */
import { parseHlc, compareHlc, stringifyJsonLossless } from "@cdc-delta/shared";
import type { Manifest } from "../../emulator/truth.js";
import { type DeltaTableDump, canon, kindOf } from "./compare.js";
import type { Msg } from "./proc.js";

/**
 * `jsonbAsText`: JSONB values already arrive as JSON text. `familyScoped`: rows carry every column
 * (absent ones as NULL, as in PyAirbyte's cache), so only the fragment's family columns are applied.
 */
export function foldRecords(
  manifest: Manifest,
  records: Msg[],
  o: { jsonbAsText?: boolean; familyScoped?: boolean } = {},
): Map<string, DeltaTableDump> {
  const out = new Map<string, DeltaTableDump>();
  for (const mt of manifest.tables) {
    const kinds = new Map(mt.columns.map((c) => [c.name, kindOf(c.type)]));
    const familyOf = new Map(mt.columns.map((c) => [c.name.toLowerCase(), c.family]));
    const pkSet = new Set(mt.primaryKey.map((k) => k.toLowerCase()));
    const jsonb = new Set(mt.columns.filter((c) => kindOf(c.type).k === "JSONB").map((c) => c.name));
    const rows = new Map<string, Record<string, unknown>>();
    const dead = new Map<string, string>();
    for (const m of records) {
      const r = m.record as Msg;
      if (r.stream !== mt.name) continue;
      const d = r.data as Record<string, unknown>;
      const id = JSON.stringify(mt.primaryKey.map((k) => canon(kinds.get(k) ?? { k: "TEXT" }, d[k])));
      const cur = rows.get(id);
      const hlc = parseHlc(String(d._cdc_updated));
      if (cur && compareHlc(parseHlc(String(cur._cdc_updated)), hlc) > 0) continue; // HLC guard
      const tomb = dead.get(id);
      if (!cur && tomb && compareHlc(parseHlc(tomb), hlc) >= 0) continue; // no resurrection
      if (d._cdc_op === "delete") {
        rows.delete(id);
        dead.set(id, String(d._cdc_updated));
        continue;
      }
      const next: Record<string, unknown> = cur ? { ...cur } : {};
      for (const [k, v] of Object.entries(d)) {
        const lk = k.toLowerCase();
        if (o.familyScoped && d._cdc_family !== null && familyOf.has(lk) && !pkSet.has(lk) && familyOf.get(lk) !== d._cdc_family)
          continue;
        next[k] = jsonb.has(k) && v !== null && v !== undefined && !o.jsonbAsText ? stringifyJsonLossless(v) : v;
      }
      rows.set(id, next);
    }
    out.set(mt.name, { name: mt.name, path: "(records)", version: 0, files: 0, schema: [], rows: [...rows.values()] });
  }
  return out;
}
