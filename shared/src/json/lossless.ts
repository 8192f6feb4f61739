import { LosslessNumber, isLosslessNumber, parse as parseTokenized, stringify as stringifyTokenized } from "lossless-json";

/**
 * JSON values as the connectors carry them: safe integers are `number`, integers beyond 2^53 are
 * `bigint`, and every non-integer number keeps its source text in a `LosslessNumber` (so `48.10`
 * keeps its scale and `4E+3` its exponent). Strings, booleans, null, arrays, objects as usual.
 */
export type JsonValue = null | boolean | number | bigint | string | LosslessNumber | JsonValue[] | { [key: string]: JsonValue };
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

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Rewrites every risky number token outside strings (16+ digit integer, fraction, exponent) as the
 * string "\u0000<token>"; returns the text itself when there is none, null when a string is
 * unterminated (JSON.parse then reports the error). Invalid number tokens are left for JSON.parse
 * to reject. Data strings cannot collide: texts containing the escape \u0000 take the tokenizer.
 */
function markRiskyNumbers(text: string): string | null {
  let out = "";
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return null;
        let b = q - 1;
        let slashes = 0;
        while (text.charCodeAt(b) === 92) {
          b--;
          slashes++;
        }
        i = q + 1;
        if ((slashes & 1) === 0) break;
      }
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      let j = i + 1;
      let fractional = false;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d >= 48 && d <= 57) j++;
        else if (d === 46 || d === 101 || d === 69 || d === 43 || d === 45) {
          fractional = true;
          j++;
        } else break;
      }
      if (fractional || j - i - (c === 45 ? 1 : 0) > 15) {
        const tok = text.slice(i, j);
        if (JSON_NUMBER.test(tok)) {
          out += `${text.slice(last, i)}"\\u0000${tok}"`;
          last = j;
        }
      }
      i = j;
      continue;
    }
    i++;
  }
  return last === 0 ? text : out + text.slice(last);
}

function revive(value: unknown): unknown {
  if (typeof value === "string") return value.charCodeAt(0) === 0 ? parseNumberToken(value.slice(1)) : value;
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i]);
    return value;
  }
  const o = value as Record<string, unknown>;
  for (const k in o) o[k] = revive(o[k]);
  return o;
}

/**
 * Parse JSON text without losing any digit; plain JSON.parse when no number is at risk. Risky
 * number tokens are rewritten as marked strings, the text parsed natively, and the marks revived:
 * much faster than a JS tokenizer, and the strings come out flat (a char-by-char tokenizer builds
 * rope strings of ~30 bytes per character, which multiplied buffered memory by 4).
 */
export function parseJsonLossless(text: string): JsonValue {
  if (!hasRiskyNumber(text)) return JSON.parse(text) as JsonValue;
  if (text.includes("\\u0000")) return parseTokenized(text, undefined, parseNumberToken) as JsonValue;
  const marked = markRiskyNumbers(text);
  if (marked === null) return JSON.parse(text) as JsonValue; // unterminated string: let JSON.parse say so
  const value = JSON.parse(marked) as JsonValue;
  return (marked === text ? value : revive(value)) as JsonValue;
}

const MARK = "\ue001";
const MARKED = /"\ue001(-?[0-9][0-9.eE+-]*)\ue001"/g;

/**
 * A copy of `value` in which every bigint / LosslessNumber is a marked string (copy-on-write: only
 * containers on the way to one are copied), or `value` itself when it holds none.
 */
function markExact(value: unknown, counter: { n: number }): unknown {
  if (typeof value === "bigint") {
    counter.n++;
    return `${MARK}${value}${MARK}`;
  }
  if (value === null || typeof value !== "object") return value;
  if (isLosslessNumber(value)) {
    counter.n++;
    return `${MARK}${(value as LosslessNumber).value}${MARK}`;
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const m = v !== null && (typeof v === "object" || typeof v === "bigint") ? markExact(v, counter) : v;
      if (m !== v) {
        copy ??= value.slice();
        copy[i] = m;
      }
    }
    return copy ?? value;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return value;
  let copy: Record<string, unknown> | undefined;
  const o = value as Record<string, unknown>;
  for (const k in o) {
    const v = o[k];
    const m = v !== null && (typeof v === "object" || typeof v === "bigint") ? markExact(v, counter) : v;
    if (m !== v) {
      copy ??= { ...o };
      copy[k] = m;
    }
  }
  return copy ?? value;
}

/** Serialize compactly; bigint and LosslessNumber are written with their exact digits. */
export function stringifyJsonLossless(value: unknown): string {
  // Fast exact path: exact numbers become marked strings, native JSON.stringify, then unquoted; the
  // count unquoted must equal the count marked (else a string held the marker: tokenizer path).
  const counter = { n: 0 };
  const marked = markExact(value, counter);
  if (counter.n === 0) return JSON.stringify(value);
  let replaced = 0;
  const out = JSON.stringify(marked).replace(MARKED, (_m, digits: string) => {
    replaced++;
    return digits;
  });
  if (replaced === counter.n) return out;
  const slow = stringifyTokenized(value as never);
  if (slow === undefined) throw new TypeError("value is not JSON-serializable");
  return slow;
}

/** The exact decimal text of a JSON number value, whatever its runtime form. */
export function numberText(value: number | bigint | LosslessNumber): string {
  return isLosslessNumber(value) ? value.value : String(value);
}

export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !isLosslessNumber(value);
}
