/** Images and history rows → staged rows in the column order of the statement builders. */
import { formatHlc } from "@cdc-delta/shared";
import type { Cell, HistoryRow, Image } from "../../plan/types.js";
import { META, STAGE, type TableLayout } from "../sql/columns.js";
import { mergeStageColumns } from "../sql/statements.js";

export function keyString(key: readonly Cell[]): string {
  return JSON.stringify(
    key.map((c) => (c instanceof Uint8Array ? `b:${Buffer.from(c).toString("base64")}` : typeof c === "bigint" ? `n:${c}` : c)),
  );
}

/**
 * One image per key (P1; Databricks fails a MERGE with several source rows per target row, 21506):
 * duplicates keep the newest HLC and are reported, never passed on.
 */
export function dedupeImages(images: readonly Image[]): { images: Image[]; duplicates: number } {
  const byKey = new Map<string, Image>();
  let duplicates = 0;
  for (const img of images) {
    const k = keyString(img.key);
    const prev = byKey.get(k);
    if (prev) {
      duplicates++;
      const newer = img.hlc.wall > prev.hlc.wall || (img.hlc.wall === prev.hlc.wall && img.hlc.logical >= prev.hlc.logical);
      if (newer) byKey.set(k, img);
    } else byKey.set(k, img);
  }
  return { images: [...byKey.values()], duplicates };
}

export function imageRows(l: TableLayout, images: readonly Image[]): Cell[][] {
  const cols = mergeStageColumns(l);
  const src = (name: string) => l.specNames?.get(name) ?? name;
  return images.map((img) => {
    const row: Cell[] = [];
    const isDelete = img.op === "delete";
    for (const c of cols) {
      const ki = l.keys.findIndex((k) => k.name === c.name);
      if (ki >= 0) {
        row.push(img.key[ki] ?? null);
        continue;
      }
      switch (c.name) {
        case META.updated:
          row.push(formatHlc(img.hlc));
          break;
        case META.wall:
          row.push(img.hlc.wall);
          break;
        case META.logical:
          row.push(img.hlc.logical);
          break;
        case META.deletedAt:
          row.push(isDelete ? img.hlc.wall / 1000n : null);
          break;
        case META.rawId:
          row.push(img.rawId);
          break;
        case META.extractedAt:
          row.push(img.extractedAtMicros);
          break;
        case META.meta:
          row.push(img.airbyteMeta);
          break;
        case META.generation:
          row.push(img.generationId);
          break;
        case STAGE.op:
          row.push(img.op);
          break;
        case STAGE.present:
          row.push(l.users.map((u) => (!isDelete && img.present.has(src(u.name)) ? "1" : "0")).join("") || "0");
          break;
        case STAGE.latest: {
          const latest = img.latest ?? img.present;
          row.push(
            l.users.map((u) => (!isDelete && img.present.has(src(u.name)) && latest.has(src(u.name)) ? "1" : "0")).join("") ||
              "0",
          );
          break;
        }
        case STAGE.reset:
          row.push(img.reset);
          break;
        default:
          row.push(!isDelete && img.present.has(src(c.name)) ? (img.values.get(src(c.name)) ?? null) : null);
      }
    }
    return row;
  });
}

/** History rows (append modes), deduplicated on (pk, wall, logical, family) like the MERGE's ON. */
export function historyRows(l: TableLayout, rows: readonly HistoryRow[]): { rows: Cell[][]; duplicates: number } {
  const seen = new Set<string>();
  const out: Cell[][] = [];
  let duplicates = 0;
  for (const r of rows) {
    const id = keyString([
      ...l.keys.map((k) => r.values[k.name] ?? null),
      r.values[META.wall] ?? null,
      r.values[META.logical] ?? null,
      r.values[META.family] ?? null,
    ]);
    if (seen.has(id)) {
      duplicates++;
      continue;
    }
    seen.add(id);
    out.push(l.all.map((c) => r.values[l.specNames?.get(c.name) ?? c.name] ?? null));
  }
  return { rows: out, duplicates };
}
