import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateChangefeed } from "./generate.js";
import { Prng } from "./prng.js";
import {
  DATA,
  RESOLVED,
  type RefManifestTable,
  cmpHlc,
  listFeed,
  parseLine,
  readDataLines,
  refHlc,
  replay,
} from "./testing/reference-reader.js";
import { loadManifest, readTruthAt } from "./truth.js";
import { canonicalJsonb, civilFromDays, daysFromCivil, formatDate, jsonText, truthValue } from "./types.js";

const tmp = mkdtempSync(join(tmpdir(), "emu-unit-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), createHash("sha256").update(readFileSync(p)).digest("hex"));
    }
  };
  walk(dir);
  return out;
}

describe("value encodings", () => {
  it("JSON text per changefeed-files.md §5", () => {
    expect(jsonText({ k: "INT8" }, 9007199254740993n)).toBe("9007199254740993");
    expect(jsonText({ k: "DECIMAL", p: 10, s: 2 }, "48.10")).toBe("48.10");
    expect(jsonText({ k: "DECIMAL" }, "NaN")).toBe('"NaN"');
    expect(jsonText({ k: "DECIMAL" }, "-Infinity")).toBe('"-Infinity"');
    expect(jsonText({ k: "DECIMAL" }, "4E+3")).toBe("4E+3");
    expect(jsonText({ k: "FLOAT8" }, Number.NaN)).toBe('"NaN"');
    expect(jsonText({ k: "FLOAT8" }, -Infinity)).toBe('"-Infinity"');
    expect(jsonText({ k: "BYTES" }, Uint8Array.of(0x0a, 0xff))).toBe('"\\\\x0aff"');
    expect(jsonText({ k: "TIMESTAMPTZ" }, 1741944413589793n)).toBe('"2025-03-14T09:26:53.589793Z"');
    expect(jsonText({ k: "TIMESTAMPTZ" }, 1741944413500000n)).toBe('"2025-03-14T09:26:53.5Z"');
    expect(jsonText({ k: "TIMESTAMPTZ" }, -1n)).toBe('"1969-12-31T23:59:59.999999Z"');
    expect(jsonText({ k: "TIMESTAMP" }, 1741944413589700n)).toBe('"2025-03-14T09:26:53.5897"');
    expect(jsonText({ k: "TIME" }, 33_413_500_000)).toBe('"09:16:53.5"');
    expect(jsonText({ k: "DATE" }, daysFromCivil(1, 1, 1))).toBe('"0001-01-01"');
    expect(jsonText({ k: "ARRAY", elem: { k: "INT8" } }, [1n, null, 3n])).toBe("[1, null, 3]");
    expect(jsonText({ k: "STRING" }, 'a"\n\u0001')).toBe('"a\\"\\n\\u0001"');
    expect(canonicalJsonb({ b: 1, a: [true, null], é: "x", Z: { __raw: "1.10" } })).toBe(
      '{"Z": 1.10, "a": [true, null], "b": 1, "é": "x"}',
    );
  });
  it("truth encoding (docs/emulator.md)", () => {
    expect(truthValue({ k: "INT8" }, -9223372036854775808n)).toBe("-9223372036854775808");
    expect(truthValue({ k: "INT4" }, 7n)).toBe(7);
    expect(truthValue({ k: "FLOAT4" }, Infinity)).toBe("Infinity");
    expect(truthValue({ k: "BYTES" }, Uint8Array.of(0x0a, 0xff))).toBe("Cv8=");
    expect(truthValue({ k: "TIMESTAMPTZ" }, 1741944413500000n)).toBe("2025-03-14T09:26:53.500000Z");
    expect(truthValue({ k: "TIMESTAMP" }, 0n)).toBe("1970-01-01T00:00:00.000000");
    expect(truthValue({ k: "TIME" }, 1)).toBe("00:00:00.000001");
    expect(truthValue({ k: "ARRAY", elem: { k: "INT8" } }, [9007199254740993n, null])).toEqual(["9007199254740993", null]);
  });
  it("calendar round trip", () => {
    for (let d = -800000; d < 3000000; d += 997) expect(daysFromCivil(...civilFromDays(d))).toBe(d);
    expect(formatDate(0)).toBe("1970-01-01");
    expect(formatDate(daysFromCivil(2000, 2, 29))).toBe("2000-02-29");
  });
  it("PRNG is deterministic and forks independently", () => {
    const a = new Prng(7);
    const b = new Prng(7);
    expect(Array.from({ length: 5 }, () => a.u32())).toEqual(Array.from({ length: 5 }, () => b.u32()));
    expect(new Prng(7).fork("x").u32()).not.toBe(new Prng(7).fork("y").u32());
  });
});

describe("a run with every behaviour", () => {
  const out = join(tmp, "full");
  const opts = {
    out,
    tables: 5,
    changes: 2000,
    seed: 99,
    families: true,
    restartRate: 0.1,
    duplicateRate: 0.03,
    resolvedMs: 500,
    truthSnapshots: "final" as const,
  };
  beforeAll(async () => {
    await generateChangefeed(opts);
  }, 60_000);

  it("is deterministic: same seed, same bytes (feed and truth)", async () => {
    await generateChangefeed({ ...opts, out: join(tmp, "full2") });
    expect(tree(join(tmp, "full2"))).toEqual(tree(out));
    const norm = (d: string) => new Map([...tree(d)].filter(([k]) => k !== "manifest.json"));
    expect(norm(join(tmp, "full2-truth"))).toEqual(norm(`${out}-truth`));
  });

  it("names follow the grammar; every window has its RESOLVED in its own timestamp's directory", async () => {
    const l = listFeed(out);
    expect(l.other).toEqual([]);
    for (const d of l.data) expect(d.base).toMatch(DATA);
    const m = await loadManifest(`${out}-truth`);
    expect(l.resolved.map((r) => r.key).sort()).toEqual(m.windows.map((w) => w.resolvedKey).sort());
    for (const r of l.resolved) {
      expect(r.base).toMatch(RESOLVED);
      const ts = r.base.slice(0, 33);
      expect(r.key.startsWith(`${ts.slice(0, 4)}-${ts.slice(4, 6)}-${ts.slice(6, 8)}/`)).toBe(true);
      expect(r.body.toString()).toBe(`{"resolved":"${r.hlc}"}`);
    }
    expect(new Set(l.order.map((o) => o.key.slice(0, 10))).size).toBeGreaterThanOrEqual(2); // crosses midnight
  });

  it("covers the required phenomena", async () => {
    const m = await loadManifest(`${out}-truth`);
    const l = listFeed(out);
    const frags: {
      file: string;
      topic: string;
      schema: number;
      line: Record<string, unknown>;
      hlc: string;
      key: string;
      fileTs: string;
    }[] = [];
    for (const d of l.data)
      for (const line of await readDataLines(out, d.key, d.codec)) {
        const o = parseLine(line) as Record<string, unknown>;
        frags.push({
          file: d.key,
          topic: d.topic,
          schema: d.schemaId,
          line: o,
          hlc: o.updated as string,
          key: JSON.stringify(o.key, (_k, v) => (v?.text !== undefined ? v.text : v)),
          fileTs: d.ts,
        });
      }
    const first = m.windows[0]?.resolved as string;
    // Initial scan: one HLC, mvcc older.
    expect(frags.filter((f) => f.fileTs === m.windows[0]?.ts33).every((f) => f.hlc === first)).toBe(true);
    // Multi-row transactions: one HLC, several keys.
    const byHlc = new Map<string, Set<string>>();
    for (const f of frags) byHlc.set(f.hlc, (byHlc.get(f.hlc) ?? new Set()).add(f.key));
    expect([...byHlc.entries()].filter(([h, s]) => h !== first && s.size > 1).length).toBeGreaterThan(10);
    // Rows newer than R in files sorting before R.RESOLVED.
    let ahead = 0;
    for (const f of frags) {
      const base = f.file.slice(f.file.lastIndexOf("/") + 1);
      const next = l.resolved
        .map((r) => r.base)
        .sort()
        .find((r) => r > base);
      if (next && cmpHlc(refHlc(f.hlc), refHlc(l.resolved.find((r) => r.base === next)?.hlc as string)) > 0) ahead++;
    }
    expect(ahead).toBeGreaterThan(0);
    // Empty windows.
    expect(m.windows.filter((w) => w.changed === 0).length).toBeGreaterThan(0);
    // Duplicates and restarts (new run ids).
    const ids = frags.map((f) => `${f.topic}|${f.key}|${f.hlc}|${f.schema}`);
    expect(ids.length - new Set(ids).size).toBeGreaterThan(10);
    expect(new Set(l.data.map((d) => d.base.split("-")[1])).size).toBeGreaterThan(1);
    // Deletes, whole-family NULL (non-primary delete alone), family-only updates.
    const group = new Map<string, typeof frags>();
    for (const f of frags) {
      const k = `${f.topic.split("+")[0]}|${f.key}|${f.hlc}`;
      group.set(k, [...(group.get(k) ?? []), f]);
    }
    let familyNull = 0;
    let familyOnly = 0;
    let rowDeletes = 0;
    for (const g of group.values()) {
      const prim = g.filter((f) => f.topic.endsWith("+primary"));
      if (g.some((f) => !f.topic.endsWith("+primary") && f.line.after === null) && prim.length === 0) familyNull++;
      if (prim.length === 0 && g.some((f) => f.line.after !== null)) familyOnly++;
      if (prim.some((f) => f.line.after === null)) rowDeletes++;
    }
    expect(familyNull).toBeGreaterThan(0);
    expect(familyOnly).toBeGreaterThan(0);
    expect(rowDeletes).toBeGreaterThan(0);
    // Unsorted rows within a file.
    expect(
      l.data.some((d) => {
        const hs = frags.filter((f) => f.file === d.key).map((f) => refHlc(f.hlc));
        return hs.some((h, i) => i > 0 && cmpHlc(hs[i - 1] as ReturnType<typeof refHlc>, h) > 0);
      }),
    ).toBe(true);
    // Schema change: two schema ids per topic; the backfill shares one HLC.
    const orders = m.tables.find((t) => t.name === "orders");
    expect(orders?.schemaVersions.map((v) => v.schemaId)).toEqual(["3", "6"]);
    expect(orders?.schemaVersions[1]?.change).toMatchObject({ kind: "backfill", column: "discount", default: "0.00" });
    // PK order and PK-less rowid.
    expect(orders?.primaryKey).toEqual(["tenant", "id"]);
    const ev = m.tables.find((t) => t.name === "events");
    expect(ev?.primaryKey).toEqual(["rowid"]);
    const final = await readTruthAt(`${out}-truth`);
    expect([...(final.get("events")?.values() ?? [])].every((r) => BigInt(r.key[0] as string) > 2n ** 53n)).toBe(true);
    // Re-inserts: some key deleted in one window and live later.
    const deltas = readFileSync(`${out}-truth/deltas.ndjson`, "utf8")
      .trim()
      .split("\n")
      .map((x) => JSON.parse(x) as { table: string; key: unknown[]; op: string });
    const seq = new Map<string, string>();
    for (const d of deltas)
      seq.set(`${d.table}|${JSON.stringify(d.key)}`, `${seq.get(`${d.table}|${JSON.stringify(d.key)}`) ?? ""}${d.op[0]}`);
    expect([...seq.values()].some((s) => /d.*u/.test(s))).toBe(true);
    // Edge values reach the truth.
    const text = readFileSync(`${out}-truth/deltas.ndjson`, "utf8");
    for (const needle of [
      '"9007199254740993"',
      '"-9223372036854775808"',
      '"9223372036854775807"',
      '"NaN"',
      '"Infinity"',
      '"4E+3"',
      "123456789012345678901234567890.123456789012345678901234567890",
      "\\n",
      "😀",
      '"1969-12-31T23:59:59.999999Z"',
    ])
      expect(text, needle).toContain(needle);
  });

  it("the truth is independent of format, codec, partitioning and the unverified-behaviour switches", async () => {
    const variants = [
      { format: "parquet" as const, compression: "zstd" as const, partition: "flat" as const },
      {
        nullFamily: "upsert" as const,
        deleteEmptyFamilies: "emit" as const,
        diff: true,
        mvccTimestamp: true,
        topicInValue: true,
        compression: "gzip" as const,
        partition: "hourly" as const,
      },
    ];
    const want = readFileSync(`${out}-truth/deltas.ndjson`);
    for (const [i, v] of variants.entries()) {
      const o = join(tmp, `variant${i}`);
      await generateChangefeed({ ...opts, ...v, out: o, truthSnapshots: "final" });
      expect(Buffer.compare(readFileSync(`${o}-truth/deltas.ndjson`), want), JSON.stringify(v)).toBe(0);
    }
  }, 60_000);

  it("the naive reference reader reproduces the truth (final state) for the 'upsert'/'emit' switches too", async () => {
    const o = join(tmp, "variant1");
    const m = await loadManifest(`${o}-truth`);
    const ref = await replay(o, m.tables as unknown as RefManifestTable[], true);
    const last = ref.windows[ref.windows.length - 1]?.state;
    const truth = await readTruthAt(`${o}-truth`);
    for (const [t, rows] of truth) {
      expect([...(last?.get(t)?.keys() ?? [])].sort()).toEqual([...rows.keys()].sort());
      for (const [k, r] of rows) {
        const got = last?.get(t)?.get(k);
        expect(got?.op).toBe(r.op);
        if (r.op === "upsert") for (const [c, v] of Object.entries(r.row ?? {})) expect(got?.row?.[c] ?? null).toEqual(v);
      }
    }
  }, 60_000);
});
