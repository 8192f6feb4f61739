/**
 * Hard mode: tombstones older than the retention (default 7 days, longer than the source's replay
 * window) are dropped from `<table>__cdc_tombstones` at stream start (destination-delta.md §3 P4),
 * by `pruneTombstone` (plan/apply-image.ts). Files without an expired tombstone are not rewritten.
 */
import { type Action, type AddAction, removeFileAction } from "../log/actions.js";
import { pruneTombstone } from "../../plan/apply-image.js";
import { COL_DELETED_AT, COL_GENERATION_ID, COL_UPDATED_LOGICAL, COL_UPDATED_WALL } from "../../plan/columns.js";
import { readParquetColumns } from "../parquet/read.js";
import { type DeltaTable, fileRelPath } from "../table/delta-table.js";
import { rowToTombstone } from "../table/layout.js";

export async function pruneTombstones(
  table: DeltaTable,
  keyColumns: readonly string[],
  nowMicros: bigint,
  retentionDays: number,
): Promise<{ pruned: number; version?: number }> {
  const written: AddAction[] = [];
  let pruned = 0;
  const res = await table.commit(
    async (snap) => {
      await table.deleteDataFiles(written.splice(0));
      pruned = 0;
      const names = snap.fields.map((f) => f.name);
      const actions: Action[] = [];
      const now = Date.now();
      for (const add of snap.files.values()) {
        const bytes = await table.store.read(fileRelPath(add.path));
        if (!bytes) throw new Error(`${table.location}: data file ${add.path} missing`);
        const meta = await readParquetColumns(bytes, [COL_UPDATED_WALL, COL_UPDATED_LOGICAL, COL_DELETED_AT, COL_GENERATION_ID]);
        const keep: number[] = [];
        for (let i = 0; i < meta.numRows; i++) {
          const t = rowToTombstone({
            [COL_UPDATED_WALL]: meta.columns.get(COL_UPDATED_WALL)?.[i] ?? null,
            [COL_UPDATED_LOGICAL]: meta.columns.get(COL_UPDATED_LOGICAL)?.[i] ?? null,
            [COL_DELETED_AT]: meta.columns.get(COL_DELETED_AT)?.[i] ?? null,
            [COL_GENERATION_ID]: meta.columns.get(COL_GENERATION_ID)?.[i] ?? null,
          });
          if (pruneTombstone({ row: null, tombstone: t }, nowMicros, retentionDays).tombstone !== null) keep.push(i);
        }
        if (keep.length === meta.numRows) continue;
        pruned += meta.numRows - keep.length;
        actions.push(removeFileAction(add, now));
        if (keep.length === 0) continue;
        const all = await readParquetColumns(bytes, names);
        const a = await table.writeDataFileColumns(
          snap.fields,
          (n) => {
            const c = all.columns.get(n);
            return c ? (i) => c[keep[i]!] : () => null;
          },
          keep.length,
          new Set([...keyColumns, COL_UPDATED_WALL]),
        );
        written.push(a);
        actions.push({ add: a });
      }
      if (actions.length === 0) return null;
      return { actions, readsData: true, abandon: () => table.deleteDataFiles(written) };
    },
    { operation: "DELETE", parameters: { predicate: `tombstones older than ${retentionDays} days` } },
  );
  return { pruned, ...(res ? { version: res.version } : {}) };
}
