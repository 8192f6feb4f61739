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
