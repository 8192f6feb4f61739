/**
 * The CREATE CHANGEFEED option tables of docs/production-azure-databricks.md, checked against the
 * built source: every supported option's output (made by the workload emulator) is read with exit 0;
 * every refused one fails with a TRACE config_error carrying the message the doc quotes, and each
 * quoted message exists in the source's code.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateChangefeed } from "../emulator/index.js";
import { REPO } from "./dockerfile.js";

const SOURCE = join(REPO, "source-cockroachdb-cdc/dist/main.js");
const work = mkdtempSync(join(tmpdir(), "cf-options-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Result {
  code: number | null;
  records: number;
  errors: { failure_type: string; message: string }[];
}

function source(args: string[]): Result {
  const r = spawnSync(process.execPath, [SOURCE, ...args], { encoding: "utf8", timeout: 120_000, maxBuffer: 256 * 1024 * 1024 });
  const msgs = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
  return {
    code: r.status,
    records: msgs.filter((m) => m.type === "RECORD").length,
    errors: msgs.filter((m) => m.type === "TRACE" && m.trace.type === "ERROR").map((m) => m.trace.error),
  };
}

/** discover + read (all streams, incremental) of a changefeed folder. */
function readFeed(dir: string): Result {
  const cfg = join(dir, "..", `${dir.split("/").at(-1)}.source.json`);
  writeFileSync(cfg, JSON.stringify({ storage: { type: "local", path: dir } }));
  const disc = spawnSync(process.execPath, [SOURCE, "discover", "--config", cfg], { encoding: "utf8" });
  const catalogMsg = disc.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l))
    .find((m) => m.type === "CATALOG");
  if (!catalogMsg) {
    // discover itself may refuse the feed: report its errors like a read would
    const d = source(["discover", "--config", cfg]);
    return d;
  }
  const catalog = {
    streams: catalogMsg.catalog.streams.map((s: Record<string, unknown>) => ({
      stream: s,
      sync_mode: "incremental",
      destination_sync_mode: "append_dedup",
      cursor_field: s.default_cursor_field,
      primary_key: s.source_defined_primary_key,
    })),
  };
  const cat = `${cfg}.catalog.json`;
  writeFileSync(cat, JSON.stringify(catalog));
  return source(["read", "--config", cfg, "--catalog", cat]);
}

const doc = readFileSync(join(REPO, "docs/production-azure-databricks.md"), "utf8");

function sourceCode(): string {
  const out: string[] = [];
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else if (p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.includes("/testing/")) out.push(readFileSync(p, "utf8"));
  };
  walk(join(REPO, "source-cockroachdb-cdc/src"));
  return out.join("\n");
}

describe("changefeed options the source supports", () => {
  const variants: [string, Parameters<typeof generateChangefeed>[0] extends infer O ? Omit<O & object, "out"> : never][] = [
    ["json, wrapped, gzip, split_column_families", { format: "json", compression: "gzip", families: true }],
    ["json + diff + mvcc_timestamp + topic_in_value", { format: "json", diff: true, mvccTimestamp: true, topicInValue: true }],
    ["json, zstd, hourly partitions", { format: "json", compression: "zstd", partition: "hourly" }],
    ["json, flat partitions", { format: "json", partition: "flat" }],
    ["parquet, zstd, split_column_families", { format: "parquet", compression: "zstd", families: true }],
  ];
  it.each(variants)(
    "%s: read succeeds with records",
    async (name, opts) => {
      const dir = join(work, name.replace(/[^a-z0-9]+/gi, "-"));
      await generateChangefeed({ out: dir, tables: 2, changes: 300, seed: 11, truth: null, ...opts } as never);
      const r = readFeed(dir);
      expect(r.errors).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.records).toBeGreaterThan(0);
    },
    120_000,
  );
});

describe("changefeed options the source refuses", () => {
  const refusedRows = doc
    .slice(doc.indexOf("### Options the source refuses"))
    .split("\n")
    .filter((l) => l.startsWith("| ") && l.includes("config_error"));
  const quoted = refusedRows.map((l) => /config_error`: "([^"]+)"/.exec(l)?.[1]).filter(Boolean) as string[];

  it("every message the doc quotes is raised by the source's code", () => {
    expect(quoted.length).toBeGreaterThanOrEqual(4);
    const code = sourceCode();
    for (const q of quoted) expect(code.includes(q.replaceAll("`", "\\`")) || code.includes(q), q).toBe(true);
  });

  const day = "2026-01-01";
  const resolved = `${day}/202601010000100000000000000000000.RESOLVED`;
  const writeFeed = (name: string, files: Record<string, string>) => {
    const dir = join(work, name);
    for (const [k, v] of Object.entries(files)) {
      mkdirSync(join(dir, k, ".."), { recursive: true });
      writeFileSync(join(dir, k), v);
    }
    return dir;
  };
  const file = (ext: string) => `${day}/202601010000000000000000000000000-0123456789abcdef-1-1-00000000-orders-1.${ext}`;
  const R = '{"resolved":"1767225610000000000.0000000000"}';
  const expectRefused = (r: Result, fragment: string) => {
    expect(r.code).not.toBe(0);
    expect(r.errors.length).toBeGreaterThanOrEqual(1);
    expect(r.errors[0]!.failure_type).toBe("config_error");
    expect(r.errors[0]!.message).toContain(fragment);
  };

  it("envelope='bare'", async () => {
    const dir = join(work, "bare");
    await generateChangefeed({ out: dir, tables: 1, changes: 50, seed: 3, truth: null, envelope: "bare" } as never);
    expectRefused(readFeed(dir), "bare envelope (envelope='bare') cannot mark deletes");
  });

  it("no `updated` option", () => {
    const dir = writeFeed("no-updated", { [file("ndjson")]: '{"after": {"id": 1}, "key": [1]}\n', [resolved]: R });
    expectRefused(readFeed(dir), "the changefeed was created without the `updated` option");
  });

  it("format='csv'", () => {
    const dir = writeFeed("csv", { [file("csv")]: "1,a\n", [resolved]: R });
    expectRefused(readFeed(dir), "CSV changefeed files cannot carry RESOLVED timestamps and are not supported");
  });
});
