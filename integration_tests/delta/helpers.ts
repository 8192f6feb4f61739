/** Shared helpers of the Delta interop tests: temp dirs, canonical rows of a spec, fragment generation. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@cdc-delta/shared";
import { foldFragments, type Fragment } from "../../destination-databricks-delta/src/plan/fold.js";
import { MemoryBackend } from "../../destination-databricks-delta/src/plan/memory-backend.js";
import { fragment, hlc } from "../../destination-databricks-delta/src/plan/testing.js";
import type {
  Cell,
  DeleteMode,
  DestinationBackend,
  MergeBatch,
  StoredRow,
  StreamPreparation,
  TableSpec,
} from "../../destination-databricks-delta/src/plan/types.js";
import { createDeltaBackend } from "../../destination-databricks-delta/src/delta/backend.js";
import { type CanonRow, canonRow } from "../peers/delta-rs.js";

export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function intColumns(spec: TableSpec): Set<string> {
  return new Set(
    spec.columns
      .filter((c) => ["long", "integer", "date", "timestamp", "timestamp_ntz", "decimal"].includes(c.type.kind))
      .map((c) => c.name),
  );
}

export function canonRows(rows: StoredRow[], spec: TableSpec): CanonRow[] {
  const ints = intColumns(spec);
  return rows.map((r) => canonRow(r, ints));
}

export function localBackend(path: string, tuning: Record<string, number> = {}): DestinationBackend {
  return createDeltaBackend({ type: "local", path, ...tuning }, silentLogger());
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAMILY_COLS: Record<string, string[]> = { fa: ["a1", "a2"], fb: ["b1"], fc: ["c1"] };

/** Random multi-family changes over `keys` keys in non-decreasing (hlc, key, family) order. */
export function randomFragments(seed: number, n: number, keys: number): Fragment[] {
  const rnd = prng(seed);
  const out: Fragment[] = [];
  let wall = 1_741_944_413_000_000_000n;
  for (let i = 0; i < n; i++) {
    wall += BigInt(1 + Math.floor(rnd() * 3));
    const at = hlc(wall, Math.floor(rnd() * 2));
    const key: [string, bigint] = [rnd() < 0.5 ? "eu" : "us", BigInt(1 + Math.floor(rnd() * keys))];
    if (rnd() < 0.15) {
      out.push(fragment(key, "delete", at, "fa"));
      continue;
    }
    const fams = Object.keys(FAMILY_COLS).filter(() => rnd() < 0.6);
    if (fams.length === 0) fams.push("fa");
    for (const fam of fams) {
      const values: Record<string, Cell> = {};
      for (const c of FAMILY_COLS[fam]!) {
        if (rnd() < 0.1) values[c] = null;
        else if (c === "a2") values[c] = BigInt(Math.floor(rnd() * 900_000)) * (rnd() < 0.5 ? 1n : -1n) * 10_000_000_000_000n;
        else if (c === "c1") values[c] = BigInt(Math.floor(rnd() * 1e9) - 5e8);
        else values[c] = `v${i}-${fam}-${[..."é😀"].slice(0, Math.floor(rnd() * 3)).join("")}`;
      }
      out.push(fragment(key, "upsert", at, fam, values));
    }
  }
  return out;
}

export function prep(spec: TableSpec, deleteMode: DeleteMode, extra: Partial<StreamPreparation> = {}): StreamPreparation {
  // Test HLCs are from 2025: keep their tombstones (no retention pruning) unless a test asks.
  return {
    table: spec,
    mode: "append_dedup",
    deleteMode,
    generationId: 0n,
    truncate: false,
    tombstoneRetentionDays: 1e6,
    ...extra,
  };
}

export function mergeBatch(
  spec: TableSpec,
  deleteMode: DeleteMode,
  frags: Fragment[],
  batchId: string,
  target: "main" | "overwrite_temp" = "main",
): MergeBatch {
  return { kind: "merge", table: spec, deleteMode, images: foldFragments(frags, spec.keyColumns), target, batchId };
}

/** Split fragments into contiguous batches of random sizes (an HLC may straddle two batches). */
export function splitBatches(frags: Fragment[], seed: number, maxSize: number): Fragment[][] {
  const rnd = prng(seed);
  const out: Fragment[][] = [];
  let i = 0;
  while (i < frags.length) {
    const n = 1 + Math.floor(rnd() * maxSize);
    out.push(frags.slice(i, i + n));
    i += n;
  }
  return out;
}

export { MemoryBackend };
