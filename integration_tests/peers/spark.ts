/**
 * Spark peer for interop tests: statements run through the CI's Spark Thrift server (one JVM per CI
 * run, started by .ci/services.sh) with its beeline client, one beeline process per call. Tables are
 * read as one JSON line per row with exact, canonical values (same encoding as delta_peer.py).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { DeltaField } from "../../destination-databricks-delta/src/delta/log/schema.js";
import { getService } from "../services/endpoints.js";
import type { CanonRow } from "./delta-rs.js";

const run = promisify(execFile);

function canonExpr(f: DeltaField): string {
  const c = `\`${f.name.replaceAll("`", "``")}\``;
  switch (f.type.kind) {
    case "long":
    case "integer":
    case "boolean":
    case "double":
    case "decimal":
      return `CAST(${c} AS STRING)`;
    case "date":
      return `CAST(unix_date(${c}) AS STRING)`;
    case "timestamp":
      return `CAST(unix_micros(${c}) AS STRING)`;
    case "timestamp_ntz":
      return `CAST(unix_micros(CAST(${c} AS TIMESTAMP)) AS STRING)`;
    case "binary":
      return `base64(${c})`;
    case "string":
      return `base64(CAST(${c} AS BINARY))`;
  }
}

/** Spark's decimal text -> unscaled integer string at `scale`. */
function unscaled(text: string, scale: number): string {
  const m = /^(-?)(\d+)(?:\.(\d*))?(?:E([+-]?\d+))?$/i.exec(text);
  if (!m) throw new Error(`not a decimal: ${text}`);
  let digits = m[2]! + (m[3] ?? "");
  let exp = -(m[3] ?? "").length + Number(m[4] ?? 0);
  while (exp > -scale) {
    digits += "0";
    exp--;
  }
  while (exp < -scale) {
    digits = digits.slice(0, -1);
    exp++;
  }
  return `${m[1]}${BigInt(digits)}`.replace(/^-0$/, "0");
}

function decode(f: DeltaField, v: string | null): CanonRow[string] {
  if (v === null) return null;
  switch (f.type.kind) {
    case "string":
      return Buffer.from(v, "base64").toString("utf8");
    case "decimal":
      return unscaled(v, f.type.scale);
    case "boolean":
      return v === "true";
    case "double": {
      const n = Number(v);
      return Number.isNaN(n) ? "NaN" : Number.isFinite(n) ? n : n > 0 ? "Infinity" : "-Infinity";
    }
    default:
      return v;
  }
}

export interface SparkTable {
  name: string;
  path: string;
  fields: DeltaField[];
}

/** Run SQL statements (`;`-terminated script) through beeline; returns stdout. */
export async function sparkSql(script: string): Promise<string> {
  const sts = getService("sparkThrift");
  const dir = mkdtempSync(join(tmpdir(), "spark-sql-"));
  try {
    const file = join(dir, "q.sql");
    writeFileSync(file, `SET spark.sql.session.timeZone=UTC;\n${script}\n`);
    const { stdout } = await run(
      sts.beeline,
      [
        "-u",
        sts.jdbcUrl,
        "-n",
        sts.user,
        "-p",
        sts.password,
        "--silent=true",
        "--outputformat=tsv2",
        "--showHeader=false",
        "-f",
        file,
      ],
      {
        maxBuffer: 1 << 28,
        timeout: 300_000,
      },
    );
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Read several Delta tables in one beeline session. */
export async function sparkReadTables(tables: SparkTable[]): Promise<Map<string, CanonRow[]>> {
  const parts = tables.map((t) => {
    const cols = t.fields.map((f) => `'${f.name.replaceAll("'", "\\'")}', ${canonExpr(f)}`).join(", ");
    return `SELECT '@@${t.name}';\nSELECT to_json(map(${cols})) FROM delta.\`${t.path}\`;`;
  });
  const out = await sparkSql(parts.join("\n"));
  const result = new Map<string, CanonRow[]>();
  let cur: CanonRow[] | null = null;
  let table: SparkTable | undefined;
  for (let line of out.split("\n")) {
    // beeline interleaves progress output ("\rnull   \rnull") with the rows: keep what follows it
    line = line.slice(line.lastIndexOf("\r") + 1).replace(/^null\s*/, "");
    const marker = /^@@(\S+)$/.exec(line.trim());
    if (marker) {
      table = tables.find((t) => t.name === marker[1]);
      cur = [];
      if (table) result.set(table.name, cur);
      continue;
    }
    if (!line.startsWith("{") || !cur || !table) continue;
    const raw = JSON.parse(line) as Record<string, string | null>;
    const row: CanonRow = {};
    for (const f of table.fields) row[f.name] = decode(f, raw[f.name] ?? null);
    cur.push(row);
  }
  return result;
}
