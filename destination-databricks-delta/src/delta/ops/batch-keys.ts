/**
 * The keys of one MERGE batch, in key order, each with its image(s), addressed by position: the
 * per-key state of a merge lives in arrays indexed by that position, not in maps keyed by key
 * strings (a batch of 100k keys held ~10 MB of such maps and strings for the whole merge). Stored
 * rows find their batch key by a merge join (data files are written key-sorted), falling back to a
 * lookup by `keyId` for files that are not sorted.
 */
import type { Cell, Image } from "../../plan/types.js";
import { compareCells, compareKeys, keyId, keyIdAt } from "../table/cells.js";

/** Key columns of stored rows, one array per key column. */
export type KeyColumns = readonly (readonly Cell[])[];

export interface KeyMatcher {
  /** Position of row `r`'s key among the batch keys, or -1. Rows are passed in file order. */
  at(cols: KeyColumns, r: number): number;
}

export class BatchKeys {
  /** Distinct keys (exact typed cells, as `keyId`), ascending by `compareKeys`. */
  readonly keys: Cell[][] = [];
  /** The image, or the images in input order, of each key. */
  readonly images: (Image | Image[])[] = [];
  private byId: Map<string, number> | null = null;

  constructor(images: readonly Image[]) {
    // Array.prototype.sort is stable: images of one key keep their input order.
    const sorted = images.slice().sort((a, b) => compareKeys(a.key, b.key));
    let run = 0; // first position of the keys equal (compareKeys) to the last one
    for (const im of sorted) {
      const n = this.keys.length;
      if (n > 0 && compareKeys(this.keys[n - 1]!, im.key) === 0) {
        // equal under compareKeys (e.g. 5 and 5n): the same key only if the same typed cells
        const id = keyId(im.key);
        let k = run;
        while (k < n && keyId(this.keys[k]!) !== id) k++;
        if (k < n) {
          const have = this.images[k]!;
          if (Array.isArray(have)) have.push(im);
          else this.images[k] = [have, im];
          continue;
        }
      } else run = n;
      this.keys.push(im.key);
      this.images.push(im);
    }
  }

  get size(): number {
    return this.keys.length;
  }

  /** Position of the key with this `keyId`, or -1 (the map is built on first use only). */
  indexOfId(id: string): number {
    if (this.byId === null) {
      const m = new Map<string, number>();
      for (let k = 0; k < this.keys.length; k++) m.set(keyId(this.keys[k]!), k);
      this.byId = m;
    }
    return this.byId.get(id) ?? -1;
  }

  /** A matcher for the rows of one file. */
  matcher(): KeyMatcher {
    return new SortedJoin(this);
  }
}

const UNSORTED = -2;

/**
 * Merge join of one file's rows (in file order) against the sorted batch keys; once a row is found
 * out of order, every later row is looked up by key id instead.
 */
class SortedJoin implements KeyMatcher {
  private j = 0;
  private prevCols: KeyColumns | null = null;
  private prev = -1;
  private sorted = true;

  constructor(private readonly batch: BatchKeys) {}

  at(cols: KeyColumns, r: number): number {
    if (this.sorted) {
      let k: number;
      try {
        k = this.step(cols, r);
      } catch {
        k = UNSORTED; // cells compareCells cannot order (never within one key column's type)
      }
      if (k !== UNSORTED) return k;
      this.sorted = false;
    }
    return this.batch.indexOfId(keyIdAt(cols, r));
  }

  private compareRow(cols: KeyColumns, r: number, key: readonly Cell[]): number {
    for (let c = 0; c < cols.length; c++) {
      const d = compareCells(cols[c]![r] ?? null, key[c] ?? null);
      if (d !== 0) return d;
    }
    return 0;
  }

  private step(cols: KeyColumns, r: number): number {
    if (this.prevCols !== null) {
      // rows must not decrease (the previous row may be in the previous row group's arrays)
      let d = 0;
      for (let c = 0; c < cols.length && d === 0; c++)
        d = compareCells(cols[c]![r] ?? null, this.prevCols[c]![this.prev] ?? null);
      if (d < 0) return UNSORTED;
    }
    this.prevCols = cols;
    this.prev = r;
    const keys = this.batch.keys;
    while (this.j < keys.length && this.compareRow(cols, r, keys[this.j]!) > 0) this.j++;
    // a match is exact (the same typed cells, as keyId), not just equal under compareKeys
    for (let k = this.j; k < keys.length && this.compareRow(cols, r, keys[k]!) === 0; k++) {
      if (keyIdAt(cols, r) === keyId(keys[k]!)) return k;
    }
    return -1;
  }
}
