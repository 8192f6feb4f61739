/**
 * Connector Acceptance Tests for source-cockroachdb-cdc, without Docker (airbyte-protocol.md §6, made
 * stricter): spec, connection, discovery, basic_read, full_refresh, incremental. The built connector
 * runs as a subprocess; every stdout line is validated against the official protocol schema.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { compareHlc, parseHlc, parseJsonLossless, stringifyJsonLossless } from "@cdc-delta/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTruthAt } from "../emulator/truth.js";
import { newAjv } from "../e2e/lib/ajv.js";
import { compareTables } from "../e2e/lib/compare.js";
import { foldRecords } from "../e2e/lib/fold.js";
import type { Msg } from "../e2e/lib/proc.js";
import { SOURCE_MAIN, connectorsBuilt } from "../e2e/lib/paths.js";
import { type Fixture, byType, catalogFile, lintSpec, makeFixture, run, writeJsonFile } from "./helpers.js";

const ajv = newAjv;

/** RECORD lines parsed losslessly (INT8/DECIMAL keep their digits). */
const losslessRecords = (stdout: string): Msg[] =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith('{"type":"RECORD"') || (l.includes('"RECORD"') && l.startsWith("{")))
    .map((l) => parseJsonLossless(l) as Msg)
    .filter((m) => m.type === "RECORD");

const stripEmitted = (m: Msg) => stringifyJsonLossless({ stream: m.record.stream, data: m.record.data });

let f: Fixture;
let incCatalog: string;
let frCatalog: string;
let first: Awaited<ReturnType<typeof run>>;

beforeAll(async () => {
  expect(connectorsBuilt(), `build the connectors first (${SOURCE_MAIN})`).toBe(true);
  f = await makeFixture("src");
  incCatalog = await catalogFile(f, "incremental.json", { syncMode: "incremental", destMode: "append_dedup" });
  frCatalog = await catalogFile(f, "full_refresh.json", { syncMode: "full_refresh", destMode: "overwrite" });
  first = await run("source", ["read", "--config", f.sourceConfig, "--catalog", incCatalog]);
}, 180_000);

afterAll(async () => {
  if (f) await rm(f.dir, { recursive: true, force: true });
});

describe("spec", () => {
  it("prints one SPEC, instantly, offline, with a linted Draft-7 connectionSpecification", async () => {
    const r = await run("source", ["spec"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const specs = byType(r.msgs, "SPEC");
    expect(specs).toHaveLength(1);
    expect(r.msgs).toHaveLength(1);
    expect(r.ms).toBeLessThan(10_000);
    const cs = specs[0]?.spec.connectionSpecification as Msg;
    expect(() => ajv().compile(cs)).not.toThrow();
    expect(lintSpec(cs)).toEqual([]);
    // the smallest config is valid against it
    const validate = ajv().compile(cs);
    expect(validate({ storage: { type: "local", path: "/tmp/x" } }), JSON.stringify(validate.errors)).toBe(true);
    expect(specs[0]?.spec.supportsIncremental).toBe(true);
  });
});

describe("connection", () => {
  it("good config → SUCCEEDED, exit 0", async () => {
    const r = await run("source", ["check", "--config", f.sourceConfig]);
    expect(r.code).toBe(0);
    const st = byType(r.msgs, "CONNECTION_STATUS");
    expect(st).toHaveLength(1);
    expect(st[0]?.connectionStatus.status).toBe("SUCCEEDED");
  });
  it("missing folder → FAILED with a message, exit 0", async () => {
    const bad = await writeJsonFile(f.dir, "bad.json", { storage: { type: "local", path: join(f.dir, "does-not-exist") } });
    const r = await run("source", ["check", "--config", bad]);
    expect(r.code).toBe(0);
    const st = byType(r.msgs, "CONNECTION_STATUS");
    expect(st).toHaveLength(1);
    expect(st[0]?.connectionStatus.status).toBe("FAILED");
    expect(String(st[0]?.connectionStatus.message ?? "").length).toBeGreaterThan(5);
  });
  it("unparseable or absent config file → one TRACE config_error, non-zero exit", async () => {
    const garbage = await writeJsonFile(f.dir, "garbage.json", "{not json");
    for (const p of [garbage, join(f.dir, "absent.json")]) {
      const r = await run("source", ["check", "--config", p]);
      expect(r.code).not.toBe(0);
      const tr = byType(r.msgs, "TRACE").filter((m) => m.trace.type === "ERROR");
      expect(tr).toHaveLength(1);
      expect(tr[0]?.trace.error.failure_type).toBe("config_error");
      expect(String(tr[0]?.trace.error.message).length).toBeGreaterThan(5);
    }
  });
});

describe("discovery", () => {
  it("one non-empty CATALOG of valid Draft-7 schemas with PK, cursor and x-cockroachdb annotations", async () => {
    const r = await run("source", ["discover", "--config", f.sourceConfig]);
    expect(r.code).toBe(0);
    const cats = byType(r.msgs, "CATALOG");
    expect(cats).toHaveLength(1);
    const streams = cats[0]?.catalog.streams as Msg[];
    expect(streams.length).toBe(f.manifest.tables.length);
    expect(new Set(streams.map((s) => s.name)).size).toBe(streams.length);
    expect(streams.map((s) => s.name).sort()).toEqual(f.manifest.tables.map((t) => t.name).sort());
    for (const s of streams) {
      const text = JSON.stringify(s.json_schema);
      expect(text).not.toContain('"$ref"');
      expect(text).not.toContain('"allOf"');
      expect(text).not.toContain('"not"');
      expect(() => ajv().compile(s.json_schema)).not.toThrow();
      const props = s.json_schema.properties as Record<string, Msg>;
      for (const c of ["_cdc_op", "_cdc_updated", "_cdc_family"]) expect(props[c], `${s.name}.${c}`).toBeDefined();
      for (const [name, p] of Object.entries(props)) expect(p["x-cockroachdb"], `${s.name}.${name} x-cockroachdb`).toBeDefined();
      expect([...s.supported_sync_modes].sort()).toEqual(["full_refresh", "incremental"]);
      expect(s.source_defined_cursor).toBe(true);
      expect(s.default_cursor_field).toEqual(["_cdc_updated"]);
      const mt = f.manifest.tables.find((t) => t.name === s.name);
      expect(s.source_defined_primary_key).toEqual(mt?.primaryKey.map((k) => [k]));
      for (const path of s.source_defined_primary_key as string[][]) {
        expect(path).toHaveLength(1);
        const p = props[path[0] as string];
        expect(p, `PK ${path} exists`).toBeDefined();
        const types = ([] as string[]).concat(p?.type ?? []);
        expect(types.some((t) => t === "object" || t === "array")).toBe(false);
      }
      for (const col of mt?.columns ?? []) expect(props[col.name], `${s.name}.${col.name} in schema`).toBeDefined();
    }
  });
});

describe("basic_read", () => {
  it("exit 0, records schema-valid (no extra columns), PK non-null, statuses in order, exact sourceStats", () => {
    expect(first.code, first.stdout.slice(-2000)).toBe(0);
    const streams = (f.catalogMsg.streams as Msg[]).map((s) => s.name as string);
    const schemas = new Map(
      (f.catalogMsg.streams as Msg[]).map((s) => [s.name, ajv().compile({ ...s.json_schema, additionalProperties: false })]),
    );
    const counts = new Map<string, number>();
    const statuses = new Map<string, string[]>();
    const states = new Map<string, number>();
    for (const m of first.msgs) {
      if (m.type === "RECORD") {
        const s = m.record.stream as string;
        expect(Number.isInteger(m.record.emitted_at)).toBe(true);
        const v = schemas.get(s);
        expect(v, `stream ${s} configured`).toBeDefined();
        if (v && !v(m.record.data))
          throw new Error(
            `record of ${s} violates its schema: ${JSON.stringify(v.errors)} ${JSON.stringify(m.record.data).slice(0, 300)}`,
          );
        const pk = (f.catalogMsg.streams as Msg[]).find((x) => x.name === s)?.source_defined_primary_key as string[][];
        for (const [k] of pk) expect(m.record.data[k as string], `${s}.${k} non-null`).not.toBeNull();
        counts.set(s, (counts.get(s) ?? 0) + 1);
        expect(statuses.get(s)?.at(-1), `RECORD of ${s} after RUNNING`).toBe("RUNNING");
      } else if (m.type === "STATE") {
        expect(m.state.type).toBe("STREAM");
        const s = m.state.stream.stream_descriptor.name as string;
        expect(m.state.sourceStats?.recordCount, `sourceStats of ${s}`).toBe(counts.get(s) ?? 0);
        counts.set(s, 0);
        states.set(s, (states.get(s) ?? 0) + 1);
        expect(m.state.stream.stream_state).not.toBeNull();
      } else if (m.type === "TRACE" && m.trace.type === "STREAM_STATUS") {
        const s = m.trace.stream_status.stream_descriptor.name as string;
        statuses.set(s, [...(statuses.get(s) ?? []), m.trace.stream_status.status]);
      } else if (m.type === "TRACE") {
        throw new Error(`unexpected TRACE ${JSON.stringify(m).slice(0, 400)}`);
      }
    }
    for (const s of streams) {
      const st = (statuses.get(s) ?? []).filter((x, i, a) => i === 0 || a[i - 1] !== x || x !== "RUNNING");
      expect(st, `statuses of ${s}`).toEqual(["STARTED", "RUNNING", "COMPLETE"]);
      expect(states.get(s) ?? 0, `states of ${s}`).toBeGreaterThanOrEqual(1);
      expect(counts.get(s) ?? 0, `no records after the last STATE of ${s}`).toBe(0);
    }
    // the last message per stream before COMPLETE is a STATE
  });

  it("expected records: folding them per key gives exactly the truth model's final tables", async () => {
    const records = losslessRecords(first.stdout);
    expect(records.length).toBeGreaterThan(0);
    for (const s of f.manifest.tables)
      expect(
        records.some((r) => r.record.stream === s.name),
        `${s.name} yields`,
      ).toBe(true);
    const res = compareTables(f.manifest, await readTruthAt(f.truth), foldRecords(f.manifest, records));
    expect(res.problems).toEqual([]);
    expect(res.ok).toBe(true);
  });

  it("records are in non-decreasing (HLC) order per stream, no duplicate (key, family, HLC)", () => {
    const last = new Map<string, string>();
    const seen = new Set<string>();
    for (const m of losslessRecords(first.stdout)) {
      const s = m.record.stream as string;
      const h = String(m.record.data._cdc_updated);
      const prev = last.get(s);
      if (prev) expect(compareHlc(parseHlc(prev), parseHlc(h)), `${s}: ${prev} then ${h}`).toBeLessThanOrEqual(0);
      last.set(s, h);
      const pk = (f.catalogMsg.streams as Msg[]).find((x) => x.name === s)?.source_defined_primary_key as string[][];
      const id = JSON.stringify([s, pk.map(([k]) => String(m.record.data[k as string])), m.record.data._cdc_family, h]);
      expect(seen.has(id), `duplicate ${id}`).toBe(false);
      seen.add(id);
    }
  });

  it("a catalog naming an undiscovered stream, or an invalid sync_mode → TRACE config_error, non-zero exit", async () => {
    const cat = JSON.parse(
      JSON.stringify({
        streams: [
          {
            stream: { name: "no_such_table", json_schema: { type: "object" }, supported_sync_modes: ["incremental"] },
            sync_mode: "incremental",
            destination_sync_mode: "append",
          },
        ],
      }),
    );
    const bad1 = await writeJsonFile(f.dir, "bad-catalog.json", cat);
    const inc = JSON.parse(await readFile(incCatalog, "utf8"));
    inc.streams[0].sync_mode = "sideways";
    const bad2 = await writeJsonFile(f.dir, "bad-mode.json", inc);
    for (const c of [bad1, bad2]) {
      const r = await run("source", ["read", "--config", f.sourceConfig, "--catalog", c]);
      expect(r.code).not.toBe(0);
      const err = byType(r.msgs, "TRACE").filter((m) => m.trace.type === "ERROR");
      expect(err.length).toBeGreaterThanOrEqual(1);
      expect(err.at(-1)?.trace.error.failure_type).toBe("config_error");
    }
  });
});

describe("full_refresh", () => {
  it("two reads give identical records; every emitted_at of run 2 is later than run 1's", async () => {
    const r1 = await run("source", ["read", "--config", f.sourceConfig, "--catalog", frCatalog]);
    await new Promise((r) => setTimeout(r, 5));
    const r2 = await run("source", ["read", "--config", f.sourceConfig, "--catalog", frCatalog]);
    expect(r1.code).toBe(0);
    expect(r2.code).toBe(0);
    const a = losslessRecords(r1.stdout);
    const b = losslessRecords(r2.stdout);
    expect(a.length).toBeGreaterThan(0);
    expect(b.map(stripEmitted)).toEqual(a.map(stripEmitted));
    const max1 = Math.max(...a.map((m) => Number(m.record.emitted_at)));
    const min2 = Math.min(...b.map((m) => Number(m.record.emitted_at)));
    expect(min2).toBeGreaterThan(max1);
    for (const s of f.manifest.tables)
      expect(byType(r1.msgs, "STATE").some((m) => m.state.stream.stream_descriptor.name === s.name)).toBe(true);
    // full refresh = the whole history up to the newest RESOLVED = the incremental first read
    expect(a.map(stripEmitted)).toEqual(losslessRecords(first.stdout).map(stripEmitted));
  });
});

describe("incremental", () => {
  const statesOf = (msgs: Msg[]) => byType(msgs, "STATE");

  it("state advances: per stream, watermarks strictly increase; equal states never have records between them", () => {
    const last = new Map<string, { wm: string | null; json: string }>();
    const recSince = new Map<string, number>();
    for (const m of first.msgs) {
      if (m.type === "RECORD") recSince.set(m.record.stream, (recSince.get(m.record.stream) ?? 0) + 1);
      if (m.type !== "STATE") continue;
      const s = m.state.stream.stream_descriptor.name as string;
      const blob = m.state.stream.stream_state as Msg;
      expect(blob.v).toBe(1);
      const json = JSON.stringify(blob);
      const prev = last.get(s);
      if (prev && (recSince.get(s) ?? 0) > 0) expect(json, `${s}: state did not advance across records`).not.toBe(prev.json);
      if (prev?.wm && blob.watermark && !blob.window)
        expect(compareHlc(parseHlc(blob.watermark), parseHlc(prev.wm))).toBeGreaterThanOrEqual(0);
      last.set(s, { wm: blob.watermark ?? null, json });
      recSince.set(s, 0);
    }
    const finals = [...last.values()];
    expect(finals.length).toBe(f.manifest.tables.length);
    for (const fin of finals) expect(fin.wm).toBe(f.manifest.finalResolved);
  });

  it("reading with the latest state yields no record and ≥1 STATE per stream (its own state round-trips)", async () => {
    const book = new Map<string, Msg>();
    for (const m of statesOf(first.msgs)) book.set(m.state.stream.stream_descriptor.name, m.state);
    const st = await writeJsonFile(f.dir, "latest.json", [...book.values()]);
    const r = await run("source", ["read", "--config", f.sourceConfig, "--catalog", incCatalog, "--state", st]);
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    expect(byType(r.msgs, "RECORD")).toHaveLength(0);
    for (const t of f.manifest.tables) {
      const ss = statesOf(r.msgs).filter((m) => m.state.stream.stream_descriptor.name === t.name);
      expect(ss.length).toBeGreaterThanOrEqual(1);
      expect(ss.at(-1)?.state.sourceStats?.recordCount).toBe(0);
    }
  });

  it("reading from EVERY intermediate state resumes without loss or repetition", async () => {
    // Replay the platform: after each STATE message of run 1, the saved state is the last per stream.
    const msgs = first.msgs.filter((m) => m.type === "RECORD" || m.type === "STATE");
    const recordsText = losslessRecords(first.stdout).map(stripEmitted);
    const book = new Map<string, Msg>();
    const cases: { state: Msg[]; cutRecord: number; perStreamCut: Map<string, number> }[] = [];
    const streamCut = new Map<string, number>();
    let k = 0;
    for (const m of msgs) {
      if (m.type === "RECORD") {
        k++;
        continue;
      }
      const s = m.state.stream.stream_descriptor.name as string;
      book.set(s, m.state);
      streamCut.set(s, k);
      cases.push({ state: [...book.values()], cutRecord: k, perStreamCut: new Map(streamCut) });
    }
    expect(cases.length).toBeGreaterThanOrEqual(4);
    const allRecords = recordsText;
    const expectedAfter = (c: (typeof cases)[number]) =>
      allRecords.filter((text, idx) => {
        const s = (JSON.parse(text) as { stream: string }).stream;
        const cut = c.perStreamCut.get(s);
        return cut === undefined ? true : idx >= cut;
      });
    const failures: string[] = [];
    let i = 0;
    const worker = async () => {
      for (;;) {
        const n = i++;
        const c = cases[n];
        if (!c) return;
        const st = await writeJsonFile(f.dir, `state-${n}.json`, c.state);
        const r = await run("source", ["read", "--config", f.sourceConfig, "--catalog", incCatalog, "--state", st]);
        if (r.code !== 0) {
          failures.push(`state #${n}: exit ${r.code}`);
          continue;
        }
        const got = losslessRecords(r.stdout).map(stripEmitted);
        const want = expectedAfter(c);
        // per stream, the resumed run must emit exactly run 1's records after that stream's state
        for (const t of f.manifest.tables) {
          const g = got.filter((x) => (JSON.parse(x) as { stream: string }).stream === t.name);
          const w = want.filter((x) => (JSON.parse(x) as { stream: string }).stream === t.name);
          if (g.length !== w.length || g.some((x, j) => x !== w[j])) {
            failures.push(
              `state #${n} (${t.name}): got ${g.length} records, want ${w.length}; first difference at ${g.findIndex((x, j) => x !== w[j])}`,
            );
          }
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    expect(failures.slice(0, 10)).toEqual([]);
  }, 300_000);

  it("a future state → 0 records and ≥1 STATE per stream", async () => {
    const book = new Map<string, Msg>();
    for (const m of statesOf(first.msgs)) book.set(m.state.stream.stream_descriptor.name, m.state);
    const future = [...book.values()].map((s) => {
      const c = JSON.parse(JSON.stringify(s)) as Msg;
      c.stream.stream_state.watermark = "4102444800000000000.0000000000"; // 2100-01-01
      delete c.sourceStats;
      return c;
    });
    const st = await writeJsonFile(f.dir, "future.json", future);
    const r = await run("source", ["read", "--config", f.sourceConfig, "--catalog", incCatalog, "--state", st]);
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    expect(byType(r.msgs, "RECORD")).toHaveLength(0);
    for (const t of f.manifest.tables)
      expect(statesOf(r.msgs).some((m) => m.state.stream.stream_descriptor.name === t.name)).toBe(true);
  });

  it("absent, [] and null states start fresh; garbage state → config_error", async () => {
    const empty = await writeJsonFile(f.dir, "empty.json", []);
    const nul = await writeJsonFile(f.dir, "null.json", "null");
    const n1 = losslessRecords(first.stdout).length;
    for (const p of [empty, nul]) {
      const r = await run("source", ["read", "--config", f.sourceConfig, "--catalog", incCatalog, "--state", p]);
      expect(r.code).toBe(0);
      expect(byType(r.msgs, "RECORD").length).toBe(n1);
    }
    const garbage = await writeJsonFile(f.dir, "garbage-state.json", [
      {
        type: "STREAM",
        stream: { stream_descriptor: { name: f.manifest.tables[0]?.name }, stream_state: { v: 99, nonsense: true } },
      },
    ]);
    const r = await run("source", ["read", "--config", f.sourceConfig, "--catalog", incCatalog, "--state", garbage]);
    expect(r.code).not.toBe(0);
    expect(byType(r.msgs, "TRACE").some((m) => m.trace.type === "ERROR" && m.trace.error.failure_type === "config_error")).toBe(
      true,
    );
  });
});
