/**
 * A deliberately small, independent Delta reader (no code shared with the destination): replays
 * `_delta_log` (JSON commits after the last checkpoint; classic checkpoints read with hyparquet) to
 * the active files, counts rows from `stats.numRecords` or the parquet footer. Used by the demo,
 * which must work on a machine without Python; the tests compare values with delta-rs instead.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parquetMetadata, parquetReadObjects } from "hyparquet";

export interface DeltaSummary {
  name: string;
  path: string;
  version: number;
  files: number;
  rows: number;
  bytes: number;
  columns: string[];
}

export async function findDeltaTables(root: string, depth = 4): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string, d: number) => {
    if (existsSync(join(dir, "_delta_log"))) {
      out.push(dir);
      return;
    }
    if (d === 0) return;
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => []))
      if (e.isDirectory()) await visit(join(dir, e.name), d - 1);
  };
  await visit(root, depth);
  return out.sort();
}

const toArrayBuffer = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

export async function summarizeDeltaTable(path: string): Promise<DeltaSummary> {
  const log = join(path, "_delta_log");
  const names = await readdir(log);
  const active = new Map<string, { size: number; numRecords?: number }>();
  let schemaString = "";
  let start = -1;
  if (names.includes("_last_checkpoint")) {
    const lc = JSON.parse(await readFile(join(log, "_last_checkpoint"), "utf8")) as { version: number };
    const cp = names.find((n) => n === `${String(lc.version).padStart(20, "0")}.checkpoint.parquet`);
    if (cp) {
      start = lc.version;
      const rows = (await parquetReadObjects({ file: toArrayBuffer(await readFile(join(log, cp))) })) as Array<
        Record<string, any>
      >;
      for (const r of rows) {
        if (r.add) active.set(r.add.path, { size: Number(r.add.size), numRecords: statsRecords(r.add.stats) });
        if (r.metaData) schemaString = r.metaData.schemaString;
      }
    }
  }
  const commits = names.filter((n) => /^\d{20}\.json$/.test(n)).sort();
  let version = start;
  for (const c of commits) {
    const v = Number(c.slice(0, 20));
    if (v <= start) continue;
    version = v;
    for (const line of (await readFile(join(log, c), "utf8")).split("\n")) {
      if (!line.trim()) continue;
      const a = JSON.parse(line) as Record<string, any>;
      if (a.add) active.set(a.add.path, { size: Number(a.add.size), numRecords: statsRecords(a.add.stats) });
      else if (a.remove) active.delete(a.remove.path);
      else if (a.metaData) schemaString = a.metaData.schemaString;
    }
  }
  let rows = 0;
  let bytes = 0;
  for (const [p, f] of active) {
    bytes += f.size;
    if (f.numRecords !== undefined) rows += f.numRecords;
    else {
      const buf = await readFile(join(path, decodeURIComponent(p)));
      rows += Number(parquetMetadata(toArrayBuffer(buf)).num_rows);
    }
  }
  const columns = schemaString ? (JSON.parse(schemaString) as { fields: { name: string }[] }).fields.map((f) => f.name) : [];
  return { name: path.split(/[\\/]/).filter(Boolean).pop() ?? path, path, version, files: active.size, rows, bytes, columns };
}

function statsRecords(stats: unknown): number | undefined {
  if (typeof stats !== "string" || !stats) return undefined;
  try {
    const n = (JSON.parse(stats) as { numRecords?: number }).numRecords;
    return typeof n === "number" ? n : undefined;
  } catch {
    return undefined;
  }
}
