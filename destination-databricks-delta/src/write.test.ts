import { describe, expect, it } from "vitest";
import { MemoryBackend } from "./plan/memory-backend.js";
import { catalogOf, configuredStream, del, nextHlc, runWrite, stateLine, upsert } from "./testing-protocol.js";

const orders = configuredStream("orders", { namespace: "shop" });
const items = configuredStream("items");
const ref = { namespace: "shop", name: "orders" };

describe("write loop through runCommand", () => {
  it("echoes every state once, in per-stream order, after commit, with destinationStats", async () => {
    const backend = new MemoryBackend({ applyDelayMs: 2 });
    const input = [
      upsert("orders", ["eu", 1], { a1: "x", a2: 1 }, { namespace: "shop" }),
      upsert("items", ["eu", 7], { a1: "i", a2: 2 }),
      upsert("orders", ["eu", 2], { a1: "y", a2: 2 }, { namespace: "shop" }),
      stateLine("orders", 1, 2, "shop"),
      stateLine("items", 1, 1),
      upsert("orders", ["eu", 3], { a1: "z", a2: 3 }, { namespace: "shop" }),
      stateLine("orders", 2, 1, "shop"),
      stateLine("items", 2, 0),
    ];
    const run = await runWrite(backend, catalogOf(orders, items), input, { flush_records: 2 });
    expect(run.invalid).toEqual([]);
    expect(run.code).toBe(0);
    const perStream = (name: string) =>
      run.echoed
        .filter((m) => m.state?.stream?.stream_descriptor.name === name)
        .map((m) => [
          (m.state?.stream?.stream_state as { position: number } | undefined)?.position,
          m.state?.destinationStats?.recordCount,
          m.state?.sourceStats?.recordCount,
        ]);
    expect(perStream("orders")).toEqual([
      [1, 2, 2],
      [2, 1, 1],
    ]);
    expect(perStream("items")).toEqual([
      [1, 1, 1],
      [2, 0, 0],
    ]);
    expect(backend.rowsOf(ref).map((r) => r.a1)).toEqual(["x", "y", "z"]);
    expect(backend.rowsOf({ namespace: null, name: "items" }).map((r) => r.a2)).toEqual([2n]);
  });

  it("a sourceStats.recordCount mismatch fails the sync: TRACE error, no echo of it or later states, exit 1", async () => {
    const backend = new MemoryBackend();
    const input = [
      upsert("items", ["eu", 1], { a1: "x" }),
      stateLine("items", 1, 1),
      upsert("items", ["eu", 2], { a1: "y" }),
      stateLine("items", 2, 2),
      upsert("items", ["eu", 3], { a1: "z" }),
      stateLine("items", 3, 1),
    ];
    const run = await runWrite(backend, catalogOf(items), input, { flush_records: 1 });
    expect(run.invalid).toEqual([]);
    expect(run.code).toBe(1);
    expect(run.echoed.map((m) => (m.state?.stream?.stream_state as { position: number } | undefined)?.position)).toEqual([1]);
    expect(run.messages.at(-1)?.trace?.error?.message).toMatch(/counts 2 records .* but 1 arrived/);
  });

  it("skips and counts noise lines and records of unconfigured streams; LOG/TRACE input is ignored", async () => {
    const backend = new MemoryBackend();
    const input = [
      "Starting source container...",
      JSON.stringify({ type: "LOG", log: { level: "INFO", message: "from source" } }),
      upsert("ghost", ["eu", 1], { a1: "x" }),
      upsert("items", ["eu", 1], { a1: "x" }),
      "WARNING: noise",
      stateLine("items", 1, 1),
    ];
    const run = await runWrite(backend, catalogOf(items), input);
    expect(run.invalid).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.echoed).toHaveLength(1);
    expect(run.logs.join("\n")).toMatch(/2 noise lines skipped; 1 records of unconfigured streams skipped \(ghost\)/);
  });

  it.each([
    ["a broken { line", '{"type": "RECORD", "record": {', /line 2 is not valid JSON/],
    [
      "a schema-invalid RECORD",
      JSON.stringify({ type: "RECORD", record: { data: {}, emitted_at: 1 } }),
      /line 2 violates the Airbyte protocol at record.stream/,
    ],
    [
      "a schema-invalid STATE",
      JSON.stringify({ type: "STATE", state: { type: "NOPE" } }),
      /line 2 violates the Airbyte protocol/,
    ],
    [
      "a float HLC",
      `{"type":"RECORD","record":{"stream":"items","emitted_at":1,"data":{"region":"eu","id":5,"_cdc_op":"upsert","_cdc_updated":1767225600123000000.0000000001,"_cdc_family":"fa"}}}`,
      /line 2, field "_cdc_updated", key \["eu",5\].*number loses precision/,
    ],
    [
      "a missing primary key",
      JSON.stringify({
        type: "RECORD",
        record: {
          stream: "items",
          emitted_at: 1,
          data: { region: "eu", _cdc_op: "upsert", _cdc_updated: nextHlc(), _cdc_family: "fa" },
        },
      }),
      /line 2, field "id"\): primary key field is missing/,
    ],
    [
      "a bad op",
      JSON.stringify({
        type: "RECORD",
        record: {
          stream: "items",
          emitted_at: 1,
          data: { region: "eu", id: 5, _cdc_op: "update", _cdc_updated: nextHlc(), _cdc_family: "fa" },
        },
      }),
      /field "_cdc_op", key \["eu",5\]\): must be "upsert" or "delete"/,
    ],
    [
      "mixed family modes",
      upsert("items", ["eu", 5], { a1: "q" }, { family: null }),
      /mixes single-family \(null\) and named-family/,
    ],
    [
      "a value not matching its type",
      upsert("items", ["eu", 5], { c1: "abc" }, { family: "fc" }),
      /line 2, field "c1", key \["eu",5\]\): cannot convert "abc" to DECIMAL\(10,2\)/,
    ],
  ])(
    "fails on %s: TRACE error naming the line, non-zero exit, that batch not committed, no later state",
    async (_name, bad, message) => {
      const backend = new MemoryBackend();
      const input = [
        upsert("items", ["eu", 1], { a1: "x" }),
        bad,
        stateLine("items", 1, 2),
        upsert("items", ["eu", 9], { a1: "z" }),
        stateLine("items", 2, 1),
      ];
      const run = await runWrite(backend, catalogOf(items), input);
      expect(run.invalid).toEqual([]);
      expect(run.code).toBe(1);
      expect(run.echoed).toEqual([]);
      const last = run.messages.at(-1);
      expect(last?.type).toBe("TRACE");
      expect(last?.trace?.error?.message).toMatch(message);
      expect(backend.rowsOf({ namespace: null, name: "items" })).toEqual([]);
    },
  );

  it("commits everything when the input ends without a final state", async () => {
    const backend = new MemoryBackend();
    const run = await runWrite(backend, catalogOf(items), [
      upsert("items", ["eu", 1], { a1: "x" }),
      stateLine("items", 1, 1),
      upsert("items", ["eu", 2], { a1: "y" }),
    ]);
    expect(run.code).toBe(0);
    expect(run.echoed).toHaveLength(1);
    expect(backend.rowsOf({ namespace: null, name: "items" }).map((r) => r.a1)).toEqual(["x", "y"]);
  });

  it("a failed commit echoes nothing uncommitted: TRACE error, exit 1, earlier states stay echoed", async () => {
    const backend = new MemoryBackend({
      beforeApply: (_b, n) => {
        if (n === 2) throw new Error("disk full");
      },
    });
    const input = [
      upsert("items", ["eu", 1], { a1: "x" }),
      stateLine("items", 1, 1),
      upsert("items", ["eu", 2], { a1: "y" }),
      stateLine("items", 2, 1),
      upsert("items", ["eu", 3], { a1: "z" }),
      stateLine("items", 3, 1),
    ];
    const run = await runWrite(backend, catalogOf(items), input, { flush_records: 1 });
    expect(run.invalid).toEqual([]);
    expect(run.code).toBe(1);
    expect(run.echoed.map((m) => (m.state?.stream?.stream_state as { position: number } | undefined)?.position)).toEqual([1]);
    expect(run.messages.at(-1)?.trace?.error?.message).toMatch(
      /stream "items": committing batch 2 \(1 records\) failed: disk full/,
    );
  });

  it("hard deletes by default; deletes and re-inserts flow through", async () => {
    const backend = new MemoryBackend();
    const input = [
      upsert("items", ["eu", 1], { a1: "x", a2: 1 }),
      upsert("items", ["eu", 2], { a1: "y", a2: 2 }),
      del("items", ["eu", 1]),
      stateLine("items", 1, 3),
    ];
    const run = await runWrite(backend, catalogOf(items), input);
    expect(run.code).toBe(0);
    expect(backend.rowsOf({ namespace: null, name: "items" }).map((r) => r.id)).toEqual([2n]);
    expect(backend.table({ namespace: null, name: "items" })?.tombstones.size).toBe(1);
  });
});
