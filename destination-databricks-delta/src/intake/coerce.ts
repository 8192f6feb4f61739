/**
 * JSON value → typed Cell (plan/types.ts), losslessly: integers and decimals never pass through a
 * JS number unless they already were one (safe integers); timestamps become exact µs bigints.
 * Throws CoercionError with a short reason; intake adds stream, line, field and key.
 */
import { isLosslessNumber, type JsonValue, numberText, stringifyJsonLossless } from "@cdc-delta/shared";
import type { CoerceKind, ColumnType } from "../plan/type-map.js";
import type { Cell } from "../plan/types.js";

export class CoercionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CoercionError";
  }
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function show(v: unknown): string {
  const s =
    typeof v === "string"
      ? JSON.stringify(v)
      : isLosslessNumber(v)
        ? v.value
        : typeof v === "bigint"
          ? String(v)
          : stringifyJsonLossless(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function isNumeric(v: unknown): v is number | bigint | import("@cdc-delta/shared").LosslessNumber {
  return typeof v === "number" || typeof v === "bigint" || isLosslessNumber(v);
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Exact unscaled value of decimal text at `scale`; throws when digits would be lost. */
export function decimalToUnscaled(text: string, scale: number): bigint {
  const m = DECIMAL_TEXT.exec(text.trim());
  if (!m || ((m[2] ?? "") === "" && (m[3] ?? "") === "")) throw new CoercionError("not a decimal number");
  const neg = m[1] === "-";
  const intPart = m[2] ?? "";
  const frac = m[3] ?? "";
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  if (!Number.isFinite(exp) || Math.abs(exp) > 400) throw new CoercionError("decimal exponent out of range");
  let digits = (intPart + frac).replace(/^0+(?=\d)/, "");
  if (digits === "") digits = "0";
  const shift = exp - frac.length + scale;
  let unscaled: bigint;
  if (shift >= 0) unscaled = BigInt(digits) * 10n ** BigInt(shift);
  else {
    const cut = -shift;
    const kept = digits.length > cut ? digits.slice(0, digits.length - cut) : "0";
    const dropped = digits.length > cut ? digits.slice(digits.length - cut) : digits;
    if (/[1-9]/.test(dropped)) throw new CoercionError(`more than ${scale} fractional digits`);
    unscaled = BigInt(kept);
  }
  return neg ? -unscaled : unscaled;
}

/** Text of an unscaled decimal at `scale` (for tests and readers). */
export function unscaledToText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let s = (neg ? -unscaled : unscaled).toString();
  if (scale > 0) {
    s = s.padStart(scale + 1, "0");
    s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
  }
  return neg ? `-${s}` : s;
}

/** Days since 1970-01-01 of a proleptic Gregorian civil date (H. Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

function civilDays(ys: string, ms: string, ds: string, bc: boolean): number {
  let y = Number(ys);
  const m = Number(ms);
  const d = Number(ds);
  if (bc) y = 1 - y;
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) throw new CoercionError("not a valid calendar date");
  return daysFromCivil(y, m, d);
}

const DATE_RE = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/i;
const TS_RE = /^(\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?( BC)?$/i;

export function parseDate(text: string): number {
  const m = DATE_RE.exec(text.trim());
  if (!m) throw new CoercionError(/infinity/i.test(text) ? "infinite dates are not supported" : "not a date YYYY-MM-DD");
  return civilDays(m[1] as string, m[2] as string, m[3] as string, m[5] !== undefined || m[4] !== undefined);
}

/** Microseconds since the epoch (UTC) of an RFC 3339 timestamp; `ntz`: no zone allowed except Z. */
export function parseTimestampMicros(text: string, ntz: boolean): bigint {
  const m = TS_RE.exec(text.trim());
  if (!m) throw new CoercionError(/infinity/i.test(text) ? "infinite timestamps are not supported" : "not an RFC 3339 timestamp");
  const days = civilDays(m[1] as string, m[2] as string, m[3] as string, m[9] !== undefined);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = Number(m[6]);
  if (h > 23 || mi > 59 || s > 59) throw new CoercionError("time of day out of range");
  const frac = (m[7] ?? "").padEnd(9, "0");
  if (/[1-9]/.test(frac.slice(6))) throw new CoercionError("sub-microsecond precision would be lost");
  let micros = BigInt(days) * 86_400_000_000n + BigInt(h * 3600 + mi * 60 + s) * 1_000_000n + BigInt(frac.slice(0, 6));
  const zone = m[8];
  if (zone && zone.toUpperCase() !== "Z") {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z) throw new CoercionError("bad UTC offset");
    const offsetMin = (Number(z[2]) * 60 + Number(z[3] ?? 0)) * (z[1] === "-" ? -1 : 1);
    if (ntz && offsetMin !== 0) throw new CoercionError("a timestamp without time zone has a UTC offset");
    micros -= BigInt(offsetMin) * 60_000_000n;
  }
  return micros;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

function toLong(v: JsonValue): bigint {
  let b: bigint;
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new CoercionError("not an integer");
    if (!Number.isSafeInteger(v)) throw new CoercionError("integer beyond 2^53 arrived as a float (lossy input)");
    b = BigInt(v);
  } else if (typeof v === "bigint") b = v;
  else if (isLosslessNumber(v)) b = decimalToUnscaled(v.value, 0);
  else if (typeof v === "string" && /^[+-]?\d+$/.test(v.trim())) b = BigInt(v.trim());
  else throw new CoercionError("not an integer");
  if (b < INT64_MIN || b > INT64_MAX) throw new CoercionError("integer outside the BIGINT (int64) range");
  return b;
}

function toDouble(v: JsonValue): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (isLosslessNumber(v)) return Number(v.value);
  if (typeof v === "string") {
    const t = v.trim();
    if (t === "NaN") return Number.NaN;
    if (t === "Infinity" || t === "+Infinity" || t === "inf") return Number.POSITIVE_INFINITY;
    if (t === "-Infinity" || t === "-inf") return Number.NEGATIVE_INFINITY;
  }
  throw new CoercionError("not a number");
}

/** Coerce one non-null JSON value. */
export function coerceValue(v: JsonValue, t: ColumnType): Cell {
  switch (t.coerce as CoerceKind) {
    case "long":
      return toLong(v);
    case "double":
      return toDouble(v);
    case "decimal": {
      if (t.type.kind !== "decimal") throw new CoercionError("internal: decimal without precision");
      if (!isNumeric(v) && typeof v !== "string") throw new CoercionError("not a decimal number");
      const text = isNumeric(v) ? numberText(v) : v;
      const u = decimalToUnscaled(text, t.type.scale);
      const limit = 10n ** BigInt(t.type.precision);
      if (u >= limit || u <= -limit) throw new CoercionError(`more than ${t.type.precision - t.type.scale} integer digits`);
      return u;
    }
    case "decimal_string":
      if (isNumeric(v)) return numberText(v);
      if (typeof v === "string") return v;
      throw new CoercionError("not a decimal number");
    case "boolean":
      if (typeof v === "boolean") return v;
      throw new CoercionError("not a boolean");
    case "string":
      if (typeof v === "string") return v;
      if (isNumeric(v)) return numberText(v);
      if (typeof v === "boolean") return String(v);
      return stringifyJsonLossless(v);
    case "json":
      return stringifyJsonLossless(v);
    case "binary":
      if (typeof v !== "string" || !BASE64.test(v)) throw new CoercionError("not base64");
      return Uint8Array.from(Buffer.from(v, "base64"));
    case "date":
      if (typeof v !== "string") throw new CoercionError("not a date string");
      return parseDate(v);
    case "timestamp":
    case "timestamp_ntz":
      if (typeof v !== "string") throw new CoercionError("not a timestamp string");
      return parseTimestampMicros(v, t.coerce === "timestamp_ntz");
    case "time":
      if (typeof v !== "string") throw new CoercionError("not a time string");
      return v;
  }
  throw new CoercionError(`unknown coercion ${String(t.coerce)}`);
}

export { show as showValue };
