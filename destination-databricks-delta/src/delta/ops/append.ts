/**
 * History writes (append modes): every fragment becomes a row. With `idempotent`, a row whose
 * (pk, _cdc_updated_wall, _cdc_updated_logical, _cdc_family) is already stored is skipped (the
 * embedded form of the insert-only MERGE); only files whose `_cdc_updated_wall` range overlaps the
 * batch are read, and later syncs carry later HLCs, so a replay reads only the table's tail.
 */
import { COL_FAMILY, COL_UPDATED_LOGICAL, COL_UPDATED_WALL } from "../../plan/columns.js";
import type { HistoryRow, StoredRow, TableSpec } from "../../plan/types.js";
import type { AddAction } from "../log/actions.js";
import { readParquetColumns } from "../parquet/read.js";
import { compareCells, keyId } from "../table/cells.js";
import { type DeltaTable, fileRelPath } from "../table/delta-table.js";
import { statsColumnsOf } from "../table/layout.js";
import { statsOf } from "../table/prune.js";

export interface AppendOptions {
  targetFileRows?: number;
  batchId?: string;
}

function identity(row: StoredRow, keyColumns: readonly string[]): string {
  return keyId([
    ...keyColumns.map((k) => row[k] ?? null),
    row[COL_UPDATED_WALL] ?? null,
    row[COL_UPDATED_LOGICAL] ?? null,
    row[COL_FAMILY] ?? null,
  ]);
}

export async function appendHistory(
  table: DeltaTable,
  spec: TableSpec,
  rows: readonly HistoryRow[],
  idempotent: boolean,
  opts: AppendOptions = {},
): Promise<{ version?: number; rowsWritten: number }> {
  const targetRows = opts.targetFileRows ?? 131_072;
  const idCols = [...spec.keyColumns, COL_UPDATED_WALL, COL_UPDATED_LOGICAL, COL_FAMILY];
  const written: AddAction[] = [];
  let rowsWritten = 0;
  const res = await table.commit(
    async (snap) => {
      await table.deleteDataFiles(written.splice(0));
      const names = snap.fields.map((f) => f.name);
      let todo: StoredRow[] = rows.map((r) => {
        const o: StoredRow = {};
        for (const n of names) o[n] = r.values[n] ?? null;
        return o;
      });
      if (idempotent && todo.length > 0) {
        const seen = new Set<string>();
        let lo = todo[0]![COL_UPDATED_WALL] ?? null;
        let hi = lo;
        for (const r of todo) {
          const w = r[COL_UPDATED_WALL] ?? null;
          if (compareCells(w, lo) < 0) lo = w;
          if (compareCells(w, hi) > 0) hi = w;
        }
        const wf = snap.fields.filter((f) => f.name === COL_UPDATED_WALL);
        for (const add of snap.files.values()) {
          const st = statsOf(add, wf);
          const fmin = st?.min.get(COL_UPDATED_WALL);
          const fmax = st?.max.get(COL_UPDATED_WALL);
          if (fmin !== undefined && fmax !== undefined && (compareCells(fmax, lo) < 0 || compareCells(fmin, hi) > 0)) continue;
          const bytes = await table.store.read(fileRelPath(add.path));
          if (!bytes) throw new Error(`${table.location}: data file ${add.path} missing`);
          const { numRows, columns } = await readParquetColumns(bytes, idCols);
          for (let i = 0; i < numRows; i++) {
            const r: StoredRow = {};
            for (const c of idCols) r[c] = columns.get(c)?.[i] ?? null;
            seen.add(identity(r, spec.keyColumns));
          }
        }
        todo = todo.filter((r) => {
          const id = identity(r, spec.keyColumns);
          if (seen.has(id)) return false;
          seen.add(id);
          return true;
        });
      }
      rowsWritten = todo.length;
      if (todo.length === 0) return null;
      const actions = [];
      for (let i = 0; i < todo.length; i += targetRows) {
        const add = await table.writeDataFile(snap.fields, todo.slice(i, i + targetRows), statsColumnsOf(spec));
        written.push(add);
        actions.push({ add });
      }
      return { actions, readsData: idempotent, abandon: async () => undefined };
    },
    {
      operation: "WRITE",
      parameters: { mode: idempotent ? "Append (idempotent)" : "Append" },
      ...(opts.batchId ? { batchId: opts.batchId } : {}),
    },
  );
  return { ...(res ? { version: res.version } : {}), rowsWritten };
}
