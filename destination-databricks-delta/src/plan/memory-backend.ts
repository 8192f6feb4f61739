/**
 * An in-memory DestinationBackend that applies every batch with `applyImage`: the oracle backend
 * of the tests (and a stand-in while a real backend is unavailable). Not for production data.
 * Faults can be injected per batch; every call is logged for ordering assertions.
 */
import { COL_FAMILY, COL_GENERATION_ID, COL_UPDATED_LOGICAL, COL_UPDATED_WALL } from "./columns.js";
import { applyImage, keyString, pruneTombstone } from "./apply-image.js";
import { tableRefKey, tempTableRef } from "./names.js";
import { assertSchemaChangeAllowed, planSchemaEvolution } from "./schema-evolution.js";
import type {
  Cell,
  DestinationBackend,
  KeyState,
  MergeBatch,
  StoredRow,
  StreamPreparation,
  TableRef,
  TableSpec,
  Tombstone,
} from "./types.js";

export interface MemoryTable {
  spec: TableSpec;
  /** Merge tables: current rows by keyString. */
  rows: Map<string, StoredRow>;
  tombstones: Map<string, Tombstone>;
  /** History tables: rows in commit order. */
  history: StoredRow[];
  historyIds: Set<string>;
  version: number;
}

export interface MemoryBackendOptions {
  /** Called before each apply; throw (or return a rejected promise) to fail the batch. */
  beforeApply?: (batch: MergeBatch, n: number) => void | Promise<void>;
  /** Simulated commit latency. */
  applyDelayMs?: number;
  /** Current time in µs for tombstone pruning (default: now). */
  nowMicros?: () => bigint;
}

function emptyTable(spec: TableSpec): MemoryTable {
  return { spec, rows: new Map(), tombstones: new Map(), history: [], historyIds: new Set(), version: 0 };
}

export class MemoryBackend implements DestinationBackend {
  /** Tables by tableRefKey (the shared store lets one test run several syncs against it). */
  readonly tables: Map<string, MemoryTable>;
  readonly calls: string[] = [];
  applied = 0;
  closed = false;

  constructor(
    private readonly options: MemoryBackendOptions = {},
    tables?: Map<string, MemoryTable>,
  ) {
    this.tables = tables ?? new Map();
  }

  table(ref: TableRef): MemoryTable | undefined {
    return this.tables.get(tableRefKey(ref));
  }

  /** Live rows of a table (soft tombstones included), sorted by key string. */
  rowsOf(ref: TableRef): StoredRow[] {
    const t = this.table(ref);
    if (!t) return [];
    return t.history.length > 0 ? [...t.history] : [...t.rows.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
  }

  private targetRef(
    prep: { table: TableSpec; generationId?: bigint },
    target: "main" | "overwrite_temp" | undefined,
    gen: bigint,
  ): TableRef {
    return target === "overwrite_temp" ? tempTableRef(prep.table.ref, gen) : prep.table.ref;
  }

  private ensure(ref: TableRef, spec: TableSpec): MemoryTable {
    const k = tableRefKey(ref);
    const existing = this.tables.get(k);
    if (!existing) {
      const t = emptyTable({ ...spec, ref });
      this.tables.set(k, t);
      return t;
    }
    const change = planSchemaEvolution(existing.spec.columns, spec);
    assertSchemaChangeAllowed(change);
    if (change.add.length > 0 || change.retypePlaceholders.length > 0) {
      existing.spec = {
        ...existing.spec,
        columns: [
          ...existing.spec.columns.filter((c) => !change.retypePlaceholders.some((r) => r.existing.name === c.name)),
          ...change.add,
          ...change.retypePlaceholders.map((r) => r.to),
        ],
      };
      for (const row of [...existing.rows.values(), ...existing.history])
        for (const c of change.add) if (!(c.name in row)) row[c.name] = null;
      existing.version++;
    }
    return existing;
  }

  async prepareStream(prep: StreamPreparation): Promise<void> {
    this.calls.push(`prepare ${prep.table.ref.name} ${prep.table.columns.length}`);
    this.ensure(prep.table.ref, prep.table);
    if (prep.target === "overwrite_temp") this.ensure(tempTableRef(prep.table.ref, prep.generationId), prep.table);
  }

  async apply(batch: MergeBatch): Promise<{ version?: number; rowsWritten: number }> {
    const n = ++this.applied;
    this.calls.push(`apply ${batch.table.ref.name} ${batch.batchId}`);
    if (this.options.beforeApply) await this.options.beforeApply(batch, n);
    if (this.options.applyDelayMs) await new Promise((r) => setTimeout(r, this.options.applyDelayMs));
    const gen =
      batch.kind === "merge"
        ? (batch.images[0]?.generationId ?? 0n)
        : BigInt((batch.rows[0]?.values[COL_GENERATION_ID] as bigint | null) ?? 0n);
    const target = batch.kind === "merge" ? batch.target : batch.target;
    const ref = this.targetRef(batch, target, gen);
    const t = this.ensure(ref, batch.table);
    // Apply to copies, then swap in: a failing batch leaves no partial commit.
    if (batch.kind === "merge") {
      const rows = new Map(t.rows);
      const tombs = new Map(t.tombstones);
      const now = this.options.nowMicros?.() ?? BigInt(Date.now()) * 1000n;
      for (const image of batch.images) {
        const ks = keyString(image.key);
        const state: KeyState = { row: rows.get(ks) ?? null, tombstone: tombs.get(ks) ?? null };
        const next = pruneTombstone(applyImage(state, image, batch.deleteMode, t.spec), now, 1e9);
        if (next.row) rows.set(ks, next.row);
        else rows.delete(ks);
        if (next.tombstone) tombs.set(ks, next.tombstone);
        else tombs.delete(ks);
      }
      t.rows = rows;
      t.tombstones = tombs;
    } else {
      const added: StoredRow[] = [];
      for (const r of batch.rows) {
        if (batch.idempotent) {
          const v = r.values;
          const id = `${keyString(batch.table.keyColumns.map((k) => v[k] ?? null))}|${v[COL_UPDATED_WALL]}|${v[COL_UPDATED_LOGICAL]}|${v[COL_FAMILY] ?? "\u0000"}`;
          if (t.historyIds.has(id)) continue;
          t.historyIds.add(id);
        }
        const row: StoredRow = {};
        for (const c of t.spec.columns) row[c.name] = null;
        added.push(Object.assign(row, r.values));
      }
      t.history.push(...added);
    }
    t.version++;
    return { version: t.version, rowsWritten: batch.kind === "merge" ? batch.images.length : batch.rows.length };
  }

  async finishStream(prep: StreamPreparation): Promise<void> {
    this.calls.push(`finish ${prep.table.ref.name}`);
    if (prep.target !== "overwrite_temp") return;
    const tempKey = tableRefKey(tempTableRef(prep.table.ref, prep.generationId));
    const temp = this.tables.get(tempKey) ?? emptyTable(prep.table);
    this.tables.set(tableRefKey(prep.table.ref), {
      ...temp,
      spec: { ...temp.spec, ref: prep.table.ref },
      version: (this.table(prep.table.ref)?.version ?? 0) + 1,
    });
    this.tables.delete(tempKey);
  }

  /** Hard mode: prune tombstones older than the retention (what a backend does at stream start). */
  pruneTombstones(ref: TableRef, nowMicros: bigint, retentionDays: number): void {
    const t = this.table(ref);
    if (!t) return;
    for (const [k, tomb] of t.tombstones) {
      if (pruneTombstone({ row: null, tombstone: tomb }, nowMicros, retentionDays).tombstone === null) t.tombstones.delete(k);
    }
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }
}

export type { Cell };
