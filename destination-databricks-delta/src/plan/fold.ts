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

/**
 * One key's fold. Its position (`hlc`, `family`) and metadata are those of the newest fragment,
 * copied into the entry itself (not an object per key, nor the fragment, retained).
 */
interface KeyFold extends NewestMeta {
  key: Cell[];
  families: FamilyEntry[];
  deletePos: Pos | null;
}

interface NewestMeta extends Pos {
  rawId: string;
  extractedAtMicros: bigint;
  airbyteMeta: string;
  generationId: bigint;
}

function setNewest(kf: NewestMeta, f: Fragment): void {
  kf.hlc = f.hlc;
  kf.family = f.family;
  kf.rawId = f.rawId;
  kf.extractedAtMicros = f.extractedAtMicros;
  kf.airbyteMeta = f.airbyteMeta;
  kf.generationId = f.generationId;
}

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
      kf = {
        key: f.key,
        families: [],
        deletePos: null,
        hlc: f.hlc,
        family: f.family,
        rawId: f.rawId,
        extractedAtMicros: f.extractedAtMicros,
        airbyteMeta: f.airbyteMeta,
        generationId: f.generationId,
      };
      this.entries.set(ks, kf);
      delta += KEY_OVERHEAD + ks.length * 2;
    } else if (comparePos(f, kf) >= 0) {
      setNewest(kf, f);
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

  /**
   * The images, one per key, in first-seen key order; `keyNames`: key column names in key order.
   * Drains the map: each entry is released as its image is built (materialising a batch then holds
   * the images, not the images and the whole fold map), and the map is empty at the end.
   */
  *images(keyNames: readonly string[]): Generator<Image> {
    for (const [ks, kf] of this.entries) {
      this.entries.delete(ks);
      yield toImage(kf, keyNames);
    }
    this.clear();
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
    this.fragments = 0;
  }
}

/**
 * `Image.present` of a folded image: exactly the column names of its `values` (immutable), as a view
 * instead of a copy (a Set per image was ~20% of a batch's heap).
 */
export class KeysOf implements ReadonlySet<string> {
  constructor(private readonly map: ReadonlyMap<string, unknown>) {}
  get size(): number {
    return this.map.size;
  }
  has(k: string): boolean {
    return this.map.has(k);
  }
  keys(): SetIterator<string> {
    return this.map.keys();
  }
  values(): SetIterator<string> {
    return this.map.keys();
  }
  *entries(): SetIterator<[string, string]> {
    for (const k of this.map.keys()) yield [k, k];
  }
  [Symbol.iterator](): SetIterator<string> {
    return this.map.keys();
  }
  forEach(fn: (value: string, key: string, set: ReadonlySet<string>) => void, thisArg?: unknown): void {
    for (const k of this.map.keys()) fn.call(thisArg, k, k, this);
  }
}

/** The fragment values `m` hold exactly these key cells (so they can serve as the image's values). */
function holdsKey(m: ReadonlyMap<string, Cell>, keyNames: readonly string[], key: readonly Cell[]): boolean {
  for (let i = 0; i < keyNames.length; i++) {
    const name = keyNames[i]!;
    if (!m.has(name) || m.get(name) !== (key[i] ?? null)) return false;
  }
  return true;
}

function toImage(kf: KeyFold, keyNames: readonly string[]): Image {
  const n: NewestMeta = kf;
  const op = kf.families.length > 0 ? "upsert" : "delete";
  const only = kf.families.length === 1 ? kf.families[0]! : undefined;
  if (only && compareHlc(only.hlc, n.hlc) === 0 && holdsKey(only.values, keyNames, kf.key)) {
    // One family at the top (the usual case): its fragment's values (key columns included, never
    // mutated) are the image's values as they are, instead of a copy per image.
    return imageOf(kf, op, only.values, undefined);
  }
  const values = new Map<string, Cell>();
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
  return imageOf(kf, op, values, latest);
}

function imageOf(
  kf: KeyFold,
  op: "upsert" | "delete",
  values: ReadonlyMap<string, Cell>,
  latest: ReadonlySet<string> | undefined,
): Image {
  const n: NewestMeta = kf;
  return {
    key: kf.key,
    op,
    hlc: n.hlc,
    present: new KeysOf(values),
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
