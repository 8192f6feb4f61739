/**
 * Emulator-like CDC workloads for the SQL backends: seeded events over a multi-family table
 * (families, deletes, re-inserts, equal-HLC fragments), split into contiguous buffers, folded with
 * the destination's own fold, replayed after simulated crashes. The oracle is the in-memory backend
 * (applyImage); both backends receive the same batches.
 */
import { keyString } from "../../destination-databricks-delta/src/plan/apply-image.js";
import { isMetadataColumn } from "../../destination-databricks-delta/src/plan/columns.js";
import { type Fragment, foldFragments } from "../../destination-databricks-delta/src/plan/fold.js";
import { historyRow } from "../../destination-databricks-delta/src/plan/history.js";
import type { MemoryBackend } from "../../destination-databricks-delta/src/plan/memory-backend.js";
import { fragment, hlc, TEST_FAMILIES } from "../../destination-databricks-delta/src/plan/testing.js";
import type { Cell, DeleteMode, MergeBatch, StoredRow, TableSpec } from "../../destination-databricks-delta/src/plan/types.js";

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS: [string, bigint][] = [
  ["eu", 1n],
  ["us", 1n],
  ["eu", 9007199254740993n],
  ["ap", -9223372036854775807n],
  ["us", 9223372036854775807n],
  ["zoë", 7n],
];

/** Seeded events → fragments in (hlc, key, family) order; deletes send one fragment per family. */
export function makeFragments(seed: number, n: number): Fragment[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  let wall = 1_700_000_000_000_000_000n;
  let logical = 0;
  const out: Fragment[] = [];
  const fams = Object.keys(TEST_FAMILIES);
  for (let i = 0; i < n; i++) {
    if (r() < 0.7) {
      wall += BigInt(1 + Math.floor(r() * 1_000_000_000));
      logical = 0;
    } else logical++;
    const at = hlc(wall, logical);
    const key = pick(KEYS);
    const op = r() < 0.2 ? "delete" : "upsert";
    const chosen = fams.filter(() => r() < 0.5);
    if (chosen.length === 0) chosen.push(pick(fams));
    const val = (c: string): Cell => {
      if (r() < 0.15) return null;
      if (c === "a2") return BigInt(Math.floor((r() - 0.5) * 1e12));
      if (c === "c1") return BigInt(Math.floor((r() - 0.5) * 1e9)); // DECIMAL(10,2) unscaled
      return pick(["x", "y", "", "zoë", "it's", "a`b", "line\nbreak"]);
    };
    for (const fam of chosen.sort()) {
      if (op === "delete") out.push(fragment(key, "delete", at, fam));
      else {
        const values: Record<string, Cell> = {};
        for (const c of TEST_FAMILIES[fam] ?? []) values[c] = val(c);
        out.push(fragment(key, "upsert", at, fam, values));
      }
    }
  }
  return out;
}

/** Contiguous buffers (cut anywhere, even inside one HLC), then a crash replay from an earlier point. */
export function slices(frags: Fragment[], seed: number, withReplay = true, avgBuffers = 8): Fragment[][] {
  const r = rng(seed ^ 0x9e3779b9);
  const cutAt = (xs: Fragment[]): Fragment[][] => {
    const out: Fragment[][] = [];
    let i = 0;
    while (i < xs.length) {
      const len = 1 + Math.floor(r() * Math.max(1, (2 * frags.length) / avgBuffers));
      out.push(xs.slice(i, i + len));
      i += len;
    }
    return out;
  };
  const first = cutAt(frags);
  if (!withReplay || frags.length < 4) return first;
  // crash after committing `committed` fragments; the next sync restarts at `resume` <= committed
  const committed = Math.floor(frags.length * (0.5 + r() * 0.5));
  const resume = Math.floor(committed * r());
  return [...cutAt(frags.slice(0, committed)), ...cutAt(frags.slice(resume))];
}

export function mergeBatches(
  table: TableSpec,
  deleteMode: DeleteMode,
  bufs: Fragment[][],
  target: "main" | "overwrite_temp" = "main",
  generationId = 0n,
): MergeBatch[] {
  return bufs.map((b, i) => ({
    kind: "merge",
    table,
    deleteMode,
    images: foldFragments(b, table.keyColumns).map((img) => ({ ...img, generationId })),
    target,
    batchId: `b${i}`,
  }));
}

export function historyBatches(table: TableSpec, bufs: Fragment[][], idempotent: boolean): MergeBatch[] {
  return bufs.map((b, i) => ({ kind: "history", table, rows: b.map(historyRow), idempotent, batchId: `h${i}` }));
}

/** A cell as comparable text: decimals by scale, timestamps/bigints as integers, binary as hex. */
export function cellText(table: TableSpec, column: string, v: Cell | unknown): string | null {
  if (v === null || v === undefined) return null;
  const c = table.columns.find((x) => x.name === column);
  if (c?.type.kind === "decimal" && typeof v === "bigint") {
    const s = c.type.scale;
    const neg = v < 0n;
    const digits = (neg ? -v : v).toString().padStart(s + 1, "0");
    return `${neg ? "-" : ""}${digits.slice(0, digits.length - s)}${s > 0 ? `.${digits.slice(-s)}` : ""}`;
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  return String(v);
}

/** Observable columns: user columns + `_cdc_updated` (+ `_cdc_deleted_at` in soft mode). */
export function observableColumns(table: TableSpec): string[] {
  return table.columns
    .filter((c) => !isMetadataColumn(c.name) || c.name === "_cdc_updated" || c.name === "_cdc_deleted_at")
    .map((c) => c.name);
}

/** Oracle rows as sorted comparable records. */
export function oracleRows(mem: MemoryBackend, table: TableSpec): Record<string, string | null>[] {
  const cols = observableColumns(table);
  return sortRows(
    table,
    mem.rowsOf(table.ref).map((row: StoredRow) => Object.fromEntries(cols.map((c) => [c, cellText(table, c, row[c] ?? null)]))),
  );
}

export function sortRows(table: TableSpec, rows: Record<string, string | null>[]): Record<string, string | null>[] {
  const k = (r: Record<string, string | null>) => keyString(table.keyColumns.map((c) => r[c] ?? null));
  return [...rows].sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0));
}
