/**
 * The truth model's files and their streaming reader (format: docs/emulator.md "Truth files").
 *
 *   <truth>/manifest.json        tables, PKs, columns (DDL types, families), schema versions, options, windows
 *   <truth>/windows.ndjson       one line per RESOLVED: seq, resolved HLC, ts33, RESOLVED object key, changed, snapshot
 *   <truth>/deltas.ndjson        per window (in window order), the state at R of every key changed in (W, R]
 *   <truth>/snapshots/<ts33>.ndjson  full contents at R (live rows and deleted keys), for selected windows
 *
 * Every truth line is a TruthRow: {"resolved", "table", "key", "op": "upsert"|"delete", "updated", "row"?}.
 * Values use the truth encoding (types.ts truthValue): plain JSON.parse is exact.
 */
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface TruthRow {
  resolved: string;
  table: string;
  /** PK values (truth encoding), PK ordinal order. */
  key: unknown[];
  op: "upsert" | "delete";
  /** HLC of the last change of the row (delete HLC for deleted keys): the destination's `_cdc_updated`. */
  updated: string;
  /** All columns of the current schema version, table order (absent for deletes). */
  row?: Record<string, unknown>;
}

export interface TruthWindow {
  seq: number;
  resolved: string;
  ts33: string;
  /** Object key of the RESOLVED file relative to the feed prefix. */
  resolvedKey: string;
  /** Keys whose state changed in (previous R, R]. */
  changed: number;
  /** Relative path of the full snapshot for this R, or null. */
  snapshot: string | null;
  /** Schema version (descriptor version) of each table in force at R. */
  versions: Record<string, number>;
}

export interface ManifestColumn {
  name: string;
  /** CockroachDB DDL type, e.g. `DECIMAL(10,2)`, `STRING[]`, `order_status`. */
  type: string;
  nullable: boolean;
  /** Family name with split_column_families, else null. */
  family: string | null;
  hidden: boolean;
  /** ENUM labels (ENUM types only). */
  enumLabels?: string[];
}

export interface ManifestSchemaVersion {
  version: number;
  /** The schema id in file names: unpadded lowercase hex. */
  schemaId: string;
  /** First HLC of this version (null for the initial version). */
  since: string | null;
  change: null | { kind: "backfill" | "nullable"; column: string; default: unknown };
  columns: ManifestColumn[];
}

export interface ManifestTable {
  name: string;
  /** PK column names in PK ordinal order (never sorted). */
  primaryKey: string[];
  pkLess: boolean;
  families: { id: number; name: string; columns: string[]; fileTopic: string; jsonTopic: string }[];
  /** Columns of the final schema version. */
  columns: ManifestColumn[];
  schemaVersions: ManifestSchemaVersion[];
  keyspace: number;
}

export interface Manifest {
  kind: "cdc-delta-emulator-truth";
  truthEncoding: 1;
  options: Record<string, unknown>;
  /** Where the feed was written (local path or azure:// without secrets). */
  feed: string;
  tables: ManifestTable[];
  windows: TruthWindow[];
  initialScan: string | null;
  finalResolved: string | null;
  stats: Record<string, unknown>;
}

export class TruthWriter {
  private deltas!: WriteStream;
  private windows!: WriteStream;
  constructor(readonly dir: string) {}
  async open(): Promise<void> {
    await mkdir(join(this.dir, "snapshots"), { recursive: true });
    this.deltas = createWriteStream(join(this.dir, "deltas.ndjson"));
    this.windows = createWriteStream(join(this.dir, "windows.ndjson"));
  }
  async writeDelta(lines: string): Promise<void> {
    if (lines) await write(this.deltas, lines);
  }
  async writeWindow(w: TruthWindow): Promise<void> {
    await write(this.windows, `${JSON.stringify(w)}\n`);
  }
  async writeSnapshot(rel: string, produce: (emit: (line: string) => Promise<void>) => Promise<void>): Promise<void> {
    const ws = createWriteStream(join(this.dir, rel));
    let buf = "";
    await produce(async (line) => {
      buf += line;
      if (buf.length > 1 << 20) {
        await write(ws, buf);
        buf = "";
      }
    });
    await write(ws, buf);
    await end(ws);
  }
  async close(manifest: Manifest): Promise<void> {
    await end(this.deltas);
    await end(this.windows);
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(this.dir, "manifest.json"), `${JSON.stringify(manifest, null, 1)}\n`);
  }
}

function write(ws: WriteStream, s: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ws.write(s)) return resolve();
    const onError = (e: Error) => {
      ws.off("drain", onDrain);
      reject(e);
    };
    const onDrain = () => {
      ws.off("error", onError);
      resolve();
    };
    ws.once("drain", onDrain);
    ws.once("error", onError);
  });
}

function end(ws: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.end(() => resolve());
    ws.once("error", reject);
  });
}

// ---------------------------------------------------------------------------------------------
// Reading.

export async function loadManifest(truthDir: string): Promise<Manifest> {
  return JSON.parse(await readFile(join(truthDir, "manifest.json"), "utf8")) as Manifest;
}

/** Map key of a truth key array. */
export const keyId = (key: readonly unknown[]): string => JSON.stringify(key);

/** Per table: keyId → TruthRow (live rows op "upsert", deleted keys op "delete"). */
export type TruthState = Map<string, Map<string, TruthRow>>;

async function* lines(path: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  for await (const line of rl) if (line) yield line;
}

/**
 * Stream the truth window by window: yields after applying each window's delta, with the full state
 * at that RESOLVED. The yielded `state` is ONE object mutated in place: copy what you keep.
 */
export async function* readTruth(truthDir: string): AsyncGenerator<{ window: TruthWindow; state: TruthState }> {
  const m = await loadManifest(truthDir);
  const state: TruthState = new Map(m.tables.map((t) => [t.name, new Map()]));
  const deltas = lines(join(truthDir, "deltas.ndjson"))[Symbol.asyncIterator]();
  let pending: TruthRow | null = null;
  for (const w of m.windows) {
    for (;;) {
      if (!pending) {
        const n = await deltas.next();
        if (n.done) break;
        pending = JSON.parse(n.value) as TruthRow;
      }
      if (pending.resolved !== w.resolved) break;
      (state.get(pending.table) as Map<string, TruthRow>).set(keyId(pending.key), pending);
      pending = null;
    }
    yield { window: w, state };
  }
  if (pending) throw new Error(`truth delta for unknown window ${pending.resolved}`);
}

/** Full contents at `resolved` (default: the last RESOLVED). Uses a snapshot when one exists. */
export async function readTruthAt(truthDir: string, resolved?: string): Promise<TruthState> {
  const m = await loadManifest(truthDir);
  const target = resolved ?? m.finalResolved;
  const w = m.windows.find((x) => x.resolved === target);
  if (!w) throw new Error(`no RESOLVED ${target} in truth ${truthDir}`);
  if (w.snapshot) {
    const state: TruthState = new Map(m.tables.map((t) => [t.name, new Map()]));
    for await (const line of lines(join(truthDir, w.snapshot))) {
      const r = JSON.parse(line) as TruthRow;
      (state.get(r.table) as Map<string, TruthRow>).set(keyId(r.key), r);
    }
    return state;
  }
  for await (const { window, state } of readTruth(truthDir)) if (window.resolved === target) return state;
  throw new Error("unreachable");
}
