/**
 * Meltano's Airbyte wrapper (`tap-airbyte`) always runs `docker run … IMAGE cmd …`. Here a fake
 * `docker` (clients/fake-docker/docker), first on PATH, maps that call to the locally built connector,
 * rewriting container paths under `-v`/`--mount` targets back to host paths.
 *
 * The real wrapper cannot run here, for two precise reasons checked by the first test: the only PyPI
 * release (tap-airbyte 0.0.2) never calls docker (it executes /airbyte/base.sh from inside an Airbyte
 * image) and its STATE handling compares two string literals (`elif "type" == "STREAM"`), so the first
 * per-stream STATE leaves `unpacked_state` unbound; the docker-running versions are not on PyPI. The
 * contract is therefore exercised through clients/meltano_harness.py (ours), which reproduces what the
 * wrapper does with the connector: docker invocation, append-only catalog, Singer RECORD/STATE output,
 * the STATE list passed back as state.json on the next run, failure on TRACE error or non-zero exit.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseJsonLossless, stringifyJsonLossless } from "@cdc-delta/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTruthAt } from "../emulator/truth.js";
import { compareTables } from "../e2e/lib/compare.js";
import { emulate, revealUpTo } from "../e2e/lib/emulate.js";
import { foldRecords } from "../e2e/lib/fold.js";
import { REPO, connectorsBuilt, tapAirbytePython } from "../e2e/lib/paths.js";
import type { Msg } from "../e2e/lib/proc.js";
import { runPython } from "./python.js";

const here = import.meta.dirname;
const FAKE_DOCKER_DIR = join(here, "fake-docker");
const HARNESS = join(here, "meltano_harness.py");
const dir = join(tmpdir(), `cdc-meltano-${process.pid}`);
const python = tapAirbytePython() ?? "python3";
const env = () => ({
  PATH: `${FAKE_DOCKER_DIR}:${process.env.PATH}`,
  FAKE_DOCKER_LOG: join(dir, "docker-calls.log"),
  FAKE_DOCKER_NODE: process.execPath,
});

afterAll(async () => {
  if (!process.env.CDC_KEEP) await rm(dir, { recursive: true, force: true });
});

describe("the PyPI tap-airbyte cannot drive a docker image", () => {
  const venvTap = join(REPO, ".services", "venv-tap-airbyte", "lib", "python3.10", "site-packages", "tap_airbyte", "tap.py");
  it.skipIf(!existsSync(venvTap))(
    "0.0.2 executes /airbyte/base.sh (never docker) and mis-parses STREAM states",
    async () => {
      const src = await readFile(venvTap, "utf8");
      expect(src).toContain('"/airbyte/base.sh"');
      expect(src).not.toMatch(/["']docker["']/);
      expect(src).toContain('elif "type" == "STREAM":');
      // and it really fails outside an Airbyte image
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "tap-0.0.2.json"), JSON.stringify({ airbyte_config: {} }));
      const r = await runPython(
        join(REPO, ".services", "venv-tap-airbyte", "bin", "python"),
        ["-m", "tap_airbyte.tap", "--config", join(dir, "tap-0.0.2.json"), "--discover"],
        {
          env: env(),
          timeoutMs: 120_000,
        },
      );
      expect(r.code).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toMatch(/airbyte\/base\.sh|No such file|FileNotFoundError/);
    },
    150_000,
  );
});

describe("Meltano wrapper contract through a fake docker (meltano_harness.py)", () => {
  let em: Awaited<ReturnType<typeof emulate>>;
  const copied = new Set<string>();
  let tapConfig: string;

  beforeAll(async () => {
    expect(connectorsBuilt(), "build the connectors first").toBe(true);
    await mkdir(dir, { recursive: true });
    em = await emulate({ out: join(dir, "emulated"), tables: 2, changes: 1500, seed: 31, families: true, resolvedMs: 2000 });
    const feed = join(dir, "feed");
    const ws = em.manifest.windows;
    await revealUpTo(join(dir, "emulated"), feed, ws[Math.floor(ws.length / 2)]?.resolvedKey ?? null, copied);
    // the feed is mounted at the same path inside the "container": a fake docker can map arguments,
    // not paths inside the config file the connector reads
    tapConfig = join(dir, "tap-config.json");
    await writeFile(
      tapConfig,
      JSON.stringify({
        airbyte_spec: { image: "cdc-delta/source-cockroachdb-cdc", tag: "dev" },
        airbyte_config: { storage: { type: "local", path: feed } },
        docker_mounts: [{ source: feed, target: feed, type: "bind" }],
      }),
    );
  }, 120_000);

  const tap = (args: string[]) =>
    runPython(python, [HARNESS, "--config", tapConfig, ...args], { env: env(), timeoutMs: 180_000 });
  const singer = (text: string) =>
    text
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => parseJsonLossless(l) as Msg);

  it("discover, then two syncs with the Singer state passed back: all records once, folded = truth", async () => {
    const d = await tap(["--discover"]);
    expect(d.code, d.stderr).toBe(0);
    const catalog = JSON.parse(d.stdout) as Msg;
    expect(catalog.streams.map((s: Msg) => s.tap_stream_id).sort()).toEqual(em.manifest.tables.map((t) => t.name).sort());
    await writeFile(join(dir, "singer-catalog.json"), JSON.stringify(catalog));

    const s1 = await tap(["--catalog", join(dir, "singer-catalog.json")]);
    expect(s1.code, s1.stderr.slice(-2000)).toBe(0);
    await writeFile(join(dir, "sync1.singer.jsonl"), s1.stdout);
    const m1 = singer(s1.stdout);
    const state1 = m1.filter((m) => m.type === "STATE").at(-1)?.value as Msg;
    expect(state1.airbyte_state).toHaveLength(em.manifest.tables.length);
    for (const e of state1.airbyte_state as Msg[]) expect(e.type).toBe("STREAM");
    await writeFile(join(dir, "state.json"), JSON.stringify(state1));

    // more windows arrive; Meltano runs the tap again with the saved state
    await revealUpTo(join(dir, "emulated"), join(dir, "feed"), null, copied);
    const s2 = await tap(["--catalog", join(dir, "singer-catalog.json"), "--state", join(dir, "state.json")]);
    expect(s2.code, s2.stderr.slice(-2000)).toBe(0);
    await writeFile(join(dir, "sync2.singer.jsonl"), s2.stdout);
    const m2 = singer(s2.stdout);
    const state2 = m2.filter((m) => m.type === "STATE").at(-1)?.value as Msg;
    for (const e of state2.airbyte_state as Msg[]) expect(e.stream.stream_state.watermark).toBe(em.manifest.finalResolved);

    const records = [...m1, ...m2]
      .filter((m) => m.type === "RECORD")
      .map((m) => ({ type: "RECORD", record: { stream: m.stream, data: m.record } }));
    const r1 = m1.filter((m) => m.type === "RECORD").length;
    const r2 = m2.filter((m) => m.type === "RECORD").length;
    expect(r1).toBeGreaterThan(0);
    expect(r2).toBeGreaterThan(0);
    // no record of run 1 comes again in run 2
    const pkOf = new Map(em.manifest.tables.map((t) => [t.name, t.primaryKey]));
    const key = (m: Msg) =>
      stringifyJsonLossless([
        m.stream,
        m.record._cdc_updated,
        m.record._cdc_family,
        (pkOf.get(m.stream) ?? []).map((k) => m.record[k]),
      ]);
    const seen1 = new Set(m1.filter((m) => m.type === "RECORD").map(key));
    expect(m2.filter((m) => m.type === "RECORD" && seen1.has(key(m)))).toEqual([]);
    const res = compareTables(em.manifest, await readTruthAt(em.truth), foldRecords(em.manifest, records), 20, {
      doubleNumbers: true, // JSON numbers become Python floats in the wrapper
    });
    expect(res.problems).toEqual([]);

    // the connector really ran through `docker run --rm -i -v <tmp>:/tmp … IMAGE:TAG read …`
    const calls = await readFile(join(dir, "docker-calls.log"), "utf8");
    expect(calls).toMatch(
      /docker run --rm -i -v \S+:\/tmp --mount source=\S+,target=\S+,type=bind cdc-delta\/source-cockroachdb-cdc:dev read --config \/tmp\/config.json --catalog \/tmp\/catalog.json --state \/tmp\/state.json/,
    );
  }, 300_000);

  it("a failing connector fails the tap (bad storage path → non-zero exit)", async () => {
    const bad = join(dir, "tap-bad.json");
    const cfg = JSON.parse(await readFile(tapConfig, "utf8")) as Msg;
    cfg.airbyte_config.storage.path = "/data/nowhere";
    await writeFile(bad, JSON.stringify(cfg));
    const r = await runPython(python, [HARNESS, "--config", bad, "--catalog", join(dir, "singer-catalog.json")], {
      env: env(),
      timeoutMs: 120_000,
    });
    expect(r.code).not.toBe(0);
  }, 150_000);
});
