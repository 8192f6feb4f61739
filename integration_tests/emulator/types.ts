/**
 * CockroachDB column types modelled by the emulator, the in-memory value representation, and the
 * three encodings of a value: changefeed JSON text (changefeed-files.md §5), truth JSON
 * (docs/emulator.md "Truth value encoding") and the Parquet cell (see parquet.ts).
 *
 * In-memory values:
 *   INT2/INT4/INT8 bigint · FLOAT4/FLOAT8 number (NaN/±Infinity allowed) · DECIMAL canonical text
 *   (`48.10`, `4E+3`, `NaN`, `Infinity`, `-Infinity`) · BOOL boolean · STRING/ENUM/UUID/INET/INTERVAL
 *   string · BYTES Uint8Array · DATE number (days since 1970-01-01) · TIME number (µs since midnight)
 *   · TIMESTAMP/TIMESTAMPTZ bigint (µs since epoch, UTC) · JSONB canonical JSON text · ARRAY Value[].
 *   SQL NULL is `null`.
 */

export type ColType =
  | { k: "INT2" | "INT4" | "INT8" | "FLOAT4" | "FLOAT8" | "BOOL" | "STRING" | "BYTES" }
  | { k: "DATE" | "TIME" | "TIMESTAMP" | "TIMESTAMPTZ" | "INTERVAL" | "UUID" | "INET" | "JSONB" }
  | { k: "DECIMAL"; p?: number; s?: number }
  | { k: "ENUM"; name: string; labels: readonly string[] }
  | { k: "ARRAY"; elem: ColType };

export type Value = null | bigint | number | string | boolean | Uint8Array | Value[];

/** The type as written in DDL / `x-cockroachdb.type`, e.g. `DECIMAL(10,2)`, `STRING[]`. */
export function ddlType(t: ColType): string {
  switch (t.k) {
    case "DECIMAL":
      return t.p === undefined ? "DECIMAL" : `DECIMAL(${t.p},${t.s ?? 0})`;
    case "ENUM":
      return t.name;
    case "ARRAY":
      return `${ddlType(t.elem)}[]`;
    default:
      return t.k;
  }
}

// ---------------------------------------------------------------------------------------------
// Calendar helpers (proleptic Gregorian, UTC, no Date objects so years < 100 work).

/** Days since 1970-01-01 → [year, month(1-12), day]. (H. Hinnant's civil_from_days.) */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return [y, m, d];
}

/** [year, month, day] → days since 1970-01-01. */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const p2 = (n: number) => String(n).padStart(2, "0");

export function formatDate(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${String(y).padStart(4, "0")}-${p2(m)}-${p2(d)}`;
}

/** `HH:MM:SS` and the 6-digit fraction of µs since midnight. */
function timeParts(us: number): [string, string] {
  const secs = Math.floor(us / 1_000_000);
  const frac = us - secs * 1_000_000;
  return [`${p2(Math.floor(secs / 3600))}:${p2(Math.floor(secs / 60) % 60)}:${p2(secs % 60)}`, String(frac).padStart(6, "0")];
}

const trimFrac = (f6: string) => {
  const t = f6.replace(/0+$/, "");
  return t === "" ? "" : `.${t}`;
};

const US_PER_DAY = 86_400_000_000n;

function tsParts(us: bigint): [string, string, string] {
  let days = us / US_PER_DAY;
  let rem = us % US_PER_DAY;
  if (rem < 0n) {
    rem += US_PER_DAY;
    days -= 1n;
  }
  const [hms, f6] = timeParts(Number(rem));
  return [formatDate(Number(days)), hms, f6];
}

// ---------------------------------------------------------------------------------------------
// Changefeed JSON text.

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

function floatJson(x: number): string {
  if (Number.isNaN(x)) return '"NaN"';
  if (x === Infinity) return '"Infinity"';
  if (x === -Infinity) return '"-Infinity"';
  return String(x);
}

const NON_FINITE_DECIMAL = /^-?(NaN|Infinity)$/;

/** The value as it appears inside a changefeed JSON message (`after`, `before`, `key`). */
export function jsonText(t: ColType, v: Value): string {
  if (v === null) return "null";
  switch (t.k) {
    case "INT2":
    case "INT4":
    case "INT8":
      return String(v as bigint);
    case "FLOAT4":
    case "FLOAT8":
      return floatJson(v as number);
    case "DECIMAL":
      return NON_FINITE_DECIMAL.test(v as string) ? `"${v}"` : (v as string);
    case "BOOL":
      return v ? "true" : "false";
    case "BYTES":
      return JSON.stringify(`\\x${hex(v as Uint8Array)}`);
    case "DATE":
      return `"${formatDate(v as number)}"`;
    case "TIME": {
      const [hms, f6] = timeParts(v as number);
      return `"${hms}${trimFrac(f6)}"`;
    }
    case "TIMESTAMP": {
      const [d, hms, f6] = tsParts(v as bigint);
      return `"${d}T${hms}${trimFrac(f6)}"`;
    }
    case "TIMESTAMPTZ": {
      const [d, hms, f6] = tsParts(v as bigint);
      return `"${d}T${hms}${trimFrac(f6)}Z"`;
    }
    case "JSONB":
      return v as string;
    case "ARRAY":
      return `[${(v as Value[]).map((e) => jsonText(t.elem, e)).join(", ")}]`;
    default:
      return JSON.stringify(v as string);
  }
}

// ---------------------------------------------------------------------------------------------
// Truth encoding (plain JSON, safe for JSON.parse: no number beyond 2^53).

/** Truth JSON value of a cell; see docs/emulator.md. */
export function truthValue(t: ColType, v: Value): unknown {
  if (v === null) return null;
  switch (t.k) {
    case "INT2":
    case "INT4":
      return Number(v as bigint);
    case "INT8":
      return String(v as bigint);
    case "FLOAT4":
    case "FLOAT8": {
      const x = v as number;
      return Number.isFinite(x) ? x : String(x);
    }
    case "BYTES":
      return Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength).toString("base64");
    case "DATE":
      return formatDate(v as number);
    case "TIME": {
      const [hms, f6] = timeParts(v as number);
      return `${hms}.${f6}`;
    }
    case "TIMESTAMP": {
      const [d, hms, f6] = tsParts(v as bigint);
      return `${d}T${hms}.${f6}`;
    }
    case "TIMESTAMPTZ": {
      const [d, hms, f6] = tsParts(v as bigint);
      return `${d}T${hms}.${f6}Z`;
    }
    case "ARRAY":
      return (v as Value[]).map((e) => truthValue(t.elem, e));
    default:
      return v; // DECIMAL text, BOOL, STRING, ENUM, UUID, INET, INTERVAL, JSONB text
  }
}

// ---------------------------------------------------------------------------------------------
// Parquet text forms (BYTE_ARRAY String columns), changefeed-files.md §6: "likely space-separated".

export function parquetText(t: ColType, v: Value): string {
  switch (t.k) {
    case "DATE":
      return formatDate(v as number);
    case "TIMESTAMP": {
      const [d, hms, f6] = tsParts(v as bigint);
      return `${d} ${hms}${trimFrac(f6)}`;
    }
    case "TIMESTAMPTZ": {
      const [d, hms, f6] = tsParts(v as bigint);
      return `${d} ${hms}${trimFrac(f6)}+00:00`;
    }
    default:
      return String(v);
  }
}

/** Bytewise (UTF-8) string comparison, as CockroachDB sorts JSON object keys. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Canonical JSON text of a plain JS value the way CockroachDB prints JSONB: keys sorted, ", " and ": ". */
export function canonicalJsonb(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "bigint") return String(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJsonb).join(", ")}]`;
  if (typeof v === "object" && v !== null && "__raw" in v) return String((v as { __raw: string }).__raw);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort(compareUtf8);
  return `{${keys.map((k) => `${JSON.stringify(k)}: ${canonicalJsonb(o[k])}`).join(", ")}}`;
}
