/**
 * Column types from a stream-schema property (destination-delta.md §2 "Types"): the `x-cockroachdb`
 * annotation first (exact DECIMAL(p,s), BIGINT, BINARY, TIMESTAMP µs, JSONB as STRING), the Airbyte
 * type second, STRING as the failsafe. `coerce` tells intake how to turn a JSON value into a Cell.
 */
import type { DeltaType } from "./types.js";

export type CoerceKind =
  | "long"
  | "double"
  | "decimal"
  | "decimal_string"
  | "boolean"
  | "string"
  | "json"
  | "binary"
  | "date"
  | "timestamp"
  | "timestamp_ntz"
  | "time";

export interface ColumnType {
  type: DeltaType;
  coerce: CoerceKind;
  /** Human description for error messages, e.g. `DECIMAL(10,2)` or `integer`. */
  label: string;
}

export interface CockroachAnnotation {
  type?: string;
  family?: string | null;
}

export type PropertySchema = Record<string, unknown> & {
  type?: string | string[];
  format?: string;
  airbyte_type?: string;
  contentEncoding?: string;
  "x-cockroachdb"?: CockroachAnnotation;
};

const STRING: ColumnType = { type: { kind: "string" }, coerce: "string", label: "STRING" };
const json = (label: string): ColumnType => ({ type: { kind: "string" }, coerce: "json", label });

/** Delta's DECIMAL precision limit. */
export const MAX_DECIMAL_PRECISION = 38;

/** Type of a column from its CockroachDB DDL type; undefined when the name is unknown. */
export function typeFromCockroach(ddl: string): ColumnType | undefined {
  const t = ddl.trim().toUpperCase().replace(/\s+/g, " ");
  const label = ddl.trim();
  if (t.endsWith("[]") || t.startsWith("ARRAY")) return json(label);
  const dec = /^(?:DECIMAL|NUMERIC|DEC)(?: ?\( ?(\d+) ?(?:, ?(\d+) ?)?\))?$/.exec(t);
  if (dec) {
    if (dec[1] === undefined) return { type: { kind: "string" }, coerce: "decimal_string", label };
    const precision = Number(dec[1]);
    const scale = dec[2] === undefined ? 0 : Number(dec[2]);
    if (precision > MAX_DECIMAL_PRECISION || precision < 1 || scale > precision) {
      return { type: { kind: "string" }, coerce: "decimal_string", label };
    }
    return { type: { kind: "decimal", precision, scale }, coerce: "decimal", label };
  }
  const base = t.replace(/ ?\(.*\)$/, "");
  switch (base) {
    case "INT":
    case "INTEGER":
    case "INT2":
    case "INT4":
    case "INT8":
    case "INT64":
    case "BIGINT":
    case "SMALLINT":
    case "SERIAL":
    case "SERIAL2":
    case "SERIAL4":
    case "SERIAL8":
    case "SMALLSERIAL":
    case "BIGSERIAL":
    case "OID":
      return { type: { kind: "long" }, coerce: "long", label };
    case "FLOAT":
    case "FLOAT4":
    case "FLOAT8":
    case "REAL":
    case "DOUBLE PRECISION":
    case "DOUBLE":
      return { type: { kind: "double" }, coerce: "double", label };
    case "BOOL":
    case "BOOLEAN":
      return { type: { kind: "boolean" }, coerce: "boolean", label };
    case "DATE":
      return { type: { kind: "date" }, coerce: "date", label };
    case "TIMESTAMPTZ":
    case "TIMESTAMP WITH TIME ZONE":
      return { type: { kind: "timestamp" }, coerce: "timestamp", label };
    case "TIMESTAMP":
    case "TIMESTAMP WITHOUT TIME ZONE":
      return { type: { kind: "timestamp_ntz" }, coerce: "timestamp_ntz", label };
    case "TIME":
    case "TIMETZ":
    case "TIME WITH TIME ZONE":
    case "TIME WITHOUT TIME ZONE":
      return { type: { kind: "string" }, coerce: "time", label };
    case "BYTES":
    case "BYTEA":
    case "BLOB":
      return { type: { kind: "binary" }, coerce: "binary", label };
    case "JSONB":
    case "JSON":
    case "GEOMETRY":
    case "GEOGRAPHY":
    case "BOX2D":
      return json(label);
    case "STRING":
    case "TEXT":
    case "VARCHAR":
    case "CHAR":
    case "CHARACTER":
    case "CHARACTER VARYING":
    case "NAME":
    case "UUID":
    case "INET":
    case "INTERVAL":
    case "BIT":
    case "VARBIT":
    case "BIT VARYING":
    case "CITEXT":
    case "LTREE":
    case "TSVECTOR":
    case "TSQUERY":
    case "REGCLASS":
      return { ...STRING, label };
    default:
      return undefined;
  }
}

/** Non-null JSON types of a property. */
export function airbyteTypes(prop: PropertySchema): string[] {
  const t = prop.type;
  if (t === undefined) return [];
  return (Array.isArray(t) ? t : [t]).filter((x) => x !== "null");
}

export function typeFromAirbyte(prop: PropertySchema): ColumnType {
  const types = airbyteTypes(prop);
  if (types.length === 0) {
    // No type: any JSON value (JSONB), unless it is a oneOf/anyOf union (failsafe STRING too).
    return json("JSON");
  }
  if (types.length > 1) return json(`union ${types.join("|")}`);
  const t = types[0] as string;
  switch (t) {
    case "boolean":
      return { type: { kind: "boolean" }, coerce: "boolean", label: "boolean" };
    case "integer":
      return { type: { kind: "long" }, coerce: "long", label: "integer" };
    case "number":
      if (prop.airbyte_type === "integer") return { type: { kind: "long" }, coerce: "long", label: "integer" };
      return { type: { kind: "double" }, coerce: "double", label: "number" };
    case "string":
      if (prop.contentEncoding === "base64") return { type: { kind: "binary" }, coerce: "binary", label: "base64 bytes" };
      if (prop.format === "date") return { type: { kind: "date" }, coerce: "date", label: "date" };
      if (prop.format === "time") return { type: { kind: "string" }, coerce: "time", label: "time" };
      if (prop.format === "date-time" || prop.airbyte_type?.startsWith("timestamp")) {
        return prop.airbyte_type === "timestamp_without_timezone"
          ? { type: { kind: "timestamp_ntz" }, coerce: "timestamp_ntz", label: "timestamp without time zone" }
          : { type: { kind: "timestamp" }, coerce: "timestamp", label: "timestamp with time zone" };
      }
      return STRING;
    default:
      // array, object, unknown: JSON text.
      return json(t);
  }
}

/** The column type of one stream-schema property: annotation first, Airbyte type second. */
export function columnTypeOf(prop: PropertySchema): ColumnType {
  const ann = prop["x-cockroachdb"];
  if (ann && typeof ann.type === "string") {
    const fromAnn = typeFromCockroach(ann.type);
    if (fromAnn) return fromAnn;
  }
  return typeFromAirbyte(prop);
}

/** SQL-ish rendering of a Delta type (messages, golden tests). */
export function deltaTypeName(t: DeltaType): string {
  return t.kind === "decimal" ? `decimal(${t.precision},${t.scale})` : t.kind;
}
