/**
 * PyAirbyte (the `airbyte` package from PyPI, in .services/venv-pyairbyte, installed by .ci/install.sh),
 * offline (AIRBYTE_OFFLINE_MODE=1: no registry, no telemetry), runs the built connectors as local
 * executables (no Docker):
 *  - source: check, discover, read into its DuckDB cache (append strategy); the cached rows, folded
 *    per key in HLC order, equal the truth model;
 *  - destination: `Destination.write(source)` pipes the source into `write`; the Delta tables (delta-rs)
 *    equal the truth model.
 * Set CDC_SKIP_PYAIRBYTE=1 to skip on a machine without the venv (CI installs it).
 */
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareHlc, parseHlc, parseJsonLossless } from "@cdc-delta/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTruthAt, type TruthState } from "../emulator/truth.js";
import { compareTables, readDeltaTables } from "../e2e/lib/compare.js";
import { emulate } from "../e2e/lib/emulate.js";
import { foldRecords } from "../e2e/lib/fold.js";
import { DEST_MAIN, SOURCE_MAIN, connectorsBuilt, deltaPython, pyairbytePython } from "../e2e/lib/paths.js";
import type { Msg } from "../e2e/lib/proc.js";
import { runPython } from "./python.js";

const py = pyairbytePython();
const skip = process.env.CDC_SKIP_PYAIRBYTE === "1";
const dir = join(tmpdir(), `cdc-pyairbyte-${process.pid}`);

/** PATH-less executables, as `local_executable` wants one file to run. */
export async function connectorExecutables(binDir: string): Promise<{ source: string; dest: string }> {
  await mkdir(binDir, { recursive: true });
  const source = join(binDir, "source-cockroachdb-cdc");
  const dest = join(binDir, "destination-databricks-delta");
  await writeFile(source, `#!/bin/sh\nexec "${process.execPath}" "${SOURCE_MAIN}" "$@"\n`);
  await writeFile(dest, `#!/bin/sh\nexec "${process.execPath}" "${DEST_MAIN}" "$@"\n`);
  await chmod(source, 0o755);
  await chmod(dest, 0o755);
  return { source, dest };
}

describe.skipIf(skip)("PyAirbyte (offline, local executables)", () => {
  let em: Awaited<ReturnType<typeof emulate>>;
  let truth: TruthState;
  let result: Msg;
  let log: string;

  beforeAll(async () => {
    expect(connectorsBuilt(), "build the connectors first").toBe(true);
    expect(py, "PyAirbyte venv (.services/venv-pyairbyte; `npm run setup`)").not.toBeNull();
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    em = await emulate({ out: join(dir, "feed"), tables: 2, changes: 1500, seed: 77, families: true });
    truth = await readTruthAt(em.truth);
    const exe = await connectorExecutables(join(dir, "bin"));
    await writeFile(join(dir, "source.json"), JSON.stringify({ storage: { type: "local", path: join(dir, "feed") } }));
    await writeFile(join(dir, "dest.json"), JSON.stringify({ target: { type: "local", path: join(dir, "delta") } }));
    const job = {
      source_exe: exe.source,
      source_config: join(dir, "source.json"),
      dest_exe: exe.dest,
      dest_config: join(dir, "dest.json"),
      cache_db: join(dir, "cache.duckdb"),
      out_dir: dir,
      steps: ["check", "read", "write"],
    };
    await writeFile(join(dir, "job.json"), JSON.stringify(job));
    const r = await runPython(py as string, [join(import.meta.dirname, "pyairbyte_run.py"), join(dir, "job.json")], {
      cwd: dir,
      env: { AIRBYTE_OFFLINE_MODE: "1", DO_NOT_TRACK: "1", HOME: dir },
      timeoutMs: 240_000,
    });
    log = `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`;
    expect(r.code, log).toBe(0);
    result = JSON.parse(await readFile(join(dir, "result.json"), "utf8"));
  }, 300_000);

  afterAll(async () => {
    if (!process.env.CDC_KEEP) await rm(dir, { recursive: true, force: true });
  });

  it("check succeeds and discover lists the emulated tables", () => {
    expect(result.check).toBe("SUCCEEDED");
    expect([...result.discovered].sort()).toEqual(em.manifest.tables.map((t) => t.name).sort());
  });

  it("read into the DuckDB cache: every record arrives; folded per key they equal the truth model", async () => {
    const records: Msg[] = [];
    for (const t of em.manifest.tables) {
      const text = await readFile(join(dir, `read-${t.name}.ndjson`), "utf8");
      const rows = text
        .split("\n")
        .filter(Boolean)
        .map((l) => parseJsonLossless(l) as Record<string, unknown>);
      expect(rows.length, `${t.name} rows in cache`).toBe(result.streams[t.name]);
      // the cache keeps no order: replay in HLC order (stable within one HLC)
      const sorted = rows
        .map((r, i) => ({ r, i, h: parseHlc(String(r._cdc_updated)) }))
        .sort((a, b) => compareHlc(a.h, b.h) || a.i - b.i)
        .map((x) => x.r);
      for (const r of sorted) records.push({ type: "RECORD", record: { stream: t.name, data: r } });
    }
    const res = compareTables(
      em.manifest,
      truth,
      foldRecords(em.manifest, records, { jsonbAsText: true, familyScoped: true }),
      20,
      {
        doubleNumbers: true, // PyAirbyte parses JSON numbers as Python floats
      },
    );
    expect(res.problems).toEqual([]);
  });

  it("Destination.write(source) through the destination executable: Delta tables equal the truth model", async () => {
    expect(result.write?.ok).toBe(true);
    const dpy = deltaPython();
    if (!dpy) return;
    const res = compareTables(em.manifest, truth, await readDeltaTables(dpy, join(dir, "delta")), 20, {
      doubleNumbers: true, // PyAirbyte re-serializes records: numbers pass through Python floats
    });
    expect(res.problems).toEqual([]);
  });
});
