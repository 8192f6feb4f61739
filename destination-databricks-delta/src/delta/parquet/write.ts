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

/** Column values in the representation hyparquet-writer expects for the element. */
function columnValues(f: DeltaField, get: (i: number) => Cell | undefined, length: number): unknown[] {
  const out = new Array<unknown>(length);
  const name = f.name;
  const k = f.type.kind;
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
 * rewrite a file one row group at a time (memory bounded by a row group, not by the file).
 */
export const DATA_ROW_GROUP_ROWS = 32 * 1024;

/**
 * Incremental writer: each `append` becomes one row group (of at most `rowGroupSize` rows, split if
 * longer); `finish` returns the file bytes. Same schema and encoding as `writeParquetColumns`.
 */
export class ParquetColumnsWriter {
  private readonly writer = new ByteWriter();
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
    void this.pq.write({
      columnData: this.fields.map((f) => ({
        name: f.name,
        data: columnValues(f, column(f.name), length) as never,
        offsetIndex: false,
      })),
      rowGroupSize: this.rowGroupSize,
    });
    this.rows += length;
  }

  finish(): Uint8Array {
    void this.pq.finish();
    return new Uint8Array(this.writer.getBuffer());
  }
}
