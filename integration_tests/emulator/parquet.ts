/**
 * Parquet data files as CockroachDB writes them (changefeed-files.md §6): data columns in table order
 * (family files: key columns + that family's), then `__crdb__event_type`, `__crdb__updated`,
 * `__crdb__mvcc_timestamp` (mvcc_timestamp option), `__crdb__before` (diff). Every column OPTIONAL.
 * DECIMAL is written as ASCII text bytes under a DECIMAL annotation (CockroachDB issue 130909):
 * (p,s) as declared, (p,0) annotated (p,p), unbounded (2147483647, 2147483647).
 *
 * Writer: hyparquet-writer with an explicit schema. Its DECIMAL path only takes numbers/bigints and
 * writes a bigint as minimal big-endian two's complement; ASCII text never starts with a 0x00 or
 * ≥ 0x80 byte, so passing the text's bytes read as a positive big-endian integer reproduces them exactly.
 */
import { gzipSync } from "node:zlib";
import { formatHlc } from "@cdc-delta/shared";
import { ByteWriter, parquetWrite } from "hyparquet-writer";
import { type EmitOptions, renderBeforeObject, zstdCompress } from "./emitter.js";
import type { Layout, Message } from "./model.js";
import type { ColumnDef } from "./tables.js";
import { type ColType, type Value, parquetText } from "./types.js";

type SchemaElement = Record<string, unknown> & { name: string };

export const UNBOUNDED_DECIMAL = 2147483647;

/** Text → bigint whose minimal two's complement big-endian bytes are the text's ASCII bytes. */
export function asciiAsBigint(text: string): bigint {
  const hex = Buffer.from(text, "latin1").toString("hex");
  if (!/^[0-9A-Za-z.+-]+$/.test(text)) throw new Error(`not a decimal text: ${text}`);
  return BigInt(`0x${hex}`);
}

export function decimalAnnotation(t: ColType & { k: "DECIMAL" }): { precision: number; scale: number } {
  if (t.p === undefined) return { precision: UNBOUNDED_DECIMAL, scale: UNBOUNDED_DECIMAL };
  const s = t.s ?? 0;
  return s === 0 ? { precision: t.p, scale: t.p } : { precision: t.p, scale: s };
}

function leaf(name: string, t: ColType): SchemaElement {
  const o = { name, repetition_type: "OPTIONAL" };
  switch (t.k) {
    case "INT2":
    case "INT4":
      return { ...o, type: "INT32" };
    case "INT8":
      return { ...o, type: "INT64" };
    case "FLOAT4":
      return { ...o, type: "FLOAT" };
    case "FLOAT8":
      return { ...o, type: "DOUBLE" };
    case "BOOL":
      return { ...o, type: "BOOLEAN" };
    case "DECIMAL": {
      const a = decimalAnnotation(t);
      return {
        ...o,
        type: "BYTE_ARRAY",
        converted_type: "DECIMAL",
        precision: a.precision,
        scale: a.scale,
        logical_type: { type: "DECIMAL", precision: a.precision, scale: a.scale },
      };
    }
    case "UUID":
      return { ...o, type: "FIXED_LEN_BYTE_ARRAY", type_length: 16, logical_type: { type: "UUID" } };
    case "TIME":
      return {
        ...o,
        type: "INT64",
        converted_type: "TIME_MICROS",
        logical_type: { type: "TIME", isAdjustedToUTC: true, unit: "MICROS" },
      };
    case "BYTES":
      return { ...o, type: "BYTE_ARRAY" };
    default:
      // STRING, ENUM, JSONB, DATE, TIMESTAMP(TZ), INTERVAL, INET: text.
      return { ...o, type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } };
  }
}

function schemaFor(name: string, t: ColType): SchemaElement[] {
  if (t.k !== "ARRAY") return [leaf(name, t)];
  return [
    { name, repetition_type: "OPTIONAL", num_children: 1, converted_type: "LIST", logical_type: { type: "LIST" } },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    leaf("element", t.elem),
  ];
}

const uuidBytes = (s: string) => Uint8Array.from(Buffer.from(s.replace(/-/g, ""), "hex"));

function cell(t: ColType, v: Value): unknown {
  if (v === null) return null;
  switch (t.k) {
    case "INT2":
    case "INT4":
      return Number(v as bigint);
    case "INT8":
      return v as bigint;
    case "FLOAT4":
    case "FLOAT8":
    case "BOOL":
      return v;
    case "DECIMAL":
      return asciiAsBigint(v as string);
    case "UUID":
      return uuidBytes(v as string);
    case "TIME":
      return BigInt(v as number);
    case "BYTES":
      return v;
    case "ARRAY":
      return (v as Value[]).map((e) => cell(t.elem, e));
    default:
      return parquetText(t, v);
  }
}

const textCol = (name: string): SchemaElement => ({
  name,
  repetition_type: "OPTIONAL",
  type: "BYTE_ARRAY",
  converted_type: "UTF8",
  logical_type: { type: "STRING" },
});

function compressors(): Record<string, (b: Uint8Array) => Uint8Array> {
  return { GZIP: (b) => gzipSync(b) };
}

async function write(
  schema: SchemaElement[],
  columnData: { name: string; data: unknown[]; statistics?: boolean }[],
  compression: EmitOptions["compression"],
): Promise<Uint8Array> {
  const codec = compression === "gzip" ? "GZIP" : compression === "zstd" ? "ZSTD" : "UNCOMPRESSED";
  const comp: Record<string, (b: Uint8Array) => Uint8Array> = compressors();
  if (codec === "ZSTD") {
    // zstd-wasm is async to initialise; initialise once, then use synchronously.
    await zstdCompress(new Uint8Array(0));
    const z = await import("@bokuweb/zstd-wasm");
    comp.ZSTD = (b) => z.compress(b, 3);
  }
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    columnData: columnData as never,
    schema: schema as never,
    codec: codec as never,
    compressors: comp as never,
    statistics: false,
    createdBy: "cdc-delta-connectors changefeed emulator (CockroachDB parquet layout)",
  });
  return writer.getBytes();
}

/** Columns of a family file: key columns + the family's, in table order. */
export function parquetColumns(layout: Layout, fam: number): number[] {
  const f = layout.families[fam];
  if (!f) throw new Error("family missing");
  const set = new Set<number>([...layout.pk, ...f.cols]);
  return layout.columns.map((_, i) => i).filter((i) => set.has(i));
}

export async function encodeParquet(
  msgs: readonly Message[],
  layout: Layout,
  fam: number,
  opts: EmitOptions,
): Promise<Uint8Array> {
  const f = layout.families[fam];
  if (!f) throw new Error("family missing");
  const cols = parquetColumns(layout, fam);
  const schema: SchemaElement[] = [];
  const columnData: { name: string; data: unknown[]; statistics?: boolean }[] = [];
  let children = 0;
  for (const ci of cols) {
    const c = layout.columns[ci] as ColumnDef;
    schema.push(...schemaFor(c.name, c.type));
    children++;
    const pkPos = layout.pk.indexOf(ci);
    const famPos = f.cols.indexOf(ci);
    columnData.push({
      name: c.name,
      data: msgs.map((m) => {
        // Deletes carry only key values (unverified, changefeed-files.md §6).
        const v: Value = pkPos >= 0 ? (m.key[pkPos] as Value) : m.after && famPos >= 0 ? (m.after[famPos] as Value) : null;
        return cell(c.type, v);
      }),
    });
  }
  schema.push(textCol("__crdb__event_type"));
  columnData.push({ name: "__crdb__event_type", data: msgs.map((m) => m.op) });
  schema.push(textCol("__crdb__updated"));
  columnData.push({ name: "__crdb__updated", data: msgs.map((m) => formatHlc(m.updated)) });
  children += 2;
  if (opts.mvccTimestamp) {
    schema.push(textCol("__crdb__mvcc_timestamp"));
    columnData.push({ name: "__crdb__mvcc_timestamp", data: msgs.map((m) => formatHlc(m.mvcc)) });
    children++;
  }
  if (opts.diff) {
    schema.push(textCol("__crdb__before"));
    columnData.push({ name: "__crdb__before", data: msgs.map((m) => (m.before ? renderBeforeObject(m) : null)) });
    children++;
  }
  return write([{ name: "schema", num_children: children }, ...schema], columnData, opts.compression);
}

/** One-row Parquet RESOLVED body: `__crdb__resolved`, unbounded DECIMAL annotation, text bytes (unverified). */
export async function encodeParquetResolved(resolved: string): Promise<Uint8Array> {
  const el = leaf("__crdb__resolved", { k: "DECIMAL" });
  return write(
    [{ name: "schema", num_children: 1 }, el],
    [{ name: "__crdb__resolved", data: [asciiAsBigint(resolved)] }],
    "none",
  );
}
