/**
 * One Delta table under an object store: its snapshot, creation and schema evolution (metaData
 * replacement = ADD COLUMNS; never a drop or a retype), data-file write/read, and transactions.
 */
import { randomUUID } from "node:crypto";
import type { Cell, StoredRow } from "../../plan/types.js";
import { type Action, type AddAction, type MetadataAction, decodeDataPath, encodeDataPath } from "../log/actions.js";
import { type CommitResult, type Prepared, commitTransaction } from "../log/commit.js";
import { assertSupported, mergeProtocol, sameProtocol, UnsupportedTableError } from "../log/protocol.js";
import { type DeltaField, requiredProtocol, sameType, schemaToString, deltaTypeName } from "../log/schema.js";
import { type Snapshot, loadSnapshot } from "../log/snapshot.js";
import { readParquetRows } from "../parquet/read.js";
import { DATA_ROW_GROUP_ROWS, ParquetColumnsWriter } from "../parquet/write.js";
import type { ObjectStore } from "../store/types.js";
import { StatsAccumulator } from "./stats.js";

export class SchemaConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SchemaConflictError";
  }
}

export interface EvolveResult {
  created: boolean;
  added: string[];
  version: number | null;
}

export interface DataFileWriter {
  rows(): number;
  /** One row group: `column(name)(i)` is row i's cell. */
  append(column: (name: string) => (i: number) => Cell | undefined, length: number): void;
  /** Write the file (unique name) and describe it as an add action. */
  finish(): Promise<AddAction>;
}

export class DeltaTable {
  private snap: Snapshot | null = null;
  private loaded = false;

  constructor(
    readonly store: ObjectStore,
    readonly name: string,
  ) {}

  get location(): string {
    return this.store.location;
  }

  /** Latest snapshot (re-read from the log), or null if the table does not exist. */
  async snapshot(): Promise<Snapshot | null> {
    this.snap = await loadSnapshot(this.store);
    this.loaded = true;
    if (this.snap) {
      assertSupported(this.snap.protocol, this.snap.metadata, this.location);
      if (this.snap.metadata.partitionColumns.length > 0) {
        throw new UnsupportedTableError(`${this.location}: partitioned tables are not supported by the embedded writer`);
      }
    }
    return this.snap;
  }

  /** Snapshot cached from the last read or commit; loads once. */
  async current(): Promise<Snapshot | null> {
    if (!this.loaded) return this.snapshot();
    return this.snap;
  }

  /**
   * Create the table with `fields`, or evolve it: columns missing from the table are appended
   * (nullable), others must keep their type. Existing columns not in `fields` stay.
   */
  async ensureSchema(fields: readonly DeltaField[], opts: { description?: string } = {}): Promise<EvolveResult> {
    const res = await commitTransaction(
      this.store,
      await this.snapshot(),
      async (snap) => {
        if (!snap) {
          const protocol = requiredProtocol(fields);
          const metaData: MetadataAction = {
            id: randomUUID(),
            name: null,
            description: opts.description ?? null,
            format: { provider: "parquet", options: {} },
            schemaString: schemaToString(fields),
            partitionColumns: [],
            configuration: {},
            createdTime: Date.now(),
          };
          return { actions: [{ protocol }, { metaData }], readsData: false };
        }
        const merged = mergeFields(snap.fields, fields, snap.files.size > 0, this.location);
        if (merged.added.length === 0) {
          const need = mergeProtocol(snap.protocol, requiredProtocol(merged.fields));
          if (sameProtocol(need, snap.protocol)) return null;
        }
        const actions: Action[] = [];
        const need = mergeProtocol(snap.protocol, requiredProtocol(merged.fields));
        if (!sameProtocol(need, snap.protocol)) actions.push({ protocol: need });
        if (merged.added.length > 0)
          actions.push({ metaData: { ...snap.metadata, schemaString: schemaToString(merged.fields) } });
        return { actions, readsData: false };
      },
      { operation: "CREATE OR ADD COLUMNS" },
    );
    const before = this.snap;
    await this.snapshot();
    const added =
      before && this.snap ? this.snap.fields.filter((f) => !before.fields.some((b) => b.name === f.name)).map((f) => f.name) : [];
    return { created: !before && !!this.snap, added, version: res?.version ?? null };
  }

  /** Write one parquet data file (unique name) and describe it as an add action. */
  async writeDataFile(
    fields: readonly DeltaField[],
    rows: readonly StoredRow[],
    statsColumns: ReadonlySet<string>,
    dataChange = true,
  ): Promise<AddAction> {
    return this.writeDataFileColumns(fields, (name) => (i) => rows[i]![name], rows.length, statsColumns, dataChange);
  }

  /** Columnar variant: `column(name)(i)` is row i's cell. */
  async writeDataFileColumns(
    fields: readonly DeltaField[],
    column: (name: string) => (i: number) => Cell | undefined,
    length: number,
    statsColumns: ReadonlySet<string>,
    dataChange = true,
  ): Promise<AddAction> {
    // Row group by row group (the same file as one write of `length` rows with row groups of
    // DATA_ROW_GROUP_ROWS): the writer's converted column copies exist for one row group only.
    const w = this.openDataFile(fields, statsColumns, dataChange);
    for (let s = 0; s < length; s += DATA_ROW_GROUP_ROWS) {
      const n = Math.min(DATA_ROW_GROUP_ROWS, length - s);
      w.append((name) => {
        const get = column(name);
        return s === 0 ? get : (i) => get(s + i);
      }, n);
    }
    return w.finish();
  }

  /**
   * A data file written in pieces (one row group per `append`), for rewrites that stream an old file
   * row group by row group. The add's stats are accumulated per piece (bounds and null counts only).
   * `sizeHint`: expected file size in bytes (sizes the output buffer).
   */
  openDataFile(
    fields: readonly DeltaField[],
    statsColumns: ReadonlySet<string>,
    dataChange = true,
    sizeHint?: number,
  ): DataFileWriter {
    const w = new ParquetColumnsWriter(fields, sizeHint === undefined ? {} : { sizeHint });
    const stats = new StatsAccumulator(fields, statsColumns);
    return {
      rows: () => w.rows,
      append: (column, length) => {
        stats.add(column, length);
        w.append(column, length);
      },
      finish: async () => this.storeDataFile(w.finish(), stats.json(), dataChange),
    };
  }

  private async storeDataFile(bytes: Uint8Array, stats: string, dataChange: boolean): Promise<AddAction> {
    const rel = `part-00000-${randomUUID()}-c000.snappy.parquet`;
    await this.store.write(rel, bytes);
    return {
      path: encodeDataPath(rel),
      partitionValues: {},
      size: bytes.length,
      modificationTime: Date.now(),
      dataChange,
      stats,
    };
  }

  async readDataFile(add: AddAction, names: readonly string[]): Promise<StoredRow[]> {
    if (add.deletionVector) throw new UnsupportedTableError(`${this.location}: file ${add.path} has a deletion vector`);
    const rel = fileRelPath(add.path);
    const bytes = await this.store.read(rel);
    if (!bytes) throw new Error(`${this.location}: data file ${rel} is missing`);
    return readParquetRows(bytes, names);
  }

  async deleteDataFiles(adds: readonly AddAction[]): Promise<void> {
    for (const a of adds) await this.store.delete(fileRelPath(a.path)).catch(() => undefined);
  }

  /** Commit one transaction built by `prepare` from the latest snapshot (retried on lost races). */
  async commit(
    prepare: (snap: Snapshot) => Promise<Prepared | null>,
    opts: { operation: string; parameters?: Record<string, string>; batchId?: string },
    from?: Snapshot,
  ): Promise<CommitResult | null> {
    const snap = from ?? (await this.snapshot());
    if (!snap) throw new Error(`${this.location}: table does not exist`);
    const res = await commitTransaction(
      this.store,
      snap,
      async (s) => {
        if (!s) throw new Error(`${this.location}: table disappeared`);
        return prepare(s);
      },
      opts,
    );
    this.loaded = false;
    return res;
  }
}

export function fileRelPath(addPath: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(addPath))
    throw new UnsupportedTableError(`absolute data file paths are not supported: ${addPath}`);
  return decodeDataPath(addPath);
}

function mergeFields(current: readonly DeltaField[], wanted: readonly DeltaField[], hasData: boolean, where: string) {
  const out = [...current];
  const added: string[] = [];
  const byLower = new Map(current.map((f) => [f.name.toLowerCase(), f]));
  for (const w of wanted) {
    const have = byLower.get(w.name.toLowerCase());
    if (!have) {
      const f = { ...w, nullable: hasData ? true : w.nullable };
      out.push(f);
      added.push(w.name);
      byLower.set(w.name.toLowerCase(), f);
      continue;
    }
    if (have.name !== w.name)
      throw new SchemaConflictError(`${where}: column ${w.name} collides with existing ${have.name} (case-insensitive)`);
    if (!sameType(have.type, w.type)) {
      throw new SchemaConflictError(
        `${where}: column ${w.name} is ${deltaTypeName(have.type)} in the table but ${deltaTypeName(w.type)} in the catalog; retyping is not supported`,
      );
    }
  }
  return { fields: out, added };
}
