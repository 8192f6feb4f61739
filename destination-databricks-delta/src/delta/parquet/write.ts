/**
 * Typed rows -> parquet bytes (hyparquet-writer; chosen by measurement, see docs/decisions.md).
 * Mapping: long INT64; integer INT32; double DOUBLE; boolean BOOLEAN; string BYTE_ARRAY UTF8;
 * binary BYTE_ARRAY; date INT32 DATE; timestamp INT64 TIMESTAMP(MICROS, UTC); timestamp_ntz
 * INT64 TIMESTAMP(MICROS, local); decimal(p,s) INT32 (p<=9) / INT64 (p<=18) / FIXED_LEN_BYTE_ARRAY,
 * always from the exact unscaled bigint.
 */
import { ByteWriter, ParquetWriter, parquetWrite } from "hyparquet-writer";
import type { Cell, StoredRow } from "../../plan/types.js";
import type { DeltaField } from "../log/schema.js";

type SchemaElement = Parameters<typeof parquetWrite>[0]["schema"] extends (infer E)[] | undefined ? E : never;
type RowGroup = ParquetWriter["row_groups"][number];

export function decimalByteLength(precision: number): number {
  // smallest n with 2^(8n-1) > 10^precision
  let n = 1;
  while (2n ** BigInt(8 * n - 1) <= 10n ** BigInt(precision)) n++;
  return n;
}

export function parquetElement(f: DeltaField): SchemaElement {
  const repetition_type = f.nullable ? "OPTIONAL" : "REQUIRED";
  const name = f.name;
  const t = f.type;
  switch (t.kind) {
    case "long":
      return { name, repetition_type, type: "INT64" };
    case "integer":
      return { name, repetition_type, type: "INT32" };
    case "double":
      return { name, repetition_type, type: "DOUBLE" };
    case "boolean":
      return { name, repetition_type, type: "BOOLEAN" };
    case "string":
      return { name, repetition_type, type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } };
    case "binary":
      return { name, repetition_type, type: "BYTE_ARRAY" };
    case "date":
      return { name, repetition_type, type: "INT32", converted_type: "DATE", logical_type: { type: "DATE" } };
    case "timestamp":
      return {
        name,
        repetition_type,
        type: "INT64",
        converted_type: "TIMESTAMP_MICROS",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" },
      };
    case "timestamp_ntz":
      return {
        name,
        repetition_type,
        type: "INT64",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: false, unit: "MICROS" },
      };
    case "decimal": {
      const base = {
        name,
        repetition_type,
        converted_type: "DECIMAL",
        precision: t.precision,
        scale: t.scale,
        logical_type: { type: "DECIMAL", precision: t.precision, scale: t.scale },
      } as const;
      if (t.precision <= 9) return { ...base, type: "INT32" };
      if (t.precision <= 18) return { ...base, type: "INT64" };
      return { ...base, type: "FIXED_LEN_BYTE_ARRAY", type_length: decimalByteLength(t.precision) };
    }
  }
}

/** Bytes per slab of `Utf8Slabs` (a string longer than a third of it gets a slab of its own). */
const UTF8_SLAB_BYTES = 64 * 1024;

/**
 * UTF-8 encodings of a column chunk's strings, packed into shared slabs: each string becomes a
 * view, not an ArrayBuffer of its own. hyparquet-writer encodes the strings of a plain-encoded UTF8
 * column one `TextEncoder.encode` at a time, i.e. one malloc'd backing store (plus its tracking
 * block) per value, freed only when the GC gets to them; at ~100k strings per row group that churn
 * grew the process's malloc heap by ~40 MB over a 1M-change run. Same bytes, same dictionary and
 * statistics (the writer orders strings in UTF-8 byte order either way).
 */
class Utf8Slabs {
  private slab: Buffer | null = null;
  private used = 0;

  bytes(s: string): Uint8Array {
    const worst = s.length * 3;
    if (this.slab === null || this.used + worst > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(Math.max(UTF8_SLAB_BYTES, worst));
      this.used = 0;
    }
    const n = this.slab.write(s, this.used, "utf8");
    const view = new Uint8Array(this.slab.buffer, this.slab.byteOffset + this.used, n);
    this.used += n;
    return view;
  }
}

/**
 * The writer keeps each column chunk's min/max statistics until the footer is written; copy the
 * byte-array bounds of the row groups written so far so that they do not pin a whole slab each.
 */
function detachStatistics(rowGroups: readonly RowGroup[], from: number): void {
  for (let g = from; g < rowGroups.length; g++) {
    for (const c of rowGroups[g]!.columns) {
      const st = c.meta_data?.statistics as { min_value?: unknown; max_value?: unknown } | undefined;
      if (!st) continue;
      if (st.min_value instanceof Uint8Array) st.min_value = st.min_value.slice();
      if (st.max_value instanceof Uint8Array) st.max_value = st.max_value.slice();
    }
  }
}

/**
 * A column whose sampled values are mostly repeats: the writer will dictionary-encode it, encoding
 * only the distinct strings, so they are better passed as strings than as one view each. A wrong
 * guess only costs memory or time, never changes the file.
 */
function fewDistinct(get: (i: number) => Cell | undefined, length: number): boolean {
  const sample = Math.min(length, 64);
  if (sample === 0) return true;
  const seen = new Set<unknown>();
  for (let s = 0; s < sample; s++) seen.add(get(Math.floor((s * length) / sample)));
  return seen.size * 4 <= sample;
}

/** Column values in the representation hyparquet-writer expects for the element. */
function columnValues(f: DeltaField, get: (i: number) => Cell | undefined, length: number): unknown[] {
  const out = new Array<unknown>(length);
  const name = f.name;
  const k = f.type.kind;
  const utf8 = k === "string" && !fewDistinct(get, length) ? new Utf8Slabs() : null;
  for (let i = 0; i < length; i++) {
    const v: Cell | undefined = get(i);
    if (v === null || v === undefined) {
      if (!f.nullable) throw new Error(`column ${name} is NOT NULL but row ${i} has NULL`);
      out[i] = null;
      continue;
    }
    switch (k) {
      case "long":
      case "timestamp":
      case "timestamp_ntz":
        out[i] = typeof v === "bigint" ? v : BigInt(v as number);
        break;
      case "decimal":
        if (typeof v !== "bigint") throw new Error(`column ${name}: decimal cell must be an unscaled bigint, got ${typeof v}`);
        out[i] = v;
        break;
      case "integer":
      case "date":
        out[i] = typeof v === "bigint" ? Number(v) : v;
        break;
      case "string":
        out[i] = utf8 !== null && typeof v === "string" ? utf8.bytes(v) : v;
        break;
      default:
        out[i] = v;
    }
  }
  return out;
}

export interface ParquetWriteOptions {
  rowGroupSize?: number;
  /** Sorting columns recorded in the footer (informational). */
  statistics?: boolean;
  /**
   * Expected file size (e.g. the size of the file being rewritten): the output buffer starts at
   * about this size instead of growing by doubling from 1 KiB (each step a copy).
   */
  sizeHint?: number;
}

export function writeParquet(
  fields: readonly DeltaField[],
  rows: readonly StoredRow[],
  opts: ParquetWriteOptions = {},
): Uint8Array {
  return writeParquetColumns(fields, (name) => (i) => rows[i]![name], rows.length, opts);
}

/** Columnar form: `column(name)(i)` is row i's cell (undefined = NULL). */
export function writeParquetColumns(
  fields: readonly DeltaField[],
  column: (name: string) => (i: number) => Cell | undefined,
  length: number,
  opts: ParquetWriteOptions = {},
): Uint8Array {
  const schema: SchemaElement[] = [{ name: "schema", num_children: fields.length }, ...fields.map(parquetElement)];
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    schema,
    // no page offset index: Delta readers do not need it and it costs ~10% of write time
    columnData: fields.map((f) => ({ name: f.name, data: columnValues(f, column(f.name), length) as never, offsetIndex: false })),
    rowGroupSize: opts.rowGroupSize ?? 128 * 1024,
    statistics: opts.statistics ?? true,
    createdBy: "cdc-delta-connectors (hyparquet-writer)",
  });
  return new Uint8Array(writer.getBuffer());
}

/**
 * Row groups of the Delta data files: small enough that a copy-on-write MERGE can read, apply and
 * rewrite a file one row group at a time (memory bounded by a row group, not by the file), and that
 * a row group's per-column arrays (decoded cells, converted copies; 8 bytes per row) stay under
 * V8's large-object size (128 KiB = 16 384 slots): ordinary young-generation garbage, freed by
 * scavenges, instead of large objects that only a full GC frees. With 32 Ki rows every rewrite of
 * a row group left ~100 such arrays to the old generation; measured on the 1M-change bench: peak
 * RSS −35 MB, same throughput, same file sizes.
 */
export const DATA_ROW_GROUP_ROWS = 16_000;

/**
 * Incremental writer: each `append` becomes one row group (of at most `rowGroupSize` rows, split if
 * longer); `finish` returns the file bytes. Same schema and encoding as `writeParquetColumns`.
 */
export class ParquetColumnsWriter {
  private readonly writer: ByteWriter;
  private readonly pq: ParquetWriter;
  private readonly rowGroupSize: number;
  private readonly statistics: boolean;
  rows = 0;

  constructor(
    private readonly fields: readonly DeltaField[],
    opts: ParquetWriteOptions = {},
  ) {
    this.rowGroupSize = opts.rowGroupSize ?? DATA_ROW_GROUP_ROWS;
    this.statistics = opts.statistics ?? true;
    this.writer = new ByteWriter(Math.max(1024, Math.ceil((opts.sizeHint ?? 0) * 1.125)));
    const schema: SchemaElement[] = [{ name: "schema", num_children: fields.length }, ...fields.map(parquetElement)];
    this.pq = new ParquetWriter({
      writer: this.writer,
      schema,
      statistics: this.statistics,
      createdBy: "cdc-delta-connectors (hyparquet-writer)",
    });
  }

  append(column: (name: string) => (i: number) => Cell | undefined, length: number): void {
    if (length === 0) return;
    const groups = this.pq.row_groups.length;
    void this.pq.write({
      columnData: this.fields.map((f) => ({
        name: f.name,
        data: columnValues(f, column(f.name), length) as never,
        offsetIndex: false,
      })),
      rowGroupSize: this.rowGroupSize,
    });
    detachStatistics(this.pq.row_groups, groups);
    this.rows += length;
  }

  /** The file bytes: a view of the writer's buffer (no copy of the whole file). */
  finish(): Uint8Array {
    void this.pq.finish();
    return this.writer.getBytes();
  }
}
