/**
 * The read loop (changefeed-files.md §4): per feed, list after the earliest cursor, cut windows at
 * RESOLVED files, read pending + new files, filter by watermark, dedupe/sort per stream, emit RECORDs,
 * then one STATE per stream per window. Streams of a feed advance together; each stream also filters
 * by its own stored position, so streams whose states differ (one added later) are each exact.
 */
import {
  type AirbyteMessage,
  type ConfiguredAirbyteCatalog,
  type ConfiguredAirbyteStream,
  compareHlc,
  configError,
  formatHlc,
  type Hlc,
  type JsonObject,
  type JsonValue,
  type Logger,
  parseHlc,
  Progress,
  rawRecordMessage,
  recordMessage,
  streamDescriptor,
  streamStateMessage,
  streamStatusMessage,
  stringifyJsonLossless,
  tryParseHlc,
} from "@cdc-delta/shared";
import type { SourceConfig } from "./config.js";
import { decompressStream } from "./decode/compression.js";
import { parseLine, readJsonLines, type RawChange } from "./decode/json.js";
import { readParquet } from "./decode/parquet.js";
import { type Feed, findFeeds } from "./layout/feeds.js";
import { basenameOf, classify, type DataFile, type ResolvedFile, splitTopic } from "./layout/names.js";
import {
  FRESH,
  findStreamState,
  parseStateInput,
  parseStreamState,
  RESET_PROCEDURE,
  type StreamPosition,
  stateBlob,
} from "./state.js";
import { openStore } from "./storage/index.js";
import type { ObjectStore } from "./storage/types.js";
import { type MemoryBudget, TEXT_AFTER, WindowBuffer } from "./window/buffer.js";
import { type FragmentStats, fragments, type StreamShape } from "./window/fragments.js";
import { type Change, comparePosition } from "./window/order.js";

export interface ReadDeps {
  logger: Logger;
  signal: AbortSignal;
  /** Test hook: replaces the configured storage. */
  store?: ObjectStore;
}

interface StreamRun {
  name: string;
  namespace: string | null;
  descriptor: { name: string; namespace?: string };
  syncMode: "full_refresh" | "incremental";
  shape: StreamShape;
  columnTypes: Map<string, string>;
  pos: StreamPosition;
  /** Lower bound of what this stream still has to emit. */
  watermark: Hlc | null;
  after: { hlc: Hlc; key: JsonValue[]; family: string | null } | undefined;
  pendingSet: Set<string>;
  sinceState: number;
  emitted: number;
  late: number;
  stateEmitted: boolean;
  keyArity: number | undefined;
  buffer: WindowBuffer | undefined;
}

const cmpBase = (a: string, b: string) => {
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
    return { watermark, after: { hlc: parseHlc(h), key: key as JsonValue[], family } };
  }
  return { watermark, after: undefined };
}

export async function* read(
  config: SourceConfig,
  catalog: ConfiguredAirbyteCatalog,
  stateInput: unknown,
  deps: ReadDeps,
): AsyncGenerator<AirbyteMessage> {
  for await (const batch of readBatches(config, catalog, stateInput, deps)) yield* batch;
}

/**
 * The messages of `read` as one flat async iterable without an async-generator hop per message:
 * batches are pulled from `readBatches`, then handed out one by one from already-settled promises.
 * `return()` (a consumer stopping early) is passed on, so the reader's cleanup runs as with `read`.
 */
export function readMessagesOf(batches: AsyncGenerator<AirbyteMessage[]>): AsyncIterable<AirbyteMessage> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<AirbyteMessage> {
      let buf: AirbyteMessage[] = [];
      let i = 0;
      const pull = async (): Promise<IteratorResult<AirbyteMessage>> => {
        for (;;) {
          const r = await batches.next();
          if (r.done) return { value: undefined, done: true };
          buf = r.value;
          i = 0;
          if (buf.length) return { value: buf[i++] as AirbyteMessage, done: false };
        }
      };
      return {
        next: () => (i < buf.length ? Promise.resolve({ value: buf[i++] as AirbyteMessage, done: false }) : pull()),
        return: async (value?: unknown) => {
          buf = [];
          i = 0;
          await batches.return(undefined);
          return { value: value as AirbyteMessage, done: true };
        },
      };
    },
  };
}

/** `read` in batches (RECORD lines of a window come in batches; other messages one per batch). */
export async function* readBatches(
  config: SourceConfig,
  catalog: ConfiguredAirbyteCatalog,
  stateInput: unknown,
  deps: ReadDeps,
): AsyncGenerator<AirbyteMessage[]> {
  const { logger, signal } = deps;
  const parsedState = parseStateInput(stateInput);
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
    });
  }
  for (const r of runs) yield [streamStatusMessage(r.descriptor, "STARTED")];
  const complete = new Set<StreamRun>();
  try {
    const root = deps.store ?? (await openStore(config.storage));
    const feeds = await findFeeds(root, config.layout);
    // Streams per feed: seed feeds by target table; the changefeed feed serves every other stream.
    const feedOf = new Map<StreamRun, Feed>();
    for (const r of runs) {
      const f = feeds.find((x) => x.targetTable === r.name) ?? feeds.find((x) => x.layout === "changefeed");
      if (!f) throw configError(`stream ${r.name}: no changefeed folder for it under ${root.description}; run discover again`);
      feedOf.set(r, f);
    }
    for (const r of runs) yield [streamStatusMessage(r.descriptor, "RUNNING")];
    const progress = new Progress(logger, "read");
    let cap: Hlc | undefined;
    const activeFeeds = feeds.filter((f) => runs.some((r) => feedOf.get(r) === f));
    if (config.multi_table_consistency && activeFeeds.length > 1) {
      for (const f of activeFeeds) {
        const newest = await newestResolved(f.store, minCursor(runs.filter((r) => feedOf.get(r) === f)));
        if (!newest) {
          cap = undefined;
          logger.info(`multi_table_consistency: feed ${f.prefix || "(root)"} has no RESOLVED file yet; no stream advances`);
          cap = { wall: -1n, logical: 0 };
          break;
        }
        if (!cap || compareHlc(newest, cap) < 0) cap = newest;
      }
      if (cap && cap.wall >= 0n) logger.info(`multi_table_consistency: every feed advances to ${formatHlc(cap)}`);
    }
    const summary = { late: 0, duplicates: 0, skipped: 0 };
    for (const feed of activeFeeds) {
      if (signal.aborted) break;
      const feedRuns = runs.filter((r) => feedOf.get(r) === feed);
      for await (const batch of readFeed(feed, feedRuns, config, deps, progress, cap, summary)) yield batch;
    }
    if (signal.aborted) {
      for (const r of runs) yield [streamStatusMessage(r.descriptor, "INCOMPLETE")];
      return;
    }
    for (const r of runs) {
      if (!r.stateEmitted) yield [streamStateMessage(r.descriptor, stateBlob(r.pos, r.namespace), r.sinceState)];
      r.sinceState = 0;
    }
    const lateTotal = runs.reduce((a, r) => a + r.late, 0);
    logger.info(
      `${progress.line()}; summary: ${runs.map((r) => `${r.name}=${r.emitted}`).join(", ")} records; late rows ${config.emit_late_rows ? "emitted" : "dropped"}: ${lateTotal}; duplicates dropped: ${summary.duplicates}; unknown objects skipped: ${summary.skipped}`,
    );
    for (const r of runs) {
      yield [streamStatusMessage(r.descriptor, "COMPLETE")];
      complete.add(r);
    }
  } catch (e) {
    for (const r of runs) if (!complete.has(r)) yield [streamStatusMessage(r.descriptor, "INCOMPLETE")];
    throw e;
  } finally {
    for (const r of runs) await r.buffer?.dispose();
  }
}

/**
 * `tryParseHlc` for the common shape (`<1-19 digits>.<10 digits>`, within int64) without the
 * regex passes; any other text takes `tryParseHlc` itself, so results and errors are identical.
 */
function fastHlc(text: string): Hlc | undefined {
  const dot = text.length - 11;
  // 19-digit walls starting with 9 may exceed int64: left to tryParseHlc (which rejects those).
  if (dot < 1 || dot > 19 || text.charCodeAt(dot) !== 46 || (dot === 19 && text.charCodeAt(0) > 56)) return tryParseHlc(text);
  for (let i = 0; i < text.length; i++) {
    if (i === dot) continue;
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return tryParseHlc(text);
  }
  return { wall: BigInt(text.slice(0, dot)), logical: Number(text.slice(dot + 1)) };
}

function learnFamily(shape: StreamShape, family: string, after: Record<string, unknown>): void {
  let set = shape.familyColumns.get(family);
  if (!set) shape.familyColumns.set(family, (set = new Set()));
  for (const k in after) set.add(k);
}

function minCursor(runs: StreamRun[]): string | undefined {
  let min: string | undefined;
  for (const r of runs) {
    if (r.pos.cursor === null) return undefined;
    if (min === undefined || cmpBase(r.pos.cursor, min) < 0) min = r.pos.cursor;
  }
  return min;
}

async function newestResolved(store: ObjectStore, startAfter: string | undefined): Promise<Hlc | undefined> {
  let newest: Hlc | undefined;
  for await (const o of store.list({ startAfter })) {
    const c = classify(o.key, o.size);
    if (c.kind === "resolved" && (!newest || compareHlc(c.ts, newest) > 0)) newest = c.ts;
  }
  return newest;
}

async function* readFeed(
  feed: Feed,
  runs: StreamRun[],
  config: SourceConfig,
  deps: ReadDeps,
  progress: Progress,
  cap: Hlc | undefined,
  summary: { late: number; duplicates: number; skipped: number },
): AsyncGenerator<AirbyteMessage[]> {
  const { logger, signal } = deps;
  const store = feed.store;
  const byTable = new Map<string, StreamRun>();
  for (const r of runs) byTable.set(r.name, r);
  const runFor = (table: string): StreamRun | undefined => (feed.layout === "seed" ? runs[0] : byTable.get(table));
  // Lifecycle: every stored cursor must still exist.
  for (const r of runs) {
    if (r.pos.cursor && !(await store.stat(r.pos.cursor))) {
      throw configError(
        `stream ${r.name}: the cursor object ${r.pos.cursor} no longer exists in ${store.description} (retention or a reset changefeed); the position cannot be verified. ${RESET_PROCEDURE}`,
        { stream: { name: r.name, namespace: r.namespace } },
      );
    }
  }
  const startAfter = minCursor(runs);
  const fullHistory = runs.some((r) => r.syncMode === "full_refresh") && startAfter === undefined;
  let pending: string[] = [...new Set(runs.flatMap((r) => r.pos.pending))].sort(cmpBase);
  const pendingKeys = new Set(pending);
  const resolvedTs = new Set<string>();
  let newFiles: DataFile[] = [];
  let windowBytes = 0;
  let lastResolved: ResolvedFile | undefined;
  let firstResolved: ResolvedFile | undefined;
  let dataSeen = false;
  let windows = 0;
  const budget: MemoryBudget = { limitRows: config.memory_limit_rows, inMemory: 0, tempDir: config.temp_dir };
  const stats: FragmentStats = { duplicates: 0, conflictingDuplicates: 0, skippedUnknownFamilyDeletes: 0 };

  const runWindow = async function* (rf: ResolvedFile): AsyncGenerator<AirbyteMessage[]> {
    windows++;
    const R = rf.ts;
    // The window's RESOLVED content is cross-checked with its name (JSON form only; never the Parquet form).
    await checkResolvedContent(store, rf);
    const inputs: { key: string; file: DataFile; pendingFile: boolean }[] = [];
    const scanLike: DataFile[] = [];
    const maxSchema = new Map<string, number>();
    for (const key of pending) {
      const c = classify(key);
      if (c.kind !== "data") continue;
      inputs.push({ key, file: c, pendingFile: true });
    }
    for (const f of newFiles) inputs.push({ key: f.key, file: f, pendingFile: false });
    const nextPending: string[] = [];
    for (const r of runs) r.buffer = new WindowBuffer(budget);
    for (let fi = 0; fi < inputs.length; fi++) {
      if (signal.aborted) return;
      const input = inputs[fi] as (typeof inputs)[number];
      const file = input.file;
      const run = runFor(file.table);
      if (!run) continue;
      let hold = false;
      let bytes = 0;
      let lastUpdated = "";
      let lastHlc: Hlc | undefined;
      // Initial-scan signature: every row at the file's own timestamp, which is also a RESOLVED time.
      const fileTsText = formatHlc(file.ts);
      let allAtFileTs = !input.pendingFile && resolvedTs.has(file.basename.slice(0, 33));
      let rowsSeen = 0;
      for await (const batch of decodeFile(store, input.key, file, run, input.pendingFile, (n) => (bytes = n))) {
        for (const raw of batch) {
          // Rows of one transaction or scan share their HLC: reuse the last parse.
          rowsSeen++;
          if (allAtFileTs && raw.updated !== fileTsText) allAtFileTs = false;
          const hlc = raw.updated === lastUpdated ? lastHlc : fastHlc(raw.updated);
          lastUpdated = raw.updated;
          lastHlc = hlc;
          if (!hlc)
            throw configError(`${input.key} line ${raw.line}: "updated" ${JSON.stringify(raw.updated)} is not an HLC timestamp`);
          if (compareHlc(hlc, R) > 0) {
            hold = true;
            continue;
          }
          if (run.keyArity === undefined) run.keyArity = raw.key.length;
          else if (raw.key.length !== run.keyArity) {
            throw configError(
              `${input.key} line ${raw.line}: the key has ${raw.key.length} values but stream ${run.name} has ${run.keyArity} primary key columns: the primary key changed (ALTER PRIMARY KEY). ${RESET_PROCEDURE}`,
              { stream: { name: run.name, namespace: run.namespace } },
            );
          }
          if (run.watermark && compareHlc(hlc, run.watermark) <= 0) {
            // Already emitted (pending file, or a file at/before this stream's cursor) or a late re-emission.
            const old = run.pendingSet.has(input.key) || (run.pos.cursor !== null && cmpBase(input.key, run.pos.cursor) < 0);
            if (old) continue;
            run.late++;
            summary.late++;
            logger.warnRateLimited(
              `late:${run.name}`,
              `stream ${run.name}: ${run.late} late row(s) so far at or below the watermark ${run.pos.watermark} (re-emissions by the changefeed contract), e.g. in ${input.key} line ${raw.line}; ${config.emit_late_rows ? "emitted (emit_late_rows)" : "dropped"}`,
            );
            if (!config.emit_late_rows) continue;
          }
          // Every field is set in the literal (one object shape, no out-of-object property store):
          // rows are held until the window is sorted, so their size is what the GC has to copy.
          const asText = raw.afterText !== undefined && raw.after !== null;
          let missingPk: string[] | undefined;
          if (asText) {
            // Exact text travels to the output; the (possibly rounded) parsed image only gives structure.
            const a = raw.after as JsonObject;
            if (file.family !== null) learnFamily(run.shape, file.family, a);
            const pk = run.shape.pk;
            if (pk) for (const k of pk) if (!(k in a)) (missingPk ??= []).push(k);
          }
          const change: Change = {
            hlc,
            updated: raw.updated,
            key: raw.key,
            family: file.family,
            schemaId: file.schemaId,
            after: asText ? TEXT_AFTER : raw.after,
            afterText: asText ? raw.afterText : undefined,
            missingPk,
            encoded: asText && raw.encoded ? true : undefined,
            fileOrder: fi,
            line: raw.line,
          };
          const spill = run.buffer?.add(change);
          if (spill) await spill;
        }
      }
      if (hold) nextPending.push(input.key);
      if (allAtFileTs && rowsSeen > 0) scanLike.push(file);
      maxSchema.set(file.topic, Math.max(maxSchema.get(file.topic) ?? 0, file.schemaId));
      progress.files++;
      progress.add(0, bytes);
    }
    nextPending.sort(cmpBase);
    // Lifecycle: a scan-like file of a topic whose schema id did not change (a backfill bumps it) in a
    // stream that already has a position is a new changefeed session's initial scan on this prefix.
    for (const f of scanLike) {
      const run = runFor(f.table);
      const known = run?.pos.schema_ids?.[f.topic];
      if (!run?.watermark || known === undefined) continue;
      if (compareHlc(f.ts, run.watermark) <= 0) continue;
      if (f.schemaId <= known && (maxSchema.get(f.topic) ?? 0) <= known) {
        throw configError(
          `stream ${run.name}: ${f.key} looks like a new changefeed session's initial scan on this prefix (every row at the file's own RESOLVED timestamp ${formatHlc(f.ts)}, schema id unchanged): continuing would miss the changes between the sessions. ${RESET_PROCEDURE}`,
          { stream: { name: run.name, namespace: run.namespace } },
        );
      }
    }
    const newPos: StreamPosition = { v: 1, watermark: formatHlc(R), cursor: rf.key, pending: nextPending };
    for (const run of runs) {
      const buffer = run.buffer as WindowBuffer;
      run.buffer = undefined;
      // A stream whose stored position is at or beyond this window only filters.
      const advances = run.after ? compareHlc(R, run.after.hlc) >= 0 : !run.watermark || compareHlc(R, run.watermark) > 0;
      if (!advances) {
        await buffer.dispose();
        continue;
      }
      if (buffer.spilled)
        logger.info(`stream ${run.name}: window ${formatHlc(R)} holds ${buffer.size} rows; sorted externally on disk`);
      let sinceIntermediate = 0;
      for await (const frags of fragments(buffer.sorted(), run.shape, logger, stats)) {
        const out: AirbyteMessage[] = [];
        const now = Date.now();
        for (const frag of frags) {
          if (run.after && comparePosition(frag.change, run.after) <= 0) continue;
          out.push(
            frag.dataText !== undefined
              ? rawRecordMessage(run.name, run.namespace, frag.dataText, now)
              : recordMessage(run.name, run.namespace, frag.data as Record<string, unknown>, now),
          );
          run.sinceState++;
          run.emitted++;
          if (++sinceIntermediate >= config.state_every_records) {
            sinceIntermediate = 0;
            const c = frag.change;
            const mid: StreamPosition = {
              ...run.pos,
              pending: [...run.pos.pending],
              window: formatHlc(R),
              after: [c.updated, stringifyJsonLossless(c.key), c.family],
            };
            run.pos = mid;
            out.push(streamStateMessage(run.descriptor, stateBlob(mid, run.namespace), run.sinceState));
            run.sinceState = 0;
          }
        }
        progress.add(out.length);
        yield out;
        progress.tick(() => `stream ${run.name}, window ${formatHlc(R)}`);
        if (signal.aborted) return;
      }
      const ids: Record<string, number> = { ...(run.pos.schema_ids ?? {}) };
      for (const [topic, id] of maxSchema)
        if ((feed.layout === "seed" || splitTopic(topic).table === run.name) && id > (ids[topic] ?? 0)) ids[topic] = id;
      run.pos = { ...newPos, pending: [...newPos.pending], ...(Object.keys(ids).length ? { schema_ids: ids } : {}) };
      run.watermark = R;
      run.after = undefined;
      run.pendingSet = new Set(newPos.pending);
      yield [streamStateMessage(run.descriptor, stateBlob(run.pos, run.namespace), run.sinceState)];
      run.sinceState = 0;
      run.stateEmitted = true;
    }
    summary.duplicates = stats.duplicates;
    pending = nextPending;
    pendingKeys.clear();
    for (const k of nextPending) pendingKeys.add(k);
    newFiles = [];
    windowBytes = 0;
    progress.tick(() => `watermark ${formatHlc(R)}`);
  };

  for await (const o of store.list({ startAfter })) {
    if (signal.aborted) return;
    const c = classify(o.key, o.size);
    if (c.kind === "skip") {
      if (c.reason === "unknown") {
        summary.skipped++;
        logger.warnRateLimited("unknown-object", `skipping ${o.key}: not a changefeed file name`);
      }
      continue;
    }
    if (c.kind === "data") {
      if (fullHistory && !dataSeen && firstResolved && compareHlc(c.ts, firstResolved.ts) > 0) {
        throw configError(
          `full_refresh: the changefeed history under ${store.description} is incomplete: the earliest data file ${c.key} is newer than the earliest RESOLVED file ${firstResolved.key} (retention removed the initial scan?). ${RESET_PROCEDURE}`,
        );
      }
      dataSeen = true;
      // CockroachDB never writes empty data files: a zero-byte one is a damaged or truncated upload.
      if (o.size === 0)
        throw configError(
          `data file ${o.key} in ${store.description} is empty (0 bytes): CockroachDB never writes empty files; the object is damaged or was truncated`,
        );
      if (!runFor(c.table) || pendingKeys.has(c.key)) continue;
      newFiles.push(c);
      // Window size in estimated decoded bytes: gzip/zstd JSON expands ~8x, columnar Parquet ~20x.
      windowBytes += c.format === "parquet" ? o.size * 20 : c.codec !== null ? o.size * 8 : o.size;
      continue;
    }
    firstResolved ??= c;
    resolvedTs.add(c.tsText);
    if (cap && compareHlc(c.ts, cap) > 0) break;
    lastResolved = c;
    if (windowBytes >= config.max_window_bytes) {
      yield* runWindow(c);
      lastResolved = undefined;
      if (signal.aborted) return;
    }
  }
  if (lastResolved) yield* runWindow(lastResolved);
  if (windows === 0) {
    const where = startAfter ? `after ${startAfter}` : "yet";
    logger.info(
      `feed ${feed.prefix || store.description}: no RESOLVED file ${where}: no new window, no records; states stay at their position`,
    );
  }
  if (stats.skippedUnknownFamilyDeletes)
    logger.warn(`${stats.skippedUnknownFamilyDeletes} family delete(s) skipped (family columns unknown)`);
}

async function checkResolvedContent(store: ObjectStore, rf: ResolvedFile): Promise<void> {
  const info = await store.stat(rf.key);
  if (!info || info.size > 4096) return;
  const stream = await store.read(rf.key);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  if (buf.subarray(0, 4).toString("latin1") === "PAR1") return;
  const text = buf.toString("utf8").trim();
  if (!text.startsWith("{")) throw configError(`RESOLVED file ${rf.key} has bad content (neither JSON nor Parquet)`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw configError(`RESOLVED file ${rf.key} has bad content: not valid JSON`);
  }
  const o = v as Record<string, unknown>;
  const resolved = (o.resolved ?? (o.__crdb__ as Record<string, unknown> | undefined)?.resolved) as unknown;
  const h = tryParseHlc(resolved);
  if (!h) throw configError(`RESOLVED file ${rf.key} has bad content: no "resolved" HLC`);
  if (compareHlc(h, rf.ts) !== 0)
    throw configError(
      `RESOLVED file ${rf.key}: content ${String(resolved)} differs from its name's timestamp ${formatHlc(rf.ts)}`,
    );
}

async function* decodeFile(
  store: ObjectStore,
  key: string,
  file: DataFile,
  run: StreamRun,
  pendingFile: boolean,
  onBytes: (n: number) => void,
): AsyncGenerator<RawChange[]> {
  let stream: import("node:stream").Readable;
  try {
    stream = await store.read(key);
  } catch (e) {
    if (pendingFile) {
      throw configError(
        `pending file ${key} vanished from ${store.description} before it was re-read (retention?); rows newer than the watermark would be lost. ${RESET_PROCEDURE}`,
        { cause: e },
      );
    }
    throw e;
  }
  let bytes = 0;
  stream.on("data", (c: Buffer) => {
    bytes += c.length;
  });
  if (file.format === "csv")
    throw configError(
      `${key}: CSV changefeed files cannot carry RESOLVED timestamps and are not supported; use format=json or parquet`,
    );
  if (file.format === "parquet") {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    onBytes(buf.length);
    yield* readParquet(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), key, {
      primaryKey: run.shape.pk,
      columnTypes: run.columnTypes,
    });
    return;
  }
  yield* readJsonLines(decompressStream(stream, file.codec), key);
  onBytes(bytes);
}
