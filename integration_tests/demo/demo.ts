/**
 * `npm run demo`: the README's main job, on a fresh machine with no server.
 *
 * 1. The workload emulator writes a sample CockroachDB changefeed (two tables, column families,
 *    deletes, a schema change) into ./demo-output/emulated/, with its truth model.
 * 2. The bucket is revealed in two steps, as a live changefeed would fill it: the files up to an early
 *    RESOLVED first (./demo-output/changefeed/), the rest later.
 * 3. Sync 1: `source read | destination write`, two processes on one OS pipe (what two piped
 *    `docker run -i` give), into local Delta tables (./demo-output/delta/). The last STATE the
 *    destination echoed per stream is saved (./demo-output/state.json).
 * 4. Sync 2 resumes from that state after the rest of the files "arrived".
 * 5. Summary: records, windows, tables, rows live/deleted (Delta log and truth model), time,
 *    throughput, where the tables are and how to query them. When Python deltalake is around (after
 *    `npm run setup`), every cell is also compared with the truth model (CDC_DEMO_VERIFY=0: skip).
 */
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { readTruthAt } from "../emulator/truth.js";
import { compareTables, readDeltaTables } from "../e2e/lib/compare.js";
import { findDeltaTables, summarizeDeltaTable } from "../e2e/lib/delta-lite.js";
import { emulate, revealUpTo } from "../e2e/lib/emulate.js";
import { REPO, connectorsBuilt, deltaPython } from "../e2e/lib/paths.js";
import { type SyncOutcome, describeFailure, makeConnection, syncOnce } from "../e2e/lib/sync.js";

const OUT = process.env.CDC_DEMO_OUT ?? join(REPO, "demo-output");
const CHANGES = Number(process.env.CDC_DEMO_CHANGES ?? 20000);
const SEED = Number(process.env.CDC_DEMO_SEED ?? 42);

const rel = (p: string) => relative(process.cwd(), p) || ".";
const fmt = (n: number) => n.toLocaleString("en-US");
const say = (s = "") => process.stdout.write(`${s}\n`);

async function main(): Promise<number> {
  if (!connectorsBuilt()) {
    say("The connectors are not built: run `npm run build` first (npm run demo does).");
    return 1;
  }
  const t0 = Date.now();
  await rm(OUT, { recursive: true, force: true });
  await mkdir(OUT, { recursive: true });
  const emulated = join(OUT, "emulated");
  const feed = join(OUT, "changefeed");

  say(`[1/5] emulating a CockroachDB changefeed: 2 tables, column families, ${fmt(CHANGES)} changes (seed ${SEED}) …`);
  const em = await emulate({
    out: emulated,
    tables: 2,
    changes: CHANGES,
    seed: SEED,
    families: true,
    resolvedMs: 5000,
    truthSnapshots: "final",
  });
  const windows = em.manifest.windows;
  const schemaChanges = em.manifest.tables.flatMap((t) =>
    t.schemaVersions.filter((v) => v.change).map((v) => `${t.name}: ADD COLUMN ${v.change?.column} (${v.change?.kind})`),
  );
  say(
    `      ${fmt(em.summary.dataFiles)} data files, ${fmt(em.summary.resolvedFiles)} RESOLVED files, ${fmt(em.summary.messages)} messages in ${em.ms} ms`,
  );
  say(`      schema changes: ${schemaChanges.join("; ") || "none"}`);

  const cut = windows[Math.floor(windows.length * 0.6)] ?? windows[windows.length - 1];
  if (!cut) throw new Error("the emulator wrote no RESOLVED file");
  const copied = new Set<string>();
  await revealUpTo(emulated, feed, cut.resolvedKey, copied);
  const conn = await makeConnection(OUT, feed, { delta: join(OUT, "delta") });
  say(
    `[2/5] bucket as of RESOLVED ${cut.resolved} (window ${cut.seq + 1} of ${windows.length}): ${fmt(copied.size)} objects in ${rel(feed)}`,
  );

  const runs: { name: string; o: SyncOutcome }[] = [];
  const run = async (name: string) => {
    const o = await syncOnce(conn, { logFile: join(OUT, `${name}.destination-output.jsonl`) });
    runs.push({ name, o });
    const r = o.result;
    if (r.source.code !== 0 || r.dest.code !== 0) throw new Error(`${name} failed:\n${describeFailure(o)}`);
    say(`      ${fmt(o.committedRecords)} records committed, ${o.echoed} states echoed, ${(r.ms / 1000).toFixed(1)} s`);
  };
  say(`[3/5] sync 1: source read | destination write …`);
  await run("sync1");
  say(`      saved state → ${rel(conn.stateFile)}`);

  const more = await revealUpTo(emulated, feed, null, copied);
  say(`[4/5] ${fmt(more)} more objects arrived; sync 2 resumes from the saved state …`);
  await run("sync2");

  say("[5/5] reading the Delta tables back …");
  const tables = await Promise.all((await findDeltaTables(conn.delta)).map(summarizeDeltaTable));
  const truth = await readTruthAt(em.truth);
  let verified = "";
  const py = deltaPython();
  if (process.env.CDC_DEMO_VERIFY !== "0" && py) {
    const res = compareTables(em.manifest, truth, await readDeltaTables(py, conn.delta));
    verified = res.ok
      ? "every row and cell equals the truth model (delta-rs)"
      : `MISMATCH: ${res.problems.slice(0, 5).join("; ")}`;
    if (!res.ok) process.exitCode = 1;
  }

  const totalMs = Date.now() - t0;
  const syncMs = runs.reduce((a, r) => a + r.o.result.ms, 0);
  const records = runs.reduce((a, r) => a + r.o.committedRecords, 0);
  const lines: string[] = [];
  lines.push("");
  lines.push("Summary");
  lines.push(
    `  records     ${fmt(records)} (sync 1: ${fmt(runs[0]?.o.committedRecords ?? 0)}, sync 2 resumed: ${fmt(runs[1]?.o.committedRecords ?? 0)})`,
  );
  lines.push(
    `  windows     ${fmt(windows.length)} RESOLVED windows (sync 1 up to ${cut.resolved}, sync 2 to ${em.manifest.finalResolved})`,
  );
  lines.push(
    `  time        ${(syncMs / 1000).toFixed(1)} s in the two syncs (${(totalMs / 1000).toFixed(1)} s total), ${fmt(Math.round(records / (syncMs / 1000)))} records/s`,
  );
  lines.push("  tables");
  for (const mt of em.manifest.tables) {
    const main = tables.find((t) => t.name.toLowerCase() === mt.name.toLowerCase());
    const tomb = tables.find((t) => t.name.toLowerCase() === `${mt.name.toLowerCase()}__cdc_tombstones`);
    const tr = truth.get(mt.name) ?? new Map();
    const live = [...tr.values()].filter((r) => r.op === "upsert").length;
    const deleted = tr.size - live;
    lines.push(
      `    ${mt.name.padEnd(10)} ${fmt(main?.rows ?? 0)} live rows in Delta (truth: ${fmt(live)} live, ${fmt(deleted)} deleted)` +
        `${tomb ? `, ${fmt(tomb.rows)} tombstones` : ""}, version ${main?.version ?? "-"}, ${main?.files ?? 0} files`,
    );
    lines.push(`               ${main ? rel(main.path) : "(missing)"}`);
  }
  if (verified) lines.push(`  check       ${verified}`);
  const first = tables.find((t) => !t.name.endsWith("__cdc_tombstones"));
  const p = first ? rel(first.path) : rel(conn.delta);
  lines.push("");
  lines.push("Query them");
  lines.push(`  Python (pip install deltalake pandas):`);
  lines.push(`    python -c "from deltalake import DeltaTable; print(DeltaTable('${p}').to_pandas().head())"`);
  lines.push(`  Spark SQL (with delta-spark):`);
  lines.push(
    `    spark-sql --packages io.delta:delta-spark_2.13:4.0.0 --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \\`,
  );
  lines.push(`      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \\`);
  lines.push(`      -e "SELECT count(*) FROM delta.\\\`${first ? first.path : conn.delta}\\\`"`);
  lines.push(`  DuckDB: SELECT * FROM delta_scan('${p}') LIMIT 10;`);
  lines.push("");
  lines.push(
    `Inputs and outputs: ${rel(OUT)}/ (source.json, destination.json, catalog.json, state.json, sync*.destination-output.jsonl)`,
  );
  say(lines.join("\n"));
  await writeFile(join(OUT, "summary.txt"), `${lines.join("\n")}\n`);
  return process.exitCode === 1 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
    if (!existsSync(join(OUT, "changefeed"))) process.stderr.write("(nothing was generated)\n");
    process.exitCode = 1;
  },
);
