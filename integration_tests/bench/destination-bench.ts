/**
 * Benchmark of the embedded Delta writer (not a test; never asserts timings).
 *   npm run bench:destination [-- --changes 1000000 --big 10000000 --small-table 1000000 --parts dedup,merge]
 *   (`--parts rss`: only the append_dedup runs at changes/10 and changes — peak RSS and records/s.)
 * Measures in one run, next to delta-rs `merge` of the same batches:
 *  1. append_dedup records/s for `changes` multi-family changes (fold + MERGE, batches of 100k) into
 *     the local backend (child process; peak RSS reported), vs delta-rs merging the same folded batches;
 *  2. the cost of merging 10k changes into a `small-table`-row vs a `big`-row table, clustered keys
 *     and random keys, vs delta-rs on hard-linked copies of the same tables;
 *  3. peak RSS of append_dedup at changes/10 vs changes.
 * Writes bench-results/destination.json.
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { silentLogger } from "@cdc-delta/shared";
import { createDeltaBackend } from "../../destination-databricks-delta/src/delta/backend.js";
import { writeParquet } from "../../destination-databricks-delta/src/delta/parquet/write.js";
import { fieldsOf } from "../../destination-databricks-delta/src/delta/table/layout.js";
import { HEAP_GROWING_PERCENT, limitHeapGrowth } from "../../destination-databricks-delta/src/heap.js";
import { foldFragments, type Fragment } from "../../destination-databricks-delta/src/plan/fold.js";
import { fragment, hlc, testTable } from "../../destination-databricks-delta/src/plan/testing.js";
import type { Cell, Image, StoredRow } from "../../destination-databricks-delta/src/plan/types.js";
import { PYTHON } from "../peers/delta-rs.js";
import { REPO_ROOT } from "../services/endpoints.js";

const run = promisify(execFile);
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const CHANGES = arg("changes", 1_000_000);
const BIG = arg("big", 10_000_000);
const SMALL_TABLE = arg("small-table", 1_000_000);
const PARTS = (process.argv.includes("--parts") ? process.argv[process.argv.indexOf("--parts") + 1]! : "dedup,merge").split(",");
const BATCH = 100_000;
/** `memory_budget_bytes` (MiB) the run is sized for (default: the connector's 512 MiB default). */
const BUDGET_MB = arg("memory-budget-mb", 512);
/** V8 heap the connector asks for with that budget (write.ts warning: 3 × budget + 128 MiB). */
const HEAP_MB = arg("heap-mb", BUDGET_MB * 3 + 128);
const KEY_SPACE = 400_000;
const ROOT = join(tmpdir(), "dst-bench");
const PY_BENCH = join(REPO_ROOT, "integration_tests", "bench", "delta_rs_bench.py");
const spec = testTable("hard");
const FIELDS = fieldsOf(spec.columns);
const T0 = 1_741_944_400_000_000_000n;

/** Deterministic multi-family changes: batch `b` of the workload (HLCs increase across batches). */
function batchFragments(b: number, size: number, keySpace: number, seed = 1): Fragment[] {
  let x = (b + 1) * 2654435761 + seed;
  const rnd = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 4294967296;
  };
  const out: Fragment[] = [];
  for (let i = 0; i < size; i++) {
    const at = hlc(T0 + BigInt(b * size + i) * 1000n);
    const id = BigInt(Math.floor(rnd() * keySpace));
    const r = rnd();
    if (r < 0.05) out.push(fragment(["eu", id], "delete", at, "fa"));
    else if (r < 0.55) out.push(fragment(["eu", id], "upsert", at, "fa", { a1: `customer-${id % 50000n}`, a2: id * 7919n }));
    else if (r < 0.85) out.push(fragment(["eu", id], "upsert", at, "fb", { b1: ["new", "paid", "shipped"][i % 3]! }));
    else out.push(fragment(["eu", id], "upsert", at, "fc", { c1: BigInt(i % 100000) }));
  }
  return out;
}

/** Full rows of images (absent columns NULL): what delta-rs merges (it has no family scope). */
function imageRows(images: Image[]): StoredRow[] {
  return images
    .filter((im) => im.op === "upsert")
    .map((im) => {
      const r: StoredRow = {};
      for (const f of FIELDS) r[f.name] = null;
      for (const [k, v] of im.values) r[k] = v;
      r._cdc_updated = `${im.hlc.wall}.${String(im.hlc.logical).padStart(10, "0")}`;
      r._cdc_updated_wall = im.hlc.wall;
      r._cdc_updated_logical = im.hlc.logical;
      r._airbyte_raw_id = im.rawId;
      r._airbyte_extracted_at = im.extractedAtMicros;
      r._airbyte_meta = im.airbyteMeta;
      r._airbyte_generation_id = im.generationId;
      return r;
    });
}

function backend(path: string) {
  return createDeltaBackend({ type: "local", path, checkpoint_interval: 10 }, silentLogger());
}
const prep = { table: spec, mode: "append_dedup" as const, deleteMode: "hard" as const, generationId: 0n, truncate: false };

// ---------------------------------------------------------------- child modes
/**
 * One append_dedup batch; returns the milliseconds of the merge. Fold outside the timed merge, and
 * drop the fragments first: the connector keeps only its fold buffer, never the raw changes, while
 * it merges. A function of its own so that the batch is unreachable once committed, as in the
 * connector: inlined in the loop, the previous batch's images (~60 MB at 100k changes) stayed
 * reachable from a stale interpreter register while the next batch was generated and folded.
 */
async function dedupBatch(be: ReturnType<typeof backend>, b: number, size: number): Promise<number> {
  const images = foldFragments(batchFragments(b, size, KEY_SPACE), spec.keyColumns);
  const t = performance.now();
  await be.apply({ kind: "merge", table: spec, deleteMode: "hard", images, target: "main", batchId: `b${b}` });
  return performance.now() - t;
}

async function childDedup(path: string, changes: number): Promise<void> {
  const be = backend(path);
  await be.prepareStream(prep);
  let ms = 0;
  for (let b = 0; b * BATCH < changes; b++) {
    ms += await dedupBatch(be, b, Math.min(BATCH, changes - b * BATCH));
    if (process.env.BENCH_TRACE) {
      // per-batch memory on stderr (diagnosis only)
      const m = process.memoryUsage();
      process.stderr.write(
        `batch ${b}: rss ${m.rss >> 20} heapUsed ${m.heapUsed >> 20} heapTotal ${m.heapTotal >> 20} ext ${m.external >> 20} ab ${m.arrayBuffers >> 20} maxRss ${process.resourceUsage().maxRSS >> 10}\n`,
      );
    }
  }
  const ru = process.resourceUsage();
  process.stdout.write(
    `${JSON.stringify({ changes, seconds: ms / 1000, recordsPerSec: Math.round(changes / (ms / 1000)), maxRssMB: Math.round(ru.maxRSS / 1024) })}\n`,
  );
}

async function childExport(dir: string, changes: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let b = 0; b * BATCH < changes; b++) {
    const frags = batchFragments(b, Math.min(BATCH, changes - b * BATCH), KEY_SPACE);
    writeFileSync(
      join(dir, `b${String(b).padStart(4, "0")}.parquet`),
      writeParquet(FIELDS, imageRows(foldFragments(frags, spec.keyColumns))),
    );
  }
}

function makeImage(id: bigint, wall: bigint, values: Record<string, Cell>): Image {
  const f = fragment(["eu", id], "upsert", hlc(wall), "fa", values);
  return foldFragments([f], spec.keyColumns)[0]!;
}

/** Build a table of `rows` rows (keys 0..rows-1, inserts in 500k batches). */
async function childBuild(path: string, rows: number): Promise<void> {
  const be = backend(path);
  await be.prepareStream(prep);
  const per = 500_000;
  for (let s = 0; s < rows; s += per) {
    const images: Image[] = [];
    for (let i = s; i < Math.min(rows, s + per); i++)
      images.push(makeImage(BigInt(i), T0 + BigInt(i), { a1: `customer-${i % 50000}`, a2: BigInt(i) * 7919n }));
    await be.apply({ kind: "merge", table: spec, deleteMode: "hard", images, target: "main", batchId: `build${s}` });
  }
}

/** 10k updates, clustered (contiguous keys) or random; times our merge, exports the source for delta-rs. */
async function childMerge10k(path: string, rows: number, kind: string, exportFile: string): Promise<void> {
  const be = backend(path);
  await be.prepareStream(prep);
  const images: Image[] = [];
  const wall = T0 + 100_000_000_000n;
  let x = 12345;
  const seen = new Set<bigint>();
  for (let i = 0; images.length < 10_000; i++) {
    let id: bigint;
    if (kind === "clustered") id = BigInt(Math.floor(rows / 2) + i);
    else {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      id = BigInt(Math.floor((x / 4294967296) * rows));
      if (seen.has(id)) continue;
      seen.add(id);
    }
    images.push(makeImage(id, wall + BigInt(i), { a1: `updated-${i}`, a2: BigInt(-i) }));
  }
  images.sort((a, b) => (a.key[1]! < b.key[1]! ? -1 : 1));
  writeFileSync(exportFile, writeParquet(FIELDS, imageRows(images)));
  const t = performance.now();
  const r = await be.apply({ kind: "merge", table: spec, deleteMode: "hard", images, target: "main", batchId: `m-${kind}` });
  process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - t) / 1000, rowsWritten: r.rowsWritten })}\n`);
}

// ---------------------------------------------------------------- parent
/** `heapMB`: the dedup runs get the heap a user would give the connector; the table builders keep 8 GiB. */
function child(args: string[], heapMB = 8192): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(
      process.execPath,
      [`--max-old-space-size=${heapMB}`, "--import", "tsx", new URL(import.meta.url).pathname, "--child", ...args],
      {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, TSX_TSCONFIG_PATH: join(REPO_ROOT, "integration_tests", "tsconfig.json") },
      },
    );
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.on("close", (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`bench child ${args.join(" ")} exited ${code}`)),
    );
  });
}

async function deltaRsMerge(table: string, files: string[]) {
  const { stdout } = await run(PYTHON, [PY_BENCH, "merge", table, spec.keyColumns.join(","), ...files], { maxBuffer: 1 << 26 });
  return JSON.parse(stdout.trim()) as { seconds: number; rows: number; merges: number };
}

const log = (m: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] bench: ${m}\n`);

async function parent(): Promise<void> {
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });
  const result: Record<string, unknown> = {
    generatedAt: new Date().toISOString(),
    machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
    workload: { changes: CHANGES, batch: BATCH, keySpace: KEY_SPACE, families: 3, deletes: "5%" },
    node: {
      memoryBudgetMB: BUDGET_MB,
      maxOldSpaceMB: HEAP_MB,
      heapGrowingPercent: HEAP_GROWING_PERCENT,
      rss: "child process maxRSS (getrusage), whole process",
    },
  };
  const outFile = join(REPO_ROOT, "bench-results", "destination.json");
  if (!PARTS.includes("dedup") || !PARTS.includes("merge")) {
    // a partial run updates the previous results
    try {
      Object.assign(result, JSON.parse((await import("node:fs")).readFileSync(outFile, "utf8")), {
        generatedAt: result.generatedAt,
        node: result.node,
      });
    } catch {
      /* none yet */
    }
  }
  const save = () => {
    mkdirSync(join(REPO_ROOT, "bench-results"), { recursive: true });
    writeFileSync(join(REPO_ROOT, "bench-results", "destination.json"), `${JSON.stringify(result, null, 2)}\n`);
  };
  if (PARTS.includes("dedup") || PARTS.includes("rss")) await dedupPart(result, save, !PARTS.includes("dedup"));
  if (PARTS.includes("merge")) await mergePart(result, save);
  save();
  log(`done: ${outFile}`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

/** `rssOnly` (`--parts rss`): just the two child runs (peak RSS, records/s), no delta-rs comparison. */
async function dedupPart(result: Record<string, unknown>, save: () => void, rssOnly: boolean): Promise<void> {
  // 1 + 3: append_dedup throughput and RSS
  log(`append_dedup ${CHANGES / 10} changes`);
  const small = JSON.parse(await child(["dedup", join(ROOT, "dedup-small"), String(CHANGES / 10)], HEAP_MB));
  log(`append_dedup ${CHANGES} changes`);
  const large = JSON.parse(await child(["dedup", join(ROOT, "dedup-large"), String(CHANGES)], HEAP_MB));
  const prevDrs = (result.appendDedup as Record<string, unknown> | undefined)?.deltaRs;
  result.appendDedup = { embedded: large, embeddedSmall: small, ...(rssOnly && prevDrs ? { deltaRs: prevDrs } : {}) };
  result.peakRss = {
    [`changes_${CHANGES / 10}`]: small.maxRssMB,
    [`changes_${CHANGES}`]: large.maxRssMB,
    ratio: +(large.maxRssMB / small.maxRssMB).toFixed(2),
  };
  save();
  if (rssOnly) return;
  log("exporting batches for delta-rs");
  const src = join(ROOT, "src");
  await child(["export", src, String(CHANGES)]);
  await child(["build", join(ROOT, "drs-dedup"), "0"]);
  const files = readdirSync(src)
    .sort()
    .map((f) => join(src, f));
  log("delta-rs merge of the same batches");
  const drs = await deltaRsMerge(join(ROOT, "drs-dedup", "shop", "orders"), files);
  (result.appendDedup as Record<string, unknown>).deltaRs = {
    ...drs,
    recordsPerSec: Math.round(CHANGES / drs.seconds),
    note: "same folded batches, full-row upsert (no family scope, deletes not applied)",
  };
  save();
}

async function mergePart(result: Record<string, unknown>, save: () => void): Promise<void> {
  // 2: 10k changes into small vs big tables
  const merges: Record<string, unknown> = {};
  for (const rows of [SMALL_TABLE, BIG]) {
    const base = join(ROOT, `t${rows}`);
    log(`building a ${rows}-row table`);
    const tb = performance.now();
    await child(["build", base, String(rows)]);
    merges[`build_${rows}_seconds`] = (performance.now() - tb) / 1000;
    for (const kind of ["clustered", "random"]) {
      const ours = join(ROOT, `t${rows}-${kind}`);
      const theirs = join(ROOT, `t${rows}-${kind}-drs`);
      await run("cp", ["-al", base, ours]);
      await run("cp", ["-al", base, theirs]);
      const exp = join(ROOT, `m${rows}-${kind}.parquet`);
      log(`merge 10k ${kind} into ${rows} rows (embedded)`);
      const e = JSON.parse(await child(["merge10k", ours, String(rows), kind, exp]));
      log(`merge 10k ${kind} into ${rows} rows (delta-rs)`);
      const d = await deltaRsMerge(join(theirs, "shop", "orders"), [exp]);
      merges[`rows_${rows}_${kind}`] = { embeddedSeconds: e.seconds, deltaRsSeconds: d.seconds };
      result.merge10k = merges;
      save();
    }
    rmSync(base, { recursive: true, force: true });
  }
  const g = (k: string) => merges[k] as { embeddedSeconds: number; deltaRsSeconds: number } | undefined;
  for (const kind of ["clustered", "random"]) {
    const a = g(`rows_${SMALL_TABLE}_${kind}`);
    const b = g(`rows_${BIG}_${kind}`);
    if (a && b)
      merges[`growth_${kind}`] = {
        embedded: +(b.embeddedSeconds / a.embeddedSeconds).toFixed(2),
        deltaRs: +(b.deltaRsSeconds / a.deltaRsSeconds).toFixed(2),
      };
  }
  result.merge10k = merges;
}

const ci = process.argv.indexOf("--child");
if (ci > 0) {
  // as destination-databricks-delta/src/main.ts does at start-up: the children run what users run
  limitHeapGrowth();
  const [mode, a, b, c, d] = process.argv.slice(ci + 1);
  if (mode === "dedup") await childDedup(a!, Number(b));
  else if (mode === "export") await childExport(a!, Number(b));
  else if (mode === "build") await childBuild(a!, Number(b));
  else if (mode === "merge10k") await childMerge10k(a!, Number(b), c!, d!);
  else throw new Error(`unknown child mode ${mode}`);
} else {
  await parent();
}
