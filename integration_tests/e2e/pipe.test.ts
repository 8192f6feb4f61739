/**
 * End to end, the way users run the pair: `source read | destination write` as two processes on one
 * OS pipe, the bucket filling up window by window, each sync resuming from the last STATE per stream
 * the destination echoed. After every sync the Delta tables (read with delta-rs) equal the truth
 * model at the RESOLVED the sync reached; a replay from an older state changes nothing.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertOfficialMessages } from "../../shared/src/testing/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTruthAt } from "../emulator/truth.js";
import { compareTables, readDeltaTables } from "./lib/compare.js";
import { emulate, revealUpTo } from "./lib/emulate.js";
import { connectorsBuilt, deltaPython } from "./lib/paths.js";
import { StateBook } from "./lib/proc.js";
import { type Connection, describeFailure, makeConnection, syncOnce, writeJson } from "./lib/sync.js";

const py = deltaPython();
let dir: string;

beforeAll(async () => {
  expect(connectorsBuilt(), "build the connectors first").toBe(true);
  dir = await mkdtemp(join(tmpdir(), "cdc-e2e-"));
});
afterAll(async () => {
  if (dir && !process.env.CDC_KEEP) await rm(dir, { recursive: true, force: true });
});

describe.each([
  {
    label: "json, families, daily",
    format: "json" as const,
    compression: "gzip" as const,
    families: true,
    partition: "daily" as const,
  },
  {
    label: "parquet, no families, hourly",
    format: "parquet" as const,
    compression: "none" as const,
    families: false,
    partition: "hourly" as const,
  },
])("pipe: $label", (o) => {
  let conn: Connection;
  let emulated: string;
  let em: Awaited<ReturnType<typeof emulate>>;
  const copied = new Set<string>();

  beforeAll(async () => {
    const base = join(dir, o.label.replace(/\W+/g, "-"));
    emulated = join(base, "emulated");
    em = await emulate({
      out: emulated,
      tables: 2,
      changes: 3000,
      seed: 21,
      families: o.families,
      format: o.format,
      compression: o.compression,
      partition: o.partition,
      resolvedMs: 2000,
    });
    await revealUpTo(emulated, join(base, "feed"), em.manifest.windows[0]?.resolvedKey ?? null, copied);
    // Parquet changefeed files carry no `key`: the user names the primary keys (the source's spec says so)
    const primary_keys = Object.fromEntries(em.manifest.tables.map((t) => [t.name, t.primaryKey]));
    conn = await makeConnection(base, join(base, "feed"), { sourceExtra: o.format === "parquet" ? { primary_keys } : {} });
  }, 120_000);

  it("three syncs as the bucket fills, each resuming from the echoed state, each equal to the truth", async () => {
    const ws = em.manifest.windows;
    const cuts = [ws[0], ws[Math.floor(ws.length / 2)], ws[ws.length - 1]];
    let i = 0;
    for (const cut of cuts) {
      if (!cut) continue;
      await revealUpTo(emulated, conn.feed, cut.resolvedKey, copied);
      const log = join(conn.dir, `sync${++i}.jsonl`);
      const out = await syncOnce(conn, { logFile: log });
      expect(out.result.source.code, describeFailure(out)).toBe(0);
      expect(out.result.dest.code, describeFailure(out)).toBe(0);
      assertOfficialMessages(await readFile(log, "utf8"));
      expect(out.echoed).toBeGreaterThanOrEqual(em.manifest.tables.length);
      for (const st of conn.book.last.values()) expect(st.stream.stream_state.watermark).toBe(cut.resolved);
      if (py) {
        const res = compareTables(em.manifest, await readTruthAt(em.truth, cut.resolved), await readDeltaTables(py, conn.delta));
        expect(res.problems, `after sync ${i} (R ${cut.resolved})`).toEqual([]);
      }
    }
  }, 240_000);

  it("a sync with nothing new echoes ≥1 state per stream and commits nothing", async () => {
    const out = await syncOnce(conn);
    expect(out.result.dest.code, describeFailure(out)).toBe(0);
    expect(out.committedRecords).toBe(0);
    expect(out.echoed).toBeGreaterThanOrEqual(em.manifest.tables.length);
  }, 120_000);

  it("replaying from the first saved state (as after a lost echo) changes nothing", async () => {
    const first = (await readFile(join(conn.dir, "sync1.jsonl"), "utf8"))
      .split("\n")
      .filter((l) => l.includes('"type":"STATE"'))
      .map((l) => JSON.parse(l));
    const byStream = new Map<string, unknown>();
    for (const m of first)
      if (!byStream.has(m.state.stream.stream_descriptor.name)) byStream.set(m.state.stream.stream_descriptor.name, m.state);
    const replay: Connection = { ...conn, book: new StateBook() };
    for (const [, st] of byStream) replay.book.add({ type: "STATE", state: st });
    replay.stateFile = join(conn.dir, "replay-state.json");
    await writeJson(replay.stateFile, replay.book.toArray());
    const out = await syncOnce(replay);
    expect(out.result.dest.code, describeFailure(out)).toBe(0);
    expect(out.committedRecords).toBeGreaterThan(0);
    if (py) {
      const res = compareTables(em.manifest, await readTruthAt(em.truth), await readDeltaTables(py, conn.delta));
      expect(res.problems).toEqual([]);
    }
  }, 180_000);
});
