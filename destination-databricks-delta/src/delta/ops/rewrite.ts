/**
 * Copy-on-write building blocks shared by MERGE, the tombstone table and compaction:
 * `readByKeys` finds the rows of the candidate files that hold batch keys (key columns first, the
 * other columns only for files with a match; only the matching rows are kept); `rewriteActions`
 * re-reads the changed files and writes their rows (updated, deleted, plus inserts) key-sorted into
 * new files and returns `remove(old) + add(new)`.
 */
import { type Action, type AddAction, removeFileAction } from "../log/actions.js";
import type { Cell, StoredRow } from "../../plan/types.js";
import type { DeltaField } from "../log/schema.js";
import type { Snapshot } from "../log/snapshot.js";
import { readParquetColumns } from "../parquet/read.js";
import { compareKeys } from "../table/cells.js";
import { type DeltaTable, fileRelPath } from "../table/delta-table.js";
import { candidateFiles } from "../table/prune.js";
import type { BatchKeys } from "./batch-keys.js";

export interface KeyedRead {
  /** The candidate files holding at least one batch key. */
  files: AddAction[];
  /**
   * batch key position -> (file index, row index, the stored row). Only these rows are kept: the
   * files are re-read by `rewriteActions` (a merge holds the batch keys' rows, not whole files).
   */
  found: Map<number, { file: number; row: number; values: StoredRow }>;
  candidates: number;
}

export function keyOfRow(row: StoredRow, keyColumns: readonly string[]): Cell[] {
  return keyColumns.map((k) => row[k] ?? null);
}

export async function readByKeys(
  table: DeltaTable,
  snap: Snapshot,
  keyColumns: readonly string[],
  batch: BatchKeys,
): Promise<KeyedRead> {
  const cands = candidateFiles(snap.files.values(), snap.fields, keyColumns, batch.keys);
  const names = snap.fields.map((f) => f.name);
  type Hit = { k: number; row: number; values: StoredRow };
  // Read candidates with bounded parallelism.
  const results: ({ add: AddAction; hits: Hit[] } | null)[] = new Array(cands.length).fill(null);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= cands.length) return;
      const add = cands[i]!;
      if (add.deletionVector) throw new Error(`${table.location}: file ${add.path} has a deletion vector`);
      const bytes = await table.store.read(fileRelPath(add.path));
      if (!bytes) throw new Error(`${table.location}: data file ${add.path} is missing`);
      const keys = await readParquetColumns(bytes, keyColumns);
      const cols = keyColumns.map((k) => keys.columns.get(k) ?? []);
      const hits: Hit[] = [];
      const match = batch.matcher();
      for (let r = 0; r < keys.numRows; r++) {
        const k = match.at(cols, r);
        if (k >= 0) hits.push({ k, row: r, values: {} });
      }
      if (hits.length === 0) continue;
      const data = await readParquetColumns(bytes, names);
      for (const h of hits) for (const n of names) h.values[n] = data.columns.get(n)?.[h.row] ?? null;
      results[i] = { add, hits };
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, cands.length) }, worker));
  const files: AddAction[] = [];
  const found = new Map<number, { file: number; row: number; values: StoredRow }>();
  for (const res of results) {
    if (!res) continue;
    const fi = files.length;
    files.push(res.add);
    for (const h of res.hits) found.set(h.k, { file: fi, row: h.row, values: h.values });
  }
  return { files, found, candidates: cands.length };
}

/**
 * New content for the files whose index is in `dirty` (their rows, some replaced by `replaced`
 * (null = deleted)), plus `inserts`; everything key-sorted and cut into files of `targetRows`.
 */
export async function rewriteActions(
  table: DeltaTable,
  fields: readonly DeltaField[],
  keyColumns: readonly string[],
  statsColumns: ReadonlySet<string>,
  read: KeyedRead,
  replaced: Map<number, Map<number, StoredRow | null>>,
  inserts: StoredRow[],
  targetRows: number,
  written: AddAction[],
): Promise<Action[]> {
  const actions: Action[] = [];
  const rows: StoredRow[] = [...inserts];
  const now = Date.now();
  const names = fields.map((f) => f.name);
  for (const [fi, changes] of replaced) {
    const add = read.files[fi]!;
    const stored = await table.readDataFile(add, names);
    stored.forEach((r, ri) => {
      const c = changes.get(ri);
      if (c === undefined) rows.push(r);
      else if (c !== null) rows.push(c);
    });
    actions.push(removeFileAction(add, now));
  }
  if (rows.length > 0) {
    const keyed = rows.map((r) => ({ k: keyOfRow(r, keyColumns), r }));
    keyed.sort((a, b) => compareKeys(a.k, b.k));
    const sorted = keyed.map((x) => x.r);
    const chunks = Math.max(1, Math.ceil(sorted.length / targetRows));
    const per = Math.ceil(sorted.length / chunks);
    for (let i = 0; i < sorted.length; i += per) {
      const add = await table.writeDataFile(fields, sorted.slice(i, i + per), statsColumns);
      written.push(add);
      actions.push({ add });
    }
  }
  return actions;
}

/** Run `fn` over `items` with at most `limit` in flight. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Write rows key-sorted (sorting only if needed) into files of at most `targetRows`, sizes balanced. */
export async function writeSorted(
  table: DeltaTable,
  fields: readonly DeltaField[],
  keyColumns: readonly string[],
  statsColumns: ReadonlySet<string>,
  rows: StoredRow[],
  targetRows: number,
): Promise<AddAction[]> {
  if (rows.length === 0) return [];
  let sorted = true;
  let prev = keyOfRow(rows[0]!, keyColumns);
  for (let i = 1; i < rows.length && sorted; i++) {
    const k = keyOfRow(rows[i]!, keyColumns);
    if (compareKeys(prev, k) > 0) sorted = false;
    prev = k;
  }
  if (!sorted) {
    const keyed = rows.map((r) => ({ k: keyOfRow(r, keyColumns), r }));
    keyed.sort((a, b) => compareKeys(a.k, b.k));
    rows = keyed.map((x) => x.r);
  }
  const out: AddAction[] = [];
  const chunks = Math.max(1, Math.ceil(rows.length / targetRows));
  const per = Math.ceil(rows.length / chunks);
  for (let i = 0; i < rows.length; i += per) out.push(await table.writeDataFile(fields, rows.slice(i, i + per), statsColumns));
  return out;
}
