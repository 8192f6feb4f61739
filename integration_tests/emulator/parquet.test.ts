/**
 * Parquet output checked by independent readers (DuckDB and pyarrow from PyPI, run through
 * testing/inspect_parquet.py): schema, annotations, every non-DECIMAL value (against the JSON
 * output of the same seed, which the emulator writes file for file identically), and the DECIMAL
 * text bytes directly in the (uncompressed) file. Needs `pip install duckdb pyarrow`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tools } from "../services/endpoints.js";
import { type EmulatorOptions, generateChangefeed } from "./generate.js";
import { asciiAsBigint } from "./parquet.js";
import { DATA, Num, jsonbText, parseLine, toTruth } from "./testing/reference-reader.js";
import { type Manifest, loadManifest } from "./truth.js";

const PY = join(import.meta.dirname, "testing", "inspect_parquet.py");
/** .ci/.venv's python (duckdb, pyarrow pinned by .ci/install.sh) when present, else python3 on PATH. */
const PYTHON = existsSync(tools().python) ? tools().python : "python3";
const tmp = mkdtempSync(join(tmpdir(), "emu-parquet-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Inspected {
  file: string;
  schema: {
    name: string;
    type: string | null;
    type_length: number | null;
    repetition_type: string | null;
    converted_type: string | null;
    scale: number | null;
    precision: number | null;
    logical_type: string | null;
  }[];
  rows: Record<string, unknown>[];
  pyarrow?: { num_rows: number; codecs: string[]; arrow_types: Record<string, string> };
}

function files(dir: string, ext: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(ext)) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

function inspect(root: string, rel: string[]): Inspected[] {
  const out = execFileSync(PYTHON, [PY, ...rel], { cwd: root, encoding: "utf8", maxBuffer: 256 << 20 });
  return out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Inspected);
}

function nameParts(file: string): { topic: string; version: number } {
  const g = DATA.exec(file.slice(file.lastIndexOf("/") + 1))?.groups;
  if (!g) throw new Error(`not a data file name: ${file}`);
  return { topic: g.topic as string, version: Number.parseInt(g.schema as string, 16) };
}

const base: Partial<EmulatorOptions> = {
  tables: 5,
  changes: 400,
  seed: 21,
  families: true,
  diff: true,
  mvccTimestamp: true,
  keyspace: 12,
  fileRows: 40,
  flushRows: 60,
};

/** Expected DuckDB-rendered text of a JSON value of DDL type `ddl`. */
function expectText(ddl: string, v: unknown): unknown {
  if (v === null) return null;
  if (ddl.endsWith("[]")) return (v as unknown[]).map((e) => expectText(ddl.slice(0, -2), e));
  if (["INT2", "INT4", "INT8"].includes(ddl)) return (v as Num).text;
  if (ddl === "FLOAT4" || ddl === "FLOAT8") return v instanceof Num ? Number(v.text) : v;
  if (ddl === "BOOL") return v ? "true" : "false";
  if (ddl === "BYTES") return (v as string).slice(2);
  if (ddl === "TIMESTAMPTZ") return (v as string).replace("T", " ").replace(/Z$/, "+00:00");
  if (ddl === "TIMESTAMP") return (v as string).replace("T", " ");
  if (ddl === "TIME") {
    const [hms, f] = (toTruth("TIME", v) as string).split(".") as [string, string];
    const [h, m, s] = hms.split(":").map(Number) as [number, number, number];
    return String(((h * 60 + m) * 60 + s) * 1_000_000 + Number(f));
  }
  if (ddl === "JSONB") return jsonbText(v);
  return v;
}

describe("Parquet files read by DuckDB and pyarrow", () => {
  let manifest: Manifest;
  let inspected: Inspected[];
  const pq = join(tmp, "pq");
  const js = join(tmp, "js");
  beforeAll(async () => {
    await generateChangefeed({ ...base, out: pq, format: "parquet" });
    await generateChangefeed({ ...base, out: js, format: "json" });
    manifest = await loadManifest(`${pq}-truth`);
    inspected = inspect(pq, files(pq, ".parquet"));
  }, 120_000);

  it("writes file for file what the JSON run writes", () => {
    expect(files(pq, ".parquet").map((f) => f.replace(/\.parquet$/, ""))).toEqual(
      files(js, ".ndjson").map((f) => f.replace(/\.ndjson$/, "")),
    );
  });

  it("schema: data columns in table order (keys + family), __crdb__ columns, all OPTIONAL, CockroachDB annotations", () => {
    const seen = new Set<string>();
    for (const f of inspected) {
      const { topic, version } = nameParts(f.file);
      const table = manifest.tables.find((t) => t.families.some((fam) => fam.fileTopic === topic));
      expect(table, `${f.file}: topic ${topic}`).toBeDefined();
      if (!table) continue;
      const fam = table.families.find((x) => x.fileTopic === topic);
      const sv = table.schemaVersions.find((v) => v.version === version);
      expect(sv, `${f.file}: schema version ${version}`).toBeDefined();
      const cols = (sv?.columns ?? []).filter((c) => table.primaryKey.includes(c.name) || fam?.columns.includes(c.name));
      const top = f.schema.filter((e) => e.name !== "list" && e.name !== "element").slice(1);
      expect(top.map((e) => e.name)).toEqual([
        ...cols.map((c) => c.name),
        "__crdb__event_type",
        "__crdb__updated",
        "__crdb__mvcc_timestamp",
        "__crdb__before",
      ]);
      for (const e of f.schema.slice(1)) if (e.name !== "list") expect(e.repetition_type, `${f.file} ${e.name}`).toBe("OPTIONAL");
      for (const c of cols) {
        const e = f.schema.find((x) => x.name === c.name);
        if (!e) throw new Error("missing");
        seen.add(c.type.replace(/\(.*\)/, "(p,s)"));
        const expectPhys: Record<string, [string | null, string | null]> = {
          INT2: ["INT32", null],
          INT4: ["INT32", null],
          INT8: ["INT64", null],
          FLOAT4: ["FLOAT", null],
          FLOAT8: ["DOUBLE", null],
          BOOL: ["BOOLEAN", null],
          UUID: ["FIXED_LEN_BYTE_ARRAY", null],
          TIME: ["INT64", "TIME_MICROS"],
          BYTES: ["BYTE_ARRAY", null],
        };
        if (c.type.endsWith("[]")) {
          expect(e.converted_type).toBe("LIST");
          const idx = f.schema.indexOf(e);
          expect(f.schema[idx + 1]?.name).toBe("list");
          expect(f.schema[idx + 1]?.repetition_type).toBe("REPEATED");
          expect(f.schema[idx + 2]?.name).toBe("element");
        } else if (c.type.startsWith("DECIMAL")) {
          expect(e.type).toBe("BYTE_ARRAY");
          expect(e.converted_type).toBe("DECIMAL");
          const m2 = /^DECIMAL\((\d+),(\d+)\)$/.exec(c.type);
          const want = !m2
            ? [2147483647, 2147483647]
            : m2[2] === "0"
              ? [Number(m2[1]), Number(m2[1])]
              : [Number(m2[1]), Number(m2[2])];
          expect([e.precision, e.scale], `${c.name} ${c.type}`).toEqual(want);
        } else if (expectPhys[c.type]) {
          expect([e.type, e.converted_type], `${c.name} ${c.type}`).toEqual(expectPhys[c.type]);
          if (c.type === "UUID") expect(Number(e.type_length)).toBe(16);
        } else {
          expect([e.type, e.converted_type], `${c.name} ${c.type}`).toEqual(["BYTE_ARRAY", "UTF8"]);
        }
      }
    }
    expect([...seen].sort()).toEqual(
      [
        "BOOL",
        "BYTES",
        "DATE",
        "DECIMAL",
        "DECIMAL(p,s)",
        "FLOAT4",
        "FLOAT8",
        "INET",
        "INT2",
        "INT4",
        "INT8",
        "INT8[]",
        "INTERVAL",
        "JSONB",
        "STRING",
        "STRING[]",
        "TIME",
        "TIMESTAMP",
        "TIMESTAMPTZ",
        "UUID",
        "order_status",
      ].sort(),
    );
  });

  it("values: every non-DECIMAL cell equals the JSON run's value; DECIMAL cells are ASCII text bytes in the file", () => {
    let cells = 0;
    let decimals = 0;
    for (const f of inspected) {
      const jsonLines = readFileSync(join(js, f.file.replace(/\.parquet$/, ".ndjson")), "utf8")
        .trimEnd()
        .split("\n");
      expect(f.rows.length, f.file).toBe(jsonLines.length);
      const { topic, version } = nameParts(f.file);
      const table = manifest.tables.find((t) => t.families.some((fam) => fam.fileTopic === topic));
      if (!table) throw new Error(`no table for ${topic}`);
      const sv = table.schemaVersions.find((v) => v.version === version);
      const raw = readFileSync(join(pq, f.file));
      jsonLines.forEach((line, i) => {
        const o = parseLine(line) as {
          after: Record<string, unknown> | null;
          before: Record<string, unknown> | null;
          key: unknown[];
          updated: string;
          mvcc_timestamp: string;
        };
        const row = f.rows[i] as Record<string, unknown>;
        expect(row.__crdb__event_type, `${f.file}#${i}`).toBe(o.after === null ? "d" : o.before ? "u" : "c");
        expect(row.__crdb__updated).toBe(o.updated);
        expect(row.__crdb__mvcc_timestamp).toBe(o.mvcc_timestamp);
        expect(row.__crdb__before === null ? null : jsonbText(parseLine(row.__crdb__before as string))).toBe(
          o.before === null ? null : jsonbText(o.before),
        );
        for (const c of sv?.columns ?? []) {
          const pkPos = table.primaryKey.indexOf(c.name);
          const inFile = pkPos >= 0 || table.families.find((x) => x.fileTopic === topic)?.columns.includes(c.name);
          if (!inFile) continue;
          const v = pkPos >= 0 ? o.key[pkPos] : o.after ? o.after[c.name] : null;
          if (c.type.startsWith("DECIMAL")) {
            if (v === null) continue;
            const text = v instanceof Num ? v.text : (v as string);
            const lenPrefixed = Buffer.concat([Buffer.from(Uint32Array.of(text.length).buffer), Buffer.from(text, "ascii")]);
            expect(raw.includes(lenPrefixed), `${f.file}#${i} ${c.name} = ${text} as text bytes`).toBe(true);
            expect(asciiAsBigint(text).toString(16)).toBe(Buffer.from(text, "ascii").toString("hex").replace(/^0+/, ""));
            decimals++;
            continue;
          }
          const got = row[c.name];
          const want = expectText(c.type, v);
          if (typeof want === "number") expect(Number(got), `${f.file}#${i} ${c.name}`).toBe(want);
          else expect(got, `${f.file}#${i} ${c.name} (${c.type})`).toEqual(want);
          cells++;
        }
      });
    }
    expect(cells).toBeGreaterThan(1000);
    expect(decimals).toBeGreaterThan(50);
  });

  it("RESOLVED files of a Parquet feed are one-row Parquet with __crdb__resolved (unbounded DECIMAL, text)", () => {
    const r = files(pq, ".RESOLVED").slice(0, 2);
    const got = inspect(pq, r);
    for (const g of got) {
      expect(g.schema[1]).toMatchObject({
        name: "__crdb__resolved",
        type: "BYTE_ARRAY",
        converted_type: "DECIMAL",
        precision: 2147483647,
        scale: 2147483647,
      });
      const hlc = g.file.slice(g.file.lastIndexOf("/") + 1, -".RESOLVED".length);
      expect(hlc).toMatch(/^\d{33}$/);
    }
  });

  it("GZIP and ZSTD Parquet codecs are readable by both readers", async () => {
    for (const compression of ["gzip", "zstd"] as const) {
      const out = join(tmp, `pq-${compression}`);
      await generateChangefeed({ ...base, changes: 60, tables: 4, out, format: "parquet", compression, truth: null });
      const got = inspect(out, files(out, ".parquet"));
      const codecs = new Set(got.flatMap((g) => g.pyarrow?.codecs ?? []));
      expect([...codecs]).toEqual([compression.toUpperCase()]);
      expect(got.every((g) => g.rows.length > 0)).toBe(true);
    }
  });
});
