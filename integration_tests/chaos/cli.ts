/**
 * `npm run chaos [-- --kills 100 --changes 200000 --seed 7 --chunks 20 --dir /tmp/cdc-chaos]`: the
 * long crash/resume run (the CI run is chaos.test.ts: ≥20 kills). Exit 0 only if the final tables equal
 * the truth model and no run failed without a kill.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runChaos } from "./harness.js";

const { values } = parseArgs({
  options: {
    kills: { type: "string", default: "100" },
    changes: { type: "string", default: "200000" },
    seed: { type: "string", default: String(Date.now() % 100000) },
    chunks: { type: "string", default: "25" },
    tables: { type: "string", default: "2" },
    families: { type: "boolean", default: false },
    dir: { type: "string", default: join(tmpdir(), "cdc-chaos") },
    "dest-extra": { type: "string", default: "" },
    "verify-each": { type: "string", default: "yes" },
  },
});

const t0 = Date.now();
const report = await runChaos({
  dir: values.dir as string,
  kills: Number(values.kills),
  changes: Number(values.changes),
  seed: Number(values.seed),
  chunks: Number(values.chunks),
  tables: Number(values.tables),
  families: values.families as boolean,
  destExtra: values["dest-extra"] ? JSON.parse(values["dest-extra"] as string) : undefined,
  verifyEachChunk: values["verify-each"] !== "no",
  log: (s) => process.stdout.write(`[chaos +${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}\n`),
});
const { checks, ...rest } = report;
process.stdout.write(
  `${JSON.stringify({ ...rest, failedRuns: rest.failedRuns.length, checks: checks.map((c) => ({ resolved: c.resolved, ok: c.result.ok })) }, null, 1)}\n`,
);
process.stdout.write(
  `\nchaos seed ${values.seed}: ${report.kills} kills (${report.killsSource} source, ${report.killsDest} destination), ${report.runs} runs, ` +
    `${report.checks.length} truth checks → ${report.ok ? "PASS: no lost, duplicated, reverted or resurrected row" : `FAIL: ${report.problems.slice(0, 5).join("; ")}`} ` +
    `(${(report.totalMs / 1000).toFixed(0)} s)\n`,
);
process.exitCode = report.ok ? 0 : 1;
