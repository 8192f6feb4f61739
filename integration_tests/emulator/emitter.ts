/**
 * The changefeed sink model: buffers messages per (topic, schema id), flushes them into files named
 * per changefeed-files.md §2 (partition folder, 33-digit frontier timestamp, run id, node, sink,
 * file id, topic, schema id, format, codec), writes `<ts33>.RESOLVED` files (§3), and injects the
 * at-least-once behaviours: rows unsorted within a file, several files per flush, the same row in two
 * files, a replayed flush under a new run id after a simulated restart.
 *
 * All emission randomness comes from its own PRNG stream, so the workload and truth never depend on it.
 */
import { gzipSync } from "node:zlib";
import { type Hlc, compareHlc, formatHlc, formatTs33, hlcUtcDateParts } from "@cdc-delta/shared";
import type { Layout, Message } from "./model.js";
import type { Prng } from "./prng.js";
import type { ObjectSink } from "./sink.js";
import { jsonText } from "./types.js";

export interface EmitOptions {
  format: "json" | "parquet";
  compression: "none" | "gzip" | "zstd";
  partition: "daily" | "hourly" | "flat";
  envelope: "wrapped" | "bare";
  diff: boolean;
  mvccTimestamp: boolean;
  topicInValue: boolean;
  /** Number of aggregator nodes (1-9): rows are routed to a node's file by key. */
  nodes: number;
  /** Max rows per data file (soft file_size). */
  fileRows: number;
  /** Probability a message is also written to a second file (same flush, sorting later). */
  duplicateRate: number;
  /** Probability (per flush) of a simulated restart that replays the previous flush under a new run id. */
  restartRate: number;
}

export interface EmitStats {
  dataFiles: number;
  resolvedFiles: number;
  messages: number;
  duplicates: number;
  replayedMessages: number;
  restarts: number;
  bytes: number;
  runIds: string[];
}

export type ParquetEncoder = (msgs: readonly Message[], layout: Layout, fam: number, opts: EmitOptions) => Promise<Uint8Array>;

interface Buffer_ {
  readonly layout: Layout;
  readonly fam: number;
  readonly msgs: Message[];
}

const zstdState: { compress?: (b: Uint8Array, level?: number) => Uint8Array } = {};

export async function zstdCompress(bytes: Uint8Array): Promise<Uint8Array> {
  if (!zstdState.compress) {
    const z = await import("@bokuweb/zstd-wasm");
    await z.init();
    zstdState.compress = z.compress as never;
  }
  return (zstdState.compress as (b: Uint8Array, level?: number) => Uint8Array)(bytes, 3);
}

export class Emitter {
  readonly stats: EmitStats = {
    dataFiles: 0,
    resolvedFiles: 0,
    messages: 0,
    duplicates: 0,
    replayedMessages: 0,
    restarts: 0,
    bytes: 0,
    runIds: [],
  };
  private buffers = new Map<string, Buffer_>();
  private buffered = 0;
  private runId: string;
  private readonly sinkIds: number[];
  private fileIds: number[];
  private lastFlush: Hlc | null = null;
  private lastResolved: Hlc | null = null;
  private previousFlush: Message[] = [];
  private inflight: Promise<void>[] = [];
  constructor(
    private readonly opts: EmitOptions,
    private readonly sink: ObjectSink,
    private readonly rng: Prng,
    private readonly parquet: ParquetEncoder | null,
    private readonly onObject?: (key: string) => void,
  ) {
    if (opts.nodes < 1 || opts.nodes > 9) throw new Error("nodes must be 1..9");
    this.runId = rng.hex(16);
    this.stats.runIds.push(this.runId);
    this.sinkIds = Array.from({ length: opts.nodes }, () => rng.range(0, 12));
    this.fileIds = Array.from({ length: opts.nodes }, () => 0);
  }

  get bufferedMessages(): number {
    return this.buffered;
  }

  get lastResolvedHlc(): Hlc | null {
    return this.lastResolved;
  }

  add(m: Message): void {
    const k = `${m.tableIdx}\u0000${m.fam}\u0000${m.layout.version}`;
    let b = this.buffers.get(k);
    if (!b) {
      b = { layout: m.layout, fam: m.fam, msgs: [] };
      this.buffers.set(k, b);
    }
    b.msgs.push(m);
    this.buffered++;
    this.stats.messages++;
  }

  /**
   * A frontier timestamp for a flush: strictly after the last flush and the last RESOLVED, ≤ `hi`;
   * `exact` = use `hi` itself. Null when there is no room (the caller keeps buffering).
   */
  chooseFlushTs(hi: Hlc, exact: boolean): Hlc | null {
    const lo = [this.lastFlush, this.lastResolved].reduce<Hlc | null>(
      (a, b) => (b && (!a || compareHlc(b, a) > 0) ? b : a),
      null,
    );
    if (!lo) return hi;
    if (compareHlc(hi, lo) <= 0) return null;
    if (exact) return hi;
    const span = hi.wall - lo.wall;
    if (span <= 0n) return hi;
    const step =
      span > 1_000_000_000n ? BigInt(this.rng.int(1_000_000_000)) + 1n : BigInt(Math.floor(this.rng.float() * Number(span))) + 1n;
    const wall = lo.wall + step;
    return wall >= hi.wall ? hi : { wall, logical: 0 };
  }

  private partitionOf(ts: Hlc): string {
    if (this.opts.partition === "flat") return "";
    const { date, hour } = hlcUtcDateParts(ts);
    return this.opts.partition === "daily" ? `${date}/` : `${date}/${hour}/`;
  }

  private async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.sink.put(key, bytes);
    this.stats.bytes += bytes.byteLength;
    this.onObject?.(key);
  }

  /** Simulated restart: new run id, sink counters restart; the previous flush is replayed next flush. */
  private restart(): Message[] {
    this.runId = this.rng.hex(16);
    this.stats.runIds.push(this.runId);
    this.stats.restarts++;
    this.fileIds = this.fileIds.map(() => 0);
    const replay = this.previousFlush;
    this.stats.replayedMessages += replay.length;
    return replay;
  }

  /** Write every buffered message into data files stamped `ts`. */
  async flush(ts: Hlc): Promise<void> {
    if (this.lastFlush && compareHlc(ts, this.lastFlush) <= 0) throw new Error("flush timestamps must increase");
    let replay: Message[] = [];
    if (this.lastFlush && this.previousFlush.length > 0 && this.rng.chance(this.opts.restartRate)) replay = this.restart();
    if (this.buffered === 0 && replay.length === 0) return;
    this.lastFlush = ts;
    const ts33 = formatTs33(ts);
    const part = this.partitionOf(ts);
    // Replayed (older) messages go first so that per key, versions stay in order.
    const groups = new Map<string, Buffer_>();
    for (const m of replay) {
      const k = `${m.tableIdx}\u0000${m.fam}\u0000${m.layout.version}`;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { layout: m.layout, fam: m.fam, msgs: [] }));
      g.msgs.push(m);
    }
    for (const [k, b] of this.buffers) {
      const g = groups.get(k);
      if (g) g.msgs.push(...b.msgs);
      else groups.set(k, b);
    }
    // Deterministic order: table, family, then schema version ascending (older versions flush first).
    const ordered = [...groups.entries()].sort(([a], [b]) => {
      const [ta, fa, va] = a.split("\u0000").map(Number) as [number, number, number];
      const [tb, fb, vb] = b.split("\u0000").map(Number) as [number, number, number];
      return ta - tb || va - vb || fa - fb;
    });
    const flushed: Message[] = [];
    for (const [, b] of ordered) {
      const perNode: Message[][] = Array.from({ length: this.opts.nodes }, () => []);
      for (const m of b.msgs) (perNode[(Math.imul(m.index + 1, 0x9e3779b1) >>> 7) % this.opts.nodes] as Message[]).push(m);
      const dups: Message[] = [];
      for (let n = 0; n < this.opts.nodes; n++) {
        const msgs = this.shuffleKeepingKeyOrder(perNode[n] as Message[]);
        for (let off = 0; off < msgs.length; off += this.opts.fileRows) {
          const chunk = msgs.slice(off, off + this.opts.fileRows);
          await this.writeDataFile(part, ts33, n, b.layout, b.fam, chunk);
          for (const m of chunk) if (this.rng.chance(this.opts.duplicateRate)) dups.push(m);
        }
        flushed.push(...msgs);
      }
      if (dups.length > 0) {
        // Same rows again in a file of the last node with a higher file id: sorts after every original.
        this.stats.duplicates += dups.length;
        await this.writeDataFile(part, ts33, this.opts.nodes - 1, b.layout, b.fam, this.rng.shuffle(dups));
      }
    }
    await this.drain();
    this.previousFlush = flushed;
    this.buffers = new Map();
    this.buffered = 0;
  }

  /** Write `R.RESOLVED` after flushing everything buffered (every row ≤ R must precede it). */
  async resolved(r: Hlc, dataTs: Hlc): Promise<void> {
    await this.flush(dataTs);
    if (this.lastResolved && compareHlc(r, this.lastResolved) <= 0) throw new Error("RESOLVED must increase");
    this.lastResolved = r;
    const body =
      this.opts.format === "parquet"
        ? await (await import("./parquet.js")).encodeParquetResolved(formatHlc(r))
        : Buffer.from(
            this.opts.envelope === "bare" ? `{"__crdb__":{"resolved":"${formatHlc(r)}"}}` : `{"resolved":"${formatHlc(r)}"}`,
            "utf8",
          );
    await this.put(`${this.partitionOf(r)}${formatTs33(r)}.RESOLVED`, body);
    this.stats.resolvedFiles++;
  }

  private shuffleKeepingKeyOrder(msgs: Message[]): Message[] {
    const prio = new Map<number, number>();
    const decorated = msgs.map((m, i) => {
      let p = prio.get(m.index);
      if (p === undefined) prio.set(m.index, (p = this.rng.u32()));
      return { m, p, i };
    });
    decorated.sort((a, b) => a.p - b.p || a.i - b.i);
    return decorated.map((d) => d.m);
  }

  private async writeDataFile(
    part: string,
    ts33: string,
    node: number,
    layout: Layout,
    fam: number,
    msgs: Message[],
  ): Promise<void> {
    if (msgs.length === 0) return;
    const fileId = (this.fileIds[node] as number).toString(16).padStart(8, "0");
    this.fileIds[node] = (this.fileIds[node] as number) + 1;
    const topic = (layout.families[fam] as { fileTopic: string }).fileTopic;
    const base = `${ts33}-${this.runId}-${node + 1}-${this.sinkIds[node]}-${fileId}-${topic}-${layout.version.toString(16)}`;
    let bytes: Uint8Array;
    let name: string;
    if (this.opts.format === "parquet") {
      if (!this.parquet) throw new Error("parquet encoder missing");
      bytes = await this.parquet(msgs, layout, fam, this.opts);
      name = `${base}.parquet`;
    } else {
      let text = "";
      for (const m of msgs) text += `${renderJsonLine(m, this.opts)}\n`;
      bytes = Buffer.from(text, "utf8");
      name = `${base}.ndjson`;
      if (this.opts.compression === "gzip") {
        bytes = gzipSync(bytes);
        name += ".gz";
      } else if (this.opts.compression === "zstd") {
        bytes = await zstdCompress(bytes);
        name += ".zst";
      }
    }
    const key = part + name;
    this.stats.dataFiles++;
    // Writes of one flush proceed concurrently (bounded); flush() awaits them all before returning,
    // so a RESOLVED object is only written after every data file before it exists.
    const p = this.put(key, bytes);
    this.inflight.push(p);
    if (this.inflight.length >= 16) await this.drain();
  }

  private async drain(): Promise<void> {
    const all = this.inflight;
    this.inflight = [];
    await Promise.all(all);
  }
}

function renderObject(m: Message, layout: Layout, values: readonly Value_[]): string {
  const f = layout.families[m.fam];
  if (!f) throw new Error("family missing");
  let s = "{";
  for (let j = 0; j < f.jsonOrder.length; j++) {
    const p = f.jsonOrder[j] as number;
    const c = layout.columns[f.cols[p] as number];
    if (!c) throw new Error("column missing");
    s += `${j ? ", " : ""}${JSON.stringify(c.name)}: ${jsonText(c.type, values[p] as Value_)}`;
  }
  return `${s}}`;
}

type Value_ = import("./types.js").Value;

/** The `before` object of a message (diff) as JSON text; used by the Parquet `__crdb__before` column. */
export function renderBeforeObject(m: Message): string {
  if (!m.before) throw new Error("no before image");
  return renderObject(m, m.beforeLayout, m.before);
}

function renderKey(m: Message): string {
  return `[${m.key.map((v, i) => jsonText((m.layout.columns[m.layout.pk[i] as number] as { type: import("./types.js").ColType }).type, v)).join(", ")}]`;
}

/** One changefeed JSON line (without the newline), changefeed-files.md §5. */
export function renderJsonLine(m: Message, o: Pick<EmitOptions, "envelope" | "diff" | "mvccTimestamp" | "topicInValue">): string {
  const fam = m.layout.families[m.fam];
  if (!fam) throw new Error("family missing");
  if (o.envelope === "bare") {
    // Negative-test input only: top-level columns plus "__crdb__"; deletes are indistinguishable.
    const meta = `{"key": ${renderKey(m)}${o.mvccTimestamp ? `, "mvcc_timestamp": "${formatHlc(m.mvcc)}"` : ""}, "updated": "${formatHlc(m.updated)}"}`;
    const parts: [string, string][] = [["__crdb__", meta]];
    if (m.after) {
      for (let p = 0; p < fam.cols.length; p++) {
        const c = m.layout.columns[fam.cols[p] as number];
        if (c) parts.push([c.name, jsonText(c.type, m.after[p] as Value_)]);
      }
    }
    parts.sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
    return `{${parts.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(", ")}}`;
  }
  let s = `{"after": ${m.after ? renderObject(m, m.layout, m.after) : "null"}`;
  if (o.diff) s += `, "before": ${m.before ? renderObject(m, m.beforeLayout, m.before) : "null"}`;
  s += `, "key": ${renderKey(m)}`;
  if (o.mvccTimestamp) s += `, "mvcc_timestamp": "${formatHlc(m.mvcc)}"`;
  if (o.topicInValue) s += `, "topic": ${JSON.stringify(fam.jsonTopic)}`;
  return `${s}, "updated": "${formatHlc(m.updated)}"}`;
}
