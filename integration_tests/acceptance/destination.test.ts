/**
 * The destination's acceptance suite (CAT has only spec/connection for destinations; this adds the
 * write contract, airbyte-protocol.md §3 "Destination echoes" and destination-delta.md §4): spec,
 * check, write with echo order and exact destinationStats, count mismatch, replays, input hygiene,
 * modes. Input = a real `source read` output (LOG/TRACE lines included, as a raw pipe delivers them).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTruthAt, type TruthState } from "../emulator/truth.js";
import { newAjv } from "../e2e/lib/ajv.js";
import { compareTables, readDeltaTables } from "../e2e/lib/compare.js";
import { DEST_MAIN, connectorsBuilt, deltaPython } from "../e2e/lib/paths.js";
import type { Msg } from "../e2e/lib/proc.js";
import { type Fixture, byType, catalogFile, lintSpec, makeFixture, run, writeJsonFile } from "./helpers.js";

let f: Fixture;
let input: string;
let inputLines: string[];
let inputStates: Msg[];
let truth: TruthState;
const py = deltaPython();

beforeAll(async () => {
  expect(connectorsBuilt(), `build the connectors first (${DEST_MAIN})`).toBe(true);
  f = await makeFixture("dst", { seed: 9 });
  const cat = await catalogFile(f, "catalog.json");
  const r = await run("source", ["read", "--config", f.sourceConfig, "--catalog", cat]);
  expect(r.code).toBe(0);
  input = r.stdout;
  inputLines = input.split("\n").filter(Boolean);
  inputStates = byType(r.msgs, "STATE");
  truth = await readTruthAt(f.truth);
}, 180_000);

afterAll(async () => {
  if (f) await rm(f.dir, { recursive: true, force: true });
});

async function destConfig(label: string, extra: Msg = {}): Promise<{ config: string; delta: string }> {
  const delta = await mkdtemp(join(f.dir, `delta-${label}-`));
  return {
    config: await writeJsonFile(f.dir, `dest-${label}.json`, { target: { type: "local", path: delta }, ...extra }),
    delta,
  };
}

async function write(config: string, catalog: string, stdin: string) {
  return run("destination", ["write", "--config", config, "--catalog", catalog], { stdin, timeoutMs: 180_000 });
}

async function expectTruth(delta: string) {
  if (!py) return; // delta-rs missing: the echo/count checks still ran
  const res = compareTables(f.manifest, truth, await readDeltaTables(py, delta));
  expect(res.problems).toEqual([]);
}

describe("spec", () => {
  it("one SPEC, linted Draft-7 schema, the three destination sync modes", async () => {
    const r = await run("destination", ["spec"]);
    expect(r.code).toBe(0);
    expect(r.msgs).toHaveLength(1);
    const spec = byType(r.msgs, "SPEC")[0]?.spec as Msg;
    const a = newAjv();
    expect(() => a.compile(spec.connectionSpecification)).not.toThrow();
    expect(lintSpec(spec.connectionSpecification)).toEqual([]);
    expect([...spec.supported_destination_sync_modes].sort()).toEqual(["append", "append_dedup", "overwrite"]);
    expect(a.validate(spec.connectionSpecification, { target: { type: "local", path: "/tmp/x" } })).toBe(true);
  });
});

describe("connection", () => {
  it("writable folder → SUCCEEDED; a path under a regular file → FAILED; both exit 0", async () => {
    const good = await destConfig("check");
    const r = await run("destination", ["check", "--config", good.config]);
    expect(r.code).toBe(0);
    expect(byType(r.msgs, "CONNECTION_STATUS")[0]?.connectionStatus.status).toBe("SUCCEEDED");
    const bad = await writeJsonFile(f.dir, "dest-bad.json", {
      target: { type: "local", path: join(f.sourceConfig, "under-a-file") },
    });
    const r2 = await run("destination", ["check", "--config", bad]);
    expect(r2.code).toBe(0);
    const st = byType(r2.msgs, "CONNECTION_STATUS");
    expect(st).toHaveLength(1);
    expect(st[0]?.connectionStatus.status).toBe("FAILED");
  });
  it("unparseable config → TRACE config_error, non-zero exit", async () => {
    const p = await writeJsonFile(f.dir, "dest-garbage.json", "[[[");
    const r = await run("destination", ["check", "--config", p]);
    expect(r.code).not.toBe(0);
    expect(byType(r.msgs, "TRACE").some((m) => m.trace.error?.failure_type === "config_error")).toBe(true);
  });
});

describe("write (append_dedup)", () => {
  let delta: string;
  let config: string;
  let catalog: string;
  let echoed: Msg[];

  beforeAll(async () => {
    ({ delta, config } = await destConfig("dedup"));
    catalog = await catalogFile(f, "dedup.json", { destMode: "append_dedup" });
    const r = await write(config, catalog, input);
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    echoed = byType(r.msgs, "STATE");
  }, 180_000);

  it("echoes every input STATE once, in per-stream order, unchanged, with exact destinationStats", () => {
    expect(echoed.length).toBe(inputStates.length);
    for (const t of f.manifest.tables) {
      const ins = inputStates.filter((m) => m.state.stream.stream_descriptor.name === t.name);
      const outs = echoed.filter((m) => m.state.stream.stream_descriptor.name === t.name);
      expect(outs.length).toBe(ins.length);
      outs.forEach((o, i) => {
        const { destinationStats, ...rest } = o.state as Msg;
        expect(rest).toEqual(ins[i]?.state);
        expect(destinationStats?.recordCount).toBe(ins[i]?.state.sourceStats?.recordCount);
      });
    }
  });

  it("tables equal the truth model (delta-rs)", async () => {
    await expectTruth(delta);
  });

  it("replaying the whole input, then its second half, changes nothing", async () => {
    const r = await write(config, catalog, input);
    expect(r.code).toBe(0);
    expect(byType(r.msgs, "STATE").length).toBe(inputStates.length);
    const half = inputLines.slice(Math.floor(inputLines.length / 2));
    // the second half begins mid-window: start after its first STATE
    const firstStateIdx = half.findIndex((l) => l.includes('"type":"STATE"'));
    const tail = half.slice(firstStateIdx + 1);
    // each STATE must carry the records since the previous STATE of its stream in THIS input
    const c2 = new Map<string, number>();
    const final = tail.map((l) => {
      if (!l.startsWith("{")) return l;
      const m = JSON.parse(l) as Msg;
      if (m.type === "RECORD") c2.set(m.record.stream, (c2.get(m.record.stream) ?? 0) + 1);
      if (m.type !== "STATE") return l;
      const s = m.state.stream.stream_descriptor.name as string;
      m.state.sourceStats = { recordCount: c2.get(s) ?? 0 };
      c2.set(s, 0);
      return JSON.stringify(m);
    });
    const r2 = await write(config, catalog, `${final.join("\n")}\n`);
    expect(r2.code, r2.stdout.slice(-1500)).toBe(0);
    await expectTruth(delta);
  }, 180_000);
});

describe("write: failures and hygiene", () => {
  it("a sourceStats.recordCount that does not match fails the sync: TRACE error, exit 1, that state not echoed", async () => {
    const { config } = await destConfig("mismatch");
    const catalog = await catalogFile(f, "mismatch.json");
    const idx = inputLines.findIndex((l) => {
      const m = JSON.parse(l) as Msg;
      return m.type === "STATE" && (m.state.sourceStats?.recordCount ?? 0) > 0;
    });
    expect(idx).toBeGreaterThan(0);
    const bad = JSON.parse(inputLines[idx] as string) as Msg;
    bad.state.sourceStats.recordCount += 1;
    const lines = [...inputLines];
    lines[idx] = JSON.stringify(bad);
    const r = await write(config, catalog, `${lines.join("\n")}\n`);
    expect(r.code).toBe(1);
    const err = byType(r.msgs, "TRACE").filter((m) => m.trace.type === "ERROR");
    expect(err.length).toBeGreaterThanOrEqual(1);
    const badStream = bad.state.stream.stream_descriptor.name;
    const echoedBad = byType(r.msgs, "STATE").filter((m) => m.state.stream.stream_descriptor.name === badStream);
    const before = inputLines
      .slice(0, idx)
      .filter((l) => l.includes('"STATE"') && (JSON.parse(l) as Msg).state?.stream?.stream_descriptor?.name === badStream).length;
    expect(echoedBad.length).toBeLessThanOrEqual(before);
  });

  it("noise lines and records of unconfigured streams are skipped; the sync succeeds", async () => {
    const { config, delta } = await destConfig("noise");
    const catalog = await catalogFile(f, "noise.json");
    const lines = [
      "Starting the source…",
      ...inputLines.slice(0, 3),
      '{"type":"RECORD","record":{"stream":"not_configured","data":{"a":1},"emitted_at":1}}',
      "plain text noise",
      ...inputLines.slice(3),
    ];
    const r = await write(config, catalog, `${lines.join("\n")}\n`);
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    expect(byType(r.msgs, "STATE").length).toBe(inputStates.length);
    await expectTruth(delta);
  });

  it("a broken `{` line fails the sync with a TRACE error", async () => {
    const { config } = await destConfig("broken");
    const catalog = await catalogFile(f, "broken.json");
    const lines = [...inputLines.slice(0, 5), '{"type":"RECORD","record":{"stream":', ...inputLines.slice(5)];
    const r = await write(config, catalog, `${lines.join("\n")}\n`);
    expect(r.code).toBe(1);
    expect(byType(r.msgs, "TRACE").some((m) => m.trace.type === "ERROR")).toBe(true);
  });

  it("destination_sync_mode update / soft_delete → config_error", async () => {
    const { config } = await destConfig("update");
    for (const mode of ["update", "soft_delete"]) {
      const cat = JSON.parse(JSON.stringify({ streams: [] })) as Msg;
      const base = JSON.parse(await readFile(join(f.dir, "catalog.json"), "utf8")) as Msg;
      cat.streams = base.streams.map((s: Msg) => ({ ...s, destination_sync_mode: mode }));
      const p = await writeJsonFile(f.dir, `mode-${mode}.json`, cat);
      const r = await write(config, p, input);
      expect(r.code).not.toBe(0);
      expect(byType(r.msgs, "TRACE").some((m) => m.trace.error?.failure_type === "config_error")).toBe(true);
    }
  });
});

describe("write: other modes", () => {
  it("overwrite yields the current rows (= truth)", async () => {
    const { config, delta } = await destConfig("overwrite");
    const catalog = await catalogFile(f, "overwrite.json", { syncMode: "full_refresh", destMode: "overwrite" });
    const r = await write(config, catalog, input);
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    expect(byType(r.msgs, "STATE").length).toBe(inputStates.length);
    await expectTruth(delta);
  });

  it("append keeps one row per record and is idempotent on replay", async () => {
    const { config, delta } = await destConfig("append");
    const catalog = await catalogFile(f, "append.json", { destMode: "append" });
    const r = await write(config, catalog, input);
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    const r2 = await write(config, catalog, input);
    expect(r2.code).toBe(0);
    if (!py) return;
    const tables = await readDeltaTables(py, delta);
    for (const t of f.manifest.tables) {
      const n = inputLines.filter((l) => l.includes('"type":"RECORD"') && (JSON.parse(l) as Msg).record.stream === t.name).length;
      const dt = [...tables.values()].find((x) => x.name.toLowerCase() === t.name.toLowerCase());
      expect(dt?.rows.length, `${t.name} history rows`).toBe(n);
    }
  }, 180_000);
});
