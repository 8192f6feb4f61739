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
import { cellsEqual, compareKeys, keyId } from "../table/cells.js";
import type { DeltaTable } from "../table/delta-table.js";
import { rowToTombstone, statsColumnsOf, tombstoneSpec, tombstoneToRow } from "../table/layout.js";
import { type ColumnarData, openParquet, readParquetColumns } from "../parquet/read.js";
import { fileRelPath } from "../table/delta-table.js";
import { candidateFiles } from "../table/prune.js";
import { type KeyedRead, forEachLimited, keyOfRow, readByKeys, rewriteActions, writeSorted } from "./rewrite.js";

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

export async function mergeBatch(target: MergeTarget, images: readonly Image[], opts: MergeOptions = {}): Promise<MergeResult> {
  const apply = opts.apply ?? defaultApply;
  const targetRows = opts.targetFileRows ?? 131_072;
  const { spec, deleteMode } = target;
  const keyColumns = spec.keyColumns;
  if (keyColumns.length === 0) throw new Error(`table ${spec.ref.name}: MERGE needs a primary key`);
  // One image per key, key-sorted (several images of one key are applied in order).
  const order = images.map((im, i) => ({ im, i, id: keyId(im.key) }));
  order.sort((a, b) => compareKeys(a.im.key, b.im.key) || a.i - b.i);
  const sortedKeys: Cell[][] = [];
  const ids = new Set<string>();
  const imagesById = new Map<string, Image[]>();
  const keyById = new Map<string, Cell[]>();
  for (const o of order) {
    const list = imagesById.get(o.id);
    if (list) list.push(o.im);
    else {
      imagesById.set(o.id, [o.im]);
      keyById.set(o.id, o.im.key);
      ids.add(o.id);
      sortedKeys.push(o.im.key);
    }
  }
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
    const oldTomb = new Map<string, Tombstone>();
    if (tombSnap && tombTable) {
      tombRead = await readByKeys(tombTable, tombSnap, keyColumns, sortedKeys, ids);
      for (const [id, loc] of tombRead.found) oldTomb.set(id, rowToTombstone(tombRead.files[loc.file]!.rows[loc.row]!));
    }
    // 2. Stream the candidate files of the main table: a file holding batch keys is read, its rows
    //    go through applyImage, and it is rewritten (not yet committed) only if a row changed.
    //    Memory stays bounded by a few files, whatever the table size.
    const mainSnap = await target.main.snapshot();
    if (!mainSnap) throw new Error(`${target.main.location}: table does not exist`);
    const names = mainSnap.fields.map((f) => f.name);
    const stats = statsColumnsOf(spec);
    const cands = candidateFiles(mainSnap.files.values(), mainSnap.fields, keyColumns, sortedKeys);
    const written: AddAction[] = [];
    const removes: AddAction[] = [];
    const matched = new Set<string>();
    const newTomb = new Map<string, Tombstone | null>();
    let rowsWritten = 0;
    let filesRead = 0;
    const applyAll = (id: string, st: KeyState): KeyState => {
      for (const im of imagesById.get(id)!) st = apply(st, im, deleteMode, spec);
      if (hard) newTomb.set(id, st.tombstone);
      return st;
    };
    /** Rows of the file whose key is in the batch (key columns only; released on return). */
    const hitRows = async (bytes: Uint8Array): Promise<number[]> => {
      const keyCols = await readParquetColumns(bytes, keyColumns);
      const kc = keyColumns.map((k) => keyCols.columns.get(k) ?? []);
      const hits: number[] = [];
      for (let r = 0; r < keyCols.numRows; r++) if (ids.has(keyId(kc.map((c) => c[r] ?? null)))) hits.push(r);
      return hits;
    };
    /** Apply the batch to stored row `r` of `data` (in place; `keep[r] = 0` when deleted); 1 if it changed. */
    const applyRow = (data: ColumnarData, r: number, keep: Uint8Array): number => {
      const before: StoredRow = {};
      for (const name of names) before[name] = data.columns.get(name)?.[r] ?? null;
      const key = keyOfRow(before, keyColumns);
      const id = keyId(key);
      matched.add(id);
      const st = applyAll(id, { row: before, tombstone: oldTomb.get(id) ?? null });
      const after = st.row ? completeRow(st.row, names, keyColumns, key) : null;
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
        const hits = await hitRows(bytes);
        if (hits.length === 0) return;
        filesRead++;
        const file = openParquet(bytes);
        if (file.numRows <= targetRows) {
          // Stream the file row group by row group (a rewrite never grows a file, so it stays one
          // output file): memory is one decoded row group, not the whole file.
          const out = target.main.openDataFile(mainSnap.fields, stats);
          let changed = 0;
          let h = 0;
          for (const [g0, g1] of file.rowGroups) {
            const data = await file.read(names, g0, g1);
            const m = g1 - g0;
            const keep = new Uint8Array(m).fill(1);
            while (h < hits.length && hits[h]! < g1) changed += applyRow(data, hits[h++]! - g0, keep);
            const idx: number[] = [];
            for (let r = 0; r < m; r++) if (keep[r]) idx.push(r);
            out.append((name) => {
              const c = data.columns.get(name);
              return c ? (i) => c[idx[i]!] : () => null;
            }, idx.length);
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
        for (const r of hits) changed += applyRow(data, r, keep);
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
      for (const [id, key] of keyById) {
        if (matched.has(id)) continue;
        const st = applyAll(id, { row: null, tombstone: oldTomb.get(id) ?? null });
        if (st.row) inserts.push(completeRow(st.row, names, keyColumns, key));
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
      for (const [id, t] of newTomb) {
        if (tombEqual(oldTomb.get(id) ?? null, t)) continue;
        const trow = t ? tombstoneToRow(keyColumns, keyById.get(id)!, t) : null;
        const tloc = tombRead.found.get(id);
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
