/**
 * A window's changes for one stream: sorted in memory while small; beyond the memory limit, sorted
 * runs are spilled to temporary files and merged (external sort), so memory stays bounded by
 * configuration, not by window size.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { once } from "node:events";
import { hlcSortKey, type JsonObject, type JsonValue, stringifyJsonLossless } from "@cdc-delta/shared";
import { parseLine } from "../decode/json.js";
import { type Change, compareChanges } from "./order.js";

export interface MemoryBudget {
  limitRows: number;
  inMemory: number;
  tempDir?: string;
}

function encode(c: Change): string {
  return stringifyJsonLossless([
    c.updated,
    c.key,
    c.family,
    c.schemaId,
    c.fileOrder,
    c.line,
    c.afterText === undefined ? c.after : null,
    c.afterText ?? null,
    c.missingPk ?? null,
    c.encoded ?? false,
  ]);
}

function decode(line: string): Change {
  const [updated, key, family, schemaId, fileOrder, lineNo, after, afterText, missingPk, encoded] = parseLine(line) as [
    string,
    JsonValue[],
    string | null,
    number,
    number,
    number,
    JsonObject | null,
    string | null,
    string[] | null,
    boolean,
  ];
  const c: Change = {
    hlcKey: hlcSortKey(updated) as string, // spilled runs hold only validated HLC texts
    updated,
    key,
    family,
    schemaId,
    fileOrder,
    line: lineNo,
    after: afterText !== null ? TEXT_AFTER : after,
  };
  if (afterText !== null) c.afterText = afterText;
  if (missingPk) c.missingPk = missingPk;
  if (encoded) c.encoded = true;
  return c;
}

/** Marker `after` of changes that carry their row as exact text. */
export const TEXT_AFTER: JsonObject = Object.freeze({}) as JsonObject;

export class WindowBuffer {
  private rows: Change[] = [];
  private runs: string[] = [];
  private dir: string | undefined;
  spilledRows = 0;

  constructor(private readonly budget: MemoryBudget) {}

  get size(): number {
    return this.rows.length + this.spilledRows;
  }

  /** Adds a change; returns a promise (to await) only when the memory limit forced a spill. */
  add(c: Change): Promise<void> | undefined {
    this.rows.push(c);
    this.budget.inMemory++;
    if (this.budget.inMemory > this.budget.limitRows && this.rows.length > 0) return this.spill();
    return undefined;
  }

  get spilled(): number {
    return this.runs.length;
  }

  async spill(): Promise<void> {
    this.dir ??= await mkdtemp(join(this.budget.tempDir ?? tmpdir(), "crdb-cdc-window-"));
    this.rows.sort(compareChanges);
    const path = join(this.dir, `run-${this.runs.length}.jsonl`);
    const out = createWriteStream(path);
    for (const c of this.rows) {
      if (!out.write(`${encode(c)}\n`)) await once(out, "drain");
    }
    out.end();
    await once(out, "finish");
    this.runs.push(path);
    this.spilledRows += this.rows.length;
    this.budget.inMemory -= this.rows.length;
    this.rows = [];
  }

  /** All changes in (position, schema id desc, input) order, in batches; the buffer is consumed. */
  async *sorted(batchSize = 2048): AsyncGenerator<Change[]> {
    this.rows.sort(compareChanges);
    if (this.runs.length === 0) {
      const rows = this.rows;
      this.rows = [];
      this.budget.inMemory -= rows.length;
      for (let i = 0; i < rows.length; i += batchSize) yield rows.slice(i, i + batchSize);
      return;
    }
    const sources: AsyncIterator<Change>[] = this.runs.map((p) => readRun(p)[Symbol.asyncIterator]());
    const mem = this.rows;
    this.rows = [];
    sources.push(
      (async function* () {
        yield* mem;
      })(),
    );
    const heap: { c: Change; i: number }[] = [];
    const push = (e: { c: Change; i: number }) => {
      heap.push(e);
      let k = heap.length - 1;
      while (k > 0) {
        const p = (k - 1) >> 1;
        if (compareChanges((heap[p] as { c: Change }).c, e.c) <= 0) break;
        heap[k] = heap[p] as { c: Change; i: number };
        k = p;
      }
      heap[k] = e;
    };
    const pop = (): { c: Change; i: number } => {
      const top = heap[0] as { c: Change; i: number };
      const last = heap.pop() as { c: Change; i: number };
      if (heap.length) {
        let k = 0;
        for (;;) {
          const l = 2 * k + 1;
          if (l >= heap.length) break;
          const r = l + 1;
          const m = r < heap.length && compareChanges((heap[r] as { c: Change }).c, (heap[l] as { c: Change }).c) < 0 ? r : l;
          if (compareChanges((heap[m] as { c: Change }).c, last.c) >= 0) break;
          heap[k] = heap[m] as { c: Change; i: number };
          k = m;
        }
        heap[k] = last;
      }
      return top;
    };
    for (let i = 0; i < sources.length; i++) {
      const n = await (sources[i] as AsyncIterator<Change>).next();
      if (!n.done) push({ c: n.value, i });
    }
    try {
      let batch: Change[] = [];
      while (heap.length) {
        const e = pop();
        batch.push(e.c);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
        const n = await (sources[e.i] as AsyncIterator<Change>).next();
        if (!n.done) push({ c: n.value, i: e.i });
      }
      if (batch.length) yield batch;
    } finally {
      this.budget.inMemory -= mem.length;
      await this.dispose();
    }
  }

  async dispose(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.runs = [];
  }
}

async function* readRun(path: string): AsyncGenerator<Change> {
  const rl = createInterface({ input: createReadStream(path, { highWaterMark: 1 << 20 }), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) if (line) yield decode(line);
}
