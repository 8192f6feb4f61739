/**
 * kill -9 safety: a writer process SIGKILLed mid data write, after the temp log file, after link(),
 * or at a random moment leaves a table delta-rs reads; rerunning the whole input (a replay from the
 * last echoed state) converges to the oracle's table.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { testTable } from "../../destination-databricks-delta/src/plan/testing.js";
import type { DeleteMode } from "../../destination-databricks-delta/src/plan/types.js";
import { deltaRsRead, sortRows } from "../peers/delta-rs.js";
import { MemoryBackend, canonRows, mergeBatch, prep, randomFragments, splitBatches, tempDir } from "./helpers.js";

const WRITER = fileURLToPath(new URL("./crash-writer.ts", import.meta.url));
const dirs: (() => void)[] = [];
afterAll(() => {
  for (const d of dirs) d();
});

function runWriter(
  args: string[],
  killAfterMs?: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", WRITER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = killAfterMs === undefined ? null : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}

async function oracleRows(deleteMode: DeleteMode, seed: number) {
  const spec = testTable(deleteMode);
  const oracle = new MemoryBackend();
  await oracle.prepareStream(prep(spec, deleteMode));
  let i = 0;
  for (const b of splitBatches(randomFragments(seed, 240, 25), seed, 40))
    await oracle.apply(mergeBatch(spec, deleteMode, b, `b${i++}`));
  return sortRows(canonRows(oracle.rowsOf(spec.ref), spec), spec.keyColumns).map(withoutRawId);
}

/** Raw ids come from a per-process counter (and are new on every replay): not compared here. */
function withoutRawId(r: Record<string, unknown>) {
  const { _airbyte_raw_id: _, ...rest } = r;
  return rest;
}

// midWrite counts data files, checkpoints and _last_checkpoint (soft, seed 12: #4 data, #7 checkpoint, #8 pointer)
const cases: [string, number][] = [
  ["midWrite", 4],
  ["midWrite", 7],
  ["midWrite", 8],
  ["afterTempLog", 1],
  ["afterTempLog", 9],
  ["afterLink", 2],
  ["afterLink", 11],
];

/** A version exists once a `%020d.json` is in the log (a lone temp file is no commit). */
function hasVersion(table: string): boolean {
  const log = join(table, "_delta_log");
  return existsSync(log) && readdirSync(log).some((n) => /^\d{20}\.json$/.test(n));
}

describe.each(["hard", "soft"] as DeleteMode[])("kill -9 (%s deletes)", (deleteMode) => {
  const seed = deleteMode === "hard" ? 11 : 12;
  it.each(cases)("SIGKILL %s #%i: table stays readable; rerun converges", async (point, n) => {
    const { path, cleanup } = tempDir("delta-kill-");
    dirs.push(cleanup);
    const r = await runWriter([path, deleteMode, point, String(n), String(seed)]);
    expect(r.signal, r.err).toBe("SIGKILL");
    const main = join(path, "shop", "orders");
    if (hasVersion(main)) {
      const mid = await deltaRsRead(main);
      expect(mid.version).toBeGreaterThanOrEqual(0);
    }
    const again = await runWriter([path, deleteMode, "none", "0", String(seed)]);
    expect(again.out, again.err).toContain("done");
    const got = await deltaRsRead(main);
    expect(sortRows(got.rows, ["region", "id"]).map(withoutRawId)).toEqual(await oracleRows(deleteMode, seed));
  });

  it("SIGKILL at random moments, three times in a row, then a full rerun converges", async () => {
    const { path, cleanup } = tempDir("delta-kill-rand-");
    dirs.push(cleanup);
    for (const ms of [700, 1100, 1500]) {
      await runWriter([path, deleteMode, "none", "0", String(seed)], ms);
      const main = join(path, "shop", "orders");
      if (hasVersion(main)) await deltaRsRead(main);
    }
    const again = await runWriter([path, deleteMode, "none", "0", String(seed)]);
    expect(again.out, again.err).toContain("done");
    const got = await deltaRsRead(join(path, "shop", "orders"));
    expect(sortRows(got.rows, ["region", "id"]).map(withoutRawId)).toEqual(await oracleRows(deleteMode, seed));
  });
});
