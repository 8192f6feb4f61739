/** Ordering and equality of typed cells (keys, stats bounds). Strings order by code point = UTF-8 byte order, like Spark/delta-rs stats. */
import type { Cell } from "../../plan/types.js";

export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800–0xDFFF) encode code points above 0xFFFF: they sort after every BMP char.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** NULL sorts first. Numbers/bigints compare numerically across both representations. */
export function compareCells(a: Cell, b: Cell): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
    if (Number.isNaN(b)) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  if ((typeof a === "bigint" || typeof a === "number") && (typeof b === "bigint" || typeof b === "number")) {
    const x = typeof a === "bigint" ? a : BigInt(Math.trunc(a));
    const y = typeof b === "bigint" ? b : BigInt(Math.trunc(b));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  throw new Error(`cannot compare ${typeof a} with ${typeof b}`);
}

export function cellsEqual(a: Cell | undefined, b: Cell | undefined): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, b) === 0;
  return false;
}

export function compareKeys(a: readonly Cell[], b: readonly Cell[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareCells(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

function keyPart(c: Cell): string {
  if (c === null) return "N|";
  if (typeof c === "bigint") return `b${c}|`;
  if (typeof c === "number") return `n${c}|`;
  if (typeof c === "string") return `s${c.length}:${c}|`;
  if (typeof c === "boolean") return c ? "T|" : "F|";
  return `x${Buffer.from(c).toString("hex")}|`;
}

/** A string that identifies a key exactly (map key). */
export function keyId(key: readonly Cell[]): string {
  let s = "";
  for (const c of key) s += keyPart(c);
  return s;
}

/** `keyId` of row `r` of key columns `cols` (no key array built per row). */
export function keyIdAt(cols: readonly (readonly Cell[])[], r: number): string {
  let s = "";
  for (const c of cols) s += keyPart(c[r] ?? null);
  return s;
}
