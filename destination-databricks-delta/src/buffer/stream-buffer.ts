/**
 * One contiguous slice of one stream's records, waiting to be committed as one batch
 * (destination-delta.md §4). Merge streams fold into a FoldMap (one entry per key); history streams
 * keep one row per record. Created lazily on the first record, dropped after its flush.
 */
import { estimateValuesBytes, type Fragment, FoldMap } from "../plan/fold.js";
import { historyRow } from "../plan/history.js";
import type { StreamPlan } from "../plan/stream-plan.js";
import type { HistoryRow, MergeBatch } from "../plan/types.js";

export interface AddResult {
  bytesDelta: number;
  conflict: boolean;
  noop: boolean;
}

const HISTORY_ROW_OVERHEAD = 360;

export class StreamBuffer {
  private fold: FoldMap | null;
  private rows: HistoryRow[] | null;
  bytes = 0;
  records = 0;
  readonly createdAt: number;

  constructor(
    readonly seq: number,
    merge: boolean,
    now: number,
  ) {
    this.fold = merge ? new FoldMap() : null;
    this.rows = merge ? null : [];
    this.createdAt = now;
  }

  add(f: Fragment): AddResult {
    this.records++;
    if (this.fold) {
      const r = this.fold.add(f);
      this.bytes += r.bytesDelta;
      return r;
    }
    const bytes = HISTORY_ROW_OVERHEAD + estimateValuesBytes(f.values);
    (this.rows as HistoryRow[]).push(historyRow(f));
    this.bytes += bytes;
    return { bytesDelta: bytes, conflict: false, noop: false };
  }

  /** Number of rows/images the batch will carry. */
  get entries(): number {
    return this.fold ? this.fold.size : (this.rows?.length ?? 0);
  }

  /** The batch for the backend; the buffer's own structures are released. */
  toBatch(plan: StreamPlan, table: StreamPlan["table"], target: "main" | "overwrite_temp", batchId: string): MergeBatch {
    if (this.fold) {
      const images = [...this.fold.images(table.keyColumns)];
      this.fold.clear();
      this.fold = null;
      return { kind: "merge", table, deleteMode: plan.deleteMode, images, target, batchId };
    }
    const rows = this.rows ?? [];
    this.rows = null;
    const idempotent = table.keyColumns.length > 0;
    return target === "main"
      ? { kind: "history", table, rows, idempotent, batchId }
      : { kind: "history", table, rows, idempotent, batchId, target };
  }
}
