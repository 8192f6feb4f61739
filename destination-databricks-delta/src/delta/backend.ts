/**
 * `createDeltaBackend(target, logger)`: the embedded DestinationBackend. Tables live at
 * `<root>/<namespace or default>/<stream>` (+ `__cdc_tombstones`, `__tmp_g<generation>`) on a local
 * folder or an Azure Blob container. Wiring only: the work is in ops/ (merge, append, swap,
 * compaction), table/ (snapshot, schema, files), log/ (actions, replay, atomic commit, checkpoints).
 */
import { configError, type Logger } from "@cdc-delta/shared";
import { COL_UPDATED_WALL } from "../plan/columns.js";
import { assertSchemaChangeAllowed, planSchemaEvolution } from "../plan/schema-evolution.js";
import { deltaTypeName } from "./log/schema.js";
import { tableRefKey, tempTableRef, tombstoneTableRef } from "../plan/names.js";
import type {
  Cell,
  ColumnDef,
  DeltaType,
  DestinationBackend,
  MergeBatch,
  StreamPreparation,
  TableRef,
  TableSpec,
} from "../plan/types.js";
import type { DeltaField } from "./log/schema.js";
import { maybeCheckpoint } from "./log/checkpoint-write.js";
import { appendHistory } from "./ops/append.js";
import { maybeCompact } from "./ops/compact.js";
import { pruneTombstones } from "./ops/prune-tombstones.js";
import { castCell, retypeColumns } from "./ops/retype.js";
import { mergeBatch } from "./ops/merge.js";
import { swapInTemp } from "./ops/swap.js";
import { tableDir } from "./paths.js";
import { AzureStore, type AzureTargetConfig } from "./store/azure.js";
import { LocalStore } from "./store/local.js";
import type { ObjectStore } from "./store/types.js";
import { DeltaTable } from "./table/delta-table.js";
import { fieldsOf, tombstoneSpec } from "./table/layout.js";

export interface DeltaTuning {
  /** Rows per rewritten data file (merge output is cut at this size). */
  target_file_rows?: number;
  /** Write a classic checkpoint every N commits (0 = never). */
  checkpoint_interval?: number;
  /** Compact when a table has more than this many files smaller than `small_file_rows` (0 = never). */
  compaction_min_small_files?: number;
  small_file_rows?: number;
}

export type LocalTargetConfig = { type: "local"; path: string } & DeltaTuning;
export type DeltaTargetConfig = LocalTargetConfig | (AzureTargetConfig & DeltaTuning);

type Adapt = Map<string, { name: string; from: DeltaType; to: DeltaType }>;

interface StreamTables {
  adapt: Adapt;
  prep: StreamPreparation;
  spec: TableSpec;
  main: DeltaTable;
  tombstones: DeltaTable | null;
  temp: DeltaTable | null;
  tempTombstones: DeltaTable | null;
}

function usesTemp(prep: StreamPreparation): boolean {
  return prep.target === "overwrite_temp" || prep.mode === "overwrite";
}

function toColumnDefs(fields: readonly DeltaField[], spec: TableSpec): ColumnDef[] {
  return fields.map((f) => ({
    name: f.name,
    sourceName: f.metadata["cdc.original_name"] ?? f.name,
    type: f.type,
    nullable: f.nullable,
    family: null,
    keyIndex: spec.keyColumns.indexOf(f.name) >= 0 ? spec.keyColumns.indexOf(f.name) : null,
    metadata: f.metadata,
  }));
}

export class DeltaBackend implements DestinationBackend {
  private readonly streams = new Map<string, StreamTables>();
  private readonly tuning: Required<DeltaTuning>;

  constructor(
    readonly root: ObjectStore,
    private readonly logger: Logger,
    tuning: DeltaTuning = {},
  ) {
    this.tuning = {
      target_file_rows: tuning.target_file_rows ?? 131_072,
      checkpoint_interval: tuning.checkpoint_interval ?? 10,
      compaction_min_small_files: tuning.compaction_min_small_files ?? 32,
      small_file_rows: tuning.small_file_rows ?? 20_000,
    };
  }

  table(ref: TableRef, suffix = ""): DeltaTable {
    const dir = tableDir(ref, suffix);
    return new DeltaTable(this.root.sub(dir), dir);
  }

  private async ensure(table: DeltaTable, spec: TableSpec): Promise<Adapt> {
    const snap = await table.snapshot();
    const change = planSchemaEvolution(snap ? toColumnDefs(snap.fields, spec) : null, spec);
    assertSchemaChangeAllowed(change);
    if (change.create || change.add.length > 0) {
      const r = await table.ensureSchema(
        fieldsOf(spec.columns.filter((c) => !change.placeholderOverTyped.some((p) => p.spec.name === c.name))),
      );
      if (r.created) this.logger.info(`created Delta table ${table.location}`);
      if (r.added.length > 0) this.logger.info(`added columns ${r.added.join(", ")} to ${table.location}`);
    }
    const retypes = [...change.retypePlaceholders, ...change.widen];
    if (retypes.length > 0) {
      const what = retypes
        .map((c) => `${c.existing.name} ${deltaTypeName(c.existing.type)} -> ${deltaTypeName(c.to.type)}`)
        .join(", ");
      const r = await retypeColumns(table, retypes, new Set([...spec.keyColumns, COL_UPDATED_WALL]));
      this.logger.info(`re-typed ${what} in ${table.location} (rewrite, version ${r.version})`);
      if (r.nulled > 0)
        this.logger.warn(`${table.location}: ${r.nulled} value(s) did not cast while re-typing ${what} and became NULL`);
    }
    // Spec columns written under the table's name (letter case) and/or cast to the table's type.
    const adapt: Adapt = new Map();
    for (const c of change.caseMapped) adapt.set(c.spec.name, { name: c.existing.name, from: c.spec.type, to: c.existing.type });
    for (const c of change.placeholderOverTyped)
      adapt.set(c.spec.name, { name: c.existing.name, from: c.spec.type, to: c.existing.type });
    return adapt;
  }

  async prepareStream(prep: StreamPreparation): Promise<void> {
    const spec = prep.table;
    const ref = spec.ref;
    const merges = prep.mode === "append_dedup" || prep.mode === "overwrite";
    const hard = merges && prep.deleteMode === "hard";
    const main = this.table(ref);
    const tombstones = hard ? this.table(tombstoneTableRef(ref)) : null;
    let temp: DeltaTable | null = null;
    let tempTombstones: DeltaTable | null = null;
    const adapt = await this.ensure(main, spec);
    if (tombstones) {
      await this.ensure(tombstones, tombstoneSpec(spec));
      const days = prep.tombstoneRetentionDays ?? 7;
      const r = await pruneTombstones(tombstones, spec.keyColumns, BigInt(Date.now()) * 1000n, days);
      if (r.pruned > 0) this.logger.info(`pruned ${r.pruned} tombstone(s) older than ${days} days from ${tombstones.location}`);
    }
    if (usesTemp(prep)) {
      const tref = tempTableRef(ref, prep.generationId);
      temp = this.table(tref);
      await this.ensure(temp, { ...spec, ref: tref });
      if (hard) {
        tempTombstones = this.table(tombstoneTableRef(tref));
        await this.ensure(tempTombstones, tombstoneSpec({ ...spec, ref: tref }));
      }
    }
    this.streams.set(tableRefKey(ref), { prep, spec, main, tombstones, temp, tempTombstones, adapt });
  }

  private stream(ref: TableRef): StreamTables {
    const s = this.streams.get(tableRefKey(ref));
    if (!s) throw new Error(`stream table ${ref.namespace ?? "default"}.${ref.name} was not prepared`);
    return s;
  }

  /** Rename (letter case) / cast (placeholder over a typed column) cells to the table's columns. */
  private adaptCells(values: Iterable<[string, Cell]>, adapt: Adapt): [string, Cell][] {
    const out: [string, Cell][] = [];
    for (const [k, v] of values) {
      const a = adapt.get(k);
      if (!a) out.push([k, v]);
      else {
        let c: Cell = v;
        if (deltaTypeName(a.from) !== deltaTypeName(a.to)) {
          try {
            c = castCell(v, a.from, a.to);
          } catch {
            c = null;
            this.logger.warnRateLimited(
              `cast:${a.name}`,
              `column ${a.name}: value ${String(v).slice(0, 40)} does not cast to ${deltaTypeName(a.to)}; written as NULL`,
            );
          }
        }
        out.push([a.name, c]);
      }
    }
    return out;
  }

  private adaptBatch(batch: MergeBatch, adapt: Adapt): MergeBatch {
    if (adapt.size === 0) return batch;
    const rename = (n: string) => adapt.get(n)?.name ?? n;
    const table: TableSpec = {
      ...batch.table,
      columns: batch.table.columns.map((c) => ({ ...c, name: rename(c.name) })),
      keyColumns: batch.table.keyColumns.map(rename),
    };
    if (batch.kind === "merge") {
      return {
        ...batch,
        table,
        images: batch.images.map((im) => ({
          ...im,
          present: new Set([...im.present].map(rename)),
          values: new Map(this.adaptCells(im.values, adapt)),
        })),
      };
    }
    return {
      ...batch,
      table,
      rows: batch.rows.map((r) => ({ values: Object.fromEntries(this.adaptCells(Object.entries(r.values), adapt)) })),
    };
  }

  async apply(input: MergeBatch): Promise<{ version?: number; rowsWritten: number }> {
    const s = this.stream(input.table.ref);
    const batch = this.adaptBatch(input, s.adapt);
    const toTemp = batch.target === "overwrite_temp";
    if (toTemp && !s.temp)
      throw new Error(`${batch.table.ref.name}: batch targets the overwrite temp table, but the stream was prepared without one`);
    const table = toTemp ? s.temp! : s.main;
    let res: { version?: number; rowsWritten: number };
    if (batch.kind === "merge") {
      const tombs = batch.deleteMode === "hard" ? (toTemp ? s.tempTombstones : s.tombstones) : null;
      if (batch.deleteMode === "hard" && !tombs)
        throw new Error(`${batch.table.ref.name}: hard deletes need the tombstone table (prepareStream with deleteMode hard)`);
      const r = await mergeBatch(
        { main: table, tombstones: tombs, spec: batch.table, deleteMode: batch.deleteMode },
        batch.images,
        { targetFileRows: this.tuning.target_file_rows, batchId: batch.batchId },
      );
      res = { ...(r.version === undefined ? {} : { version: r.version }), rowsWritten: r.rowsWritten };
      if (tombs) await this.maintain(tombs, batch.table.keyColumns);
    } else {
      res = await appendHistory(table, batch.table, batch.rows, batch.idempotent, {
        targetFileRows: this.tuning.target_file_rows,
        batchId: batch.batchId,
      });
    }
    await this.maintain(table, batch.table.keyColumns);
    return res;
  }

  /** Checkpoint / compaction after a commit; failures here never fail the (already durable) batch. */
  private async maintain(table: DeltaTable, keyColumns: readonly string[]): Promise<void> {
    try {
      await maybeCompact(
        table,
        keyColumns,
        this.tuning.compaction_min_small_files,
        this.tuning.small_file_rows,
        this.tuning.target_file_rows,
      );
      await maybeCheckpoint(table, this.tuning.checkpoint_interval);
    } catch (e) {
      this.logger.warn(`maintenance of ${table.location} failed (data is committed): ${(e as Error).message}`);
    }
  }

  async finishStream(prep: StreamPreparation): Promise<void> {
    const s = this.stream(prep.table.ref);
    if (!s.temp) return;
    const ref = prep.table.ref;
    const tref = tempTableRef(ref, prep.generationId);
    if (s.tempTombstones && s.tombstones) {
      await swapInTemp(
        this.root,
        s.tombstones,
        tableDir(tombstoneTableRef(ref)),
        s.tempTombstones,
        tableDir(tombstoneTableRef(tref)),
      );
    }
    const v = await swapInTemp(this.root, s.main, tableDir(ref), s.temp, tableDir(tref));
    this.logger.info(`overwrite of ${s.main.location} committed as version ${v}`);
  }

  async check(): Promise<void> {
    const probe = `_cdc_check_${process.pid}_${Date.now()}`;
    const data = Buffer.from("check");
    try {
      if (!(await this.root.putIfAbsent(`${probe}/probe`, data))) throw new Error("probe object already exists");
      const back = await this.root.read(`${probe}/probe`);
      if (!back || Buffer.from(back).toString() !== "check") throw new Error("probe object did not read back");
    } finally {
      await this.root.deletePrefix(probe).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.streams.clear();
  }
}

export function createDeltaBackend(target: DeltaTargetConfig, logger: Logger): DestinationBackend {
  const tuning: DeltaTuning = target;
  if (target.type === "local") {
    if (!target.path) throw configError("target.path is required for the local Delta target");
    return new DeltaBackend(new LocalStore(target.path), logger, tuning);
  }
  if (target.type === "azure") return new DeltaBackend(AzureStore.fromConfig(target), logger, tuning);
  throw configError(`unknown embedded Delta target type ${(target as { type: string }).type}`);
}
