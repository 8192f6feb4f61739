/**
 * Stats pruning: which live files may hold any of a sorted list of keys. A file is a candidate unless
 * its statistics prove every key outside its [min, max] per key column; files without usable stats
 * are always candidates.
 */
import type { Cell } from "../../plan/types.js";
import type { AddAction } from "../log/actions.js";
import type { DeltaField } from "../log/schema.js";
import { compareCells } from "./cells.js";
import { type FileStats, parseStats } from "./stats.js";

/** Parsed stats per add action and per set of fields asked for. */
const cache = new WeakMap<AddAction, Map<string, FileStats | null>>();

export function statsOf(add: AddAction, fields: readonly DeltaField[]): FileStats | null {
  const k = fields.map((f) => f.name).join("\u0000");
  let m = cache.get(add);
  if (!m) cache.set(add, (m = new Map()));
  if (m.has(k)) return m.get(k) ?? null;
  const s = parseStats(add.stats, fields);
  m.set(k, s);
  return s;
}

function lowerBound(keys: readonly (readonly Cell[])[], v: Cell): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareCells(keys[mid]![0]!, v) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
function upperBound(keys: readonly (readonly Cell[])[], v: Cell): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareCells(keys[mid]![0]!, v) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `sortedKeys` ascending by compareKeys. */
export function candidateFiles(
  files: Iterable<AddAction>,
  fields: readonly DeltaField[],
  keyColumns: readonly string[],
  sortedKeys: readonly (readonly Cell[])[],
): AddAction[] {
  const out: AddAction[] = [];
  if (sortedKeys.length === 0) return out;
  const kf = keyColumns.map((k) => fields.find((f) => f.name === k));
  for (const add of files) {
    const st = kf.every((f) => f) ? statsOf(add, kf as DeltaField[]) : null;
    if (!st) {
      out.push(add);
      continue;
    }
    if (st.numRecords === 0) continue;
    const k0 = keyColumns[0]!;
    const lo0 = st.min.get(k0);
    const hi0 = st.max.get(k0);
    const from = lo0 === undefined ? 0 : lowerBound(sortedKeys, lo0);
    const to = hi0 === undefined ? sortedKeys.length : upperBound(sortedKeys, hi0);
    if (from >= to) continue;
    if (keyColumns.length === 1) {
      out.push(add);
      continue;
    }
    let hit = false;
    for (let i = from; i < to && !hit; i++) {
      const key = sortedKeys[i]!;
      let inside = true;
      for (let c = 1; c < keyColumns.length && inside; c++) {
        const lo = st.min.get(keyColumns[c]!);
        const hi = st.max.get(keyColumns[c]!);
        if (lo !== undefined && compareCells(key[c]!, lo) < 0) inside = false;
        if (hi !== undefined && compareCells(key[c]!, hi) > 0) inside = false;
      }
      hit = inside;
    }
    if (hit) out.push(add);
  }
  return out;
}
