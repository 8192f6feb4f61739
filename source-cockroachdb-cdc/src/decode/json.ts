/**
 * Wrapped-envelope JSON lines, parsed losslessly: INT8 beyond 2^53 become bigint, every non-integer
 * number keeps its exact text (LosslessNumber). Lines without risky numbers take plain JSON.parse;
 * risky lines get their risky number tokens swapped for sentinels by one regex pass and are then
 * parsed by JSON.parse too (falls back to the shared tokenizer if a sentinel could be ambiguous).
 */
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import {
  configError,
  type JsonObject,
  type JsonValue,
  LosslessNumber,
  hasRiskyNumber,
  parseJsonLossless,
} from "@cdc-delta/shared";

export interface RawChange {
  updated: string;
  key: JsonValue[];
  /**
   * The row image. On the fast path (wrapped line without `before`) its numbers may be rounded
   * (plain JSON.parse): use it for structure only (column names), and `afterText` for values.
   */
  after: JsonObject | null;
  /** Exact JSON text of `after` copied from the line (fast path only). */
  afterText?: string;
  /** `afterText` values are already in emitted form (BYTES as base64): no rewriting needed. */
  encoded?: boolean;
  /** 1-based line (JSON) or row (Parquet) number, for errors. */
  line: number;
}

/**
 * A decoded row, allocated with the window's fields (window/order.ts `Change`) already present and
 * unset: the window driver fills them in place, so each row is one object of one shape from decoding
 * to emission (rows are held until their window is sorted: fewer, stable objects mean less GC work).
 */
export function rawChange(
  updated: string,
  key: JsonValue[],
  after: JsonObject | null,
  afterText: string | undefined,
  encoded: boolean | undefined,
  line: number,
): RawChange {
  const row = {
    hlcKey: "",
    updated,
    key,
    family: null,
    schemaId: 0,
    after,
    afterText,
    missingPk: undefined,
    encoded,
    fileOrder: 0,
    line,
  };
  return row;
}

/** `[<integer>]`: the usual single-column INT8 key, read exactly without a tokenizer pass. */
const ONE_INTEGER_KEY = /^\s*\[\s*(-?\d+)\s*\]$/;

const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
const SENTINEL = "\ue000#";
const SENTINEL_CHAR = "\ue000";

function riskyToken(tok: string): boolean {
  const c = tok.charCodeAt(tok.length - 1);
  if (tok.includes(".") || tok.includes("e") || tok.includes("E")) return true;
  return tok.length - (tok.charCodeAt(0) === 45 ? 1 : 0) > 15 && c >= 48;
}

function numberFromToken(tok: string): number | bigint | LosslessNumber {
  if (/^-?\d+$/.test(tok)) {
    const n = Number(tok);
    return Number.isSafeInteger(n) ? n : BigInt(tok);
  }
  return new LosslessNumber(tok);
}

function revive(v: JsonValue, tokens: string[]): JsonValue {
  if (typeof v === "string") {
    if (v.startsWith(SENTINEL)) {
      const tok = tokens[Number(v.slice(2))];
      if (tok !== undefined) return numberFromToken(tok);
    }
    return v;
  }
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i] as JsonValue, tokens);
    return v;
  }
  const o = v as JsonObject;
  for (const k in o) {
    const x = o[k] as JsonValue;
    if (typeof x === "string" ? x.startsWith(SENTINEL) : x !== null && typeof x === "object") o[k] = revive(x, tokens);
  }
  return o;
}

/** Parse one JSON text losslessly (exact digits kept). */
export function parseLine(text: string): JsonValue {
  if (!hasRiskyNumber(text)) return JSON.parse(text) as JsonValue;
  if (text.includes(SENTINEL_CHAR) || /\\u[eE]000/.test(text)) return parseJsonLossless(text);
  const tokens: string[] = [];
  const replaced = text.replace(TOKEN, (tok) => {
    if (tok.charCodeAt(0) === 34 || !riskyToken(tok)) return tok;
    tokens.push(tok);
    return `"${SENTINEL}${tokens.length - 1}"`;
  });
  const v = JSON.parse(replaced) as JsonValue;
  return tokens.length ? revive(v, tokens) : v;
}

/** Validate a parsed line as a wrapped-envelope change. */
export function toRawChange(v: JsonValue, where: () => string, line: number): RawChange {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw configError(`${where()}: not a JSON object`);
  const o = v as JsonObject;
  if ("__crdb__" in o) {
    throw configError(
      `${where()}: bare envelope (envelope='bare') cannot mark deletes; recreate the changefeed WITH envelope='wrapped', updated, resolved`,
    );
  }
  const updated = o.updated;
  if (updated === undefined) {
    throw configError(
      `${where()}: the row has no "updated" field: the changefeed was created without the \`updated\` option; recreate it WITH updated, resolved`,
    );
  }
  if (typeof updated !== "string") throw configError(`${where()}: "updated" is not an HLC string`);
  const key = o.key;
  if (!Array.isArray(key)) throw configError(`${where()}: the row has no "key" array (wrapped envelope with key expected)`);
  if (!("after" in o)) throw configError(`${where()}: the row has no "after" field (wrapped envelope expected)`);
  const after = o.after;
  if (after !== null && (typeof after !== "object" || Array.isArray(after)))
    throw configError(`${where()}: "after" is neither an object nor null`);
  return rawChange(updated, key as JsonValue[], after as JsonObject | null, undefined, undefined, line);
}

const AFTER_PREFIX = '{"after":';

/** End index (exclusive) of the JSON array/object value starting at or after `from`; -1 if unbalanced. */
export function valueEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  let depth = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 91 || c === 123) depth++;
    else if (c === 93 || c === 125) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * Fast path for the common wrapped line `{"after": {…}, "key": […], …, "updated": "…"}` (no `before`):
 * one plain JSON.parse validates the line and gives its structure; the exact `after` text is sliced
 * from the line (a real `"key":` can only be the top-level one once scanning from the end: values
 * after it are strings), and only the small key is re-parsed losslessly when it holds risky numbers.
 * Returns undefined when the line does not have that shape (the caller takes the general path).
 */
export function fastWrapped(text: string, where: () => string, line: number): RawChange | undefined {
  if (!text.startsWith(AFTER_PREFIX)) return undefined;
  let o: JsonObject;
  try {
    o = JSON.parse(text) as JsonObject;
  } catch {
    return undefined; // the general path reports the error
  }
  if (o === null || typeof o !== "object" || "before" in o || !("key" in o) || typeof o.updated !== "string") return undefined;
  const after = o.after;
  if (after !== null && (typeof after !== "object" || Array.isArray(after))) return undefined;
  const k = text.lastIndexOf('"key":');
  if (k < 0) return undefined;
  let e = k - 1;
  while (e > 0 && (text.charCodeAt(e) === 32 || text.charCodeAt(e) === 9)) e--;
  if (text.charCodeAt(e) !== 44) return undefined; // the comma ending `after`
  let key = o.key as JsonValue[];
  if (!Array.isArray(key)) return undefined;
  if (key.some((v) => typeof v === "number" && !Number.isSafeInteger(v))) {
    // Re-read the key exactly: its text is the array value after `"key":` (scanned, strings respected).
    const keyEnd = valueEnd(text, k + 6);
    if (keyEnd < 0) return undefined;
    const keyText = text.slice(k + 6, keyEnd);
    const one = key.length === 1 ? ONE_INTEGER_KEY.exec(keyText) : null;
    if (one) key = [BigInt(one[1] as string)];
    else {
      try {
        const exact = parseLine(keyText);
        if (!Array.isArray(exact) || exact.length !== key.length) return undefined;
        key = exact as JsonValue[];
      } catch {
        return undefined;
      }
    }
  }
  void where;
  return rawChange(
    o.updated,
    key,
    after as JsonObject | null,
    after !== null ? text.slice(AFTER_PREFIX.length, e).trim() : undefined,
    undefined,
    line,
  );
}

const noWhere = (): string => "";

/** Stream the changes of one decompressed `.ndjson` object, in line order, in batches. */
export async function* readJsonLines(input: Readable, name: string, batchSize = 512): AsyncGenerator<RawChange[]> {
  const decoder = new StringDecoder("utf8");
  let rest = "";
  let lineNo = 0;
  let batch: RawChange[] = [];
  const handle = (text: string) => {
    lineNo++;
    if (text.length === 0 || (text.length === 1 && text === "\r")) return;
    const fast = fastWrapped(text, noWhere, lineNo); // it reports no errors: no per-line closure
    if (fast) {
      batch.push(fast);
      return;
    }
    let v: JsonValue;
    try {
      v = parseLine(text);
    } catch (e) {
      throw configError(`${name} line ${lineNo}: malformed JSON (${(e as Error).message})`);
    }
    const n = lineNo;
    batch.push(toRawChange(v, () => `${name} line ${n}`, n));
  };
  try {
    for await (const chunk of input) {
      const s = rest + decoder.write(chunk as Buffer);
      let start = 0;
      let nl = s.indexOf("\n", start);
      while (nl >= 0) {
        handle(s.slice(start, nl));
        start = nl + 1;
        nl = s.indexOf("\n", start);
      }
      rest = s.slice(start);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  } catch (e) {
    if ((e as { failureType?: string }).failureType) throw e;
    throw configError(`${name}: cannot decode (corrupt or truncated?) after line ${lineNo}: ${(e as Error).message}`);
  }
  rest += decoder.end();
  if (rest.length) handle(rest);
  if (batch.length) yield batch;
}
