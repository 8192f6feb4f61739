import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FeedBuilder, hlc, hlcText, line, handCatalog } from "./testing/feed-builder.js";
import { catalogFor, configFor, lastStates, records, runRead, states } from "./testing/run.js";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "src-read-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const row = (id: number, note: string, t: number, logical = 0) =>
  line(`[${id}]`, `{"id": ${id}, "note": "${note}"}`, hlcText(t, logical));
const del = (id: number, t: number) => line(`[${id}]`, null, hlcText(t));

/** Snapshot, then changes across windows, incl. a row newer than its window (pending file). */
function basicFeed(dir: string, partition: "daily" | "hourly" | "flat" = "daily") {
  const b = new FeedBuilder(dir, partition);
  b.data(hlc(0), "orders", [row(1, "a", 0), row(2, "b", 0), row(3, "c", 0)]);
  b.resolved(hlc(0));
  // Unsorted rows, a duplicate, and one row beyond the next RESOLVED (held back: pending).
  b.data(hlc(4), "orders", [row(2, "b2", 6), row(1, "a2", 3), row(1, "a2", 3), row(4, "d", 13)]);
  b.resolved(hlc(10));
  b.data(hlc(14), "orders", [del(3, 14), row(5, "e", 15)]);
  b.resolved(hlc(20));
  return b;
}

describe("read: windows, pending files, ordering", () => {
  it("A record is emitted at most once per sync and never before its window is complete (invariant 1)", async () => {
    const dir = tmp();
    basicFeed(dir);
    const config = configFor(dir, { max_window_bytes: 1 });
    const catalog = await catalogFor(config);
    const ms = await runRead(config, catalog);
    const recs = records(ms);
    expect(recs.map((r) => `${r.id}:${r._cdc_op}@${r._cdc_updated}`)).toEqual([
      `1:upsert@${hlcText(0)}`,
      `2:upsert@${hlcText(0)}`,
      `3:upsert@${hlcText(0)}`,
      `1:upsert@${hlcText(3)}`,
      `2:upsert@${hlcText(6)}`,
      `4:upsert@${hlcText(13)}`,
      `3:delete@${hlcText(14)}`,
      `5:upsert@${hlcText(15)}`,
    ]);
    const st = states(ms).map((m) => m.state?.stream?.stream_state as Record<string, unknown>);
    expect(st.map((s) => s.watermark)).toEqual([hlcText(0), hlcText(10), hlcText(20)]);
    expect((st[1]?.pending as string[] | undefined)?.length).toBe(1); // the file holding the row at t=13
    expect(st[2]?.pending).toEqual([]);
    expect(states(ms).map((m) => m.state?.sourceStats?.recordCount)).toEqual([3, 2, 3]);
    // Stream status order.
    const statuses = ms.filter((m) => m.trace?.type === "STREAM_STATUS").map((m) => m.trace?.stream_status?.status);
    expect(statuses).toEqual(["STARTED", "RUNNING", "COMPLETE"]);
  });

  it("identical output for daily, hourly and flat partitioning and under any TZ", async () => {
    const outs: string[] = [];
    for (const p of ["daily", "hourly", "flat"] as const) {
      const dir = tmp();
      basicFeed(dir, p);
      const config = configFor(dir);
      outs.push(JSON.stringify(records(await runRead(config, await catalogFor(config)))));
    }
    expect(new Set(outs).size).toBe(1);
  });

  it("resume from every emitted state: union equals one full read, nothing twice", async () => {
    const dir = tmp();
    basicFeed(dir);
    const config = configFor(dir, { max_window_bytes: 1 });
    const catalog = await catalogFor(config);
    const full = records(await runRead(config, catalog)).map((r) => JSON.stringify(r));
    const nStates = states(await runRead(config, catalog)).length;
    for (let k = 1; k <= nStates; k++) {
      const first = await runRead(config, catalog, undefined, k);
      const second = await runRead(config, catalog, lastStates(first));
      const union = [...records(first), ...records(second)].map((r) => JSON.stringify(r));
      expect(union).toEqual(full);
    }
  });

  it("idle rerun: no records, one count-0 STATE per stream", async () => {
    const dir = tmp();
    basicFeed(dir);
    const config = configFor(dir);
    const catalog = await catalogFor(config);
    const first = await runRead(config, catalog);
    const again = await runRead(config, catalog, lastStates(first));
    expect(records(again)).toHaveLength(0);
    expect(states(again)).toHaveLength(1);
    expect(states(again)[0]?.state?.sourceStats?.recordCount).toBe(0);
    expect(states(again)[0]?.state?.stream?.stream_state).toEqual(states(first).at(-1)?.state?.stream?.stream_state);
  });

  it("no RESOLVED yet: no records, a count-0 fresh STATE; the first RESOLVED releases the initial scan", async () => {
    const dir = tmp();
    const b = new FeedBuilder(dir);
    b.data(hlc(0), "orders", [row(1, "a", 0)]);
    const config = configFor(dir);
    const catalog = await catalogFor(config);
    const ms = await runRead(config, catalog);
    expect(records(ms)).toHaveLength(0);
    expect(states(ms)[0]?.state?.stream?.stream_state).toEqual({ v: 1, watermark: null, cursor: null, pending: [] });
    b.resolved(hlc(0));
    expect(records(await runRead(config, catalog, lastStates(ms)))).toHaveLength(1);
  });

  it("late rows (≤ watermark in new files) are dropped and counted; emit_late_rows emits them", async () => {
    const dir = tmp();
    const b = basicFeed(dir);
    const config = configFor(dir);
    const catalog = await catalogFor(config);
    const first = await runRead(config, catalog);
    // A zombie writer replays an old version after R.RESOLVED, plus a genuinely new row.
    b.data(hlc(21), "orders", [row(2, "b2", 6), row(6, "f", 22)]);
    b.resolved(hlc(30));
    expect(records(await runRead(config, catalog, lastStates(first))).map((r) => r.id)).toEqual([6]);
    const withLate = configFor(dir, { emit_late_rows: true });
    expect(records(await runRead(withLate, catalog, lastStates(first))).map((r) => r.id)).toEqual([2, 6]);
  });

  it("dedupes by (HLC, key, family): the higher schema id wins (backfill copies)", async () => {
    const dir = tmp();
    const b = new FeedBuilder(dir);
    b.data(hlc(0), "orders", [row(1, "old-schema", 5)], { schemaId: 3 });
    b.data(hlc(1), "orders", [line("[1]", '{"id": 1, "note": "new-schema", "extra": 7}', hlcText(5))], { schemaId: 6 });
    b.resolved(hlc(10));
    const config = configFor(dir);
    const recs = records(await runRead(config, await catalogFor(config)));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ note: "new-schema", extra: 7 });
  });

  it("data file stamped exactly R sorts before R.RESOLVED and belongs to that window", async () => {
    const dir = tmp();
    const b = new FeedBuilder(dir);
    b.data(hlc(10), "orders", [row(1, "a", 10)]);
    b.resolved(hlc(10));
    const config = configFor(dir);
    const ms = await runRead(config, await catalogFor(config));
    expect(records(ms)).toHaveLength(1);
    expect(states(ms)[0]?.state?.stream?.stream_state).toMatchObject({ watermark: hlcText(10), pending: [] });
  });

  it("full_refresh reads to the newest RESOLVED; incomplete history → config_error", async () => {
    const dir = tmp();
    basicFeed(dir);
    const config = configFor(dir);
    expect(records(await runRead(config, await catalogFor(config, "full_refresh")))).toHaveLength(8);
    const d2 = tmp();
    const b = new FeedBuilder(d2);
    b.resolved(hlc(0));
    b.data(hlc(5), "orders", [row(1, "a", 5)]);
    b.resolved(hlc(10));
    const c2 = configFor(d2);
    await expect(runRead(c2, await catalogFor(c2, "full_refresh"))).rejects.toMatchObject({
      failureType: "config_error",
      message: expect.stringMatching(/incomplete/),
    });
  });
});

describe("read: lifecycle errors", () => {
  it("vanished cursor → config_error citing the reset procedure", async () => {
    const dir = tmp();
    basicFeed(dir);
    const config = configFor(dir);
    const catalog = await catalogFor(config);
    const first = await runRead(config, catalog);
    const cursor = (states(first).at(-1)?.state?.stream?.stream_state as { cursor: string } | undefined)?.cursor as string;
    unlinkSync(join(dir, cursor));
    await expect(runRead(config, catalog, lastStates(first))).rejects.toMatchObject({
      failureType: "config_error",
      message: expect.stringMatching(/no longer exists.*Reset procedure/),
    });
  });

  it("vanished pending file → loud failure, no STATE past the last full window", async () => {
    const dir = tmp();
    basicFeed(dir);
    const config = configFor(dir, { max_window_bytes: 1 });
    const catalog = await catalogFor(config);
    const first = await runRead(config, catalog, undefined, 2);
    const st = lastStates(first) as { stream: { stream_state: { pending: string[] } } }[];
    const pending = st[0]?.stream.stream_state.pending[0] as string;
    unlinkSync(join(dir, pending));
    await expect(runRead(config, catalog, st)).rejects.toMatchObject({
      failureType: "config_error",
      message: expect.stringMatching(/pending file .* vanished/),
    });
  });

  it("key arity change (ALTER PRIMARY KEY) → config_error", async () => {
    const dir = tmp();
    const b = new FeedBuilder(dir);
    b.data(hlc(0), "orders", [row(1, "a", 0)]);
    b.resolved(hlc(0));
    const config = configFor(dir);
    const catalog = await catalogFor(config);
    const first = await runRead(config, catalog);
    b.data(hlc(5), "orders", [line("[1, 2]", '{"id": 1, "k2": 2, "note": "x"}', hlcText(5))]);
    b.resolved(hlc(10));
    await expect(runRead(config, catalog, lastStates(first))).rejects.toMatchObject({
      failureType: "config_error",
      message: expect.stringMatching(/primary key changed/),
    });
  });

  it("state naming a path outside the prefix → config_error", async () => {
    const dir = tmp();
    basicFeed(dir);
    const config = configFor(dir);
    const catalog = await catalogFor(config);
    const bad = [
      {
        type: "STREAM",
        stream: {
          stream_descriptor: { name: "orders" },
          stream_state: {
            v: 1,
            watermark: hlcText(0),
            cursor: "../../etc/202503140926400000000000000000000.RESOLVED",
            pending: [],
          },
        },
      },
    ];
    await expect(runRead(config, catalog, bad)).rejects.toMatchObject({ failureType: "config_error" });
  });

  it("a RESOLVED file whose content disagrees with its name → config_error", async () => {
    const dir = tmp();
    const b = new FeedBuilder(dir);
    b.data(hlc(0), "orders", [row(1, "a", 0)]);
    const key = b.resolved(hlc(0));
    b.write(key, `{"resolved":"${hlcText(1)}"}`);
    const config = configFor(dir);
    await expect(runRead(config, await catalogFor(config))).rejects.toMatchObject({
      failureType: "config_error",
      message: expect.stringMatching(/differs from its name/),
    });
  });
});

describe("read: column families (changefeed-files.md §7)", () => {
  function famFeed(dir: string) {
    const b = new FeedBuilder(dir);
    // Insert of key 4 with two families; key 5 only primary family (f1 all NULL emits nothing).
    b.data(hlc(0), "acct+f0", [
      line("[4]", '{"id": 4, "name": "Ola"}', hlcText(0)),
      line("[5]", '{"id": 5, "name": "Kim"}', hlcText(0)),
    ]);
    b.data(hlc(0), "acct+f1", [line("[4]", '{"balance": 12.00, "limit": 5}', hlcText(0))]);
    b.resolved(hlc(0));
    // t=3: key 4's f1 becomes all NULL (non-primary delete alone); t=6: key 4 row delete (both families).
    b.data(hlc(7), "acct+f1", [line("[4]", null, hlcText(3)), line("[4]", null, hlcText(6))]);
    b.data(hlc(7), "acct+f0", [line("[4]", null, hlcText(6))]);
    b.resolved(hlc(10));
    return b;
  }
  it("A fragment changes only its family's columns (invariant 3): non-primary delete → all-NULL upsert; primary delete → deletes", async () => {
    const dir = tmp();
    famFeed(dir);
    const config = configFor(dir);
    const catalog = await catalogFor(config);
    const props = catalog.streams[0]?.stream.json_schema as {
      properties: Record<string, { "x-cockroachdb": { family: string | null } }>;
    };
    expect(props.properties.balance?.["x-cockroachdb"].family).toBe("f1");
    expect(catalog.streams[0]?.stream.source_defined_primary_key).toEqual([["id"]]);
    const recs = records(await runRead(config, catalog));
    expect(recs.map((r) => ({ ...r, _cdc_updated: undefined }))).toEqual([
      { id: 4, name: "Ola", _cdc_op: "upsert", _cdc_family: "f0", _cdc_updated: undefined },
      { id: 4, balance: expect.anything(), limit: 5, _cdc_op: "upsert", _cdc_family: "f1", _cdc_updated: undefined },
      { id: 5, name: "Kim", _cdc_op: "upsert", _cdc_family: "f0", _cdc_updated: undefined },
      { id: 4, balance: null, limit: null, _cdc_op: "upsert", _cdc_family: "f1", _cdc_updated: undefined },
      { id: 4, _cdc_op: "delete", _cdc_family: "f0", _cdc_updated: undefined },
      { id: 4, _cdc_op: "delete", _cdc_family: "f1", _cdc_updated: undefined },
    ]);
  });
});

describe("read: large windows", () => {
  function bigScan(dir: string, n: number) {
    const b = new FeedBuilder(dir);
    const lines: string[] = [];
    for (let i = n; i >= 1; i--) lines.push(row(i, `n${i}`, 0));
    b.data(hlc(0), "orders", lines.slice(0, n / 2));
    b.data(hlc(0), "orders", lines.slice(n / 2));
    b.resolved(hlc(0));
    b.data(hlc(2), "orders", [row(1, "x", 1), row(2, "y", 1)]);
    b.resolved(hlc(5));
  }
  it("Memory is bounded by configuration, not by input size (invariant 5): spilled window equals in-memory", async () => {
    const dir = tmp();
    bigScan(dir, 400);
    const mem = configFor(dir);
    const catalog = await catalogFor(mem);
    const a = records(await runRead(mem, catalog));
    const spill = configFor(dir, { memory_limit_rows: 37 });
    const b = records(await runRead(spill, catalog));
    expect(b).toEqual(a);
    expect(a).toHaveLength(402);
    expect(a.slice(0, 400).map((r) => r.id)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
  });
  it("intermediate states with `after`: resume from every one, nothing lost or repeated", async () => {
    const dir = tmp();
    bigScan(dir, 60);
    const config = configFor(dir, { state_every_records: 7, memory_limit_rows: 25 });
    const catalog = await catalogFor(config);
    const fullMs = await runRead(config, catalog);
    const full = records(fullMs).map((r) => JSON.stringify(r));
    const st = states(fullMs);
    expect(st.length).toBeGreaterThan(8);
    expect((st[0]?.state?.stream?.stream_state as Record<string, unknown> | undefined)?.after).toBeDefined();
    expect(st.reduce((a, m) => a + (m.state?.sourceStats?.recordCount ?? 0), 0)).toBe(full.length);
    for (let k = 1; k <= st.length; k++) {
      const first = await runRead(config, catalog, undefined, k);
      const second = await runRead(config, catalog, lastStates(first));
      expect([...records(first), ...records(second)].map((r) => JSON.stringify(r))).toEqual(full);
    }
  });
});

describe("read: bad input", () => {
  it("a zero-byte data file → config_error naming the object", async () => {
    const dir = tmp();
    const b = new FeedBuilder(dir);
    b.data(hlc(0), "orders", [row(1, "a", 0)]);
    b.write(b.dataName(hlc(1), "orders"), "");
    b.resolved(hlc(5));
    const config = configFor(dir);
    const catalog = await catalogFor(config).catch(() => undefined);
    const cat = catalog ?? handCatalog();
    await expect(runRead(config, cat as never)).rejects.toMatchObject({
      failureType: "config_error",
      message: expect.stringMatching(/is empty \(0 bytes\)/),
    });
  });
  it("a malformed JSON line fails the sync with file and line; no STATE for that window", async () => {
    const dir = tmp();
    const b = new FeedBuilder(dir);
    b.data(hlc(0), "orders", [row(1, "a", 0)]);
    b.resolved(hlc(0));
    b.data(hlc(3), "orders", [row(2, "b", 3), '{"after": {"id": 3,']);
    b.resolved(hlc(5));
    const config = configFor(dir, { max_window_bytes: 1 });
    const catalog = handCatalog({ primaryKey: ["id"] }) as never;
    const seen: unknown[] = [];
    const { read } = await import("./read.js");
    const { silentLogger } = await import("@cdc-delta/shared");
    await expect(
      (async () => {
        for await (const m of read(config, catalog, undefined, { logger: silentLogger(), signal: new AbortController().signal }))
          seen.push(m);
      })(),
    ).rejects.toMatchObject({ failureType: "config_error", message: expect.stringMatching(/line 2: malformed JSON/) });
    const st = (seen as { type: string; state?: { stream: { stream_state: { watermark: string } } } }[]).filter(
      (m) => m.type === "STATE",
    );
    expect(st.map((m) => m.state?.stream.stream_state.watermark)).toEqual([hlcText(0)]);
  });
});

describe("read: new changefeed session on the same prefix", () => {
  function base(dir: string) {
    const b = new FeedBuilder(dir);
    b.data(hlc(0), "orders", [row(1, "a", 0), row(2, "b", 0)]);
    b.resolved(hlc(0));
    b.data(hlc(6), "orders", [row(1, "a2", 5)]);
    b.resolved(hlc(10));
    return b;
  }
  it("a new session's initial scan (rows at the file's RESOLVED time, same schema id) → config_error with the reset procedure", async () => {
    const dir = tmp();
    const b = base(dir);
    const config = configFor(dir);
    const catalog = await catalogFor(config);
    const first = await runRead(config, catalog);
    expect((states(first).at(-1)?.state?.stream?.stream_state as Record<string, unknown> | undefined)?.schema_ids).toEqual({
      orders: 1,
    });
    b.data(hlc(20), "orders", [row(1, "a2", 20), row(2, "b", 20)]);
    b.resolved(hlc(20));
    await expect(runRead(config, catalog, lastStates(first))).rejects.toMatchObject({
      failureType: "config_error",
      message: expect.stringMatching(/new changefeed session.*Reset procedure/),
    });
  });
  it("a schema-change backfill (same shape, higher schema id, old-id copies too) is not mistaken for one", async () => {
    const dir = tmp();
    const b = base(dir);
    const config = configFor(dir);
    const catalog = await catalogFor(config);
    const first = await runRead(config, catalog);
    b.data(hlc(20), "orders", [row(1, "a2", 20), row(2, "b", 20)], { schemaId: 2 });
    b.data(hlc(20), "orders", [row(1, "a2", 20), row(2, "b", 20)], { schemaId: 1 });
    b.resolved(hlc(20));
    const second = await runRead(config, catalog, lastStates(first));
    expect(records(second)).toHaveLength(2);
    expect((states(second).at(-1)?.state?.stream?.stream_state as Record<string, unknown> | undefined)?.schema_ids).toEqual({
      orders: 2,
    });
  });
});
