/**
 * CockroachDB hybrid logical clock: wall time in epoch nanoseconds plus a logical counter.
 * Text form `<wall>.<10-digit logical>`, e.g. `1741944413589793238.0000000003`.
 * Never compared as strings (walls of different lengths) or floats (wall exceeds 2^53).
 */
export interface Hlc {
  readonly wall: bigint;
  readonly logical: number;
}

const HLC_TEXT = /^(\d{1,19})\.(\d{10})$/;
const TS33 = /^\d{33}$/;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MAX_TEXT = INT64_MAX.toString();

export class HlcFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HlcFormatError";
  }
}

export function parseHlc(text: string): Hlc {
  const m = HLC_TEXT.exec(text);
  if (!m) throw new HlcFormatError(`not an HLC timestamp "<wall nanos>.<10-digit logical>": ${JSON.stringify(text)}`);
  const wall = BigInt(m[1] as string);
  if (wall > INT64_MAX) throw new HlcFormatError(`HLC wall time exceeds int64: ${text}`);
  return { wall, logical: Number(m[2]) };
}

export function tryParseHlc(text: unknown): Hlc | undefined {
  return typeof text === "string" && HLC_TEXT.test(text) ? parseHlc(text) : undefined;
}

export function formatHlc(hlc: Hlc): string {
  return `${hlc.wall}.${String(hlc.logical).padStart(10, "0")}`;
}

export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1;
  return a.logical === b.logical ? 0 : a.logical < b.logical ? -1 : 1;
}

/**
 * A fixed-width text form of an HLC (19-digit zero-padded wall, `.`, 10-digit logical) whose plain
 * string order is the HLC order. For the usual 19-digit walls it is the changefeed text itself, so
 * hot paths sort and compare rows by their `updated` string without allocating a parsed Hlc.
 * Returns undefined for text that `tryParseHlc` rejects (same grammar, int64 bound included).
 */
export function hlcSortKey(text: string): string | undefined {
  const dot = text.length - 11;
  if (dot < 1 || dot > 19 || text.charCodeAt(dot) !== 46) return undefined;
  for (let i = 0; i < text.length; i++) {
    if (i === dot) continue;
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  if (dot < 19) return "0".repeat(19 - dot) + text;
  // A 19-digit wall starting with 0-8 is within int64; only those starting with 9 need the exact bound.
  return text.charCodeAt(0) < 57 || text.slice(0, 19) <= INT64_MAX_TEXT ? text : undefined;
}

/** hlcSortKey of a parsed HLC. */
export function hlcSortKeyOf(hlc: Hlc): string {
  return `${String(hlc.wall).padStart(19, "0")}.${String(hlc.logical).padStart(10, "0")}`;
}

/** `ge` of the merge guard: a is at least as new as b. */
export const hlcGe = (a: Hlc, b: Hlc): boolean => compareHlc(a, b) >= 0;
export const hlcGt = (a: Hlc, b: Hlc): boolean => compareHlc(a, b) > 0;

export function maxHlc(a: Hlc, b: Hlc): Hlc {
  return compareHlc(a, b) >= 0 ? a : b;
}

/**
 * The 33-digit timestamp in changefeed file names: YYYYMMDDHHMMSS (UTC) + 9 ns digits + 10 logical digits.
 * Parsed with Date.UTC only, never local time; round-tripped so that impossible dates are rejected.
 */
export function parseTs33(ts: string): Hlc {
  if (!TS33.test(ts)) throw new HlcFormatError(`not a 33-digit changefeed timestamp: ${JSON.stringify(ts)}`);
  const n = (a: number, b: number) => Number(ts.slice(a, b));
  const ms = Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10), n(10, 12), n(12, 14));
  const hlc = { wall: BigInt(ms) * 1_000_000n + BigInt(ts.slice(14, 23)), logical: n(23, 33) };
  if (Number.isNaN(ms) || formatTs33(hlc) !== ts) {
    throw new HlcFormatError(`changefeed timestamp is not a valid UTC date: ${ts}`);
  }
  return hlc;
}

export function formatTs33(hlc: Hlc): string {
  const ms = hlc.wall / 1_000_000n;
  const subMsNanos = hlc.wall % 1_000_000n;
  const d = new Date(Number(ms));
  const p = (v: number, w: number) => String(v).padStart(w, "0");
  const seconds = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1, 2)}${p(d.getUTCDate(), 2)}${p(d.getUTCHours(), 2)}${p(d.getUTCMinutes(), 2)}${p(d.getUTCSeconds(), 2)}`;
  const nanos = BigInt(d.getUTCMilliseconds()) * 1_000_000n + subMsNanos;
  return `${seconds}${p(Number(nanos), 9)}${p(hlc.logical, 10)}`;
}

/** `YYYY-MM-DD` and `HH` (UTC) of an HLC, for partition folders. */
export function hlcUtcDateParts(hlc: Hlc): { date: string; hour: string } {
  const iso = new Date(Number(hlc.wall / 1_000_000n)).toISOString();
  return { date: iso.slice(0, 10), hour: iso.slice(11, 13) };
}
