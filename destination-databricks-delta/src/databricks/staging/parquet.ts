/**
 * Staged batch files: typed Parquet written with hyparquet-writer (the library src/delta uses).
 * long → INT64, integer → INT32, double → DOUBLE, boolean → BOOLEAN, string → UTF8, binary →
 * BYTE_ARRAY, date → INT32 DATE, timestamp → INT64 TIMESTAMP(MICROS, UTC), timestamp_ntz → INT64
 * TIMESTAMP(MICROS, local), decimal(p,s) → FIXED_LEN_BYTE_ARRAY DECIMAL from the exact unscaled bigint.
 * The MERGE CASTs every staged column to its target type anyway.
 */
import { ByteWriter, parquetWrite } from "hyparquet-writer";
import type { Cell, DeltaType } from "../../plan/types.js";
import type { SqlColumn } from "../sql/columns.js";

type SchemaElement = NonNullable<Parameters<typeof parquetWrite>[0]["schema"]>[number];

/** Bytes needed for a two's-complement decimal of `precision` digits. */
export function decimalBytes(precision: number): number {
  let n = 1;
  while (2n ** BigInt(8 * n - 1) <= 10n ** BigInt(precision)) n++;
  return n;
}

function element(c: SqlColumn): SchemaElement {
  const repetition_type = c.nullable ? "OPTIONAL" : "REQUIRED";
  const base = { name: c.name, repetition_type } as const;
  const t: DeltaType = c.type;
  switch (t.kind) {
    case "long":
      return { ...base, type: "INT64" };
    case "integer":
      return { ...base, type: "INT32" };
    case "double":
      return { ...base, type: "DOUBLE" };
    case "boolean":
      return { ...base, type: "BOOLEAN" };
    case "string":
      return { ...base, type: "BYTE_ARRAY", converted_type: "UTF8" };
    case "binary":
      return { ...base, type: "BYTE_ARRAY" };
    case "date":
      return { ...base, type: "INT32", converted_type: "DATE" };
    case "timestamp":
      return { ...base, type: "INT64", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" } };
    case "timestamp_ntz":
      return { ...base, type: "INT64", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: false, unit: "MICROS" } };
    case "decimal":
      return {
        ...base,
        type: "FIXED_LEN_BYTE_ARRAY",
        type_length: decimalBytes(t.precision),
        converted_type: "DECIMAL",
        precision: t.precision,
        scale: t.scale,
      };
  }
}

function checkCell(c: SqlColumn, v: Cell, row: number): Cell {
  if (v === null) {
    if (!c.nullable) throw new Error(`staged column ${c.name} is NOT NULL but row ${row} is null`);
    return null;
  }
  const k = c.type.kind;
  const bad = () => new Error(`staged column ${c.name} (${k}) got ${typeof v} at row ${row}`);
  switch (k) {
    case "long":
    case "timestamp":
    case "timestamp_ntz":
    case "decimal":
      if (typeof v !== "bigint") throw bad();
      return v;
    case "integer":
    case "date":
    case "double":
      if (typeof v !== "number") throw bad();
      return v;
    case "boolean":
      if (typeof v !== "boolean") throw bad();
      return v;
    case "string":
      if (typeof v !== "string") throw bad();
      return v;
    case "binary":
      if (!(v instanceof Uint8Array)) throw bad();
      return v;
  }
}

/** One Parquet file of `rows` (each a Cell per column, in `columns` order). */
export function writeStageParquet(columns: SqlColumn[], rows: Cell[][]): Uint8Array {
  const columnData = columns.map((c, ci) => ({
    name: c.name,
    data: rows.map((r, ri) => checkCell(c, r[ci] ?? null, ri)) as unknown[],
    nullable: c.nullable,
  }));
  const schema: SchemaElement[] = [{ name: "root", num_children: columns.length }, ...columns.map(element)];
  const writer = new ByteWriter();
  parquetWrite({ writer, columnData: columnData as never, schema, statistics: false, createdBy: "destination-databricks-delta" });
  return new Uint8Array(writer.getBuffer());
}
