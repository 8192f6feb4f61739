/**
 * The write loop (destination-delta.md §4, airbyte-protocol.md §3 "Destination echoes"): pull
 * protocol messages, fold records into per-stream buffers under one memory budget, commit each
 * buffer as one backend batch (≤ N concurrent flushes, sequential per stream), and echo every STATE
 * once all earlier records of its stream are committed, in per-stream arrival order, with
 * destinationStats.recordCount. Input is pull-based: at the memory limit nothing more is read.
 */
import { randomUUID } from "node:crypto";
import { getHeapStatistics } from "node:v8";
import {
  type AirbyteMessage,
  type AirbyteStateMessage,
  type ConfiguredAirbyteCatalog,
  ConnectorError,
  compareHlc,
  configError,
  descriptorKey,
  formatHlc,
  type Hlc,
  type InputLine,
  type Logger,
  Progress,
  type ReaderStats,
  systemError,
  toConnectorError,
} from "@cdc-delta/shared";
import { Semaphore } from "./buffer/semaphore.js";
import { StreamBuffer } from "./buffer/stream-buffer.js";
import type { DestinationConfig } from "./config.js";
import { type OnTypeError, StreamIntake } from "./intake/record.js";
import { planCatalog, type StreamPlan } from "./plan/stream-plan.js";
import type { DestinationBackend, TableSpec } from "./plan/types.js";

export interface WriteOptions {
  backend: DestinationBackend;
  config: DestinationConfig;
  logger: Logger;
  signal: AbortSignal;
  inputStats?: ReaderStats;
  /** ≤ this many batches commit at once (one per stream). Default 4. */
  maxConcurrentFlushes?: number;
  /** Period of the timer that checks age triggers while input is idle. Default 1000 ms. */
  tickMs?: number;
  now?: () => number;
  /** Observed by tests: called after every committed batch. */
  onCommit?: (stream: string, seq: number, records: number) => void;
  /** Filled in while running (tests, benchmarks). */
  stats?: WriteStats;
}

export interface WriteStats {
  peakBufferedBytes: number;
  batches: number;
  pausedMs: number;
  maxConcurrentFlushes: number;
}

interface PendingState {
  message: AirbyteMessage;
  count: number;
  requiredSeq: number;
  receivedAt: number;
}

interface PendingGlobal {
  message: AirbyteMessage;
  count: number;
  required: Map<StreamRt, number>;
  receivedAt: number;
}

interface StreamRt {
  index: number;
  plan: StreamPlan;
  intake: StreamIntake;
  open: StreamBuffer | null;
  closedSeq: number;
  committedSeq: number;
  chain: Promise<void>;
  preparedTable: TableSpec | null;
  pending: PendingState[];
  sinceState: number;
  received: number;
  committedRecords: number;
  noops: number;
  outOfOrder: number;
  conflicts: number;
  maxHlc: Hlc | null;
  stateSeen: boolean;
  lastRecordAfterState: boolean;
  echoed: number;
}

const MiB = 1024 * 1024;

/** The echoed copy of a received STATE: unchanged but for destinationStats.recordCount. */
export function echoState(message: AirbyteMessage, count: number): AirbyteMessage {
  const state = message.state as AirbyteStateMessage;
  return { ...message, state: { ...state, destinationStats: { ...(state.destinationStats ?? {}), recordCount: count } } };
}

function sourceCount(state: AirbyteStateMessage): number | undefined {
  const v = state.sourceStats?.recordCount as unknown;
  if (v === undefined || v === null) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export async function* writeMessages(
  catalog: ConfiguredAirbyteCatalog,
  input: AsyncIterable<InputLine>,
  opts: WriteOptions,
): AsyncGenerator<AirbyteMessage> {
  const { backend, config, logger, signal } = opts;
  const now = opts.now ?? Date.now;
  const flushIntervalMs = config.flush_interval_s * 1000;
  const stateFlushBytes = Math.max(Math.floor(config.flush_bytes / 8), 1024);
  const budget = config.memory_budget_bytes;
  const maxFlushes = opts.maxConcurrentFlushes ?? 4;
  const runId = randomUUID().slice(0, 8);
  const heapLimit = getHeapStatistics().heap_size_limit;
  // Buffers live up to ~1.3x their estimate at the peak (in-flight batches included), plus ~40 MiB
  // of fixed heap; V8 needs headroom above that. Measured: 64 MiB budget, 200 streams, 800k records,
  // --max-old-space-size=300 → 284 MB RSS (without a limit V8 lets garbage grow to ~2x).
  if (heapLimit < budget * 2 + 128 * MiB) {
    logger.warn(
      `memory_budget_bytes ${Math.round(budget / MiB)} MiB is large for this V8 heap (${Math.round(heapLimit / MiB)} MiB): run node with --max-old-space-size=${Math.ceil((budget * 3) / MiB) + 128} or lower the budget to about a third of the heap`,
    );
  }

  const plans = planCatalog(catalog.streams, {
    deleteMode: config.delete_mode,
    tombstoneRetentionDays: config.tombstone_retention_days,
  });
  const streams = new Map<string, StreamRt>();
  plans.forEach((plan, index) => {
    for (const w of plan.warnings) logger.warn(w);
    streams.set(plan.streamKey, {
      index,
      plan,
      intake: new StreamIntake(plan, config.on_type_error as OnTypeError, (m) =>
        logger.warnRateLimited(`placeholder:${plan.streamKey}`, m, 1000),
      ),
      open: null,
      closedSeq: 0,
      committedSeq: 0,
      chain: Promise.resolve(),
      preparedTable: null,
      pending: [],
      sinceState: 0,
      received: 0,
      committedRecords: 0,
      noops: 0,
      outOfOrder: 0,
      conflicts: 0,
      maxHlc: null,
      stateSeen: false,
      lastRecordAfterState: false,
      echoed: 0,
    });
  });
  const rts = [...streams.values()];
  const openSet = new Set<StreamRt>();
  const globals: PendingGlobal[] = [];
  let globalSince = 0;
  const unknownRecords = new Map<string, number>();
  let unknownStates = 0;
  const outputs: AirbyteMessage[] = [];
  const semaphore = new Semaphore(maxFlushes);
  let totalBytes = 0;
  let inFlight = 0;
  let fatal: unknown;
  let lastSweep = now();
  const progress = new Progress(logger, "destination write", 10_000, now);

  let wakeResolve: () => void = () => undefined;
  let wakePromise = new Promise<void>((r) => (wakeResolve = r));
  const wake = () => {
    const r = wakeResolve;
    wakePromise = new Promise<void>((res) => (wakeResolve = res));
    r();
  };
  const timer = setInterval(wake, opts.tickMs ?? 1000);
  timer.unref?.();
  const onAbort = () => wake();
  signal.addEventListener("abort", onAbort);

  const streamError = (rt: StreamRt, e: unknown, what: string): ConnectorError => {
    if (e instanceof ConnectorError) return e;
    const base = toConnectorError(e);
    return new ConnectorError(
      base.failureType,
      `stream "${rt.plan.streamKey}": ${what} failed: ${base.message.replace(/^unexpected error: /, "")}`,
      {
        internal: base.internal,
        cause: e,
        stream: { name: rt.plan.name, namespace: rt.plan.namespace },
      },
    );
  };

  const prepareIfNeeded = async (rt: StreamRt) => {
    const prep = rt.plan.prep;
    if (rt.preparedTable === prep.table) return;
    await backend.prepareStream(prep);
    rt.preparedTable = prep.table;
    if (rt.intake.placeholdersAdded.length > 0) rt.intake.schemaDirty = false;
  };

  const closeBuffer = (rt: StreamRt) => {
    const buf = rt.open;
    if (!buf) return;
    rt.open = null;
    openSet.delete(rt);
    rt.closedSeq = buf.seq;
    inFlight++;
    const prep = rt.plan.prep;
    const table = prep.table;
    const prev = rt.chain;
    let materialised = 0;
    const run = async () => {
      await prev;
      if (fatal !== undefined) return;
      const release = await semaphore.acquire();
      if (opts.stats && semaphore.active > opts.stats.maxConcurrentFlushes) opts.stats.maxConcurrentFlushes = semaphore.active;
      try {
        if (fatal !== undefined) return;
        try {
          if (rt.preparedTable !== table) {
            await backend.prepareStream(prep);
            rt.preparedTable = table;
          }
        } catch (e) {
          throw streamError(rt, e, "preparing the table");
        }
        const records = buf.records;
        // Materialising the images costs about as much again as the fold map: count it while it lives.
        materialised = buf.bytes;
        totalBytes += materialised;
        const batch = buf.toBatch(rt.plan, table, prep.target ?? "main", `${runId}-${rt.index}-${buf.seq}`);
        const started = now();
        let result: Awaited<ReturnType<DestinationBackend["apply"]>>;
        try {
          result = await backend.apply(batch);
        } catch (e) {
          throw streamError(rt, e, `committing batch ${buf.seq} (${records} records)`);
        }
        rt.committedSeq = buf.seq;
        rt.committedRecords += records;
        if (opts.stats) opts.stats.batches++;
        progress.files++;
        logger.debug(
          `stream "${rt.plan.streamKey}": batch ${buf.seq} committed: ${records} records, ${result.rowsWritten} rows${result.version === undefined ? "" : `, version ${result.version}`} in ${now() - started} ms`,
        );
        opts.onCommit?.(rt.plan.streamKey, buf.seq, records);
      } finally {
        release();
      }
    };
    rt.chain = run()
      .catch((e) => {
        fatal ??= e;
      })
      .finally(() => {
        totalBytes -= buf.bytes + materialised;
        inFlight--;
        wake();
      });
  };

  const collectEchoes = () => {
    for (const rt of rts) {
      while (rt.pending.length > 0 && (rt.pending[0] as PendingState).requiredSeq <= rt.committedSeq) {
        const p = rt.pending.shift() as PendingState;
        outputs.push(echoState(p.message, p.count));
        rt.echoed++;
      }
    }
    while (globals.length > 0) {
      const g = globals[0] as PendingGlobal;
      for (const [rt, seq] of g.required) if (seq <= rt.committedSeq) g.required.delete(rt);
      if (g.required.size > 0) break;
      globals.shift();
      outputs.push(echoState(g.message, g.count));
    }
  };

  const sweep = () => {
    const t = now();
    lastSweep = t;
    for (const rt of openSet) {
      const buf = rt.open as StreamBuffer;
      if (t - buf.createdAt >= flushIntervalMs) closeBuffer(rt);
      else if (rt.pending.length > 0 && t - (rt.pending[0] as PendingState).receivedAt >= flushIntervalMs) closeBuffer(rt);
    }
    if (globals.length > 0 && t - (globals[0] as PendingGlobal).receivedAt >= flushIntervalMs) {
      for (const rt of (globals[0] as PendingGlobal).required.keys())
        if (rt.open && rt.open.seq <= ((globals[0] as PendingGlobal).required.get(rt) ?? 0)) closeBuffer(rt);
    }
  };

  const handleRecord = (line: InputLine) => {
    const record = line.message.record as NonNullable<AirbyteMessage["record"]>;
    const key = descriptorKey({ name: record.stream, namespace: record.namespace ?? null });
    const rt = streams.get(key);
    if (!rt) {
      unknownRecords.set(key, (unknownRecords.get(key) ?? 0) + 1);
      logger.warnRateLimited(
        `unknown:${key}`,
        `records of stream "${key}" are skipped: the stream is not in the configured catalog (line ${line.lineNo})`,
      );
      return;
    }
    const f = rt.intake.toFragment(record, line.lineNo);
    if (rt.maxHlc !== null && compareHlc(f.hlc, rt.maxHlc) < 0) {
      rt.outOfOrder++;
      if (config.strict_order) {
        throw configError(
          `stream "${rt.plan.streamKey}", line ${line.lineNo}: record at ${formatHlc(f.hlc)} is older than the stream's newest record ${formatHlc(rt.maxHlc)} (strict_order)`,
          { stream: { name: rt.plan.name, namespace: rt.plan.namespace } },
        );
      }
      logger.warnRateLimited(
        `order:${rt.plan.streamKey}`,
        `stream "${rt.plan.streamKey}", line ${line.lineNo}: record at ${formatHlc(f.hlc)} is older than the newest seen (${formatHlc(rt.maxHlc)}); folded and guarded (${rt.outOfOrder} so far)`,
      );
    } else rt.maxHlc = f.hlc;
    let buf = rt.open;
    if (!buf) {
      buf = new StreamBuffer(rt.closedSeq + 1, rt.plan.merge, now());
      rt.open = buf;
      openSet.add(rt);
    }
    const r = buf.add(f);
    totalBytes += r.bytesDelta;
    if (opts.stats && totalBytes > opts.stats.peakBufferedBytes) opts.stats.peakBufferedBytes = totalBytes;
    if (r.noop) rt.noops++;
    if (r.conflict) {
      rt.conflicts++;
      logger.warnRateLimited(
        `conflict:${rt.plan.streamKey}`,
        `stream "${rt.plan.streamKey}", line ${line.lineNo}: two different fragments for one key, HLC ${formatHlc(f.hlc)} and family ${f.family ?? "(none)"}; the later one wins (source contract breach)`,
      );
    }
    rt.received++;
    rt.sinceState++;
    globalSince++;
    rt.lastRecordAfterState = true;
    if (buf.bytes >= config.flush_bytes || buf.records >= config.flush_records) closeBuffer(rt);
  };

  const handleState = (line: InputLine) => {
    const state = line.message.state as AirbyteStateMessage;
    const t = now();
    if (state.type === "STREAM") {
      const d = state.stream?.stream_descriptor;
      const key = d ? descriptorKey({ name: d.name, namespace: d.namespace ?? null }) : "";
      const rt = streams.get(key);
      if (!rt) {
        unknownStates++;
        logger.warnRateLimited(
          `unknown-state:${key}`,
          `STATE of stream "${key}" (line ${line.lineNo}) is not echoed: the stream is not in the configured catalog`,
        );
        return;
      }
      const count = rt.sinceState;
      const expected = sourceCount(state);
      if (expected !== undefined && expected !== count) {
        throw systemError(
          `stream "${rt.plan.streamKey}": the STATE on line ${line.lineNo} counts ${expected} records (sourceStats.recordCount) but ${count} arrived since the previous state: records were lost or duplicated on the way; nothing after the last echoed state is confirmed`,
          { stream: { name: rt.plan.name, namespace: rt.plan.namespace } },
        );
      }
      rt.sinceState = 0;
      rt.stateSeen = true;
      rt.lastRecordAfterState = false;
      const requiredSeq = rt.open && rt.open.records > 0 ? rt.open.seq : rt.closedSeq;
      rt.pending.push({ message: line.message, count, requiredSeq, receivedAt: t });
      if (rt.open && rt.open.bytes >= stateFlushBytes) closeBuffer(rt);
      if (requiredSeq <= rt.committedSeq) collectEchoes();
      return;
    }
    // GLOBAL (and LEGACY): every stream's earlier records must be committed.
    const required = new Map<StreamRt, number>();
    for (const rt of rts) {
      const seq = rt.open && rt.open.records > 0 ? rt.open.seq : rt.closedSeq;
      if (seq > rt.committedSeq) required.set(rt, seq);
      rt.stateSeen = true;
      rt.lastRecordAfterState = false;
    }
    const count = globalSince;
    const expected = sourceCount(state);
    if (expected !== undefined && expected !== count) {
      throw systemError(
        `the ${state.type ?? "LEGACY"} STATE on line ${line.lineNo} counts ${expected} records (sourceStats.recordCount) but ${count} arrived since the previous one`,
      );
    }
    globalSince = 0;
    globals.push({ message: line.message, count, required, receivedAt: t });
    collectEchoes();
  };

  const relieveMemory = () => {
    // At the budget: flush the largest open buffers while flush slots are free.
    while (totalBytes >= budget && inFlight < maxFlushes && openSet.size > 0) {
      let largest: StreamRt | null = null;
      for (const rt of openSet)
        if (!largest || (rt.open as StreamBuffer).bytes > (largest.open as StreamBuffer).bytes) largest = rt;
      closeBuffer(largest as StreamRt);
    }
  };

  const iterator = input[Symbol.asyncIterator]();
  type Next = { kind: "input"; result: IteratorResult<InputLine> } | { kind: "error"; error: unknown };
  let pendingNext: Promise<Next> | null = null;
  let eof = false;
  let pausedSince: number | null = null;
  let pausedMs = 0;

  try {
    while (!eof) {
      if (outputs.length > 0) yield* outputs.splice(0);
      if (fatal !== undefined || signal.aborted) break;
      if (totalBytes >= budget) {
        relieveMemory();
        if (totalBytes >= budget && inFlight > 0) {
          pausedSince ??= now();
          await wakePromise;
          collectEchoes();
          continue;
        }
      }
      if (pausedSince !== null) {
        pausedMs += now() - pausedSince;
        pausedSince = null;
      }
      pendingNext ??= iterator.next().then(
        (result): Next => ({ kind: "input", result }),
        (error): Next => ({ kind: "error", error }),
      );
      const got = await Promise.race([pendingNext, wakePromise.then(() => null)]);
      if (got === null) {
        sweep();
        collectEchoes();
        continue;
      }
      pendingNext = null;
      if (got.kind === "error") {
        fatal ??= got.error;
        break;
      }
      if (got.result.done) {
        eof = true;
        break;
      }
      const line = got.result.value;
      try {
        if (line.message.type === "RECORD") {
          handleRecord(line);
          progress.add(1, line.size);
          progress.tick(
            () => `${(totalBytes / MiB).toFixed(1)} MiB buffered, ${inFlight} flushes in flight, ${openSet.size} open buffers`,
          );
        } else if (line.message.type === "STATE") handleState(line);
      } catch (e) {
        fatal ??= e;
        break;
      }
      if (now() - lastSweep >= (opts.tickMs ?? 1000)) sweep();
    }

    if (fatal === undefined && !signal.aborted) {
      // End of input: everything received is committed, then overwrite temps are swapped in.
      for (const rt of rts) closeBuffer(rt);
      for (const rt of rts) {
        if (rt.preparedTable === null && (rt.stateSeen || rt.received > 0)) {
          rt.chain = rt.chain.then(async () => {
            if (fatal !== undefined) return;
            try {
              await prepareIfNeeded(rt);
            } catch (e) {
              fatal ??= streamError(rt, e, "preparing the table");
            }
          });
        }
      }
      await Promise.all(rts.map((r) => r.chain));
      collectEchoes();
      if (fatal === undefined) {
        await Promise.all(
          rts.map(async (rt) => {
            if (rt.preparedTable === null) return;
            if (rt.plan.prep.target === "overwrite_temp" && !rt.stateSeen) {
              logger.warn(
                `stream "${rt.plan.streamKey}": input ended without a STATE for this stream; its overwrite temp table is kept and the target is unchanged`,
              );
              return;
            }
            try {
              await backend.finishStream(rt.plan.prep);
            } catch (e) {
              fatal ??= streamError(rt, e, "finishing the stream");
            }
          }),
        );
      }
    } else {
      // Failure or SIGTERM: start nothing new; let in-flight commits land and echo what they cover.
      await Promise.all(rts.map((r) => r.chain));
      collectEchoes();
    }
    if (outputs.length > 0) yield* outputs.splice(0);
    if (opts.stats) opts.stats.pausedMs = pausedMs;

    const summary = rts
      .filter((rt) => rt.received > 0 || rt.stateSeen)
      .map(
        (rt) =>
          `${rt.plan.streamKey}: ${rt.received} records, ${rt.committedRecords} committed, ${rt.echoed} states echoed` +
          (rt.noops ? `, ${rt.noops} superseded in buffer` : "") +
          (rt.outOfOrder ? `, ${rt.outOfOrder} out of order` : "") +
          (rt.conflicts ? `, ${rt.conflicts} conflicting duplicates` : "") +
          (rt.intake.typeErrorsNulled ? `, ${rt.intake.typeErrorsNulled} values nulled (type errors)` : "") +
          (rt.intake.placeholdersAdded.length ? `, placeholders: ${rt.intake.placeholdersAdded.join(", ")}` : ""),
      );
    const noise = opts.inputStats?.noiseLines ?? 0;
    const skipped = [...unknownRecords.values()].reduce((a, b) => a + b, 0);
    logger.info(
      `${progress.line(`input paused ${(pausedMs / 1000).toFixed(1)} s for memory`)}; ${noise} noise lines skipped; ${skipped} records of unconfigured streams skipped${unknownRecords.size ? ` (${[...unknownRecords.keys()].join(", ")})` : ""}; ${unknownStates} states of unconfigured streams not echoed`,
    );
    for (const s of summary.slice(0, 50)) logger.info(s);
    if (summary.length > 50) logger.info(`... and ${summary.length - 50} more streams`);
    if (fatal !== undefined) throw fatal;
  } finally {
    clearInterval(timer);
    signal.removeEventListener("abort", onAbort);
    await Promise.allSettled(rts.map((r) => r.chain));
    if (!eof) iterator.return?.()?.catch?.(() => undefined);
    try {
      await backend.close();
    } catch (e) {
      logger.warn(`closing the backend failed: ${toConnectorError(e).message}`);
    }
  }
}
