/**
 * Parquet bytes -> typed cells (hyparquet), lossless: hyparquet would turn DECIMAL into a float
 * `number` and timestamps into millisecond `Date`s, so DECIMAL annotations are stripped from the
 * schema before decoding (raw unscaled INT32/INT64/bytes -> bigint here) and the timestamp parsers
 * return microseconds as bigint (INT96 and NANOS truncated toward -inf to µs; MILLIS scaled).
 */
import { parquetMetadata, parquetRead, parquetReadObjects } from "hyparquet";
import type { Cell, StoredRow } from "../../plan/types.js";

type FileMetaData = ReturnType<typeof parquetMetadata>;

const PARSERS = {
  timestampFromMilliseconds: (ms: bigint) => BigInt(ms) * 1000n,
  timestampFromMicroseconds: (us: bigint) => BigInt(us),
  timestampFromNanoseconds: (ns: bigint) => floorDiv(BigInt(ns), 1000n),
  dateFromDays: (d: number) => d,
};

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer)
    return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/** Two's-complement big-endian bytes -> bigint. */
export function bigintFromBytes(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  if (b[0]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v;
}

interface Prepared {
  metadata: FileMetaData;
  decimals: Set<string>;
  utf8: Set<string>;
}

function prepare(buf: ArrayBuffer): Prepared {
  const metadata = parquetMetadata(buf);
  const decimals = new Set<string>();
  const utf8 = new Set<string>();
  const schema = metadata.schema.map((el, i) => {
    if (i === 0 || el.num_children) return el;
    const isDecimal = el.converted_type === "DECIMAL" || el.logical_type?.type === "DECIMAL";
    if (isDecimal) {
      decimals.add(el.name);
      const { converted_type: _c, logical_type: _l, scale: _s, precision: _p, ...rest } = el;
      return rest;
    }
    return el;
  });
  return { metadata: { ...metadata, schema }, decimals, utf8 };
}

export interface ColumnarData {
  numRows: number;
  columns: Map<string, Cell[]>;
}

/** A parquet file opened once (footer parsed) for reading column ranges, e.g. one row group at a time. */
export interface OpenedParquet {
  numRows: number;
  /** Row ranges `[start, end)` of the row groups, in file order. */
  rowGroups: [number, number][];
  read(columns: readonly string[] | undefined, rowStart: number, rowEnd: number): Promise<ColumnarData>;
}

export function openParquet(bytes: Uint8Array): OpenedParquet {
  const file = toArrayBuffer(bytes);
  const { metadata, decimals } = prepare(file);
  const present = new Set(metadata.schema.slice(1).map((e) => e.name));
  const numRows = Number(metadata.num_rows);
  const rowGroups: [number, number][] = [];
  let g0 = 0;
  for (const rg of metadata.row_groups) {
    const g1 = g0 + Number(rg.num_rows);
    rowGroups.push([g0, g1]);
    g0 = g1;
  }
  const read = async (columns: readonly string[] | undefined, rowStart: number, rowEnd: number): Promise<ColumnarData> => {
    const wanted = columns ? columns.filter((c) => present.has(c)) : [...present];
    const n = Math.max(0, rowEnd - rowStart);
    const out = new Map<string, Cell[]>();
    if (n === 0 || wanted.length === 0) {
      for (const c of wanted) out.set(c, new Array<Cell>(n));
      return { numRows: n, columns: out };
    }
    const cell = (v: unknown, isDec: boolean): Cell => {
      if (v === undefined || v === null) return null;
      if (isDec) return typeof v === "bigint" ? v : v instanceof Uint8Array ? bigintFromBytes(v) : BigInt(v as number);
      return v as Cell;
    };
    await parquetRead({
      file,
      metadata,
      columns: wanted,
      rowStart,
      rowEnd,
      utf8: false,
      parsers: PARSERS,
      onChunk: ({ columnName, columnData, rowStart: cs, rowEnd: ce }) => {
        const isDec = decimals.has(columnName);
        let dst = out.get(columnName);
        if (!dst && cs === rowStart && ce === rowEnd && Array.isArray(columnData)) {
          // The chunk is exactly the range (reading one row group): take hyparquet's array and fix
          // its cells in place rather than copying it (a row group's columns are large objects).
          const a = columnData as unknown[];
          for (let i = 0; i < n; i++) a[i] = cell(a[i], isDec);
          out.set(columnName, a as Cell[]);
          return;
        }
        if (!dst) out.set(columnName, (dst = new Array<Cell>(n).fill(null)));
        // chunks are in file rows and may extend past the requested range: clip
        for (let i = Math.max(cs, rowStart), j = i - cs; i < Math.min(ce, rowEnd); i++, j++)
          dst[i - rowStart] = cell(columnData[j], isDec);
      },
    });
    for (const c of wanted) if (!out.has(c)) out.set(c, new Array<Cell>(n).fill(null));
    return { numRows: n, columns: out };
  };
  return { numRows, rowGroups, read };
}

/** Read flat top-level columns (all, or the named ones present in the file). Missing ones are absent from the map. */
export async function readParquetColumns(bytes: Uint8Array, columns?: readonly string[]): Promise<ColumnarData> {
  const f = openParquet(bytes);
  return f.read(columns, 0, f.numRows);
}

/** Row objects keyed by column name; columns of `names` missing from the file are NULL. */
export async function readParquetRows(bytes: Uint8Array, names: readonly string[]): Promise<StoredRow[]> {
  const { numRows, columns } = await readParquetColumns(bytes, names);
  const cols = names.map((n) => [n, columns.get(n)] as const);
  const rows = new Array<StoredRow>(numRows);
  for (let i = 0; i < numRows; i++) {
    const r: StoredRow = {};
    for (const [n, c] of cols) r[n] = c ? (c[i] ?? null) : null;
    rows[i] = r;
  }
  return rows;
}

/** Nested rows as hyparquet assembles them (checkpoints: struct columns), strings decoded. */
export async function readParquetObjects(bytes: Uint8Array, columns?: string[]): Promise<Record<string, unknown>[]> {
  const file = toArrayBuffer(bytes);
  return (await parquetReadObjects({ file, parsers: PARSERS, ...(columns ? { columns } : {}) })) as Record<string, unknown>[];
}
