/**
 * Schema from the CockroachDB catalog over the PostgreSQL wire protocol: information_schema for
 * columns and primary keys (portable; tested against PostgreSQL), `crdb_sql_type` when CockroachDB
 * provides it, and SHOW CREATE TABLE for column families (CockroachDB only).
 */
import { configError, errorMessage } from "@cdc-delta/shared";
import { parseShowCreateTable } from "./show-create.js";
import type { ColumnInfo, TableSchema } from "./types.js";

export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}

export async function connect(connectionString: string, timeoutSeconds: number): Promise<SqlClient> {
  const pg = (await import("pg")).default;
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: timeoutSeconds * 1000,
    query_timeout: timeoutSeconds * 1000,
    statement_timeout: timeoutSeconds * 1000,
  });
  try {
    await client.connect();
  } catch (e) {
    const msg = errorMessage(e);
    const auth = /password|authentication|28P01|28000/i.test(msg + String((e as { code?: string }).code));
    throw configError(`CockroachDB SQL connection failed: ${auth ? "authentication failed (check user and password)" : msg}`, {
      internal: msg,
    });
  }
  return client as unknown as SqlClient;
}

/** Postgres information_schema types → CockroachDB DDL spelling. */
export function ddlFromInformationSchema(r: Record<string, unknown>): string {
  if (typeof r.crdb_sql_type === "string" && r.crdb_sql_type) return r.crdb_sql_type;
  const dt = String(r.data_type ?? "").toLowerCase();
  const udt = String(r.udt_name ?? "").toLowerCase();
  const p = r.numeric_precision;
  const s = r.numeric_scale;
  const len = r.character_maximum_length;
  const base: Record<string, string> = {
    bigint: "INT8",
    integer: "INT4",
    smallint: "INT2",
    boolean: "BOOL",
    bytea: "BYTES",
    date: "DATE",
    text: "STRING",
    uuid: "UUID",
    jsonb: "JSONB",
    json: "JSONB",
    "double precision": "FLOAT8",
    real: "FLOAT4",
    inet: "INET",
    interval: "INTERVAL",
    oid: "OID",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
    "time without time zone": "TIME",
    "time with time zone": "TIMETZ",
    bit: "BIT",
    "bit varying": "VARBIT",
    "user-defined": "ENUM",
  };
  if (dt === "numeric") return p !== null && p !== undefined ? `DECIMAL(${p},${s ?? 0})` : "DECIMAL";
  if (dt === "character varying") return len ? `VARCHAR(${len})` : "VARCHAR";
  if (dt === "character") return len ? `CHAR(${len})` : "CHAR";
  if (dt === "array") {
    const inner = udt.replace(/^_/, "");
    const map: Record<string, string> = {
      int8: "INT8",
      int4: "INT4",
      int2: "INT2",
      text: "STRING",
      varchar: "STRING",
      numeric: "DECIMAL",
      bool: "BOOL",
      float8: "FLOAT8",
      float4: "FLOAT4",
      uuid: "UUID",
      bytea: "BYTES",
      date: "DATE",
      timestamptz: "TIMESTAMPTZ",
      timestamp: "TIMESTAMP",
      jsonb: "JSONB",
    };
    return `${map[inner] ?? inner.toUpperCase()}[]`;
  }
  return base[dt] ?? dt.toUpperCase();
}

/** `table` or `db.schema.table` / `schema.table` topic → (schema, table). */
export function splitQualified(name: string): { schema: string; table: string } {
  const parts = name.split(".");
  if (parts.length >= 2) return { schema: parts[parts.length - 2] as string, table: parts[parts.length - 1] as string };
  return { schema: "public", table: name };
}

export async function tableSchemaFromSql(client: SqlClient, qualified: string): Promise<TableSchema | undefined> {
  const { schema, table } = splitQualified(qualified);
  const cols = await client.query(
    "SELECT * FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
    [schema, table],
  );
  if (cols.rows.length === 0) return undefined;
  const pk = await client.query(
    `SELECT kcu.column_name FROM information_schema.table_constraints tc
       JOIN information_schema.key_column_usage kcu
         ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema AND tc.table_name = kcu.table_name
      WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = $1 AND tc.table_name = $2
      ORDER BY kcu.ordinal_position`,
    [schema, table],
  );
  const columns: ColumnInfo[] = cols.rows
    .filter(
      (r) => String(r.is_generated ?? "").toUpperCase() !== "ALWAYS" || String(r.generation_expression ?? "") === "" || true,
    )
    .map((r) => ({
      name: String(r.column_name),
      type: ddlFromInformationSchema(r),
      nullable: String(r.is_nullable).toUpperCase() === "YES",
      family: null,
      ...(String(r.is_hidden ?? "NO").toUpperCase() === "YES" ? { hidden: true } : {}),
    }));
  let primaryKey = pk.rows.map((r) => String(r.column_name));
  if (primaryKey.length === 0 && columns.some((c) => c.name === "rowid")) primaryKey = ["rowid"];
  let primaryFamily: string | null = null;
  // Families: CockroachDB only (PostgreSQL has no SHOW CREATE TABLE; the error is expected there).
  try {
    const q = `SHOW CREATE TABLE ${[schema, table].map((p) => `"${p.replace(/"/g, '""')}"`).join(".")}`;
    const res = await client.query(q);
    const text = String(res.rows[0]?.create_statement ?? "");
    if (text) {
      const parsed = parseShowCreateTable(text, table);
      primaryFamily = parsed.primaryFamily;
      for (const c of columns) c.family = parsed.columns.find((x) => x.name === c.name)?.family ?? null;
    }
  } catch {
    // not CockroachDB: no families
  }
  return { table: qualified, columns, primaryKey, primaryFamily, source: "cockroachdb" };
}
