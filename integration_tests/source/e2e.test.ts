/**
 * End to end: the built `node source-cockroachdb-cdc/dist/main.js` as a subprocess on emulator output.
 * Every printed line validates against the official protocol schema; records fold to the truth model
 * window by window; resuming from every emitted state gives exactly one full read.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseJsonLossless } from "@cdc-delta/shared";
import { officialValidators } from "@cdc-delta/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateChangefeed, loadManifest, type Manifest, readTruth } from "../emulator/index.js";
import { isServiceUp, readEndpoints, REPO_ROOT } from "../services/endpoints.js";
import { diffTruth, type Folded, fold } from "./truth-check.js";

const MAIN = join(REPO_ROOT, "source-cockroachdb-cdc", "dist", "main.js");
const work = mkdtempSync(join(tmpdir(), "src-e2e-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Msg = Record<string, any>;
let validate: ((v: unknown) => boolean) & { errors?: unknown };

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} missing: run \`npx tsc -b source-cockroachdb-cdc\` first`);
  validate = officialValidators().message;
});

let n = 0;
function cli(args: string[], files: Record<string, unknown>): { code: number | null; msgs: Msg[]; stderr: string } {
  const dir = join(work, `run${n++}`);
  require("node:fs").mkdirSync(dir);
  const argv = [...args];
  for (const [flag, value] of Object.entries(files)) {
    const p = join(dir, `${flag}.json`);
    writeFileSync(p, JSON.stringify(value));
    argv.push(`--${flag}`, p);
  }
  const r = spawnSync(process.execPath, [MAIN, ...argv], { encoding: "utf8", maxBuffer: 1 << 30 });
  const msgs: Msg[] = [];
  for (const line of r.stdout.split("\n")) {
    if (!line) continue;
    const plain = JSON.parse(line);
    if (!validate(plain))
      throw new Error(`invalid protocol message: ${line.slice(0, 300)}\n${JSON.stringify(validate.errors).slice(0, 500)}`);
    msgs.push(parseJsonLossless(line) as Msg);
  }
  return { code: r.status, msgs, stderr: r.stderr };
}

const records = (ms: Msg[]) => ms.filter((m) => m.type === "RECORD");
const states = (ms: Msg[]) => ms.filter((m) => m.type === "STATE");

async function checkRun(
  name: string,
  _feedDir: string,
  truthDir: string,
  storage: Record<string, unknown>,
  opts: { resumeEvery?: boolean } = {},
) {
  const manifest: Manifest = await loadManifest(truthDir);
  // Parquet carries no PK metadata (changefeed-files.md §6): the user supplies it (or pg / schema.json).
  const primary_keys = Object.fromEntries(manifest.tables.map((t) => [t.name, t.primaryKey]));
  const config = { storage, max_window_bytes: 1, ...(manifest.options.format === "parquet" ? { primary_keys } : {}) };
  const spec = cli(["spec"], {});
  expect(spec.code).toBe(0);
  const check = cli(["check"], { config });
  expect(check.msgs.at(-1)?.connectionStatus?.status, name).toBe("SUCCEEDED");
  const disc = cli(["discover"], { config });
  expect(disc.code, JSON.stringify(disc.msgs.at(-1))).toBe(0);
  const streams = disc.msgs.at(-1)?.catalog.streams as Msg[];
  expect(streams.map((s) => s.name).sort()).toEqual(manifest.tables.map((t) => t.name).sort());
  for (const s of streams) {
    const t = manifest.tables.find((x) => x.name === s.name);
    expect(s.source_defined_primary_key, s.name).toEqual(t?.primaryKey.map((k) => [k]));
    for (const [col, p] of Object.entries(s.json_schema.properties as Record<string, Msg>))
      expect(p["x-cockroachdb"], `${s.name}.${col}`).toBeDefined();
  }
  const catalog = { streams: streams.map((stream) => ({ stream, sync_mode: "incremental", destination_sync_mode: "append" })) };
  const full = cli(["read"], { config, catalog });
  expect(full.code, JSON.stringify(full.msgs.at(-1))).toBe(0);
  // Per stream: STARTED, RUNNING first; COMPLETE last; sourceStats exact.
  for (const s of streams) {
    const st = full.msgs
      .filter((m) => m.trace?.stream_status?.stream_descriptor.name === s.name)
      .map((m) => m.trace.stream_status.status);
    expect(st).toEqual(["STARTED", "RUNNING", "COMPLETE"]);
    let since = 0;
    for (const m of full.msgs) {
      if (m.type === "RECORD" && m.record.stream === s.name) since++;
      if (m.type === "STATE" && m.state.stream.stream_descriptor.name === s.name) {
        expect(m.state.sourceStats.recordCount).toBe(since);
        since = 0;
      }
    }
  }
  // Window by window against the truth: after each (final) state, the folded records equal the truth at its watermark.
  const folded: Folded = new Map();
  const byWatermark = new Map<string, number>();
  full.msgs.forEach((m, i) => {
    if (m.type === "STATE" && !m.state.stream.stream_state.after) byWatermark.set(m.state.stream.stream_state.watermark, i);
  });
  let idx = 0;
  let checked = 0;
  for await (const { window, state } of readTruth(truthDir)) {
    const end = byWatermark.get(window.resolved);
    if (end === undefined) continue;
    for (; idx <= end; idx++) {
      const m = full.msgs[idx] as Msg;
      if (m.type === "RECORD")
        fold(folded, m.record.stream, m.record.data, manifest.tables.find((t) => t.name === m.record.stream) as never);
    }
    expect(
      diffTruth(folded, state, manifest.tables, (t) => t),
      `${name} at ${window.resolved}`,
    ).toEqual([]);
    checked++;
  }
  expect(checked).toBeGreaterThan(1);
  // Resume from every emitted state (or a sample): union equals the full read, nothing twice.
  const fullRecs = records(full.msgs).map((m) => JSON.stringify(m.record.data, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)));
  const sts = states(full.msgs);
  const ks = opts.resumeEvery ? sts.map((_, i) => i) : [0, Math.floor(sts.length / 2), sts.length - 1];
  for (const k of ks) {
    const cut = full.msgs.indexOf(sts[k] as Msg);
    const before = records(full.msgs.slice(0, cut));
    const lastPerStream = new Map<string, Msg>();
    for (const m of full.msgs.slice(0, cut + 1))
      if (m.type === "STATE") lastPerStream.set(m.state.stream.stream_descriptor.name, JSON.parse(JSON.stringify(m.state)));
    const resumed = cli(["read"], { config, catalog, state: [...lastPerStream.values()] });
    expect(resumed.code).toBe(0);
    const union = [...before, ...records(resumed.msgs)].map((m) =>
      JSON.stringify(m.record.data, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)),
    );
    // Streams interleave differently after a resume: compare per stream, in order.
    for (const s of streams) {
      const pick = (xs: string[], ms: Msg[]) => xs.filter((_, i) => ms[i]?.record.stream === s.name);
      expect(pick(union, [...before, ...records(resumed.msgs)]), `${name} resume after state ${k}`).toEqual(
        pick(fullRecs, records(full.msgs)),
      );
    }
  }
  // Idle rerun from the final states: no records, one count-0 STATE per stream.
  const finals = new Map<string, Msg>();
  for (const m of sts) finals.set(m.state.stream.stream_descriptor.name, m.state);
  const idle = cli(["read"], { config, catalog, state: [...finals.values()] });
  expect(records(idle.msgs)).toHaveLength(0);
  expect(states(idle.msgs).map((m) => m.state.sourceStats.recordCount)).toEqual(streams.map(() => 0));
  return { records: fullRecs.length, states: sts.length, windows: checked };
}

const base = {
  tables: 2,
  changes: 400,
  seed: 11,
  schemaChanges: true,
  duplicateRate: 0.05,
  restartRate: 0.05,
  lookaheadRate: 0.3,
};
const matrix: { name: string; opts: Record<string, unknown>; resumeEvery?: boolean }[] = [
  { name: "json plain, daily", opts: { format: "json", compression: "none" }, resumeEvery: true },
  {
    name: "json gzip, families, hourly",
    opts: {
      format: "json",
      compression: "gzip",
      families: true,
      partition: "hourly",
      nullFamily: "delete",
      deleteEmptyFamilies: "emit",
    },
  },
  {
    name: "json zstd, families (null family as upsert), flat, diff+mvcc+topic",
    opts: {
      format: "json",
      compression: "zstd",
      families: true,
      partition: "flat",
      nullFamily: "upsert",
      deleteEmptyFamilies: "omit",
      diff: true,
      mvccTimestamp: true,
      topicInValue: true,
    },
  },
  { name: "parquet zstd", opts: { format: "parquet", compression: "zstd" } },
  { name: "parquet gzip, hourly", opts: { format: "parquet", compression: "gzip", partition: "hourly", seed: 12 } },
  { name: "parquet zstd, families", opts: { format: "parquet", compression: "zstd", families: true } },
];

describe("source on emulator output (local folder)", () => {
  for (const c of matrix) {
    it(c.name, async () => {
      const out = join(work, c.name.replace(/\W+/g, "_"));
      await generateChangefeed({ ...base, ...c.opts, out } as never);
      const r = await checkRun(c.name, out, `${out}-truth`, { type: "local", path: out }, { resumeEvery: c.resumeEvery });
      expect(r.records).toBeGreaterThan(100);
    });
  }
  it("bare envelope → TRACE config_error, non-zero exit", async () => {
    const out = join(work, "bare");
    await generateChangefeed({ ...base, changes: 20, envelope: "bare", out } as never);
    const r = cli(["discover"], { config: { storage: { type: "local", path: out } } });
    expect(r.code).toBe(1);
    expect(r.msgs.at(-1)?.trace?.error).toMatchObject({
      failure_type: "config_error",
      message: expect.stringMatching(/bare envelope/),
    });
  });
});

describe("source on emulator output (Azurite)", () => {
  it("json gzip with families and parquet zstd, through Azure Blob", async () => {
    const up = await isServiceUp("azurite");
    if (!up) {
      if (process.env.CI === "true") throw new Error("azurite is required under CI=true (see .ci/services.sh)");
      return;
    }
    const az = readEndpoints().services.azurite as NonNullable<ReturnType<typeof readEndpoints>["services"]["azurite"]>;
    const { BlobServiceClient } = await import("@azure/storage-blob");
    const container = `srce2e${Date.now().toString(36)}`;
    const svc = BlobServiceClient.fromConnectionString(az.connectionString);
    await svc.getContainerClient(container).create();
    try {
      const truth = join(work, "azure-truth");
      const outUrl = `azure://${container}/feeds/shop?AZURE_ACCOUNT_NAME=${az.accountName}&AZURE_ACCOUNT_KEY=${encodeURIComponent(az.accountKey)}&AZURE_ENDPOINT=${encodeURIComponent(az.url)}`;
      await generateChangefeed({
        ...base,
        changes: 200,
        format: "json",
        compression: "gzip",
        families: true,
        out: outUrl,
        truth,
      } as never);
      await checkRun("azure", "", truth, {
        type: "azure",
        account_name: az.accountName,
        account_key: az.accountKey,
        container,
        prefix: "feeds/shop",
        endpoint: az.url,
      });
      const truthPq = join(work, "azure-truth-parquet");
      const outPq = outUrl.replace("feeds/shop", "feeds/pq");
      await generateChangefeed({
        ...base,
        changes: 200,
        format: "parquet",
        compression: "zstd",
        out: outPq,
        truth: truthPq,
      } as never);
      await checkRun("azure parquet", "", truthPq, {
        type: "azure",
        connection_string: az.connectionString,
        container,
        prefix: "feeds/pq",
      });
    } finally {
      await svc.getContainerClient(container).deleteIfExists();
    }
  });
});
