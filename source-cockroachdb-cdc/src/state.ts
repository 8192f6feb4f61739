/**
 * The per-stream checkpoint (changefeed-files.md §4, airbyte-protocol.md §3): its schema, the accepted
 * `--state` shapes, and validation that every key it names stays under the feed prefix.
 */
import { configError, type Hlc, parseHlc, tryParseHlc } from "@cdc-delta/shared";
import { isSafeKey } from "./layout/paths.js";
import { classify } from "./layout/names.js";

export interface StreamPosition {
  v: 1;
  stream_namespace?: string;
  watermark: string | null;
  cursor: string | null;
  pending: string[];
  /** Mid-window only: the window's RESOLVED timestamp and the last emitted (hlc, key JSON text, family). */
  window?: string;
  after?: [string, string, string | null];
  /** Highest schema id seen per topic (lifecycle check: a new session's initial scan repeats it). */
  schema_ids?: Record<string, number>;
}

export const FRESH: StreamPosition = { v: 1, watermark: null, cursor: null, pending: [] };

export const RESET_PROCEDURE =
  "Reset procedure: cancel the old changefeed, start a new one on an empty prefix, clear this connection's stream states, and refresh the destination (overwrite or a new generation).";

function bad(what: string): never {
  throw configError(`invalid state: ${what}. ${RESET_PROCEDURE}`);
}

/** Validate one stream_state blob (null → fresh). */
export function parseStreamState(blob: unknown, stream: string): StreamPosition {
  if (blob === null || blob === undefined) return { ...FRESH, pending: [] };
  if (typeof blob !== "object" || Array.isArray(blob)) bad(`stream ${stream}: stream_state is not an object`);
  const o = blob as Record<string, unknown>;
  if (o.v !== 1) bad(`stream ${stream}: unknown state version ${JSON.stringify(o.v)} (expected 1)`);
  const watermark = o.watermark ?? null;
  if (watermark !== null && !tryParseHlc(watermark))
    bad(`stream ${stream}: watermark ${JSON.stringify(watermark)} is not an HLC`);
  const cursor = o.cursor ?? null;
  if (cursor !== null) {
    if (typeof cursor !== "string" || !isSafeKey(cursor))
      bad(`stream ${stream}: cursor ${JSON.stringify(cursor)} is outside the configured prefix`);
    let ok = false;
    try {
      ok = classify(cursor).kind === "resolved";
    } catch {
      ok = false;
    }
    if (!ok) bad(`stream ${stream}: cursor ${JSON.stringify(cursor)} is not a RESOLVED file key`);
  }
  if ((watermark === null) !== (cursor === null)) bad(`stream ${stream}: watermark and cursor must both be set or both be null`);
  const pending = o.pending ?? [];
  if (!Array.isArray(pending)) bad(`stream ${stream}: pending is not a list`);
  for (const p of pending) {
    if (typeof p !== "string" || !isSafeKey(p))
      bad(`stream ${stream}: pending file ${JSON.stringify(p)} is outside the configured prefix`);
    let ok = false;
    try {
      ok = classify(p).kind === "data";
    } catch {
      ok = false;
    }
    if (!ok) bad(`stream ${stream}: pending entry ${JSON.stringify(p)} is not a changefeed data file key`);
  }
  const pos: StreamPosition = {
    v: 1,
    watermark: watermark as string | null,
    cursor: cursor as string | null,
    pending: pending as string[],
  };
  if (typeof o.stream_namespace === "string") pos.stream_namespace = o.stream_namespace;
  if (o.schema_ids !== undefined && o.schema_ids !== null) {
    const ids = o.schema_ids as Record<string, unknown>;
    if (typeof ids !== "object" || Array.isArray(ids) || !Object.values(ids).every((v) => Number.isInteger(v)))
      bad(`stream ${stream}: schema_ids must map topics to integers`);
    pos.schema_ids = ids as Record<string, number>;
  }
  const window = o.window ?? null;
  const after = o.after ?? null;
  if ((window === null) !== (after === null)) bad(`stream ${stream}: window and after must both be set`);
  if (window !== null) {
    if (!tryParseHlc(window)) bad(`stream ${stream}: window ${JSON.stringify(window)} is not an HLC`);
    if (
      !Array.isArray(after) ||
      after.length !== 3 ||
      !tryParseHlc(after[0]) ||
      typeof after[1] !== "string" ||
      !(after[2] === null || typeof after[2] === "string")
    ) {
      bad(`stream ${stream}: after must be [hlc, key JSON text, family|null]`);
    }
    pos.window = window as string;
    pos.after = after as [string, string, string | null];
  }
  return pos;
}

export interface StateEntry {
  name: string;
  namespace: string | null;
  blob: unknown;
}

/** All accepted `--state` shapes → entries by stream (absent, [], null → none). */
export function parseStateInput(input: unknown): { entries: StateEntry[]; legacy: Record<string, unknown> | undefined } {
  if (input === undefined || input === null) return { entries: [], legacy: undefined };
  const list = Array.isArray(input)
    ? input
    : typeof input === "object" && (input as Record<string, unknown>).type !== undefined
      ? [input]
      : undefined;
  if (!list) {
    // Legacy object: best effort by stream name ({"data": {...}} or {name: blob}).
    const o = input as Record<string, unknown>;
    if (typeof o !== "object") throw configError("invalid state: not a JSON array or object");
    const data = (o.data && typeof o.data === "object" ? o.data : o) as Record<string, unknown>;
    return { entries: [], legacy: data };
  }
  const entries: StateEntry[] = [];
  for (const m of list) {
    if (m === null || typeof m !== "object") throw configError("invalid state: every entry must be an object");
    let s = m as Record<string, unknown>;
    if (s.type === "STATE" && s.state && typeof s.state === "object") s = s.state as Record<string, unknown>;
    const type = s.type ?? (s.stream ? "STREAM" : s.data ? "LEGACY" : undefined);
    if (type === "GLOBAL")
      throw configError("invalid state: GLOBAL state is not supported by this source (it emits STREAM states)");
    if (type === "LEGACY") {
      const data = s.data as Record<string, unknown> | undefined;
      if (data && typeof data === "object") return { entries, legacy: data };
      continue;
    }
    if (type !== "STREAM") throw configError(`invalid state: unknown state type ${JSON.stringify(type)}`);
    const st = s.stream as Record<string, unknown> | undefined;
    const d = st?.stream_descriptor as Record<string, unknown> | undefined;
    if (!d || typeof d.name !== "string") throw configError("invalid state: STREAM state without stream_descriptor.name");
    entries.push({
      name: d.name,
      namespace: typeof d.namespace === "string" ? d.namespace : null,
      blob: st?.stream_state ?? null,
    });
  }
  return { entries, legacy: undefined };
}

/** The stored blob of one stream: name + namespace match first, then name alone. */
export function findStreamState(parsed: ReturnType<typeof parseStateInput>, name: string, namespace: string | null): unknown {
  const exact = parsed.entries.find((e) => e.name === name && (e.namespace ?? null) === (namespace ?? null));
  if (exact) return exact.blob;
  const byName = parsed.entries.find((e) => e.name === name);
  if (byName) return byName.blob;
  return parsed.legacy?.[name] ?? null;
}

export function positionHlc(p: StreamPosition): Hlc | null {
  return p.watermark ? parseHlc(p.watermark) : null;
}

/** The state blob as emitted: no undefined fields, namespace when namespaced. */
export function stateBlob(p: StreamPosition, namespace: string | null): Record<string, unknown> {
  const b: Record<string, unknown> = { v: 1 };
  if (namespace) b.stream_namespace = namespace;
  b.watermark = p.watermark;
  b.cursor = p.cursor;
  b.pending = [...p.pending];
  if (p.window && p.after) {
    b.window = p.window;
    b.after = p.after;
  }
  if (p.schema_ids && Object.keys(p.schema_ids).length) b.schema_ids = { ...p.schema_ids };
  return b;
}
