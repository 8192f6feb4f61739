/**
 * Benchmark of source-cockroachdb-cdc `read` (not a test; never asserts timings).
 *   npm run bench:source [-- --changes 1000000]
 * Measures, in one run on the same files: records/s of the built source (`node dist/main.js read`,
 * stdout drained by this process) on a JSON workload vs the raw ceiling (readline + JSON.parse +
 * JSON.stringify of the same lines); the same on Parquet (zstd) vs DuckDB's scan of the same files
 * (rows materialised into JS); peak RSS of `read` for 100k vs 1M changes. Writes bench-results/source.json.
 */
import { spawn } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { formatHlc, formatTs33, hlcUtcDateParts } from "@cdc-delta/shared";
import { crdbParquet, initZstd } from "../../source-cockroachdb-cdc/src/testing/parquet-builder.js";
import { REPO_ROOT } from "../services/endpoints.js";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const CHANGES = arg("changes", 1_000_000);
const SMALL = Math.max(1, Math.floor(CHANGES / 10));
const MID = SMALL * 2;
const PER_FILE = 20_000;
const MAIN = join(REPO_ROOT, "source-cockroachdb-cdc", "dist", "main.js");
const ROOT = join(tmpdir(), "src-bench");
const T0 = 1741944400000000000n;

function rowAt(i: number) {
  const big = i % 10 === 3;
  const id = big ? 9007199254740993n + BigInt(i) : BigInt(i + 1);
  const price = i % 5 === 0 ? `${(i % 10000) + 1}.${String(i % 100).padStart(2, "0")}` : null;
  return {
    id,
    customer: `customer-${(i * 7919) % 50000}`,
    status: ["new", "paid", "shipped", "returned"][i % 4] as string,
    qty: (i % 9) + 1,
    price,
    note: `order note ${i % 997} for delivery window ${(i * 31) % 24}h`,
  };
}

function hlcOf(i: number) {
  return { wall: T0 + BigInt(i) * 1000n, logical: 0 };
}
const folder = (h: { wall: bigint; logical: number }) => `${hlcUtcDateParts(h).date}/`;

function writeJsonWorkload(dir: string, n: number) {
  if (existsSync(join(dir, ".done"))) return;
  mkdirSync(dir, { recursive: true });
  for (let f = 0; f * PER_FILE < n; f++) {
    const lines: string[] = [];
    const end = Math.min(n, (f + 1) * PER_FILE);
    for (let i = f * PER_FILE; i < end; i++) {
      const r = rowAt(i);
      lines.push(
        `{"after": {"id": ${r.id}, "customer": "${r.customer}", "status": "${r.status}", "qty": ${r.qty}, "price": ${r.price ?? "null"}, "note": "${r.note}"}, "key": [${r.id}], "updated": "${formatHlc(hlcOf(i))}"}`,
      );
    }
    const fileTs = hlcOf(end - 1);
    mkdirSync(join(dir, folder(fileTs)), { recursive: true });
    writeFileSync(
      join(dir, folder(fileTs), `${formatTs33(fileTs)}-3fa9c2d17b08e6a4-1-0-${f.toString(16).padStart(8, "0")}-orders-1.ndjson`),
      `${lines.join("\n")}\n`,
    );
    writeFileSync(join(dir, folder(fileTs), `${formatTs33(fileTs)}.RESOLVED`), `{"resolved":"${formatHlc(fileTs)}"}`);
  }
  writeFileSync(join(dir, ".done"), "");
}

async function writeParquetWorkload(dir: string, n: number) {
  if (existsSync(join(dir, ".done"))) return;
  await initZstd();
  mkdirSync(dir, { recursive: true });
  const cols = [
    { name: "id", kind: "INT8" as const },
    { name: "customer", kind: "STRING" as const },
    { name: "status", kind: "STRING" as const },
    { name: "qty", kind: "INT4" as const },
    { name: "price", kind: "DECIMAL" as const, precision: 10, scale: 2 },
    { name: "note", kind: "STRING" as const },
  ];
  for (let f = 0; f * PER_FILE < n; f++) {
    const rows = [];
    const end = Math.min(n, (f + 1) * PER_FILE);
    for (let i = f * PER_FILE; i < end; i++) rows.push({ ...rowAt(i), __crdb__updated: formatHlc(hlcOf(i)) });
    const fileTs = hlcOf(end - 1);
    mkdirSync(join(dir, folder(fileTs)), { recursive: true });
    writeFileSync(
      join(dir, folder(fileTs), `${formatTs33(fileTs)}-3fa9c2d17b08e6a4-1-0-${f.toString(16).padStart(8, "0")}-orders-1.parquet`),
      crdbParquet(cols, rows, { codec: "ZSTD", rowGroupSize: PER_FILE }),
    );
    writeFileSync(join(dir, folder(fileTs), `${formatTs33(fileTs)}.RESOLVED`), `{"resolved":"${formatHlc(fileTs)}"}`);
  }
  writeFileSync(join(dir, ".done"), "");
}

function dataFiles(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(dir).sort()) {
    if (d.startsWith(".")) continue;
    for (const f of readdirSync(join(dir, d)).sort()) if (f.endsWith(ext)) out.push(join(dir, d, f));
  }
  return out;
}

async function rawJsonCeiling(dir: string): Promise<{ lines: number; seconds: number; cpuSeconds: number }> {
  const t = performance.now();
  const c0 = process.cpuUsage();
  let lines = 0;
  let sink = 0;
  for (const f of dataFiles(dir, ".ndjson")) {
    const rl = createInterface({ input: createReadStream(f), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of rl) {
      sink += JSON.stringify(JSON.parse(line)).length;
      lines++;
    }
  }
  if (sink < 0) console.log(sink);
  const c = process.cpuUsage(c0);
  return { lines, seconds: (performance.now() - t) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
}

const catalog = {
  streams: [
    {
      stream: {
        name: "orders",
        json_schema: {
          type: "object",
          properties: {
            id: { type: "integer", "x-cockroachdb": { type: "INT8", family: null } },
            price: { type: ["number", "null"], "x-cockroachdb": { type: "DECIMAL(10,2)", family: null } },
          },
        },
        supported_sync_modes: ["incremental"],
        source_defined_primary_key: [["id"]],
      },
      sync_mode: "incremental",
      destination_sync_mode: "append",
    },
  ],
};

/** Runs `read` under /usr/bin/time; counts RECORD lines from its stdout. */
async function sourceRead(
  dir: string,
  name: string,
): Promise<{ records: number; seconds: number; cpuSeconds: number; peakRssMiB: number }> {
  const cfgDir = join(ROOT, `cfg-${name}`);
  mkdirSync(cfgDir, { recursive: true });
  writeFileSync(
    join(cfgDir, "config.json"),
    JSON.stringify({ storage: { type: "local", path: dir }, primary_keys: { orders: ["id"] } }),
  );
  writeFileSync(join(cfgDir, "catalog.json"), JSON.stringify(catalog));
  const t = performance.now();
  const child = spawn(
    "/usr/bin/time",
    [
      "-f",
      "MAXRSS_KB=%M CPU_S=%U+%S",
      process.execPath,
      MAIN,
      "read",
      "--config",
      join(cfgDir, "config.json"),
      "--catalog",
      join(cfgDir, "catalog.json"),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let records = 0;
  let carry: Buffer = Buffer.alloc(0);
  let stderr = "";
  const needle = Buffer.from('\n{"type":"RECORD"');
  const count = (buf: Buffer) => {
    for (let i = buf.indexOf(needle); i >= 0; i = buf.indexOf(needle, i + needle.length)) records++;
  };
  // Counted in place (no copy of the stream): only a match straddling two chunks needs the joint bytes.
  child.stdout.on("data", (chunk: Buffer) => {
    if (carry.length) count(Buffer.concat([carry, chunk.subarray(0, needle.length - 1)]));
    count(chunk);
    carry = Buffer.from(chunk.subarray(Math.max(0, chunk.length - needle.length + 1)));
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const code: number = await new Promise((r) => child.on("close", r));
  const seconds = (performance.now() - t) / 1000;
  if (code !== 0) throw new Error(`read failed (${code}): ${stderr.slice(-2000)}`);
  const kb = Number(/MAXRSS_KB=(\d+)/.exec(stderr)?.[1] ?? 0);
  const cpu = /CPU_S=([\d.]+)\+([\d.]+)/.exec(stderr);
  return { records, seconds, cpuSeconds: cpu ? Number(cpu[1]) + Number(cpu[2]) : Number.NaN, peakRssMiB: Math.round(kb / 1024) };
}

async function duckdbScan(dir: string): Promise<{ rows: number; seconds: number; cpuSeconds: number }> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const db = await DuckDBInstance.create(":memory:", { threads: "2" });
  const con = await db.connect();
  const t = performance.now();
  const c0 = process.cpuUsage();
  const result = await con.stream(`SELECT * FROM read_parquet('${dir}/*/*.parquet')`);
  let rows = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    rows += chunk.getRows().length; // materialise values in JS, like the source must
  }
  const seconds = (performance.now() - t) / 1000;
  const c = process.cpuUsage(c0);
  con.closeSync?.();
  return { rows, seconds, cpuSeconds: (c.user + c.system) / 1e6 };
}

async function main() {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} missing: build with npx tsc -b source-cockroachdb-cdc`);
  const jsonBig = join(ROOT, `json-${CHANGES}`);
  const jsonSmall = join(ROOT, `json-${SMALL}`);
  const jsonMid = join(ROOT, `json-${MID}`);
  const pq = join(ROOT, `parquet-${CHANGES}`);
  console.log(`generating workloads under ${ROOT} (${CHANGES} and ${SMALL} changes)...`);
  writeJsonWorkload(jsonBig, CHANGES);
  writeJsonWorkload(jsonSmall, SMALL);
  writeJsonWorkload(jsonMid, MID);
  await writeParquetWorkload(pq, CHANGES);

  const ceiling = await rawJsonCeiling(jsonBig);
  const jsonRead = await sourceRead(jsonBig, "json-big");
  const smallRead = await sourceRead(jsonSmall, "json-small");
  const midRead = await sourceRead(jsonMid, "json-mid");
  const pqRead = await sourceRead(pq, "parquet");
  let duck: { rows: number; seconds: number; cpuSeconds: number } | { error: string };
  try {
    duck = await duckdbScan(pq);
  } catch (e) {
    duck = { error: String((e as Error).message) };
  }
  const rate = (n: number, s: number) => Math.round(n / s);
  const result = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    cpus: (await import("node:os")).cpus().length,
    changes: CHANGES,
    workload:
      "one table; strings and small integers, 10% INT8 > 2^53, 20% DECIMAL(10,2); 20k changes per file, a RESOLVED after each file",
    note: "wall-clock rates depend on machine load (2 cores shared); *_cpu rates divide by user+sys CPU seconds and are steadier. Ratios are given for both.",
    json: {
      source_records: jsonRead.records,
      source_records_per_s: rate(jsonRead.records, jsonRead.seconds),
      source_records_per_cpu_s: rate(jsonRead.records, jsonRead.cpuSeconds),
      raw_ceiling_lines_per_s: rate(ceiling.lines, ceiling.seconds),
      raw_ceiling_lines_per_cpu_s: rate(ceiling.lines, ceiling.cpuSeconds),
      raw_ceiling: "node readline + JSON.parse + JSON.stringify of the same lines (lossy), in-process",
      ratio_to_ceiling_wall: +(jsonRead.records / jsonRead.seconds / (ceiling.lines / ceiling.seconds)).toFixed(2),
      ratio_to_ceiling_cpu: +(jsonRead.records / jsonRead.cpuSeconds / (ceiling.lines / ceiling.cpuSeconds)).toFixed(2),
    },
    parquet: {
      source_records: pqRead.records,
      source_records_per_s: rate(pqRead.records, pqRead.seconds),
      source_records_per_cpu_s: rate(pqRead.records, pqRead.cpuSeconds),
      duckdb:
        "error" in duck
          ? duck
          : {
              rows: duck.rows,
              rows_per_s: rate(duck.rows, duck.seconds),
              rows_per_cpu_s: rate(duck.rows, duck.cpuSeconds),
              how: "@duckdb/node-api SELECT * FROM read_parquet, rows materialised in JS (getRows), 2 threads; note DuckDB decodes the DECIMAL-as-text column wrongly",
            },
      ratio_to_duckdb_wall: "error" in duck ? null : +(pqRead.records / pqRead.seconds / (duck.rows / duck.seconds)).toFixed(2),
      ratio_to_duckdb_cpu:
        "error" in duck ? null : +(pqRead.records / pqRead.cpuSeconds / (duck.rows / duck.cpuSeconds)).toFixed(2),
    },
    peak_rss_note:
      "whole-process maxRSS of read on JSON; windows are bounded by max_window_bytes, so it saturates (V8 old-generation growth settles) instead of following the input",
    peak_rss_mib: {
      [`read_${SMALL}`]: smallRead.peakRssMiB,
      [`read_${MID}`]: midRead.peakRssMiB,
      [`read_${CHANGES}`]: jsonRead.peakRssMiB,
      [`read_parquet_${CHANGES}`]: pqRead.peakRssMiB,
    },
  };
  mkdirSync(join(REPO_ROOT, "bench-results"), { recursive: true });
  writeFileSync(join(REPO_ROOT, "bench-results", "source.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}

await main();
