/**
 * The write loop driven directly (writeMessages): durability and ordering of echoes (invariant 2),
 * SIGTERM, overwrite, schema evolution, and bounded memory with 200 streams (invariant 5).
 */
import { type AirbyteMessage, type InputLine, parseMessageLine, silentLogger } from "@cdc-delta/shared";
import { describe, expect, it } from "vitest";
import { DestinationConfig } from "./config.js";
import { MemoryBackend } from "./plan/memory-backend.js";
import { catalogOf, configuredStream, del, nextHlc, stateLine, upsert } from "./testing-protocol.js";
import { type WriteStats, writeMessages } from "./write.js";

const config = (extra: Record<string, unknown> = {}) =>
  DestinationConfig.parse({ target: { type: "local", path: "/unused" }, ...extra });

async function* linesOf(lines: string[], between?: () => Promise<void>): AsyncGenerator<InputLine> {
  let n = 0;
  for (const l of lines) {
    n++;
    if (between) await between();
    yield { lineNo: n, message: parseMessageLine(l, n), size: l.length };
  }
}

async function collect(it: AsyncIterable<AirbyteMessage>): Promise<AirbyteMessage[]> {
  const out: AirbyteMessage[] = [];
  for await (const m of it) out.push(m);
  return out;
}

const pos = (m: AirbyteMessage) => (m.state!.stream!.stream_state as { position: number }).position;

describe("write loop", () => {
  it("invariant 2: a STATE is never echoed before every earlier record of its stream is committed", async () => {
    const names = ["s0", "s1", "s2"];
    const catalog = catalogOf(...names.map((n) => configuredStream(n)));
    const lines: string[] = [];
    const before = new Map<number, number>(); // position -> records of its stream before it
    const counts = new Map<string, number>();
    const since = new Map<string, number>();
    let position = 0;
    for (let i = 0; i < 600; i++) {
      const s = names[(i * 7) % 3] as string;
      lines.push(upsert(s, ["eu", i % 50], { a1: `v${i}`, a2: i }));
      counts.set(s, (counts.get(s) ?? 0) + 1);
      since.set(s, (since.get(s) ?? 0) + 1);
      if (i % 13 === 0) {
        position++;
        before.set(position, counts.get(s) ?? 0);
        lines.push(stateLine(s, position, since.get(s) ?? 0));
        since.set(s, 0);
      }
    }
    const committed = new Map<string, number>();
    const backend = new MemoryBackend({ applyDelayMs: 1 });
    const echoes: AirbyteMessage[] = [];
    for await (const m of writeMessages(catalog, linesOf(lines), {
      backend,
      config: config({ flush_records: 17 }),
      logger: silentLogger(),
      signal: new AbortController().signal,
      onCommit: (s, _seq, n) => committed.set(s, (committed.get(s) ?? 0) + n),
    })) {
      if (m.type !== "STATE") continue;
      echoes.push(m);
      const s = m.state?.stream?.stream_descriptor.name as string;
      expect(committed.get(s) ?? 0).toBeGreaterThanOrEqual(before.get(pos(m)) ?? 0);
    }
    expect(echoes.length).toBe(position);
    for (const s of names) {
      const p = echoes.filter((m) => m.state?.stream?.stream_descriptor.name === s).map(pos);
      expect(p).toEqual([...p].sort((a, b) => a - b));
    }
  });

  it("age trigger: a pending state is committed and echoed while the source is idle", async () => {
    const backend = new MemoryBackend();
    const lines = [
      upsert("items", ["eu", 1], { a1: "x" }),
      stateLine("items", 1, 1),
      upsert("items", ["eu", 2], { a1: "y" }),
      stateLine("items", 2, 1),
    ];
    const events: string[] = [];
    let n = 0;
    for await (const m of writeMessages(
      catalogOf(configuredStream("items")),
      linesOf(lines, async () => {
        if (++n === 3) {
          events.push("source idle");
          await new Promise((r) => setTimeout(r, 400));
          events.push("source resumes");
        }
      }),
      {
        backend,
        config: config({ flush_interval_s: 0.1 }),
        logger: silentLogger(),
        signal: new AbortController().signal,
        tickMs: 20,
      },
    )) {
      if (m.type === "STATE") events.push(`echo ${pos(m)}`);
    }
    expect(events).toEqual(["source idle", "echo 1", "source resumes", "echo 2"]);
  });

  it("SIGTERM: stops reading and echoes nothing uncommitted", async () => {
    const backend = new MemoryBackend();
    const ac = new AbortController();
    const lines = [upsert("items", ["eu", 1], { a1: "x" }), stateLine("items", 1, 1), upsert("items", ["eu", 2], { a1: "y" })];
    let n = 0;
    const out = await collect(
      writeMessages(
        catalogOf(configuredStream("items")),
        linesOf(lines, async () => {
          if (++n === 3) {
            ac.abort();
            await new Promise(() => undefined); // the source hangs
          }
        }),
        { backend, config: config(), logger: silentLogger(), signal: ac.signal, tickMs: 10 },
      ),
    );
    expect(out.filter((m) => m.type === "STATE")).toEqual([]);
    expect(backend.applied).toBe(0);
  });

  it("overwrite: folds into a temp table swapped in at the end; without a state the target is kept", async () => {
    const backend = new MemoryBackend();
    const ref = { namespace: null, name: "items" };
    const catalog = catalogOf(configuredStream("items", { mode: "overwrite", syncMode: "full_refresh", gen: 3, minGen: 3 }));
    const run1 = [upsert("items", ["eu", 1], { a1: "old" }), upsert("items", ["eu", 2], { a1: "old" }), stateLine("items", 1, 2)];
    await collect(
      writeMessages(catalog, linesOf(run1), {
        backend,
        config: config(),
        logger: silentLogger(),
        signal: new AbortController().signal,
      }),
    );
    expect(backend.rowsOf(ref).map((r) => r.a1)).toEqual(["old", "old"]);
    const run2 = [upsert("items", ["eu", 1], { a1: "v1" }), upsert("items", ["eu", 1], { a1: "v2" })];
    await collect(
      writeMessages(catalog, linesOf(run2), {
        backend,
        config: config(),
        logger: silentLogger(),
        signal: new AbortController().signal,
      }),
    );
    expect(backend.rowsOf(ref).map((r) => r.a1)).toEqual(["old", "old"]);
    const run3 = [...run2, stateLine("items", 2, 2)];
    await collect(
      writeMessages(catalog, linesOf(run3), {
        backend,
        config: config(),
        logger: silentLogger(),
        signal: new AbortController().signal,
      }),
    );
    expect(backend.rowsOf(ref).map((r) => [r.id, r.a1, r._airbyte_generation_id])).toEqual([[1n, "v2", 3n]]);
  });

  it("incremental + overwrite logs a warning; hybrid generations and update mode are config errors", async () => {
    const logs: string[] = [];
    const logger = silentLogger();
    logger.warn = (m: string) => void logs.push(m);
    const backend = new MemoryBackend();
    await collect(
      writeMessages(catalogOf(configuredStream("items", { mode: "overwrite" })), linesOf([stateLine("items", 1, 0)]), {
        backend,
        config: config(),
        logger,
        signal: new AbortController().signal,
      }),
    );
    expect(logs.join("\n")).toMatch(/incremental source with overwrite destination/);
    await expect(
      collect(
        writeMessages(catalogOf(configuredStream("items", { gen: 5, minGen: 2 })), linesOf([]), {
          backend,
          config: config(),
          logger,
          signal: new AbortController().signal,
        }),
      ),
    ).rejects.toThrow(/hybrid refresh/);
    await expect(
      collect(
        writeMessages(catalogOf(configuredStream("items", { mode: "update" })), linesOf([]), {
          backend,
          config: config(),
          logger,
          signal: new AbortController().signal,
        }),
      ),
    ).rejects.toThrow(/"update" is not supported/);
    await expect(
      collect(
        writeMessages(catalogOf(configuredStream("items", { pk: [] })), linesOf([]), {
          backend,
          config: config(),
          logger,
          signal: new AbortController().signal,
        }),
      ),
    ).rejects.toThrow(/append_dedup needs a primary key/);
  });

  it("§8.13 a column first seen mid-stream becomes a STRING placeholder added before the batch that needs it", async () => {
    const backend = new MemoryBackend();
    const lines = [
      upsert("items", ["eu", 1], { a1: "x" }),
      stateLine("items", 1, 1),
      upsert("items", ["eu", 2], { a1: "y", extra: { deep: 1 } }),
      stateLine("items", 2, 1),
    ];
    const out = await collect(
      writeMessages(catalogOf(configuredStream("items")), linesOf(lines), {
        backend,
        config: config({ flush_records: 1 }),
        logger: silentLogger(),
        signal: new AbortController().signal,
      }),
    );
    expect(out.filter((m) => m.type === "STATE")).toHaveLength(2);
    const prepares = backend.calls.filter((c) => c.startsWith("prepare"));
    expect(prepares).toHaveLength(2);
    const ref = { namespace: null, name: "items" };
    expect(backend.table(ref)?.spec.columns.find((c) => c.name === "extra")?.metadata).toEqual({ "cdc.placeholder": "true" });
    expect(backend.rowsOf(ref).map((r) => r.extra)).toEqual([null, '{"deep":1}']);
  });

  it("append: one history row per record, idempotent under replay (§8.20)", async () => {
    const backend = new MemoryBackend();
    const catalog = catalogOf(configuredStream("items", { mode: "append" }));
    const h1 = nextHlc();
    const h2 = nextHlc();
    const lines = [
      upsert("items", ["eu", 1], { a1: "x" }, { hlc: h1 }),
      del("items", ["eu", 1], { hlc: h2 }),
      stateLine("items", 1, 2),
    ];
    for (let i = 0; i < 2; i++) {
      await collect(
        writeMessages(catalog, linesOf(lines), {
          backend,
          config: config(),
          logger: silentLogger(),
          signal: new AbortController().signal,
        }),
      );
    }
    expect(backend.rowsOf({ namespace: null, name: "items" }).map((r) => [r._cdc_op, r.a1, r._cdc_family])).toEqual([
      ["upsert", "x", "fa"],
      ["delete", null, "fa"],
    ]);
  });

  it("invariant 5: 200 streams under a small budget: bounded buffers, input paused, every state echoed", async () => {
    const n = 200;
    const catalog = catalogOf(...Array.from({ length: n }, (_, i) => configuredStream(`t${i}`)));
    const lines: string[] = [];
    const per = 60;
    for (let r = 0; r < per; r++)
      for (let s = 0; s < n; s++) lines.push(upsert(`t${s}`, ["eu", r], { a1: "p".repeat(200), a2: r }));
    for (let s = 0; s < n; s++) lines.push(stateLine(`t${s}`, 1, per));
    const stats: WriteStats = { peakBufferedBytes: 0, batches: 0, pausedMs: 0, maxConcurrentFlushes: 0 };
    const budget = 1024 * 1024;
    const backend = new MemoryBackend({ applyDelayMs: 1 });
    const out = await collect(
      writeMessages(catalog, linesOf(lines), {
        backend,
        config: config({ memory_budget_bytes: budget }),
        logger: silentLogger(),
        signal: new AbortController().signal,
        stats,
      }),
    );
    expect(out.filter((m) => m.type === "STATE")).toHaveLength(n);
    expect(stats.peakBufferedBytes).toBeLessThan(budget + 64 * 1024);
    expect(stats.maxConcurrentFlushes).toBeLessThanOrEqual(4);
    expect(stats.batches).toBeGreaterThan(n);
    expect(backend.rowsOf({ namespace: null, name: "t7" })).toHaveLength(per);
  });
});
