/**
 * The RESOLVED-window loop of one feed (changefeed-files.md §4): list after the earliest cursor, cut
 * windows at RESOLVED files, read pending + new files, filter by watermark, sort and dedupe per
 * stream, emit RECORDs and then one STATE per stream per window (intermediate states inside huge
 * windows); the feed lifecycle checks (vanished cursor, new session, key arity, incomplete history).
 */
import {
  type AirbyteMessage,
  compareHlc,
  configError,
  formatHlc,
  hlcSortKey,
  hlcSortKeyOf,
  type Hlc,
  type JsonObject,
  type Logger,
  type Progress,
  recordMessage,
  streamStateMessage,
  stringifyJsonLossless,
} from "@cdc-delta/shared";
import type { SourceConfig } from "../config.js";
import type { Feed } from "../layout/feeds.js";
import { classify, type DataFile, type ResolvedFile, splitTopic } from "../layout/names.js";
import { RESET_PROCEDURE, type StreamPosition, stateBlob } from "../state.js";
import type { ObjectStore } from "../storage/types.js";
import { type MemoryBudget, TEXT_AFTER, WindowBuffer } from "../window/buffer.js";
import { type FragmentStats, fragments, learnFamily } from "../window/fragments.js";
import { type Change, comparePosition } from "../window/order.js";
import { checkResolvedContent, decodeFile } from "./object-files.js";
import { cmpBase, minCursor, type StreamRun } from "./stream-run.js";

export interface ReadDeps {
  logger: Logger;
  signal: AbortSignal;
  /** Test hook: replaces the configured storage. */
  store?: ObjectStore;
}

export async function* readFeed(
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
    const rKey = hlcSortKeyOf(R);
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
      let lastKey: string | undefined;
      const watermarkKey = run.watermark ? hlcSortKeyOf(run.watermark) : undefined;
      // Initial-scan signature: every row at the file's own timestamp, which is also a RESOLVED time.
      const fileTsText = formatHlc(file.ts);
      let allAtFileTs = !input.pendingFile && resolvedTs.has(file.basename.slice(0, 33));
      let rowsSeen = 0;
      for await (const batch of decodeFile(store, input.key, file, run, input.pendingFile, (n) => (bytes = n))) {
        for (const raw of batch) {
          // Rows of one transaction or scan share their HLC: reuse the last parse.
          rowsSeen++;
          if (allAtFileTs && raw.updated !== fileTsText) allAtFileTs = false;
          const hlcKey = raw.updated === lastUpdated ? lastKey : hlcSortKey(raw.updated);
          lastUpdated = raw.updated;
          lastKey = hlcKey;
          if (hlcKey === undefined)
            throw configError(`${input.key} line ${raw.line}: "updated" ${JSON.stringify(raw.updated)} is not an HLC timestamp`);
          if (hlcKey > rKey) {
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
          if (watermarkKey !== undefined && hlcKey <= watermarkKey) {
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
          // The decoded row becomes the window's Change in place (rawChange allocated its fields).
          const asText = raw.afterText !== undefined && raw.after !== null;
          let missingPk: string[] | undefined;
          if (asText) {
            // Exact text travels to the output; the (possibly rounded) parsed image only gives structure.
            const a = raw.after as JsonObject;
            if (file.family !== null) learnFamily(run.shape, file.family, a);
            const pk = run.shape.pk;
            if (pk) for (const k of pk) if (!(k in a)) (missingPk ??= []).push(k);
          }
          const change = raw as Change;
          change.hlcKey = hlcKey;
          change.family = file.family;
          change.schemaId = file.schemaId;
          if (asText) change.after = TEXT_AFTER;
          else {
            change.afterText = undefined;
            change.encoded = undefined;
          }
          change.missingPk = missingPk;
          change.fileOrder = fi;
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
      const advances = run.after ? rKey >= run.after.hlcKey : !run.watermark || compareHlc(R, run.watermark) > 0;
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
              ? run.rawRecord(frag.dataText, now)
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
