/**
 * Test helper: Parquet files shaped like CockroachDB's (changefeed-files.md §6): every column
 * OPTIONAL, DECIMAL as ASCII text under a DECIMAL annotation ((p,0) annotated (p,p); unbounded
 * 2147483647), UUID as FIXED_LEN_BYTE_ARRAY(16), TIME as INT64 TIME(MICROS), then __crdb__ columns.
 * The DECIMAL annotation is attached to the schema after the pages are written (the writer would
 * otherwise encode two's complement), which is exactly the CockroachDB wart.
 */
import { gzipSync } from "node:zlib";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";

export type CrdbKind = "INT8" | "INT4" | "STRING" | "DECIMAL" | "UUID" | "BOOL" | "FLOAT8" | "BYTES" | "TIME" | "JSONB";

export interface CrdbColumn {
  name: string;
  kind: CrdbKind;
  precision?: number;
  scale?: number;
}

let zstd: { compress(b: Uint8Array, level?: number): Uint8Array } | undefined;
export async function initZstd(): Promise<void> {
  if (zstd) return;
  const m = await import("@bokuweb/zstd-wasm");
  await m.init();
  zstd = m as never;
}

export function crdbParquet(
  columns: CrdbColumn[],
  rows: Record<string, unknown>[],
  options: { codec?: "ZSTD" | "GZIP" | "UNCOMPRESSED"; rowGroupSize?: number } = {},
): Uint8Array {
  const codec = options.codec ?? "UNCOMPRESSED";
  const schema: Record<string, unknown>[] = [{ name: "root", num_children: columns.length + 2 }];
  const decimals: { el: Record<string, unknown>; col: CrdbColumn }[] = [];
  const enc = new TextEncoder();
  const columnData = [];
  for (const c of columns) {
    const el: Record<string, unknown> = { name: c.name, repetition_type: "OPTIONAL" };
    let data: unknown[] = rows.map((r) => r[c.name] ?? null);
    switch (c.kind) {
      case "INT8":
        el.type = "INT64";
        data = data.map((v) => (v === null ? null : BigInt(v as bigint)));
        break;
      case "INT4":
        el.type = "INT32";
        break;
      case "BOOL":
        el.type = "BOOLEAN";
        break;
      case "FLOAT8":
        el.type = "DOUBLE";
        break;
      case "STRING":
      case "JSONB":
        el.type = "BYTE_ARRAY";
        el.converted_type = "UTF8";
        break;
      case "BYTES":
        el.type = "BYTE_ARRAY";
        break;
      case "DECIMAL":
        el.type = "BYTE_ARRAY";
        decimals.push({ el, col: c });
        data = data.map((v) => (v === null ? null : enc.encode(String(v))));
        break;
      case "UUID":
        el.type = "FIXED_LEN_BYTE_ARRAY";
        el.type_length = 16;
        data = data.map((v) => (v === null ? null : Uint8Array.from(Buffer.from(String(v).replace(/-/g, ""), "hex"))));
        break;
      case "TIME":
        el.type = "INT64";
        el.converted_type = "TIME_MICROS";
        el.logical_type = { type: "TIME", isAdjustedToUTC: false, unit: "MICROS" };
        data = data.map((v) => (v === null ? null : BigInt(v as number)));
        break;
    }
    schema.push(el);
    columnData.push({ name: c.name, data: data as never, nullable: true });
  }
  schema.push({ name: "__crdb__event_type", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" });
  schema.push({ name: "__crdb__updated", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" });
  columnData.push({ name: "__crdb__event_type", data: rows.map((r) => r.__crdb__event_type ?? "c") as never, nullable: true });
  columnData.push({ name: "__crdb__updated", data: rows.map((r) => r.__crdb__updated ?? null) as never, nullable: true });
  const writer = new ByteWriter();
  const compressors = {
    GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)),
    ZSTD: (b: Uint8Array) => {
      if (!zstd) throw new Error("call initZstd() first");
      return zstd.compress(b, 3);
    },
  };
  const pw = new ParquetWriter({ writer, schema: schema as never, codec, compressors: compressors as never, statistics: false });
  for (const col of columnData) (col as { codec?: string }).codec = codec;
  pw.write({ columnData: columnData as never, rowGroupSize: options.rowGroupSize ?? 100_000 });
  for (const { el, col } of decimals) {
    el.converted_type = "DECIMAL";
    el.precision = col.precision ?? 2147483647;
    el.scale = col.scale ?? col.precision ?? 2147483647;
    el.logical_type = { type: "DECIMAL", precision: el.precision, scale: el.scale };
  }
  pw.finish();
  return new Uint8Array(writer.getBuffer() as ArrayBuffer);
}
