/** CockroachDB DDL types → Airbyte JSON schema (airbyte-protocol.md §4, changefeed-files.md §5). */
import { configError } from "@cdc-delta/shared";

export interface ColumnInfo {
  name: string;
  /** DDL type as CockroachDB prints it, e.g. DECIMAL(10,2), STRING[], INT8. */
  type: string;
  nullable: boolean;
  family: string | null;
  hidden?: boolean;
}

export interface TableSchema {
  table: string;
  columns: ColumnInfo[];
  primaryKey: string[];
  /** Family holding the PK columns (null without families). */
  primaryFamily: string | null;
  source: "cockroachdb" | "schema.json" | "parquet" | "json" | "merged";
}

type JsonSchema = Record<string, unknown>;

/** Canonical upper-case base type: DECIMAL(10,2) → DECIMAL, STRING[] stays array-marked by caller. */
export function baseType(ddl: string): string {
  return ddl
    .trim()
    .toUpperCase()
    .replace(/\s*\(.*\)\s*/, "")
    .replace(/\s+/g, " ");
}

const INTEGER = new Set([
  "INT",
  "INT2",
  "INT4",
  "INT8",
  "INT64",
  "INTEGER",
  "BIGINT",
  "SMALLINT",
  "SERIAL",
  "SERIAL2",
  "SERIAL4",
  "SERIAL8",
  "BIGSERIAL",
  "SMALLSERIAL",
]);
const FLOAT = new Set(["FLOAT", "FLOAT4", "FLOAT8", "REAL", "DOUBLE PRECISION", "DOUBLE"]);
const DECIMAL = new Set(["DECIMAL", "NUMERIC", "DEC"]);
const STRINGS = new Set([
  "STRING",
  "TEXT",
  "VARCHAR",
  "CHAR",
  "CHARACTER",
  "CHARACTER VARYING",
  "NAME",
  "CITEXT",
  "UUID",
  "INET",
  "INTERVAL",
  "BIT",
  "VARBIT",
  "BIT VARYING",
  "BOX2D",
  "OID",
  "REGCLASS",
  "REGTYPE",
  "LTREE",
  "TSVECTOR",
  "TSQUERY",
  "PG_LSN",
  "REFCURSOR",
  '"CHAR"',
  "ENUM",
  "USER-DEFINED",
]);

/** JSON schema of one column value (without nullability). Unknown types → config_error. */
export function airbyteTypeOf(ddl: string, column = "?"): JsonSchema {
  const t = ddl.trim();
  if (/\[\]$/.test(t)) return { type: "array", items: nullable(airbyteTypeOf(t.slice(0, -2), column)) };
  if (/^_/.test(t) && t.length > 1) return { type: "array", items: nullable(airbyteTypeOf(t.slice(1), column)) };
  const b = baseType(t);
  if (b.startsWith("ARRAY")) return { type: "array" };
  if (INTEGER.has(b)) return { type: "integer" };
  // Non-finite FLOAT/DECIMAL values (NaN, ±Infinity) travel as the strings CockroachDB wrote: JSON
  // numbers cannot carry them and nulling them would lose data, so the schema admits that string form.
  if (FLOAT.has(b) || DECIMAL.has(b)) return { type: ["number", "string"] };
  if (b === "BOOL" || b === "BOOLEAN") return { type: "boolean" };
  if (b === "BYTES" || b === "BYTEA" || b === "BLOB") return { type: "string", contentEncoding: "base64" };
  if (b === "DATE") return { type: "string", format: "date" };
  if (b === "TIME" || b === "TIME WITHOUT TIME ZONE")
    return { type: "string", format: "time", airbyte_type: "time_without_timezone" };
  if (b === "TIMETZ" || b === "TIME WITH TIME ZONE")
    return { type: "string", format: "time", airbyte_type: "time_with_timezone" };
  if (b === "TIMESTAMP" || b === "TIMESTAMP WITHOUT TIME ZONE")
    return { type: "string", format: "date-time", airbyte_type: "timestamp_without_timezone" };
  if (b === "TIMESTAMPTZ" || b === "TIMESTAMP WITH TIME ZONE")
    return { type: "string", format: "date-time", airbyte_type: "timestamp_with_timezone" };
  if (b === "JSONB" || b === "JSON") return {};
  if (b === "GEOMETRY" || b === "GEOGRAPHY" || b === "TUPLE" || b === "RECORD") return { type: "object" };
  if (
    STRINGS.has(b) ||
    b.startsWith("ENUM") ||
    b.startsWith("VARCHAR") ||
    b.startsWith("CHAR") ||
    b.startsWith("STRING") ||
    b.startsWith("BIT")
  )
    return { type: "string" };
  throw configError(`column ${column}: unknown column type ${JSON.stringify(ddl)}; cannot map it to an Airbyte type`);
}

/** A user-defined type (ENUM) name that CockroachDB reports as such is mapped to string by callers. */
export function propertySchema(col: ColumnInfo, isKey: boolean): JsonSchema {
  const t = airbyteTypeOf(col.type, col.name);
  const s: JsonSchema = isKey ? { ...t } : nullable(t);
  s["x-cockroachdb"] = { type: col.type, family: col.family };
  return s;
}

/** The same schema admitting null (SQL NULL; also NULL elements inside arrays). */
function nullable(schema: JsonSchema): JsonSchema {
  const s: JsonSchema = { ...schema };
  if (typeof s.type === "string") s.type = [s.type, "null"];
  else if (Array.isArray(s.type) && !s.type.includes("null")) s.type = [...s.type, "null"];
  return s;
}

export const CDC_PROPERTIES: Record<string, JsonSchema> = {
  _cdc_op: { type: "string", enum: ["upsert", "delete"], "x-cockroachdb": { type: "STRING", family: null } },
  _cdc_updated: { type: "string", "x-cockroachdb": { type: "DECIMAL", family: null } },
  _cdc_family: { type: ["string", "null"], "x-cockroachdb": { type: "STRING", family: null } },
};

/** The stream JSON schema: all columns (union over families and versions) plus the `_cdc_*` fields. */
export function streamJsonSchema(t: TableSchema): JsonSchema {
  const props: Record<string, JsonSchema> = {};
  const pk = new Set(t.primaryKey);
  for (const c of t.columns) props[c.name] = propertySchema(c, pk.has(c.name));
  Object.assign(props, CDC_PROPERTIES);
  return { $schema: "http://json-schema.org/draft-07/schema#", type: "object", additionalProperties: true, properties: props };
}

/** Element type not yet known (only empty or all-NULL arrays seen); resolved by later samples, else STRING[]. */
export const UNKNOWN_ARRAY = "?[]";
const NON_FINITE = new Set(["NaN", "Infinity", "-Infinity", "+Infinity"]);
/** A non-finite number as CockroachDB writes it in JSON: a string that merges into any numeric type. */
export const NON_FINITE_NUMBER = "?NUMERIC";

/** The DDL type text from a JSON value (inference only). */
export function inferDdlType(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "boolean") return "BOOL";
  if (typeof v === "bigint") return "INT8";
  if (typeof v === "number") return Number.isInteger(v) ? "INT8" : "FLOAT8";
  if (typeof v === "object" && v !== null && (v as { isLosslessNumber?: boolean }).isLosslessNumber) {
    const text = String((v as { value: string }).value);
    return /^-?\d+$/.test(text) ? "INT8" : "DECIMAL";
  }
  if (typeof v === "string") {
    if (NON_FINITE.has(v)) return NON_FINITE_NUMBER;
    // CockroachDB BYTES in JSON: `\x` + hex (a STRING column holding such text would be misread; DDL sources win).
    if (/^\\x(?:[0-9a-f]{2})*$/.test(v)) return "BYTES";
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:\d{2})?)$/.test(v)) return "TIMESTAMPTZ";
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(v)) return "TIMESTAMP";
    if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return "DATE";
    return "STRING";
  }
  if (Array.isArray(v)) {
    const inner = v.map(inferDdlType).find((x) => x !== undefined);
    return inner ? `${inner}[]` : UNKNOWN_ARRAY;
  }
  return "JSONB";
}
