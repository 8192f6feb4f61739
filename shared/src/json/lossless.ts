import { LosslessNumber, isLosslessNumber, parse as parseTokenized, stringify as stringifyTokenized } from "lossless-json";

/**
 * JSON values as the connectors carry them: safe integers are `number`, integers beyond 2^53 are
 * `bigint`, and every non-integer number keeps its source text in a `LosslessNumber` (so `48.10`
 * keeps its scale and `4E+3` its exponent). Strings, booleans, null, arrays, objects as usual.
 */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | LosslessNumber
  | JsonValue[]
  | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export { LosslessNumber, isLosslessNumber };

/**
 * A number token is risky when JSON.parse could change it: 16+ integer digits, a fraction or an
 * exponent. Tokens can only follow `:`, `[` or `,`; matches inside strings are false positives that
 * merely take the slower exact path.
 */
const RISKY_NUMBER = /[:[,]\s*-?(?:\d{16}|\d+[.eE])/;

export function hasRiskyNumber(text: string): boolean {
  return RISKY_NUMBER.test(text);
}

function parseNumberToken(token: string): number | bigint | LosslessNumber {
  if (/^-?\d+$/.test(token)) {
    const n = Number(token);
    return Number.isSafeInteger(n) ? n : BigInt(token);
  }
  return new LosslessNumber(token);
}

/** Parse JSON text without losing any digit; plain JSON.parse when no number is at risk. */
export function parseJsonLossless(text: string): JsonValue {
  if (!hasRiskyNumber(text)) return JSON.parse(text) as JsonValue;
  return parseTokenized(text, undefined, parseNumberToken) as JsonValue;
}

function needsExactWriter(value: unknown): boolean {
  if (typeof value === "bigint" || isLosslessNumber(value)) return true;
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) {
    for (const v of value) if (needsExactWriter(v)) return true;
    return false;
  }
  for (const k in value) if (needsExactWriter((value as Record<string, unknown>)[k])) return true;
  return false;
}

/** Serialize compactly; bigint and LosslessNumber are written with their exact digits. */
export function stringifyJsonLossless(value: unknown): string {
  if (!needsExactWriter(value)) return JSON.stringify(value);
  const out = stringifyTokenized(value as never);
  if (out === undefined) throw new TypeError("value is not JSON-serializable");
  return out;
}

/** The exact decimal text of a JSON number value, whatever its runtime form. */
export function numberText(value: number | bigint | LosslessNumber): string {
  return isLosslessNumber(value) ? value.value : String(value);
}

export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !isLosslessNumber(value);
}
