/**
 * Final Delta tables vs the emulator's truth model. Both sides are reduced to one canonical text per
 * cell, driven by the CockroachDB DDL type in the truth manifest (the truth encoding is
 * docs/emulator.md's; the Delta side is what read_delta.py prints from delta-rs). Reports lost,
 * duplicated, reverted (older `_cdc_updated` or different values) and resurrected (deleted key present)
 * rows.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { isLosslessNumber, numberText, parseJsonLossless } from "@cdc-delta/shared";
import { daysFromCivil } from "../../emulator/types.js";
import type { Manifest, ManifestColumn, TruthState } from "../../emulator/truth.js";
import { LIB_DIR } from "./paths.js";

export interface DeltaTableDump {
  name: string;
  path: string;
  version: number;
  files: number;
  schema: [string, string][];
  rows: Record<string, unknown>[];
}

/** Read every Delta table under `root` with delta-rs (Python); throws when python fails. */
export async function readDeltaTables(python: string, root: string): Promise<Map<string, DeltaTableDump>> {
  const out = new Map<string, DeltaTableDump>();
  const child = spawn(python, [join(LIB_DIR, "read_delta.py"), root], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line) continue;
    const m = JSON.parse(line) as Record<string, any>;
    if (m.table)
      out.set(m.table, { name: m.table, path: m.path, version: m.version, files: m.files, schema: m.schema, rows: [] });
    else out.get(m.t)?.rows.push(m.r);
  }
  const code = await new Promise<number | null>((r) => child.on("close", r));
  if (code !== 0) throw new Error(`read_delta.py failed (${code}): ${err.slice(-2000)}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Canonical cell text.

type Kind =
  | { k: "INT" | "FLOAT4" | "FLOAT8" | "DECIMAL" | "BOOL" | "BYTES" | "DATE" | "TIME" | "TS" | "JSONB" | "TEXT" }
  | { k: "ARRAY"; elem: Kind };

export function kindOf(ddl: string): Kind {
  const t = ddl.trim().toUpperCase();
  if (t.endsWith("[]")) return { k: "ARRAY", elem: kindOf(t.slice(0, -2)) };
  if (/^INT[248]?$|^BIGINT$|^SMALLINT$|^INTEGER$/.test(t)) return { k: "INT" };
  if (t === "FLOAT4" || t === "REAL") return { k: "FLOAT4" };
  if (t === "FLOAT8" || t === "FLOAT" || t === "DOUBLE PRECISION") return { k: "FLOAT8" };
  if (t.startsWith("DECIMAL") || t.startsWith("NUMERIC")) return { k: "DECIMAL" };
  if (t === "BOOL" || t === "BOOLEAN") return { k: "BOOL" };
  if (t === "BYTES" || t === "BYTEA") return { k: "BYTES" };
  if (t === "DATE") return { k: "DATE" };
  if (t === "TIME") return { k: "TIME" };
  if (t === "TIMESTAMP" || t === "TIMESTAMPTZ") return { k: "TS" };
  if (t === "JSONB" || t === "JSON") return { k: "JSONB" };
  return { k: "TEXT" };
}

const numText = (v: unknown): string => {
  if (typeof v === "number" || typeof v === "bigint" || isLosslessNumber(v)) return numberText(v as number);
  return String(v);
};

export function canonDecimal(s: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s.trim());
  if (!m) return s.trim(); // NaN, Infinity, -Infinity
  let digits = `${m[2] ?? ""}${m[3] ?? ""}`;
  let exp = Number(m[4] ?? 0) - (m[3] ?? "").length;
  digits = digits.replace(/^0+/, "");
  if (digits === "") return "0";
  while (digits.endsWith("0")) {
    digits = digits.slice(0, -1);
    exp++;
  }
  return `${m[1] === "-" ? "-" : ""}${digits}e${exp}`;
}

function canonFloat(v: unknown, f4: boolean): string {
  const s = numText(v);
  if (/^-?(NaN|Infinity)$/.test(s)) return s.replace(/^-NaN$/, "NaN");
  const x = Number(s);
  return String(f4 ? Math.fround(x) : x);
}

const TS_RE = /^(-?\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]00(?::?00)?)?$/;

function tsMicros(s: string): string {
  if (s.startsWith("us:")) return s.slice(3);
  const m = TS_RE.exec(s);
  if (!m) return `bad-ts:${s}`;
  const days = BigInt(daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3])));
  const frac = BigInt(((m[7] ?? "") + "000000").slice(0, 6));
  const secs = days * 86400n + BigInt(Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]));
  return String(secs * 1_000_000n + frac);
}

function dateDays(v: unknown): string {
  if (typeof v === "number") return String(v);
  const m = /^(-?\d{4,})-(\d{2})-(\d{2})$/.exec(String(v));
  return m ? String(daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]))) : `bad-date:${String(v)}`;
}

function timeMicros(v: unknown): string {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(String(v));
  if (!m) return `bad-time:${String(v)}`;
  return String(
    (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1_000_000 + Number(((m[4] ?? "") + "000000").slice(0, 6)),
  );
}

function canonJson(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "number" || typeof v === "bigint" || isLosslessNumber(v)) return canonDecimal(numText(v));
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(canonJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonJson(o[k])}`)
    .join(",")}}`;
}

/** Canonical text of one cell (truth or Delta side), or "∅" for SQL NULL. */
export function canon(kind: Kind, v: unknown): string {
  if (v === null || v === undefined) return "∅";
  switch (kind.k) {
    case "INT":
      try {
        return BigInt(numText(v)).toString();
      } catch {
        return `bad-int:${String(v)}`;
      }
    case "FLOAT4":
    case "FLOAT8":
      return canonFloat(v, kind.k === "FLOAT4");
    case "DECIMAL":
      return canonDecimal(numText(v));
    case "BOOL":
      return String(v);
    case "BYTES": {
      // CockroachDB's `\x`+hex text (a STRING column when discovery could not see the BYTES type)
      const t = String(v);
      return /^\\x[0-9a-fA-F]*$/.test(t) ? Buffer.from(t.slice(2), "hex").toString("base64") : t;
    }
    case "DATE":
      return dateDays(v);
    case "TIME":
      return timeMicros(v);
    case "TS":
      return tsMicros(String(v));
    case "JSONB": {
      if (typeof v !== "string") return canonJson(v);
      try {
        return canonJson(parseJsonLossless(v));
      } catch {
        return canonJson(v); // a JSON string scalar stored unquoted (PyAirbyte's DuckDB cache does)
      }
    }
    case "ARRAY": {
      const arr = typeof v === "string" ? parseJsonLossless(v) : v;
      if (!Array.isArray(arr)) return `bad-array:${String(v)}`;
      return `[${arr.map((e) => canon(kind.elem, e)).join(",")}]`;
    }
    default:
      return String(v);
  }
}

// ---------------------------------------------------------------------------------------------

export interface TableCheck {
  table: string;
  truthLive: number;
  truthDeleted: number;
  deltaRows: number;
  lost: number;
  duplicated: number;
  resurrected: number;
  reverted: number;
  wrongValues: number;
  unexpected: number;
}

export interface CheckResult {
  ok: boolean;
  tables: TableCheck[];
  /** The first problems found, human-readable. */
  problems: string[];
}

function findTable(tables: Map<string, DeltaTableDump>, name: string): DeltaTableDump | undefined {
  const n = name.toLowerCase();
  return tables.get(n) ?? [...tables.values()].find((t) => t.name.toLowerCase() === n);
}

/** Compare Delta tables (append_dedup / overwrite: current rows) with the truth at one RESOLVED. */
export function compareTables(
  manifest: Manifest,
  truth: TruthState,
  tables: Map<string, DeltaTableDump>,
  maxProblems = 20,
  o: {
    ignoreKinds?: ReadonlySet<string>;
    /** DECIMAL/FLOAT equal when they round to the same double (clients that parse JSON numbers as floats). */
    doubleNumbers?: boolean;
  } = {},
): CheckResult {
  const problems: string[] = [];
  const note = (s: string) => {
    if (problems.length < maxProblems) problems.push(s);
  };
  const checks: TableCheck[] = [];
  for (const mt of manifest.tables) {
    const rowsTruth = truth.get(mt.name) ?? new Map();
    const c: TableCheck = {
      table: mt.name,
      truthLive: 0,
      truthDeleted: 0,
      deltaRows: 0,
      lost: 0,
      duplicated: 0,
      resurrected: 0,
      reverted: 0,
      wrongValues: 0,
      unexpected: 0,
    };
    checks.push(c);
    const cols = new Map<string, ManifestColumn>(mt.columns.map((col) => [col.name, col]));
    const kinds = new Map<string, Kind>(mt.columns.map((col) => [col.name, kindOf(col.type)]));
    const keyOfValues = (get: (col: string) => unknown) =>
      JSON.stringify(mt.primaryKey.map((k) => canon(kinds.get(k) ?? { k: "TEXT" }, get(k))));
    const expected = new Map<string, { op: string; updated: string; row?: Record<string, unknown>; key: unknown[] }>();
    for (const tr of rowsTruth.values()) {
      const id = JSON.stringify(mt.primaryKey.map((k, i) => canon(kinds.get(k) ?? { k: "TEXT" }, tr.key[i])));
      expected.set(id, tr);
      if (tr.op === "upsert") c.truthLive++;
      else c.truthDeleted++;
    }
    const dt = findTable(tables, mt.name);
    if (!dt) {
      if (c.truthLive > 0) {
        c.lost = c.truthLive;
        note(`${mt.name}: no Delta table (expected ${c.truthLive} rows)`);
      }
      continue;
    }
    c.deltaRows = dt.rows.length;
    const seen = new Set<string>();
    for (const row of dt.rows) {
      const lower = new Map(Object.keys(row).map((k) => [k.toLowerCase(), k]));
      const get = (col: string) => row[col] ?? row[lower.get(col.toLowerCase()) ?? col];
      const id = keyOfValues(get);
      if (seen.has(id)) {
        c.duplicated++;
        note(`${mt.name} ${id}: duplicated`);
        continue;
      }
      seen.add(id);
      const exp = expected.get(id);
      if (!exp) {
        c.unexpected++;
        note(`${mt.name} ${id}: in Delta, never existed in truth`);
        continue;
      }
      if (exp.op === "delete") {
        c.resurrected++;
        note(`${mt.name} ${id}: deleted at ${exp.updated} but present (_cdc_updated ${String(get("_cdc_updated"))})`);
        continue;
      }
      if (String(get("_cdc_updated")) !== exp.updated) {
        c.reverted++;
        note(`${mt.name} ${id}: _cdc_updated ${String(get("_cdc_updated"))}, truth ${exp.updated}`);
        continue;
      }
      for (const [name, v] of Object.entries(exp.row ?? {})) {
        const k = kinds.get(name) ?? { k: "TEXT" };
        if (o.ignoreKinds?.has(k.k)) continue;
        const a = canon(k, v);
        const b = canon(k, get(name));
        const asDouble = (x: string) => Number(x); // canonical "<digits>e<exp>" parses as a double
        const numericKind = k.k === "DECIMAL" || k.k === "FLOAT4" || k.k === "FLOAT8";
        if (a !== b && !(o.doubleNumbers && numericKind && asDouble(a) === asDouble(b))) {
          c.wrongValues++;
          note(`${mt.name} ${id}.${name} (${cols.get(name)?.type}): Delta ${b.slice(0, 120)} ≠ truth ${a.slice(0, 120)}`);
          break;
        }
      }
    }
    for (const [id, exp] of expected) {
      if (exp.op === "upsert" && !seen.has(id)) {
        c.lost++;
        note(`${mt.name} ${id}: live in truth (updated ${exp.updated}), missing in Delta`);
      }
    }
  }
  const ok = checks.every((c) => c.lost + c.duplicated + c.resurrected + c.reverted + c.wrongValues + c.unexpected === 0);
  return { ok, tables: checks, problems };
}
