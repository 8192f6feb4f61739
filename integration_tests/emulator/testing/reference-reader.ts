/**
 * A deliberately naive, independent reader of a changefeed tree, used only by tests to check the
 * emulator against its own truth: lists every object, classifies it with the grammar of
 * changefeed-files.md §2/§3, decodes every JSON line losslessly, and at each RESOLVED R folds all
 * distinct row versions with ts ≤ R found in files sorting before R.RESOLVED, in HLC order, with the
 * family rules of §7. It shares no code with the emulator except the type names in the manifest.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";
import { decompress as fzstdDecompress } from "fzstd";
import { parse } from "lossless-json";

export const DATA =
  /^(?<ts>\d{33})-(?<run>[0-9a-f]+)-(?<node>\d+)-(?<sink>\d+)-(?<file>[0-9a-f]{8})-(?<topic>.+)-(?<schema>[0-9a-f]+)\.(?<fmt>ndjson|csv|parquet)(?:\.(?<codec>gz|zst))?$/;
export const RESOLVED = /^(?<ts>\d{33})\.RESOLVED$/;

/** A JSON number kept as its source text. */
export class Num {
  constructor(readonly text: string) {}
}

export function parseLine(line: string): unknown {
  return parse(line, null, (s: string) => new Num(s));
}

export interface RefHlc {
  wall: bigint;
  logical: number;
  text: string;
}

export function refHlc(text: string): RefHlc {
  const m = /^(\d+)\.(\d{10})$/.exec(text);
  if (!m) throw new Error(`bad HLC ${text}`);
  return { wall: BigInt(m[1] as string), logical: Number(m[2]), text };
}

export const cmpHlc = (a: RefHlc, b: RefHlc) => (a.wall < b.wall ? -1 : a.wall > b.wall ? 1 : a.logical - b.logical);

/** 33-digit name timestamp → HLC text (independent of shared/hlc.ts). */
export function ts33ToHlc(ts: string): string {
  const d = Date.UTC(
    +ts.slice(0, 4),
    +ts.slice(4, 6) - 1,
    +ts.slice(6, 8),
    +ts.slice(8, 10),
    +ts.slice(10, 12),
    +ts.slice(12, 14),
  );
  const wall = BigInt(d) * 1_000_000n + BigInt(ts.slice(14, 23));
  return `${wall}.${ts.slice(23)}`;
}

export interface Fragment {
  file: string;
  topic: string;
  schemaId: number;
  table: string;
  family: string | null;
  keyJson: string;
  key: unknown[];
  after: Record<string, unknown> | null;
  updated: RefHlc;
  line: unknown;
}

export interface Listing {
  data: { key: string; base: string; ts: string; topic: string; schemaId: number; codec?: string }[];
  resolved: { key: string; base: string; hlc: string; body: Buffer }[];
  other: string[];
  /** All objects sorted by basename: [basename, kind, key]. */
  order: { base: string; kind: "data" | "resolved"; key: string }[];
}

function walk(dir: string, root: string, out: string[]): void {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, root, out);
    else out.push(relative(root, p).split("\\").join("/"));
  }
}

export function listFeed(root: string): Listing {
  const all: string[] = [];
  walk(root, root, all);
  const l: Listing = { data: [], resolved: [], other: [], order: [] };
  for (const key of all) {
    const base = key.slice(key.lastIndexOf("/") + 1);
    const d = DATA.exec(base);
    const r = RESOLVED.exec(base);
    if (d?.groups) {
      const g = d.groups as Record<string, string>;
      l.data.push({
        key,
        base,
        ts: g.ts as string,
        topic: g.topic as string,
        schemaId: Number.parseInt(g.schema as string, 16),
        codec: g.codec,
      });
      l.order.push({ base, kind: "data", key });
    } else if (r?.groups) {
      l.resolved.push({ key, base, hlc: ts33ToHlc(r.groups.ts as string), body: readFileSync(join(root, key)) });
      l.order.push({ base, kind: "resolved", key });
    } else l.other.push(key);
  }
  l.order.sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  return l;
}

export async function readDataLines(root: string, key: string, codec: string | undefined): Promise<string[]> {
  let bytes: Uint8Array = readFileSync(join(root, key));
  if (codec === "gz") bytes = gunzipSync(bytes);
  else if (codec === "zst") {
    bytes = fzstdDecompress(bytes);
  }
  const text = Buffer.from(bytes).toString("utf8");
  if (!text.endsWith("\n")) throw new Error(`${key}: last line not newline-terminated`);
  return text.slice(0, -1).split("\n");
}

// ---------------------------------------------------------------------------------------------
// Value conversion changefeed JSON → truth encoding (docs/emulator.md), written independently.

const pad6 = (f: string | undefined) => (f ?? "").padEnd(6, "0");

function bytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Canonical CockroachDB JSONB text of a parsed value. */
export function jsonbText(v: unknown): string {
  if (v === null) return "null";
  if (v instanceof Num) return v.text;
  if (typeof v === "string" || typeof v === "boolean") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jsonbText).join(", ")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort(bytewise)
    .map((k) => `${JSON.stringify(k)}: ${jsonbText(o[k])}`)
    .join(", ")}}`;
}

export function toTruth(ddl: string, v: unknown): unknown {
  if (v === null) return null;
  if (ddl.endsWith("[]")) return (v as unknown[]).map((e) => toTruth(ddl.slice(0, -2), e));
  if (ddl === "INT2" || ddl === "INT4") return Number((v as Num).text);
  if (ddl === "INT8") return (v as Num).text;
  if (ddl === "FLOAT4" || ddl === "FLOAT8") return v instanceof Num ? Number(v.text) : v;
  if (ddl.startsWith("DECIMAL")) return v instanceof Num ? v.text : v;
  if (ddl === "BYTES") {
    const s = v as string;
    if (!s.startsWith("\\x")) throw new Error(`BYTES without \\x: ${s}`);
    return Buffer.from(s.slice(2), "hex").toString("base64");
  }
  if (ddl === "TIMESTAMPTZ") {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z$/.exec(v as string);
    if (!m) throw new Error(`bad TIMESTAMPTZ ${v}`);
    return `${m[1]}.${pad6(m[2])}Z`;
  }
  if (ddl === "TIMESTAMP") {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?$/.exec(v as string);
    if (!m) throw new Error(`bad TIMESTAMP ${v}`);
    return `${m[1]}.${pad6(m[2])}`;
  }
  if (ddl === "TIME") {
    const m = /^(\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?$/.exec(v as string);
    if (!m) throw new Error(`bad TIME ${v}`);
    return `${m[1]}.${pad6(m[2])}`;
  }
  if (ddl === "JSONB") return jsonbText(v);
  if (ddl === "BOOL") return v;
  return v; // STRING, UUID, INET, INTERVAL, DATE, ENUM
}

// ---------------------------------------------------------------------------------------------

export interface RefManifestTable {
  name: string;
  primaryKey: string[];
  families: { name: string; columns: string[]; fileTopic: string; jsonTopic: string }[];
  schemaVersions: { version: number; columns: { name: string; type: string }[] }[];
}

export interface RefRow {
  op: "upsert" | "delete";
  updated: string;
  row?: Record<string, unknown>;
}

/** Table state at R: keyJson → row. */
export type RefState = Map<string, Map<string, RefRow>>;

export interface RefResult {
  /** One entry per RESOLVED in name order. */
  windows: { resolved: string; state: RefState }[];
  dataFiles: number;
  fragments: number;
  lateReemissions: number;
}

/**
 * Replay the feed. `split` = split_column_families. Throws on any contract violation it can see.
 */
export async function replay(root: string, tables: RefManifestTable[], split: boolean): Promise<RefResult> {
  const listing = listFeed(root);
  if (listing.other.length) throw new Error(`unclassified objects: ${listing.other.join(", ")}`);
  const topicOf = new Map<string, { table: RefManifestTable; family: string | null }>();
  for (const t of tables) {
    for (const f of t.families) topicOf.set(f.fileTopic, { table: t, family: split ? f.name : null });
  }
  const typeOf = (t: RefManifestTable, version: number, col: string) => {
    const sv = t.schemaVersions.find((s) => s.version === version) ?? t.schemaVersions[t.schemaVersions.length - 1];
    const c = sv?.columns.find((x) => x.name === col) ?? t.schemaVersions.flatMap((s) => s.columns).find((x) => x.name === col);
    if (!c) throw new Error(`unknown column ${t.name}.${col}`);
    return c.type;
  };
  const seen: Fragment[] = [];
  const versionsSeen = new Set<string>();
  const result: RefResult = { windows: [], dataFiles: 0, fragments: 0, lateReemissions: 0 };
  let lastR: RefHlc | null = null;
  for (const o of listing.order) {
    if (o.kind === "resolved") {
      const r = listing.resolved.find((x) => x.key === o.key) as Listing["resolved"][number];
      const body = r.body.toString("utf8");
      if (body !== `{"resolved":"${r.hlc}"}`) throw new Error(`RESOLVED body mismatch ${o.key}: ${body}`);
      lastR = refHlc(r.hlc);
      result.windows.push({
        resolved: r.hlc,
        state: fold(
          seen.filter((f) => cmpHlc(f.updated, lastR as RefHlc) <= 0),
          tables,
        ),
      });
      continue;
    }
    const d = listing.data.find((x) => x.key === o.key) as Listing["data"][number];
    const where = topicOf.get(d.topic);
    if (!where) throw new Error(`unknown topic ${d.topic}`);
    result.dataFiles++;
    const lines = await readDataLines(root, d.key, d.codec);
    for (const [n, line] of lines.entries()) {
      const obj = parseLine(line) as Record<string, unknown>;
      const keys = Object.keys(obj);
      if (keys.join() !== [...keys].sort(bytewise).join()) throw new Error(`${d.key}:${n + 1}: envelope keys not sorted`);
      if (keys.some((k) => !["after", "before", "key", "mvcc_timestamp", "topic", "updated"].includes(k)))
        throw new Error(`${d.key}:${n + 1}: unexpected key`);
      if (!line.startsWith(`{"after": `) || !/, "updated": "\d+\.\d{10}"}$/.test(line))
        throw new Error(`${d.key}:${n + 1}: separators`);
      if (!("key" in obj) || !("updated" in obj) || !("after" in obj))
        throw new Error(`${d.key}:${n + 1}: missing key/updated/after`);
      const t = where.table;
      const keyVals = (obj.key as unknown[]).map((v, i) => toTruth(typeOf(t, d.schemaId, t.primaryKey[i] as string), v));
      const after =
        obj.after === null
          ? null
          : Object.fromEntries(
              Object.entries(obj.after as Record<string, unknown>).map(([c, v]) => [c, toTruth(typeOf(t, d.schemaId, c), v)]),
            );
      const frag: Fragment = {
        file: d.key,
        topic: d.topic,
        schemaId: d.schemaId,
        table: t.name,
        family: where.family,
        keyJson: JSON.stringify(keyVals),
        key: keyVals,
        after,
        updated: refHlc(obj.updated as string),
        line: obj,
      };
      result.fragments++;
      const id = `${t.name}|${frag.keyJson}|${frag.family}|${frag.updated.text}|${frag.schemaId}`;
      if (lastR && cmpHlc(frag.updated, lastR) <= 0) {
        // Only a re-emission of an already emitted version may appear here (§3 rule 4).
        if (!versionsSeen.has(id)) throw new Error(`${d.key}:${n + 1}: first emission of a version ≤ the last RESOLVED`);
        result.lateReemissions++;
      }
      versionsSeen.add(id);
      seen.push(frag);
    }
  }
  return result;
}

/** Fold fragments (HLC order; duplicates collapse; at one (key, family, HLC) the higher schema id wins). */
export function fold(frags: Fragment[], tables: RefManifestTable[]): RefState {
  const best = new Map<string, Fragment>();
  for (const f of frags) {
    const id = `${f.table}|${f.keyJson}|${f.family}|${f.updated.text}`;
    const prev = best.get(id);
    if (!prev || f.schemaId > prev.schemaId) best.set(id, f);
  }
  const list = [...best.values()].sort((a, b) => cmpHlc(a.updated, b.updated));
  const state: RefState = new Map(tables.map((t) => [t.name, new Map()]));
  // Group per (table, key, HLC): a change's fragments.
  const groups = new Map<string, Fragment[]>();
  const orderKeys: string[] = [];
  for (const f of list) {
    const g = `${f.updated.text}|${f.table}|${f.keyJson}`;
    let arr = groups.get(g);
    if (!arr) {
      groups.set(g, (arr = []));
      orderKeys.push(g);
    }
    arr.push(f);
  }
  for (const g of orderKeys) {
    const fr = groups.get(g) as Fragment[];
    const f0 = fr[0] as Fragment;
    const t = tables.find((x) => x.name === f0.table) as RefManifestTable;
    const st = state.get(t.name) as Map<string, RefRow>;
    const primaryName = t.families[0]?.name;
    const rowDelete = fr.some((f) => f.after === null && (f.family === null || f.family === primaryName));
    if (rowDelete) {
      st.set(f0.keyJson, { op: "delete", updated: f0.updated.text });
      continue;
    }
    const cur = st.get(f0.keyJson);
    const row: Record<string, unknown> = cur && cur.op === "upsert" ? { ...(cur.row as Record<string, unknown>) } : {};
    for (const f of fr) {
      if (f.after) Object.assign(row, f.after);
      else {
        // Non-primary family delete without a row delete: the family became all NULL.
        const fam = t.families.find((x) => x.name === f.family);
        for (const c of fam?.columns ?? []) row[c] = null;
      }
    }
    st.set(f0.keyJson, { op: "upsert", updated: f0.updated.text, row });
  }
  return state;
}
