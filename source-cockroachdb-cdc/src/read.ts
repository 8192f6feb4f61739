/**
 * `read` (changefeed-files.md §4): the streams of the catalog (read/stream-run.ts), each feed's
 * RESOLVED windows (read/resolved-windows.ts; files in read/object-files.ts), the optional
 * multi-table cap, and the final states, summary and stream statuses.
 */
import {
  type AirbyteMessage,
  type ConfiguredAirbyteCatalog,
  compareHlc,
  configError,
  formatHlc,
  type Hlc,
  Progress,
  streamStateMessage,
  streamStatusMessage,
} from "@cdc-delta/shared";
import type { SourceConfig } from "./config.js";
import { type Feed, findFeeds } from "./layout/feeds.js";
import { parseStateInput, stateBlob } from "./state.js";
import { openStore } from "./storage/index.js";
import { newestResolved } from "./read/object-files.js";
import { type ReadDeps, readFeed } from "./read/resolved-windows.js";
import { minCursor, type StreamRun, streamRunsOf } from "./read/stream-run.js";

export type { ReadDeps };

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
  const runs = streamRunsOf(config, catalog, parsedState);
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
