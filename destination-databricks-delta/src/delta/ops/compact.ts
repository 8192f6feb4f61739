/**
 * Small-file compaction (OPTIMIZE): files below `smallRows` records are read, key-sorted together and
 * rewritten into files of up to `targetRows`; one commit removes and adds them with
 * `dataChange:false` (readers of the change stream see no data change). Automatic when a table has
 * at least `minSmallFiles` small files; callable directly as `optimize`.
 */
import { type Action, type AddAction, removeFileAction } from "../log/actions.js";
import type { StoredRow } from "../../plan/types.js";
import { compareKeys } from "../table/cells.js";
import type { DeltaTable } from "../table/delta-table.js";
import { statsOf } from "../table/prune.js";
import { keyOfRow } from "./rewrite.js";

export async function optimize(
  table: DeltaTable,
  keyColumns: readonly string[],
  opts: { smallRows: number; targetRows: number; minFiles?: number },
): Promise<{ version?: number; removed: number; added: number } | null> {
  const written: AddAction[] = [];
  let removed = 0;
  const res = await table.commit(
    async (snap) => {
      await table.deleteDataFiles(written.splice(0));
      const small = [...snap.files.values()].filter((a) => {
        const st = statsOf(a, snap.fields);
        return st !== null && Number.isFinite(st.numRecords) && st.numRecords < opts.smallRows;
      });
      if (small.length < Math.max(2, opts.minFiles ?? 2)) return null;
      const names = snap.fields.map((f) => f.name);
      const rows: StoredRow[] = [];
      for (const a of small) rows.push(...(await table.readDataFile(a, names)));
      const keyed = rows.map((r) => ({ k: keyOfRow(r, keyColumns), r }));
      keyed.sort((x, y) => compareKeys(x.k, y.k));
      const now = Date.now();
      const actions: Action[] = small.map((a) => removeFileAction(a, now, false));
      const stats = new Set([...keyColumns, "_cdc_updated_wall"]);
      for (let i = 0; i < keyed.length; i += opts.targetRows) {
        const add = await table.writeDataFile(
          snap.fields,
          keyed.slice(i, i + opts.targetRows).map((x) => x.r),
          stats,
          false,
        );
        written.push(add);
        actions.push({ add });
      }
      removed = small.length;
      return { actions, readsData: false, abandon: () => table.deleteDataFiles(written) };
    },
    { operation: "OPTIMIZE", parameters: { smallFileRows: String(opts.smallRows) } },
  );
  return res ? { version: res.version, removed, added: written.length } : null;
}

export async function maybeCompact(
  table: DeltaTable,
  keyColumns: readonly string[],
  minSmallFiles: number,
  smallRows: number,
  targetRows: number,
) {
  if (minSmallFiles <= 0) return null;
  const snap = await table.current();
  if (!snap) return null;
  let n = 0;
  for (const a of snap.files.values()) {
    const st = statsOf(a, snap.fields);
    if (st && st.numRecords < smallRows) n++;
  }
  if (n < minSmallFiles) return null;
  return optimize(table, keyColumns, { smallRows, targetRows, minFiles: minSmallFiles });
}
