/**
 * The streams of one `read`: each configured stream's shape (key, families, BYTES columns), its stored
 * position, and the counters the read loop keeps for it.
 */
import {
  type AirbyteMessage,
  type ConfiguredAirbyteCatalog,
  type ConfiguredAirbyteStream,
  configError,
  hlcSortKeyOf,
  type Hlc,
  type JsonValue,
  parseHlc,
  rawRecordFactory,
  streamDescriptor,
} from "@cdc-delta/shared";
import type { SourceConfig } from "../config.js";
import { parseLine } from "../decode/json.js";
import { basenameOf } from "../layout/names.js";
import {
  FRESH,
  findStreamState,
  type parseStateInput,
  parseStreamState,
  RESET_PROCEDURE,
  type StreamPosition,
} from "../state.js";
import type { WindowBuffer } from "../window/buffer.js";
import type { StreamShape } from "../window/fragments.js";
import type { Position } from "../window/order.js";

export interface StreamRun {
  name: string;
  namespace: string | null;
  descriptor: { name: string; namespace?: string };
  syncMode: "full_refresh" | "incremental";
  shape: StreamShape;
  columnTypes: Map<string, string>;
  pos: StreamPosition;
  /** Lower bound of what this stream still has to emit. */
  watermark: Hlc | null;
  /** Inside a window (intermediate state): the last emitted position. */
  after: Position | undefined;
  pendingSet: Set<string>;
  sinceState: number;
  emitted: number;
  late: number;
  stateEmitted: boolean;
  keyArity: number | undefined;
  buffer: WindowBuffer | undefined;
  rawRecord: (dataJson: string, emittedAt: number) => AirbyteMessage;
}

/** Object keys compared by base name (the timestamp-first changefeed file name). */
export const cmpBase = (a: string, b: string) => {
  const x = basenameOf(a);
  const y = basenameOf(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

function columnsOf(s: ConfiguredAirbyteStream): Record<string, Record<string, unknown>> {
  const js = s.stream.json_schema as { properties?: Record<string, Record<string, unknown>> };
  return js?.properties ?? {};
}

function shapeOf(s: ConfiguredAirbyteStream, config: SourceConfig): { shape: StreamShape; columnTypes: Map<string, string> } {
  const name = s.stream.name;
  const paths = (p: unknown): string[] | undefined =>
    Array.isArray(p) && p.length ? (p as unknown[]).map((x) => (Array.isArray(x) ? String(x[0]) : String(x))) : undefined;
  const pk = config.primary_keys[name] ?? paths(s.primary_key) ?? paths(s.stream.source_defined_primary_key);
  const familyColumns = new Map<string, Set<string>>();
  const bytesColumns = new Set<string>();
  const columnTypes = new Map<string, string>();
  let primaryFamily: string | undefined;
  for (const [col, prop] of Object.entries(columnsOf(s))) {
    if (col.startsWith("_cdc_")) continue;
    const x = prop["x-cockroachdb"] as { type?: string; family?: string | null } | undefined;
    if (x?.type) columnTypes.set(col, x.type);
    if (x?.type && /^(BYTES|BYTEA)(\[\])?$/i.test(x.type.trim())) bytesColumns.add(col);
    if (x?.family) {
      let set = familyColumns.get(x.family);
      if (!set) familyColumns.set(x.family, (set = new Set()));
      set.add(col);
      if (pk?.[0] === col) primaryFamily = x.family;
    }
  }
  return { shape: { stream: name, pk, primaryFamily, familyColumns, bytesColumns }, columnTypes };
}

/** Streams come from discover, whose schemas annotate every property with `x-cockroachdb`. */
function isDiscoveredSchema(schema: Record<string, unknown>): boolean {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown> | undefined>;
  return Object.values(props).some((p) => p?.["x-cockroachdb"] !== undefined);
}

function positionOf(p: StreamPosition): { watermark: Hlc | null; after: StreamRun["after"] } {
  const watermark = p.watermark ? parseHlc(p.watermark) : null;
  if (p.after) {
    const [h, keyText, family] = p.after;
    const key = parseLine(keyText);
    if (!Array.isArray(key))
      throw configError(`invalid state: after key ${JSON.stringify(keyText)} is not a JSON array. ${RESET_PROCEDURE}`);
    return { watermark, after: { hlcKey: hlcSortKeyOf(parseHlc(h)), key: key as JsonValue[], family } };
  }
  return { watermark, after: undefined };
}

export function minCursor(runs: StreamRun[]): string | undefined {
  let min: string | undefined;
  for (const r of runs) {
    if (r.pos.cursor === null) return undefined;
    if (min === undefined || cmpBase(r.pos.cursor, min) < 0) min = r.pos.cursor;
  }
  return min;
}

/** One StreamRun per configured stream, validated against the config and positioned from the state. */
export function streamRunsOf(
  config: SourceConfig,
  catalog: ConfiguredAirbyteCatalog,
  parsedState: ReturnType<typeof parseStateInput>,
): StreamRun[] {
  const runs: StreamRun[] = [];
  const seen = new Set<string>();
  for (const cs of catalog.streams) {
    const name = cs.stream.name;
    const namespace = cs.stream.namespace ?? null;
    if (seen.has(name)) throw configError(`catalog lists stream ${name} twice`);
    seen.add(name);
    if (cs.sync_mode !== "full_refresh" && cs.sync_mode !== "incremental")
      throw configError(`stream ${name}: unsupported sync_mode ${JSON.stringify(cs.sync_mode)}`);
    if (config.tables.length && !config.tables.includes(name))
      throw configError(`stream ${name} is not among the configured tables (${config.tables.join(", ")}); run discover again`);
    if (!isDiscoveredSchema(cs.stream.json_schema))
      throw configError(
        `stream ${name} was not discovered by this source (its json_schema carries no x-cockroachdb annotations); run discover and build the catalog from its output`,
      );
    const { shape, columnTypes } = shapeOf(cs, config);
    const pos =
      cs.sync_mode === "full_refresh"
        ? { ...FRESH, pending: [] }
        : parseStreamState(findStreamState(parsedState, name, namespace), name);
    const { watermark, after } = positionOf(pos);
    runs.push({
      name,
      namespace,
      descriptor: streamDescriptor(name, namespace),
      syncMode: cs.sync_mode,
      shape,
      columnTypes,
      pos,
      watermark,
      after,
      pendingSet: new Set(pos.pending),
      sinceState: 0,
      emitted: 0,
      late: 0,
      stateEmitted: false,
      keyArity: shape.pk?.length,
      buffer: undefined,
      rawRecord: rawRecordFactory(name, namespace),
    });
  }
  return runs;
}
