/**
 * CockroachDB Parquet changefeed files via hyparquet (+ hyparquet-compressors for GZIP/ZSTD).
 * DECIMAL columns are written as ASCII text under a DECIMAL annotation (CockroachDB issue 130909):
 * the annotation is stripped from the parsed schema before value conversion, and the raw bytes are
 * read as text when they look like text, else as big-endian two's complement at the trusted scale.
 */
import {
  configError,
  isLosslessNumber,
  type JsonObject,
  type JsonValue,
  LosslessNumber,
  stringifyJsonLossless,
} from "@cdc-delta/shared";
import { parquetMetadata, parquetRead } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { parseLine, type RawChange, rawChange } from "./json.js";

export interface ParquetDecodeOptions {
  /** Primary key columns in ordinal order: Parquet files carry no key metadata. */
  primaryKey: string[] | undefined;
  /** DDL type per column when known (catalog, schema.json), e.g. DECIMAL(10,2), BYTES, UUID. */
  columnTypes?: Map<string, string>;
}

interface DecimalInfo {
  scale: number;
  precision: number;
}

const DECIMAL_TEXT = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|-?Infinity)$/;
const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Exact decimal text from CockroachDB's DECIMAL bytes (text, or two's complement at `scale`). */
export function decimalFromBytes(bytes: Uint8Array, scale: number): LosslessNumber | string {
  let ascii = bytes.length > 0;
  for (const b of bytes)
    if (
      !(
        b === 43 ||
        b === 45 ||
        b === 46 ||
        (b >= 48 && b <= 57) ||
        b === 69 ||
        b === 101 ||
        b === 73 ||
        b === 78 ||
        b === 97 ||
        b === 102 ||
        b === 105 ||
        b === 110 ||
        b === 116 ||
        b === 121
      )
    )
      ascii = false;
  if (ascii) {
    const text = utf8.decode(bytes);
    if (DECIMAL_TEXT.test(text)) return /^(NaN|-?Infinity)$/.test(text) ? text : new LosslessNumber(text.replace(/^\+/, ""));
  }
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if (bytes.length && (bytes[0] as number) & 0x80) v -= 1n << BigInt(bytes.length * 8);
  const neg = v < 0n;
  let digits = (neg ? -v : v).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return new LosslessNumber((neg ? "-" : "") + digits);
}

function uuidText(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function timeFromMicros(us: bigint): string {
  const total = Number(us);
  const h = Math.floor(total / 3_600_000_000);
  const m = Math.floor((total % 3_600_000_000) / 60_000_000);
  const s = Math.floor((total % 60_000_000) / 1_000_000);
  const frac = total % 1_000_000;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(h)}:${p(m)}:${p(s)}${frac ? `.${String(frac).padStart(6, "0").replace(/0+$/, "")}` : ""}`;
}

type Conv = (v: unknown) => JsonValue;

function converterFor(
  name: string,
  el: { type?: string; type_length?: number; logical_type?: { type: string }; converted_type?: string },
  decimal: DecimalInfo | undefined,
  ddlType: string | undefined,
): Conv {
  const t = ddlType?.toUpperCase() ?? "";
  if (decimal) {
    const m = /DECIMAL\s*\(\s*\d+\s*,\s*(\d+)\s*\)/.exec(t);
    // Distrust a Parquet scale equal to precision ((p,0) is annotated (p,p)); prefer the DDL's.
    const scale = m ? Number(m[1]) : decimal.scale === decimal.precision ? 0 : decimal.scale;
    return (v) =>
      v instanceof Uint8Array ? decimalFromBytes(v, scale) : v === null || v === undefined ? null : new LosslessNumber(String(v));
  }
  if (el.type === "FIXED_LEN_BYTE_ARRAY" && el.type_length === 16 && (t === "" || t === "UUID")) {
    return (v) => (v instanceof Uint8Array ? uuidText(v) : ((v as JsonValue) ?? null));
  }
  if (el.logical_type?.type === "TIME" || el.converted_type === "TIME_MICROS") {
    return (v) => (typeof v === "bigint" ? timeFromMicros(v) : typeof v === "number" ? timeFromMicros(BigInt(v) * 1000n) : null);
  }
  if (/^(TIMESTAMPTZ|TIMESTAMP WITH TIME ZONE|TIMESTAMP|TIMESTAMP WITHOUT TIME ZONE|TIMETZ)(\(\d\))?$/.test(t)) {
    return (v) =>
      v instanceof Uint8Array
        ? normalizeTemporal(utf8.decode(v))
        : typeof v === "string"
          ? normalizeTemporal(v)
          : ((v as JsonValue) ?? null);
  }
  if (t === "JSONB" || t === "JSON") {
    return (v) => {
      const text = v instanceof Uint8Array ? utf8.decode(v) : v;
      if (typeof text !== "string") return (text as JsonValue) ?? null;
      try {
        return parseLine(text);
      } catch {
        return text;
      }
    };
  }
  if (el.type === "BYTE_ARRAY" || el.type === "FIXED_LEN_BYTE_ARRAY") {
    const isBytes = t === "BYTES" || t === "BYTEA" || t.startsWith("GEOMETRY") || t.startsWith("GEOGRAPHY");
    return (v) => {
      if (v instanceof Uint8Array) {
        if (isBytes) return Buffer.from(v).toString("base64");
        if (t !== "") return utf8.decode(v);
        const text = utf8Text(v);
        return text === undefined ? Buffer.from(v).toString("base64") : text;
      }
      return (v as JsonValue) ?? null;
    };
  }
  if (el.type === "FLOAT" || el.type === "DOUBLE")
    return (v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : ((v as JsonValue) ?? null));
  void name;
  return (v) => (v === undefined ? null : (v as JsonValue));
}

/**
 * Parquet text forms of temporal types are space-separated with numeric offsets
 * (`2025-03-14 09:26:53.5+00:00`): emitted as RFC 3339 like the JSON form (`2025-03-14T09:26:53.5Z`).
 */
export function normalizeTemporal(s: string): string {
  const m = /^(\d{4,}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:([+-]\d{2})(?::?(\d{2}))?(?::\d{2})?|Z)?$/.exec(s);
  if (m) {
    const zone =
      m[3] === undefined
        ? s.endsWith("Z")
          ? "Z"
          : ""
        : m[3] === "+00" && (m[4] ?? "00") === "00"
          ? "Z"
          : `${m[3]}:${m[4] ?? "00"}`;
    return `${m[1]}T${m[2]}${zone}`;
  }
  const tz = /^(\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(?::?(\d{2}))?$/.exec(s);
  if (tz) return `${tz[1]}${tz[2]}:${tz[3] ?? "00"}`;
  return s;
}

const PLAIN_NUMBER = /^-?[0-9][0-9.eE+-]*$/;

/** JSON text of one converted value (bigint and LosslessNumber keep their digits). */
function valueText(v: JsonValue): string {
  if (v === null || v === undefined) return "null";
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "bigint":
      return v.toString();
    case "number":
      return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
    case "boolean":
      return v ? "true" : "false";
    default:
      // A decimal's text as stringifyJsonLossless writes it (digits verbatim), without its marking pass.
      if (isLosslessNumber(v) && PLAIN_NUMBER.test(v.value)) return v.value;
      return stringifyJsonLossless(v);
  }
}

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** The bytes as text when they are valid UTF-8 without control characters (else undefined: binary). */
function utf8Text(bytes: Uint8Array): string | undefined {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b < 9 || (b > 13 && b < 32)) return undefined;
  }
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return undefined;
  }
}

function convertDeep(v: unknown, conv: Conv): JsonValue {
  if (Array.isArray(v)) return v.map((x) => conv(x));
  return conv(v);
}

/** Decode one whole Parquet object into changes, in row order. */
export async function* readParquet(bytes: Uint8Array, name: string, options: ParquetDecodeOptions): AsyncGenerator<RawChange[]> {
  // A buffer that is exactly the file (the usual case) is read in place, not copied.
  const file = (
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? bytes.buffer
      : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  ) as ArrayBuffer;
  let metadata: ReturnType<typeof parquetMetadata>;
  try {
    metadata = parquetMetadata(file);
  } catch (e) {
    throw configError(`${name}: corrupt or truncated Parquet file (${(e as Error).message}; ${bytes.byteLength} bytes)`);
  }
  const decimals = new Map<string, DecimalInfo>();
  const elements = new Map<string, (typeof metadata.schema)[number]>();
  for (const el of metadata.schema) {
    const isDecimal = el.converted_type === "DECIMAL" || el.logical_type?.type === "DECIMAL";
    if (isDecimal && (el.type === "BYTE_ARRAY" || el.type === "FIXED_LEN_BYTE_ARRAY")) {
      decimals.set(el.name, { scale: el.scale ?? 0, precision: el.precision ?? 0 });
      el.converted_type = undefined;
      el.logical_type = undefined;
    }
    elements.set(el.name, el);
  }
  const top = metadata.schema[0];
  const columnNames: string[] = [];
  // Top-level field names (LIST groups count once).
  {
    let i = 1;
    const skip = (idx: number): number => {
      const el = metadata.schema[idx];
      let next = idx + 1;
      for (let c = 0; c < (el?.num_children ?? 0); c++) next = skip(next);
      return next;
    };
    for (let c = 0; c < (top?.num_children ?? 0); c++) {
      columnNames.push(metadata.schema[i]?.name as string);
      i = skip(i);
    }
  }
  if (!columnNames.includes("__crdb__updated")) {
    throw configError(
      `${name}: no __crdb__updated column: the changefeed was created without the \`updated\` option (or by a CockroachDB older than v23.2); recreate it WITH updated, resolved`,
    );
  }
  if (!columnNames.includes("__crdb__event_type"))
    throw configError(`${name}: no __crdb__event_type column; not a CockroachDB changefeed Parquet file`);
  const dataColumns = columnNames.filter((c) => !c.startsWith("__crdb__"));
  const pk = options.primaryKey;
  if (!pk || pk.length === 0) {
    throw configError(
      `${name}: Parquet changefeed files carry no primary-key metadata; configure primary_keys for this table or the CockroachDB connection`,
    );
  }
  for (const k of pk)
    if (!dataColumns.includes(k)) throw configError(`${name}: primary key column ${k} is not in the Parquet file`);
  const convs = new Map<string, Conv>();
  for (const c of dataColumns) {
    const el = elements.get(c) ?? { name: c };
    // For LIST columns the leaf element carries the type.
    let leaf = el;
    if (el.converted_type === "LIST" || el.logical_type?.type === "LIST" || (el.num_children ?? 0) > 0) {
      const idx = metadata.schema.indexOf(el as (typeof metadata.schema)[number]);
      let j = idx + 1;
      while (j < metadata.schema.length && (metadata.schema[j]?.num_children ?? 0) > 0) j++;
      leaf = metadata.schema[j] ?? el;
    }
    const ddl = options.columnTypes?.get(c)?.replace(/\[\]$/, "");
    convs.set(c, converterFor(c, leaf as never, decimals.get(leaf.name), ddl));
  }
  const names = dataColumns.map((c) => JSON.stringify(c));
  const structure: JsonObject = Object.fromEntries(dataColumns.map((c) => [c, null]));
  // Column-wise (no object per row): each top-level column's values in row order, as
  // parquetReadObjects would have put them in its row objects.
  let numRows = 0;
  for (const g of metadata.row_groups) numRows += Number(g.num_rows);
  const columnValues = new Map<string, unknown[]>();
  try {
    await parquetRead({
      file,
      metadata,
      compressors,
      utf8: false,
      onChunk: ({ columnName, columnData, rowStart }) => {
        let values = columnValues.get(columnName);
        if (!values) columnValues.set(columnName, (values = new Array<unknown>(numRows)));
        for (let j = 0; j < columnData.length; j++) values[rowStart + j] = columnData[j];
      },
    });
  } catch (e) {
    throw configError(`${name}: cannot read Parquet data (${(e as Error).message})`);
  }
  const NONE: unknown[] = [];
  const column = (c: string): unknown[] => columnValues.get(c) ?? NONE;
  const updatedValues = column("__crdb__updated");
  const eventValues = column("__crdb__event_type");
  const pkValues = pk.map(column);
  const pkConvs = pk.map((k) => convs.get(k) as Conv);
  const dataValues = dataColumns.map(column);
  const batchSize = 1024;
  const nCols = dataColumns.length;
  const colConvs = dataColumns.map((c) => convs.get(c) as Conv);
  const parts: string[] = new Array(nCols);
  for (let start = 0; start < numRows; start += batchSize) {
    const out: RawChange[] = [];
    const end = Math.min(numRows, start + batchSize);
    for (let r = start; r < end; r++) {
      const updatedRaw = updatedValues[r];
      const updated = updatedRaw instanceof Uint8Array ? utf8.decode(updatedRaw) : updatedRaw;
      if (typeof updated !== "string")
        throw configError(
          `${name} row ${r + 1}: __crdb__updated is empty: the changefeed was created without the \`updated\` option`,
        );
      const evRaw = eventValues[r];
      const ev = evRaw instanceof Uint8Array ? utf8.decode(evRaw) : evRaw;
      const key = pkValues.map((values, i) => convertDeep(values[r], pkConvs[i] as Conv));
      if (ev === "d") {
        out.push(rawChange(updated, key, null, undefined, undefined, r + 1));
        continue;
      }
      // The row as exact JSON text (values already in their emitted form: base64 BYTES, decimal text,
      // RFC 3339 times); `after` is only the shared column structure.
      // Built as parts and joined: one flat string per row (a `+=` chain would hold a tree of cons
      // strings per row while the window is buffered).
      for (let i = 0; i < nCols; i++)
        parts[i] = `${i ? "" : "{"}${names[i]}:${valueText(convertDeep((dataValues[i] as unknown[])[r], colConvs[i] as Conv))}`;
      parts[nCols - 1] += "}";
      out.push(rawChange(updated, key, structure, parts.join(","), true, r + 1));
    }
    // Converted values are released while the rest of the file is still being converted.
    for (const values of columnValues.values()) values.fill(undefined, start, end);
    yield out;
  }
}
