/**
 * The family-aware MERGE, executed copy-on-write: for one batch of images (one per key), the files
 * whose key statistics cover batch keys are read, each stored row (and, in hard mode, its tombstone)
 * goes through `applyImage` (plan/apply-image.ts: THE merge result), and the changed files are
 * rewritten key-sorted together with the inserted rows. Hard mode commits the tombstone table first,
 * then the main table (a crash leaves a tombstone without its delete, never the reverse). Each table
 * changes in one commit (`remove(old) + add(new)`). A lost race recomputes from the new snapshot.
 */
import { type Action, type AddAction, removeFileAction } from "../log/actions.js";
import { applyImage as defaultApply } from "../../plan/apply-image.js";
import type { Cell, DeleteMode, Image, KeyState, StoredRow, TableSpec, Tombstone } from "../../plan/types.js";
import type { Snapshot } from "../log/snapshot.js";
import { cellsEqual } from "../table/cells.js";
import type { DeltaTable } from "../table/delta-table.js";
import { rowToTombstone, statsColumnsOf, tombstoneSpec, tombstoneToRow } from "../table/layout.js";
import { type ColumnarData, type OpenedParquet, openParquet } from "../parquet/read.js";
import { fileRelPath } from "../table/delta-table.js";
import { candidateFiles } from "../table/prune.js";
import { BatchKeys } from "./batch-keys.js";
import { type KeyedRead, forEachLimited, readByKeys, rewriteActions, writeSorted } from "./rewrite.js";

export type ApplyImageFn = (state: KeyState, image: Image, deleteMode: DeleteMode, table?: TableSpec) => KeyState;

export interface MergeTarget {
  main: DeltaTable;
  /** Hard mode companion table (must exist). */
  tombstones: DeltaTable | null;
  spec: TableSpec;
  deleteMode: DeleteMode;
}

export interface MergeOptions {
  apply?: ApplyImageFn;
  targetFileRows?: number;
  batchId?: string;
  maxAttempts?: number;
}

export interface MergeResult {
  version?: number;
  rowsWritten: number;
  filesRead: number;
  filesRewritten: number;
}

class Restart extends Error {}

function tombEqual(a: Tombstone | null, b: Tombstone | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.hlc.wall === b.hlc.wall &&
    a.hlc.logical === b.hlc.logical &&
    a.deletedAtMicros === b.deletedAtMicros &&
    a.generationId === b.generationId
  );
}

/** Fill every table column (NULL when the image did not say) and the key cells. */
function completeRow(row: StoredRow, names: readonly string[], keyColumns: readonly string[], key: readonly Cell[]): StoredRow {
  const out: StoredRow = {};
  for (const n of names) out[n] = row[n] ?? null;
  keyColumns.forEach((k, i) => {
    if (out[k] === null) out[k] = key[i] ?? null;
  });
  return out;
}

/** Remove the rows with `keep[r] = 0` from every column, in place; returns the rows left. */
function dropDeleted(data: ColumnarData, keep: Uint8Array): number {
  if (keep.indexOf(0) < 0) return data.numRows;
  let n = 0;
  for (const c of data.columns.values()) {
    n = 0;
    for (let r = 0; r < data.numRows; r++) if (keep[r]) c[n++] = c[r]!;
    c.length = n;
  }
  if (data.columns.size === 0) for (let r = 0; r < data.numRows; r++) if (keep[r]) n++;
  data.numRows = n;
  return n;
}

export async function mergeBatch(target: MergeTarget, images: readonly Image[], opts: MergeOptions = {}): Promise<MergeResult> {
  const apply = opts.apply ?? defaultApply;
  const targetRows = opts.targetFileRows ?? 131_072;
  const { spec, deleteMode } = target;
  const keyColumns = spec.keyColumns;
  if (keyColumns.length === 0) throw new Error(`table ${spec.ref.name}: MERGE needs a primary key`);
  // The batch keys in key order, with their images (several images of one key apply in input order).
  const batch = new BatchKeys(images);
  const hard = deleteMode === "hard" && target.tombstones !== null;
  const tspec = hard ? tombstoneSpec(spec) : null;
  const maxAttempts = opts.maxAttempts ?? 10;

  for (let attempt = 1; ; attempt++) {
    try {
      return await mergeOnce();
    } catch (e) {
      if (!(e instanceof Restart) || attempt >= maxAttempts) throw e;
    }
  }

  async function mergeOnce(): Promise<MergeResult> {
    // 1. Current tombstones of the batch keys.
    const tombTable = target.tombstones;
    const tombSnap = hard && tombTable ? await tombTable.snapshot() : null;
    let tombRead: KeyedRead | null = null;
    /** Stored tombstones by batch key position. */
    const oldTomb = new Map<number, Tombstone>();
    if (tombSnap && tombTable) {
      tombRead = await readByKeys(tombTable, tombSnap, keyColumns, batch);
      for (const [k, loc] of tombRead.found) oldTomb.set(k, rowToTombstone(loc.values));
    }
    // 2. Stream the candidate files of the main table: a file holding batch keys is read, its rows
    //    go through applyImage, and it is rewritten (not yet committed) only if a row changed.
    //    Memory stays bounded by a few files, whatever the table size.
    const mainSnap = await target.main.snapshot();
    if (!mainSnap) throw new Error(`${target.main.location}: table does not exist`);
    const names = mainSnap.fields.map((f) => f.name);
    const stats = statsColumnsOf(spec);
    const cands = candidateFiles(mainSnap.files.values(), mainSnap.fields, keyColumns, batch.keys);
    const written: AddAction[] = [];
    const removes: AddAction[] = [];
    // per batch key position: matched by a stored row; the tombstone after the batch (hard mode)
    const matched = new Uint8Array(batch.size);
    const newTomb: (Tombstone | null | undefined)[] = hard ? new Array(batch.size) : [];
    let rowsWritten = 0;
    let filesRead = 0;
    const applyAll = (k: number, st: KeyState): KeyState => {
      const ims = batch.images[k]!;
      if (Array.isArray(ims)) for (const im of ims) st = apply(st, im, deleteMode, spec);
      else st = apply(st, ims, deleteMode, spec);
      if (hard) newTomb[k] = st.tombstone;
      return st;
    };
    /** Rows of the file whose key is in the batch, and their batch key positions (key columns only, one row group at a time). */
    const hitRows = async (file: OpenedParquet): Promise<{ rows: number[]; keys: number[] }> => {
      const rows: number[] = [];
      const keys: number[] = [];
      const match = batch.matcher();
      for (const [g0, g1] of file.rowGroups) {
        const keyCols = await file.read(keyColumns, g0, g1);
        const kc = keyColumns.map((k) => keyCols.columns.get(k) ?? []);
        for (let r = 0; r < keyCols.numRows; r++) {
          const k = match.at(kc, r);
          if (k >= 0) {
            rows.push(g0 + r);
            keys.push(k);
          }
        }
      }
      return { rows, keys };
    };
    /** Apply the batch to stored row `r` of `data`, whose key is batch key `k` (in place; `keep[r] = 0` when deleted); 1 if it changed. */
    const applyRow = (data: ColumnarData, r: number, k: number, keep: Uint8Array): number => {
      const before: StoredRow = {};
      for (const name of names) before[name] = data.columns.get(name)?.[r] ?? null;
      matched[k] = 1;
      const st = applyAll(k, { row: before, tombstone: oldTomb.get(k) ?? null });
      const after = st.row ? completeRow(st.row, names, keyColumns, batch.keys[k]!) : null;
      if (after === null) {
        keep[r] = 0;
        return 1;
      }
      // both rows hold exactly `names` (before: read; after: completeRow)
      let same = true;
      for (const name of names) if (!cellsEqual(before[name], after[name])) same = false;
      if (same) return 0;
      for (const name of names) {
        let c = data.columns.get(name);
        if (!c) data.columns.set(name, (c = new Array<Cell>(data.numRows).fill(null)));
        c[r] = after[name] ?? null;
      }
      return 1;
    };
    try {
      await forEachLimited(cands, 1, async (add) => {
        if (add.deletionVector) throw new Error(`${target.main.location}: file ${add.path} has a deletion vector`);
        const bytes = await target.main.store.read(fileRelPath(add.path));
        if (!bytes) throw new Error(`${target.main.location}: data file ${add.path} is missing`);
        const file = openParquet(bytes);
        const hits = await hitRows(file);
        if (hits.rows.length === 0) return;
        filesRead++;
        if (file.numRows <= targetRows) {
          // Stream the file row group by row group (a rewrite never grows a file, so it stays one
          // output file): memory is one decoded row group, not the whole file.
          const out = target.main.openDataFile(mainSnap.fields, stats, true, bytes.length);
          let changed = 0;
          let h = 0;
          for (const [g0, g1] of file.rowGroups) {
            const data = await file.read(names, g0, g1);
            const keep = new Uint8Array(data.numRows).fill(1);
            for (; h < hits.rows.length && hits.rows[h]! < g1; h++)
              changed += applyRow(data, hits.rows[h]! - g0, hits.keys[h]!, keep);
            const kept = dropDeleted(data, keep);
            out.append((name) => {
              const c = data.columns.get(name);
              return c ? (i) => c[i] : () => null;
            }, kept);
          }
          if (changed === 0) return;
          rowsWritten += changed;
          removes.push(add);
          if (out.rows() > 0) written.push(await out.finish());
          return;
        }
        // Larger than an output file (written by another engine): whole file, cut into balanced files.
        // Columnar: rows stay in column arrays; only hit rows become objects.
        const data = await file.read(names, 0, file.numRows);
        const n = data.numRows;
        const keep = new Uint8Array(n).fill(1);
        let changed = 0;
        hits.rows.forEach((r, h) => {
          changed += applyRow(data, r, hits.keys[h]!, keep);
        });
        if (changed === 0) return;
        rowsWritten += changed;
        removes.push(add);
        const idx: number[] = [];
        for (let r = 0; r < n; r++) if (keep[r]) idx.push(r);
        const chunks = Math.max(1, Math.ceil(idx.length / targetRows));
        const per = Math.ceil(idx.length / chunks);
        for (let s0 = 0; s0 < idx.length; s0 += per) {
          const len = Math.min(per, idx.length - s0);
          const a = await target.main.writeDataFileColumns(
            mainSnap.fields,
            (name) => {
              const c = data.columns.get(name);
              return c ? (i) => c[idx[s0 + i]!] : () => null;
            },
            len,
            stats,
          );
          written.push(a);
        }
      });
      // Keys in no file: inserts (or tombstones only).
      const inserts: StoredRow[] = [];
      for (let k = 0; k < batch.size; k++) {
        if (matched[k]) continue;
        const st = applyAll(k, { row: null, tombstone: oldTomb.get(k) ?? null });
        if (st.row) inserts.push(completeRow(st.row, names, keyColumns, batch.keys[k]!));
      }
      rowsWritten += inserts.length;
      for (const a of await writeSorted(target.main, mainSnap.fields, keyColumns, stats, inserts, targetRows)) written.push(a);
    } catch (e) {
      await target.main.deleteDataFiles(written);
      throw e;
    }
    // 3. Tombstones first (hard mode): a crash then leaves a tombstone without its delete, never the reverse.
    if (tombTable && tombSnap && tspec && tombRead) {
      const tombReplaced = new Map<number, Map<number, StoredRow | null>>();
      const tombInserts: StoredRow[] = [];
      for (let k = 0; k < newTomb.length; k++) {
        const t = newTomb[k];
        if (t === undefined || tombEqual(oldTomb.get(k) ?? null, t)) continue;
        const trow = t ? tombstoneToRow(keyColumns, batch.keys[k]!, t) : null;
        const tloc = tombRead.found.get(k);
        if (tloc) {
          let m = tombReplaced.get(tloc.file);
          if (!m) tombReplaced.set(tloc.file, (m = new Map()));
          m.set(tloc.row, trow);
        } else if (trow) tombInserts.push(trow);
      }
      if (tombReplaced.size > 0 || tombInserts.length > 0) {
        const read = tombRead;
        try {
          await commitOnce(tombTable, tombSnap, "MERGE", async (w) =>
            rewriteActions(
              tombTable,
              tombSnap.fields,
              keyColumns,
              statsColumnsOf(tspec),
              read,
              tombReplaced,
              tombInserts,
              targetRows,
              w,
            ),
          );
        } catch (e) {
          await target.main.deleteDataFiles(written);
          throw e;
        }
      }
    }
    // 4. Main table: remove(old) + add(new) in one version.
    if (written.length === 0 && removes.length === 0) {
      return { version: mainSnap.version, rowsWritten: 0, filesRead, filesRewritten: 0 };
    }
    const now = Date.now();
    const actions: Action[] = [...removes.map((a) => removeFileAction(a, now)), ...written.map((add) => ({ add }))];
    const version = await commitOnce(target.main, mainSnap, "MERGE", async (w) => {
      w.push(...written);
      return actions;
    });
    return { version, rowsWritten, filesRead, filesRewritten: removes.length };
  }

  /** Commit actions computed from the snapshot just read; a conflicting race restarts the merge. */
  async function commitOnce(
    table: DeltaTable,
    from: Snapshot,
    operation: string,
    build: (written: AddAction[]) => Promise<Action[]>,
  ): Promise<number> {
    const written: AddAction[] = [];
    let calls = 0;
    const res = await table.commit(
      async () => {
        if (calls++ > 0) throw new Restart("recompute after a conflicting commit");
        return { actions: await build(written), readsData: true, abandon: () => table.deleteDataFiles(written) };
      },
      {
        operation,
        parameters: { predicate: `merge on ${keyColumns.join(", ")}` },
        ...(opts.batchId ? { batchId: opts.batchId } : {}),
      },
      from,
    );
    if (!res) throw new Error("merge commit produced no version");
    return res.version;
  }
}
