/**
 * CI crash/resume run: 200k changes, ≥20 seeded SIGKILLs of the source or the destination, each run
 * resuming from the last state the destination echoed; final tables equal the truth model.
 * (`npm run chaos` is the longer version.)
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { connectorsBuilt, deltaPython } from "../e2e/lib/paths.js";
import { runChaos } from "./harness.js";

it("200k changes, ≥20 SIGKILLs at seeded random moments: final tables equal the truth", async () => {
  expect(connectorsBuilt(), "build the connectors first").toBe(true);
  expect(deltaPython(), "Python deltalake (.ci/.venv, npm run setup)").not.toBeNull();
  const lines: string[] = [];
  const report = await runChaos({
    dir: join(tmpdir(), `cdc-chaos-ci-${process.pid}`),
    changes: Number(process.env.CDC_CHAOS_CHANGES ?? 200_000),
    kills: Number(process.env.CDC_CHAOS_KILLS ?? 20),
    seed: Number(process.env.CDC_CHAOS_SEED ?? 20261125),
    chunks: 8,
    verifyEachChunk: false,
    log: (s) => lines.push(s),
  });
  console.log(
    `${lines.join("\n")}\nchaos: ${report.kills} kills (${report.killsSource} source, ${report.killsDest} destination), ${report.runs} runs, ${(report.totalMs / 1000).toFixed(0)} s`,
  );
  expect(report.failedRuns).toEqual([]);
  expect(report.problems).toEqual([]);
  expect(report.kills).toBeGreaterThanOrEqual(20);
  expect(report.ok).toBe(true);
}, 900_000);
