/**
 * `npm run emulate -- --out <dir|azure://…|null:> [options]`: see docs/emulator.md or `--help`.
 */
import { parseArgs } from "node:util";
import { DEFAULT_OPTIONS, type EmulatorOptions, generateChangefeed } from "./generate.js";

const HELP = `Usage: npm run emulate -- --out <dir|azure://container/prefix?AZURE_ACCOUNT_NAME=…&AZURE_ACCOUNT_KEY=…[&AZURE_ENDPOINT=…]|null:> [options]

  --tables N            tables (templates cycle: orders, events, line-items, user, usertable)   [${DEFAULT_OPTIONS.tables}]
  --changes N           row changes after the initial scan                                       [${DEFAULT_OPTIONS.changes}]
  --seed N              PRNG seed                                                                [${DEFAULT_OPTIONS.seed}]
  --format json|parquet                                                                          [json]
  --compression none|gzip|zstd                                                                   [none]
  --families            split_column_families (multi-family tables, table+family topics)
  --partition daily|hourly|flat                                                                  [daily]
  --truth DIR|none      truth directory                                                          [<out>-truth]
  --truth-snapshots all|final|N   full snapshots at every RESOLVED, final only, or every Nth   [all if changes ≤ 20000, else final]
  --diff  --mvcc-timestamp  --topic-in-value  --envelope wrapped|bare
  --null-family delete|upsert          what nulling a whole non-primary family emits            [delete]
  --delete-empty-families emit|omit    deletes for families without data                        [omit]
  --keyspace N  --initial-rows N  --resolved-ms N  --gap-ms N  --idle-rate P  --lookahead-rate P
  --flush-rows N  --file-rows N  --nodes N  --duplicate-rate P  --restart-rate P
  --no-schema-changes  --backfill-old-id-rate P  --start ISO8601
`;

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    truth: { type: "string" },
    tables: { type: "string" },
    changes: { type: "string" },
    seed: { type: "string" },
    format: { type: "string" },
    compression: { type: "string" },
    families: { type: "boolean" },
    partition: { type: "string" },
    "truth-snapshots": { type: "string" },
    diff: { type: "boolean" },
    "mvcc-timestamp": { type: "boolean" },
    "topic-in-value": { type: "boolean" },
    envelope: { type: "string" },
    "null-family": { type: "string" },
    "delete-empty-families": { type: "string" },
    keyspace: { type: "string" },
    "initial-rows": { type: "string" },
    "resolved-ms": { type: "string" },
    "gap-ms": { type: "string" },
    "idle-rate": { type: "string" },
    "lookahead-rate": { type: "string" },
    "flush-rows": { type: "string" },
    "file-rows": { type: "string" },
    nodes: { type: "string" },
    "duplicate-rate": { type: "string" },
    "restart-rate": { type: "string" },
    "no-schema-changes": { type: "boolean" },
    "backfill-old-id-rate": { type: "string" },
    start: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  strict: true,
});

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name}: not a number: ${v}`);
  return n;
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new Error(`--${name} must be one of ${allowed.join("|")}`);
  return v as T;
}

async function main(): Promise<void> {
  if (values.help || !values.out) {
    process.stdout.write(HELP);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const changes = num("changes", values.changes) ?? DEFAULT_OPTIONS.changes;
  const ts = values["truth-snapshots"];
  const truthSnapshots: EmulatorOptions["truthSnapshots"] =
    ts === undefined
      ? changes <= 20000
        ? "all"
        : "final"
      : ts === "all" || ts === "final"
        ? ts
        : (num("truth-snapshots", ts) as number);
  const opts: Partial<EmulatorOptions> & { out: string } = {
    out: values.out,
    truth: values.truth === "none" ? null : values.truth,
    tables: num("tables", values.tables),
    changes,
    seed: num("seed", values.seed),
    format: oneOf("format", values.format, ["json", "parquet"] as const),
    compression: oneOf("compression", values.compression, ["none", "gzip", "zstd"] as const),
    families: values.families,
    partition: oneOf("partition", values.partition, ["daily", "hourly", "flat"] as const),
    truthSnapshots,
    diff: values.diff,
    mvccTimestamp: values["mvcc-timestamp"],
    topicInValue: values["topic-in-value"],
    envelope: oneOf("envelope", values.envelope, ["wrapped", "bare"] as const),
    nullFamily: oneOf("null-family", values["null-family"], ["delete", "upsert"] as const),
    deleteEmptyFamilies: oneOf("delete-empty-families", values["delete-empty-families"], ["emit", "omit"] as const),
    keyspace: num("keyspace", values.keyspace),
    initialRows: num("initial-rows", values["initial-rows"]),
    resolvedMs: num("resolved-ms", values["resolved-ms"]),
    gapMs: num("gap-ms", values["gap-ms"]),
    idleRate: num("idle-rate", values["idle-rate"]),
    lookaheadRate: num("lookahead-rate", values["lookahead-rate"]),
    flushRows: num("flush-rows", values["flush-rows"]),
    fileRows: num("file-rows", values["file-rows"]),
    nodes: num("nodes", values.nodes),
    duplicateRate: num("duplicate-rate", values["duplicate-rate"]),
    restartRate: num("restart-rate", values["restart-rate"]),
    schemaChanges: values["no-schema-changes"] ? false : undefined,
    backfillOldIdRate: num("backfill-old-id-rate", values["backfill-old-id-rate"]),
    startWall: values.start === undefined ? undefined : BigInt(Date.parse(values.start)) * 1_000_000n,
  };
  const summary = await generateChangefeed(opts);
  process.stdout.write(`${JSON.stringify(summary, null, 1)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`emulate: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
