/**
 * P1 fold (destination-delta.md §3): the fragments of one buffer become one Image per key.
 *
 * The result equals folding the key's fragments sorted by (hlc, family): an upsert writes its
 * family's columns (a later fragment of a family replaces it; one HLC's families combine), a delete
 * clears everything folded before it, an upsert after a delete sets `reset`, `hlc` = the highest.
 * It is computed incrementally in arrival order (so a buffer holds one entry per key, not the
 * fragments), and stays exact when fragments arrive out of order: each family keeps its newest
 * fragment, the newest delete is remembered, and anything at or before that delete is dropped.
 */
import { randomUUID } from "node:crypto";
import { compareHlc, type Hlc } from "@cdc-delta/shared";
import { keyString } from "./apply-image.js";
import type { Cell, Image } from "./types.js";

/** One coerced record: one column family of one row (destination-delta.md §1). */
export interface Fragment {
  /** Key cells in key (ordinal) order. */
  key: Cell[];
  op: "upsert" | "delete";
  hlc: Hlc;
  family: string | null;
  /** Columns of the fragment by table column name, key columns included. Empty-but-keys for deletes. */
  values: Map<string, Cell>;
  /** `_airbyte_raw_id`; "" = generate one when the image / history row is built (saves memory). */
  rawId: string;
  extractedAtMicros: bigint;
  airbyteMeta: string;
  generationId: bigint;
  /** Input line (for messages). */
  lineNo: number;
}

interface Pos {
  hlc: Hlc;
  family: string | null;
}

/** Sort order of fragments of one key: (hlc, family); a single-family (null) sorts first. */
export function comparePos(a: Pos, b: Pos): number {
  const c = compareHlc(a.hlc, b.hlc);
  if (c !== 0) return c;
  if (a.family === b.family) return 0;
  if (a.family === null) return -1;
  if (b.family === null) return 1;
  return a.family < b.family ? -1 : 1;
}

interface FamilyEntry extends Pos {
  values: Map<string, Cell>;
  bytes: number;
}

interface KeyFold {
  key: Cell[];
  families: FamilyEntry[];
  deletePos: Pos | null;
  /** Metadata of the newest fragment (copied: the fragment itself is not retained). */
  newest: NewestMeta;
}

interface NewestMeta extends Pos {
  rawId: string;
  extractedAtMicros: bigint;
  airbyteMeta: string;
  generationId: bigint;
}

const newestOf = (f: Fragment): NewestMeta => ({
  hlc: f.hlc,
  family: f.family,
  rawId: f.rawId,
  extractedAtMicros: f.extractedAtMicros,
  airbyteMeta: f.airbyteMeta,
  generationId: f.generationId,
});

/** Rough heap size of a cell (V8 objects, not wire bytes); used for the memory budget. */
export function estimateCellBytes(c: Cell): number {
  if (c === null || typeof c === "boolean" || typeof c === "number") return 8;
  if (typeof c === "bigint") return 32;
  if (typeof c === "string") return 16 + c.length * 2;
  return 96 + c.byteLength;
}

export function estimateValuesBytes(values: Map<string, Cell>): number {
  let n = 64;
  for (const [k, v] of values) n += 40 + k.length + estimateCellBytes(v);
  return n;
}

const KEY_OVERHEAD = 320;

function sameCells(a: Map<string, Cell>, b: Map<string, Cell>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (v instanceof Uint8Array && w instanceof Uint8Array) {
      if (Buffer.compare(Buffer.from(v), Buffer.from(w)) !== 0) return false;
    } else if (v !== w || !b.has(k)) return false;
  }
  return true;
}

export interface FoldResult {
  /** Change of the estimated heap size of the fold map. */
  bytesDelta: number;
  /** A different fragment at the same (key, hlc, family): contract breach, the last one won. */
  conflict: boolean;
  /** The fragment changed nothing (older than what the buffer already holds, or an exact duplicate). */
  noop: boolean;
}

/** The fold map of one buffer: one entry per key. */
export class FoldMap {
  private readonly entries = new Map<string, KeyFold>();
  bytes = 0;
  fragments = 0;

  get size(): number {
    return this.entries.size;
  }

  add(f: Fragment): FoldResult {
    this.fragments++;
    const ks = keyString(f.key);
    let kf = this.entries.get(ks);
    let delta = 0;
    if (!kf) {
      kf = { key: f.key, families: [], deletePos: null, newest: newestOf(f) };
      this.entries.set(ks, kf);
      delta += KEY_OVERHEAD + ks.length * 2;
    } else if (comparePos(f, kf.newest) >= 0) {
      kf.newest = newestOf(f);
    }
    let conflict = false;
    let noop = false;
    if (f.op === "delete") {
      if (kf.deletePos === null || comparePos(f, kf.deletePos) > 0) {
        kf.deletePos = { hlc: f.hlc, family: f.family };
        const keep: FamilyEntry[] = [];
        for (const e of kf.families) {
          if (comparePos(e, f) > 0) keep.push(e);
          else delta -= e.bytes;
        }
        kf.families = keep;
      } else noop = true;
    } else if (kf.deletePos !== null && comparePos(f, kf.deletePos) <= 0) {
      noop = true;
    } else {
      const i = kf.families.findIndex((e) => e.family === f.family);
      const bytes = estimateValuesBytes(f.values) + 48;
      const entry: FamilyEntry = { hlc: f.hlc, family: f.family, values: f.values, bytes };
      const old = i >= 0 ? kf.families[i] : undefined;
      if (!old) {
        kf.families.push(entry);
        delta += bytes;
      } else {
        const c = comparePos(f, old);
        if (c < 0) noop = true;
        else {
          if (c === 0) {
            if (sameCells(old.values, f.values)) noop = true;
            else conflict = true;
          }
          kf.families[i] = entry;
          delta += bytes - old.bytes;
        }
      }
    }
    this.bytes += delta;
    return { bytesDelta: delta, conflict, noop };
  }

  /** The images, one per key, in first-seen key order. `keyNames`: key column names in key order. */
  *images(keyNames: readonly string[]): Generator<Image> {
    for (const kf of this.entries.values()) yield toImage(kf, keyNames);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
    this.fragments = 0;
  }
}

function toImage(kf: KeyFold, keyNames: readonly string[]): Image {
  const values = new Map<string, Cell>();
  const n = kf.newest;
  const families = kf.families.length > 1 ? [...kf.families].sort(comparePos) : kf.families;
  let latest: Set<string> | undefined;
  for (const e of families) {
    const atTop = compareHlc(e.hlc, n.hlc) === 0;
    if (!atTop && !latest) latest = new Set();
    for (const [k, v] of e.values) {
      values.set(k, v);
      if (atTop) latest?.add(k);
    }
  }
  if (latest) {
    // Columns of older families written by a newer one stay "latest" only if that family is at the top.
    for (const e of families) if (compareHlc(e.hlc, n.hlc) === 0) for (const k of e.values.keys()) latest.add(k);
    for (const name of keyNames) latest.add(name);
  }
  keyNames.forEach((name, i) => {
    values.set(name, kf.key[i] ?? null);
  });
  const op = kf.families.length > 0 ? "upsert" : "delete";
  return {
    key: kf.key,
    op,
    hlc: n.hlc,
    present: new Set(values.keys()),
    values,
    reset: op === "upsert" && kf.deletePos !== null,
    ...(latest ? { latest } : {}),
    rawId: n.rawId || randomUUID(),
    extractedAtMicros: n.extractedAtMicros,
    airbyteMeta: n.airbyteMeta,
    generationId: n.generationId,
  };
}

/** Fold a list of fragments at once (tests, small batches). */
export function foldFragments(fragments: Iterable<Fragment>, keyNames: readonly string[]): Image[] {
  const m = new FoldMap();
  for (const f of fragments) m.add(f);
  return [...m.images(keyNames)];
}
