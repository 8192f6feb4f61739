/**
 * The workload and its orchestration: a seeded stream of transactions over N tables, applied to a
 * compact per-table state (the truth), turned into family fragments (messages) for the emitter, with
 * RESOLVED windows closed on a fixed HLC grid. See docs/emulator.md.
 */
import { type Hlc, compareHlc, formatHlc, formatTs33, hlcUtcDateParts } from "@cdc-delta/shared";
import { Emitter, type EmitOptions, type ParquetEncoder } from "./emitter.js";
import { type Layout, type Message, makeLayout } from "./model.js";
import { Prng } from "./prng.js";
import { type ObjectSink, sinkFor } from "./sink.js";
import { type ColumnDef, TEMPLATES, type TableTemplate, genValue } from "./tables.js";
import { type Manifest, type ManifestColumn, type ManifestSchemaVersion, type TruthWindow, TruthWriter } from "./truth.js";
import { type Value, ddlType, truthValue } from "./types.js";

export interface EmulatorOptions {
  /** Local directory, `azure://container/prefix?AZURE_ACCOUNT_NAME=…&AZURE_ACCOUNT_KEY=…[&AZURE_ENDPOINT=…]`, or `null:`. */
  out: string;
  /** Truth directory; default `<out>-truth` (local out) or required otherwise. `null` = write no truth. */
  truth?: string | null;
  tables: number;
  /** Row changes after the initial scan (inserts, updates, deletes; DDL not counted). */
  changes: number;
  seed: number;
  format: "json" | "parquet";
  compression: "none" | "gzip" | "zstd";
  /** split_column_families: multi-family tables, `table+family` topics. */
  families: boolean;
  partition: "daily" | "hourly" | "flat";
  envelope: "wrapped" | "bare";
  diff: boolean;
  mvccTimestamp: boolean;
  topicInValue: boolean;
  /** What an UPDATE nulling a whole non-primary family emits (unverified): a delete for that family, or an all-NULL upsert. */
  nullFamily: "delete" | "upsert";
  /** Whether a row delete emits a delete for families that held no data (unverified). */
  deleteEmptyFamilies: "emit" | "omit";
  /** Key-space size per table (live + deleted rows are bounded by it); default from changes/tables. */
  keyspace?: number;
  /** Rows per table before the changefeed starts (emitted by the initial scan). */
  initialRows?: number;
  /** RESOLVED cadence in ms of HLC time (default max(1000, gapMs·changes/2600): ≈ ≤ 2000 windows), and mean gap between transactions. */
  resolvedMs: number;
  gapMs: number;
  /** Probability per window of an idle gap of 2-5 windows after it (empty windows). */
  idleRate: number;
  /** Probability that a window's flush also carries 1-3 later transactions (rows > R before R.RESOLVED). */
  lookaheadRate: number;
  /** Flush mid-window once this many messages are buffered (default max(2000, changes/500)). */
  flushRows: number;
  /** Max rows per data file (default max(1000, changes/1000)). */
  fileRows: number;
  nodes: number;
  duplicateRate: number;
  restartRate: number;
  /** Apply each table's schema change (tables 0..2) at 40/60/80 % of the changes. */
  schemaChanges: boolean;
  /** Probability that a backfill is also emitted under the old schema id. */
  backfillOldIdRate: number;
  /** Full truth snapshots: at every RESOLVED, only the final one, or every Nth (+ final). Default: all when changes ≤ 20000, else final. */
  truthSnapshots: "all" | "final" | number;
  /** First RESOLVED / initial-scan wall time (epoch ns). Default 2025-03-14T23:59:50Z (runs cross midnight). */
  startWall: bigint;
  /** Extra hook for Parquet (set automatically when format = parquet). */
  parquetEncoder?: ParquetEncoder;
  /** Custom sink instead of `out`. */
  sink?: ObjectSink;
}

export const DEFAULT_OPTIONS: Omit<EmulatorOptions, "out"> = {
  tables: 3,
  changes: 1000,
  seed: 1,
  format: "json",
  compression: "none",
  families: false,
  partition: "daily",
  envelope: "wrapped",
  diff: false,
  mvccTimestamp: false,
  topicInValue: false,
  nullFamily: "delete",
  deleteEmptyFamilies: "omit",
  resolvedMs: 1000,
  gapMs: 20,
  idleRate: 0.1,
  lookaheadRate: 0.3,
  flushRows: 2000,
  fileRows: 1000,
  nodes: 3,
  duplicateRate: 0.01,
  restartRate: 0.02,
  schemaChanges: true,
  backfillOldIdRate: 0.5,
  truthSnapshots: "all",
  startWall: BigInt(Date.UTC(2025, 2, 14, 23, 59, 50)) * 1_000_000n,
};

export interface Summary {
  out: string;
  truthDir: string | null;
  changes: number;
  transactions: number;
  windows: number;
  firstResolved: string;
  finalResolved: string;
  dataFiles: number;
  resolvedFiles: number;
  messages: number;
  duplicates: number;
  replayedMessages: number;
  restarts: number;
  runIds: string[];
  bytes: number;
  liveRows: Record<string, number>;
  deletedKeys: Record<string, number>;
  millis: number;
}

class IndexSet {
  readonly items: Int32Array;
  readonly pos: Int32Array;
  size = 0;
  constructor(n: number) {
    this.items = new Int32Array(n);
    this.pos = new Int32Array(n).fill(-1);
  }
  add(i: number): void {
    if (this.pos[i] !== -1) return;
    this.items[this.size] = i;
    this.pos[i] = this.size++;
  }
  remove(i: number): void {
    const p = this.pos[i] as number;
    if (p === -1) return;
    const last = this.items[--this.size] as number;
    this.items[p] = last;
    this.pos[last] = p;
    this.pos[i] = -1;
  }
  pick(rng: Prng): number {
    return this.items[rng.int(this.size)] as number;
  }
}

class TableRt {
  layout: Layout;
  readonly versions: ManifestSchemaVersion[] = [];
  readonly rows: (Value[] | undefined)[];
  readonly wall: BigInt64Array;
  readonly logical: Uint32Array;
  readonly live: IndexSet;
  readonly deleted: IndexSet;
  nextUnused = 0;
  dirty = new Set<number>();
  changeApplied = false;
  constructor(
    readonly idx: number,
    readonly tmpl: TableTemplate,
    readonly keyspace: number,
    readonly split: boolean,
  ) {
    this.layout = makeLayout(tmpl, tmpl.columns, tmpl.initialVersion, split);
    this.versions.push(this.versionEntry(null, null));
    this.rows = new Array(keyspace);
    this.wall = new BigInt64Array(keyspace);
    this.logical = new Uint32Array(keyspace);
    this.live = new IndexSet(keyspace);
    this.deleted = new IndexSet(keyspace);
  }
  private readonly keys: (Value[] | undefined)[] = [];
  /** PK values of key-space index i (cached: the key space is bounded). */
  keyOf(i: number): Value[] {
    let k = this.keys[i];
    if (!k) this.keys[i] = k = this.tmpl.keyOf(i);
    return k;
  }
  get name(): string {
    return this.tmpl.name;
  }
  versionEntry(since: Hlc | null, change: ManifestSchemaVersion["change"]): ManifestSchemaVersion {
    return {
      version: this.layout.version,
      schemaId: this.layout.version.toString(16),
      since: since && formatHlc(since),
      change,
      columns: manifestColumns(this.layout, this.split),
    };
  }
  hlcOf(i: number): Hlc {
    return { wall: this.wall[i] as bigint, logical: this.logical[i] as number };
  }
  setHlc(i: number, h: Hlc): void {
    this.wall[i] = h.wall;
    this.logical[i] = h.logical;
    this.dirty.add(i);
  }
  famValues(row: readonly Value[], f: number, layout = this.layout): Value[] {
    return (layout.families[f] as { cols: readonly number[] }).cols.map((c) => row[c] as Value);
  }
  hasData(row: readonly Value[], f: number): boolean {
    if (f === 0) return true;
    for (const c of (this.layout.families[f] as { cols: readonly number[] }).cols) if (row[c] !== null) return true;
    return false;
  }
}

function manifestColumns(layout: Layout, split: boolean): ManifestColumn[] {
  return layout.columns.map((c) => {
    const mc: ManifestColumn = {
      name: c.name,
      type: ddlType(c.type),
      nullable: c.nullable,
      family: split
        ? (layout.families.find((f) => f.cols.includes(layout.columns.indexOf(c))) as { def: { name: string } }).def.name
        : null,
      hidden: c.hidden === true,
    };
    if (c.type.k === "ENUM") mc.enumLabels = [...c.type.labels];
    return mc;
  });
}

const addNs = (h: Hlc, ns: bigint): Hlc => ({ wall: h.wall + ns, logical: 0 });

export function resolveOptions(o: Partial<EmulatorOptions> & { out: string }): EmulatorOptions {
  const changes = o.changes ?? DEFAULT_OPTIONS.changes;
  const gapMs = o.gapMs ?? DEFAULT_OPTIONS.gapMs;
  // Large runs: longer windows and bigger files (≈ ≤ 2000 windows), like a production feed; small runs keep many windows.
  const scaled = {
    truthSnapshots: changes <= 20000 ? ("all" as const) : ("final" as const),
    resolvedMs: Math.max(DEFAULT_OPTIONS.resolvedMs, Math.round((gapMs * changes) / 2600)),
    flushRows: Math.max(DEFAULT_OPTIONS.flushRows, Math.round(changes / 500)),
    fileRows: Math.max(DEFAULT_OPTIONS.fileRows, Math.round(changes / 1000)),
  };
  const opts: EmulatorOptions = {
    ...DEFAULT_OPTIONS,
    ...scaled,
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
    out: o.out,
  } as EmulatorOptions;
  if (opts.tables < 1) throw new Error("--tables must be ≥ 1");
  if (opts.envelope === "bare" && opts.format !== "json") throw new Error("bare envelope is JSON only");
  if (opts.format === "parquet" && opts.compression === "none") opts.compression = "none";
  return opts;
}

export async function generateChangefeed(input: Partial<EmulatorOptions> & { out: string }): Promise<Summary> {
  const started = Date.now();
  const opts = resolveOptions(input);
  const truthDir =
    opts.truth === null ? null : (opts.truth ?? (/^[a-z]+:/.test(opts.out) ? null : `${opts.out.replace(/\/+$/, "")}-truth`));
  if (opts.truth === undefined && truthDir === null && opts.out !== "null:")
    throw new Error("--truth <dir> is required for a non-local --out");
  const sink = opts.sink ?? sinkFor(opts.out);
  const location = sink.location ?? sink.description ?? opts.out;
  const base = new Prng(opts.seed);
  const wl = base.fork("workload");
  const em = base.fork("emission");
  let parquet: ParquetEncoder | null = opts.parquetEncoder ?? null;
  if (opts.format === "parquet" && !parquet) parquet = (await import("./parquet.js")).encodeParquet;
  const emitOpts: EmitOptions = {
    format: opts.format,
    compression: opts.compression,
    partition: opts.partition,
    envelope: opts.envelope,
    diff: opts.diff,
    mvccTimestamp: opts.mvccTimestamp,
    topicInValue: opts.topicInValue,
    nodes: opts.nodes,
    fileRows: opts.fileRows,
    duplicateRate: opts.duplicateRate,
    restartRate: opts.restartRate,
  };
  const emitter = new Emitter(emitOpts, sink, em.fork("files"), parquet);
  const truth = truthDir ? new TruthWriter(truthDir) : null;
  await truth?.open();

  const ks = opts.keyspace ?? Math.min(20000, Math.max(16, Math.ceil(opts.changes / opts.tables / 8)));
  const tables: TableRt[] = [];
  for (let t = 0; t < opts.tables; t++) {
    const tmpl = TEMPLATES[t % TEMPLATES.length] as TableTemplate;
    const suffix = t < TEMPLATES.length ? "" : `_${Math.floor(t / TEMPLATES.length) + 1}`;
    tables.push(new TableRt(t, suffix ? { ...tmpl, name: tmpl.name + suffix } : tmpl, ks, opts.families));
  }
  const initialRows = Math.min(ks, opts.initialRows ?? Math.floor(ks * 0.3));
  const intervalNs = BigInt(Math.round(opts.resolvedMs * 1e6));
  const gapNs = Math.max(2, Math.round(opts.gapMs * 1e6));
  // idleRate is per window: spread it over the expected transactions of a window.
  const idlePerTxn = Math.min(1, opts.idleRate / Math.max(1, opts.resolvedMs / opts.gapMs));

  const windows: TruthWindow[] = [];
  const resolvedKey = (r: Hlc) => {
    const { date, hour } = hlcUtcDateParts(r);
    const part = opts.partition === "flat" ? "" : opts.partition === "daily" ? `${date}/` : `${date}/${hour}/`;
    return `${part}${formatTs33(r)}.RESOLVED`;
  };
  const snapshotDue = (seq: number, final: boolean) =>
    final || opts.truthSnapshots === "all" || (typeof opts.truthSnapshots === "number" && seq % opts.truthSnapshots === 0);

  // ---- truth --------------------------------------------------------------------------------
  const rowLine = (t: TableRt, i: number, resolved: string): string => {
    const key = t.keyOf(i).map((v, p) => truthValue((t.layout.columns[t.layout.pk[p] as number] as ColumnDef).type, v));
    const updated = formatHlc(t.hlcOf(i));
    const row = t.rows[i];
    if (!row) return `${JSON.stringify({ resolved, table: t.name, key, op: "delete", updated })}\n`;
    const obj: Record<string, unknown> = {};
    t.layout.columns.forEach((c, ci) => {
      obj[c.name] = truthValue(c.type, row[ci] as Value);
    });
    return `${JSON.stringify({ resolved, table: t.name, key, op: "upsert", updated, row: obj })}\n`;
  };
  let seq = 0;
  const closeTruthWindow = async (r: Hlc, final: boolean) => {
    const resolved = formatHlc(r);
    let changed = 0;
    for (const t of tables) {
      if (truth && t.dirty.size > 0) {
        let buf = "";
        for (const i of [...t.dirty].sort((a, b) => a - b)) {
          buf += rowLine(t, i, resolved);
          if (buf.length > 1 << 20) {
            await truth.writeDelta(buf);
            buf = "";
          }
        }
        await truth.writeDelta(buf);
      }
      changed += t.dirty.size;
      t.dirty = new Set();
    }
    let snapshot: string | null = null;
    if (truth && snapshotDue(seq, final)) {
      snapshot = `snapshots/${formatTs33(r)}.ndjson`;
      await truth.writeSnapshot(snapshot, async (emit) => {
        for (const t of tables)
          for (let i = 0; i < t.nextUnused; i++) if (t.rows[i] || t.deleted.pos[i] !== -1) await emit(rowLine(t, i, resolved));
      });
    }
    const w: TruthWindow = {
      seq,
      resolved,
      ts33: formatTs33(r),
      resolvedKey: resolvedKey(r),
      changed,
      snapshot,
      versions: Object.fromEntries(tables.map((t) => [t.name, t.layout.version])),
    };
    windows.push(w);
    await truth?.writeWindow(w);
    seq++;
  };

  // ---- changes ------------------------------------------------------------------------------
  const emit = (
    t: TableRt,
    i: number,
    f: number,
    after: Value[] | null,
    before: Value[] | null,
    op: Message["op"],
    updated: Hlc,
    mvcc: Hlc,
    layout = t.layout,
    beforeLayout = layout,
  ) => {
    emitter.add({ tableIdx: t.idx, layout, fam: f, index: i, key: t.keyOf(i), after, before, beforeLayout, updated, mvcc, op });
  };
  const nonPk = (t: TableRt, f: number) =>
    (t.layout.families[f] as { cols: readonly number[] }).cols.filter((c) => !t.layout.pk.includes(c));

  const insert = (t: TableRt, i: number, h: Hlc, emitting: boolean) => {
    const key = t.keyOf(i);
    const row: Value[] = t.layout.columns.map((c) => genValue(wl, c.type, c.nullable));
    t.layout.pk.forEach((ci, p) => {
      row[ci] = key[p] as Value;
    });
    if (t.layout.families.length > 1 && wl.chance(0.2)) {
      for (const c of nonPk(t, 1 + wl.int(t.layout.families.length - 1))) row[c] = null;
    }
    if (t.deleted.pos[i] !== -1) t.deleted.remove(i);
    if (i >= t.nextUnused) t.nextUnused = i + 1;
    t.rows[i] = row;
    t.live.add(i);
    t.setHlc(i, h);
    if (!emitting) return;
    t.layout.families.forEach((_, f) => {
      if (t.hasData(row, f)) emit(t, i, f, t.famValues(row, f), null, "c", h, h);
    });
  };

  const update = (t: TableRt, i: number, h: Hlc) => {
    const old = t.rows[i] as Value[];
    const row = old.slice();
    const nf = t.layout.families.length;
    let touched: number[];
    let nulled = -1;
    const withData = t.layout.families.map((_, f) => f).filter((f) => f > 0 && t.hasData(old, f));
    const r = wl.float();
    if (nf > 1 && r < 0.15 && withData.length > 0) {
      nulled = wl.pick(withData);
      for (const c of nonPk(t, nulled)) row[c] = null;
      touched = [nulled];
    } else {
      touched = nf === 1 || r < 0.6 ? [wl.int(nf)] : t.layout.families.map((_, f) => f).filter(() => wl.chance(0.5));
      if (touched.length === 0) touched = [wl.int(nf)];
      for (const f of touched) {
        const cols = nonPk(t, f);
        let any = false;
        for (const c of cols) {
          if (wl.chance(0.6)) {
            const cd = t.layout.columns[c] as ColumnDef;
            row[c] = genValue(wl, cd.type, cd.nullable);
            any = true;
          }
        }
        if (!any && cols.length > 0) {
          const c = wl.pick(cols);
          const cd = t.layout.columns[c] as ColumnDef;
          row[c] = genValue(wl, cd.type, cd.nullable);
        }
        if (f > 0 && !t.hasData(row, f) && cols.length > 0) {
          const c = cols[0] as number;
          row[c] = genValue(wl, (t.layout.columns[c] as ColumnDef).type, false);
        }
      }
    }
    t.rows[i] = row;
    t.setHlc(i, h);
    for (const f of touched.sort((a, b) => a - b)) {
      const before = t.hasData(old, f) ? t.famValues(old, f) : null;
      if (f === nulled) {
        if (opts.nullFamily === "delete") emit(t, i, f, null, before, "d", h, h);
        else emit(t, i, f, t.famValues(row, f), before, opts.diff ? "u" : "c", h, h);
      } else {
        emit(t, i, f, t.famValues(row, f), before, opts.diff && before ? "u" : "c", h, h);
      }
    }
  };

  const remove = (t: TableRt, i: number, h: Hlc) => {
    const old = t.rows[i] as Value[];
    t.layout.families.forEach((_, f) => {
      if (t.hasData(old, f)) emit(t, i, f, null, t.famValues(old, f), "d", h, h);
      else if (opts.deleteEmptyFamilies === "emit") emit(t, i, f, null, null, "d", h, h);
    });
    t.rows[i] = undefined;
    t.live.remove(i);
    t.deleted.add(i);
    t.setHlc(i, h);
  };

  const schemaChange = (t: TableRt, h: Hlc) => {
    const sc = t.tmpl.schemaChange;
    const oldLayout = t.layout;
    t.layout = makeLayout(t.tmpl, [...oldLayout.columns, sc.column], oldLayout.version + sc.versionStep, opts.families);
    t.versions.push(
      t.versionEntry(h, {
        kind: sc.kind,
        column: sc.column.name,
        default: sc.column.defaultValue === undefined ? null : truthValue(sc.column.type, sc.column.defaultValue),
      }),
    );
    const dupOld = sc.kind === "backfill" && em.chance(opts.backfillOldIdRate);
    for (let p = 0; p < t.live.size; p++) {
      const i = t.live.items[p] as number;
      const old = t.rows[i] as Value[];
      const row = [...old, sc.kind === "backfill" ? (sc.column.defaultValue as Value) : null];
      t.rows[i] = row;
      t.dirty.add(i);
      if (sc.kind !== "backfill") continue;
      t.setHlc(i, h);
      t.layout.families.forEach((_, f) => {
        if (!t.hasData(row, f)) return;
        const before = opts.diff ? t.famValues(old, f, oldLayout) : null;
        emit(t, i, f, t.famValues(row, f), before, opts.diff ? "u" : "c", h, h, t.layout, oldLayout);
        if (dupOld) emit(t, i, f, t.famValues(old, f, oldLayout), before, opts.diff ? "u" : "c", h, h, oldLayout, oldLayout);
      });
    }
  };

  // ---- windows ------------------------------------------------------------------------------
  const S: Hlc = { wall: opts.startWall, logical: 0 };
  let boundary = S;
  let pending: Hlc | null = null;
  let lookaheadLeft = 0;
  const finishPending = async () => {
    if (!pending) return;
    const r = pending;
    pending = null;
    const ts = emitter.chooseFlushTs(r, em.chance(0.3));
    if (!ts) throw new Error(`internal: no flush timestamp available for RESOLVED ${formatHlc(r)}`);
    await emitter.resolved(r, ts);
  };
  const advanceTo = async (h: Hlc) => {
    while (compareHlc(h, boundary) > 0) {
      await finishPending();
      await closeTruthWindow(boundary, false);
      pending = boundary;
      lookaheadLeft = em.chance(opts.lookaheadRate) ? em.range(1, 3) : 0;
      boundary = addNs(boundary, intervalNs);
      if (lookaheadLeft === 0) await finishPending();
    }
  };

  // ---- pre-population and initial scan ------------------------------------------------------
  let h: Hlc = { wall: S.wall - 30_000_000_000n, logical: 0 };
  for (const t of tables) {
    for (let k = 0; k < initialRows; k++) {
      h = addNs(h, BigInt(1 + wl.int(Math.max(1, Math.floor(20_000_000_000 / (initialRows * tables.length + 1))))));
      insert(t, t.nextUnused, h, false);
    }
  }
  for (const t of tables) {
    for (let p = 0; p < t.live.size; p++) {
      const i = t.live.items[p] as number;
      const row = t.rows[i] as Value[];
      const mvcc = t.hlcOf(i);
      t.layout.families.forEach((_, f) => {
        if (t.hasData(row, f)) emit(t, i, f, t.famValues(row, f), null, "c", S, mvcc);
      });
      t.setHlc(i, S);
    }
  }
  await closeTruthWindow(S, false);
  await emitter.resolved(S, S);
  boundary = addNs(S, intervalNs);

  // ---- live workload ------------------------------------------------------------------------
  const ddlAt = opts.schemaChanges
    ? tables.slice(0, 3).map((t, k) => ({ t, at: Math.floor(opts.changes * (0.4 + 0.2 * k)), done: false }))
    : [];
  let changes = 0;
  let txns = 0;
  h = S;
  while (changes < opts.changes) {
    if (wl.chance(0.1)) h = { wall: h.wall, logical: h.logical + 1 };
    else {
      let gap = BigInt(1 + wl.int(2 * gapNs));
      if (wl.chance(idlePerTxn)) gap += intervalNs * BigInt(wl.range(2, 5));
      h = addNs(h, gap);
    }
    await advanceTo(h);
    const ddl = ddlAt.find((d) => !d.done && changes >= d.at);
    if (ddl) {
      ddl.done = true;
      schemaChange(ddl.t, h);
    } else {
      const size = wl.chance(0.7) ? 1 : wl.chance(0.83) ? wl.range(2, 4) : wl.range(5, 12);
      const used = new Set<string>();
      for (let k = 0; k < size && changes < opts.changes; k++) {
        const t = wl.pick(tables);
        const r = wl.float();
        const canInsert = t.nextUnused < t.keyspace || t.deleted.size > 0;
        let i: number;
        let kind: "insert" | "update" | "delete";
        // Insert pressure falls as the key space fills: equilibrium ≈ 75 % live, plenty of deletes and re-inserts.
        const pInsert = 0.05 + 0.45 * (1 - t.live.size / t.keyspace);
        if (t.live.size === 0 || (r < pInsert && canInsert)) {
          if (!canInsert) continue;
          kind = "insert";
          i = t.deleted.size > 0 && (t.nextUnused >= t.keyspace || wl.chance(0.4)) ? t.deleted.pick(wl) : t.nextUnused;
        } else {
          kind = r < 0.83 ? "update" : "delete";
          i = t.live.pick(wl);
        }
        const id = `${t.idx}:${i}`;
        if (used.has(id)) continue;
        used.add(id);
        if (kind === "insert") insert(t, i, h, true);
        else if (kind === "update") update(t, i, h);
        else remove(t, i, h);
        changes++;
      }
    }
    txns++;
    if (pending) {
      if (--lookaheadLeft <= 0) await finishPending();
    } else if (emitter.bufferedMessages >= opts.flushRows) {
      const hi = compareHlc(h, boundary) < 0 ? h : { wall: boundary.wall - 1n, logical: 0 };
      const ts = emitter.chooseFlushTs(hi, false);
      if (ts) await emitter.flush(ts);
    }
  }
  // The last transaction is ≤ boundary (advanceTo closed every earlier one): close the final window.
  await finishPending();
  await closeTruthWindow(boundary, true);
  const finalTs = emitter.chooseFlushTs(boundary, em.chance(0.3));
  if (!finalTs) throw new Error("internal: no flush timestamp for the final RESOLVED");
  await emitter.resolved(boundary, finalTs);

  const summary: Summary = {
    out: location,
    truthDir,
    changes,
    transactions: txns,
    windows: windows.length,
    firstResolved: (windows[0] as TruthWindow).resolved,
    finalResolved: (windows[windows.length - 1] as TruthWindow).resolved,
    dataFiles: emitter.stats.dataFiles,
    resolvedFiles: emitter.stats.resolvedFiles,
    messages: emitter.stats.messages,
    duplicates: emitter.stats.duplicates,
    replayedMessages: emitter.stats.replayedMessages,
    restarts: emitter.stats.restarts,
    runIds: emitter.stats.runIds,
    bytes: emitter.stats.bytes,
    liveRows: Object.fromEntries(tables.map((t) => [t.name, t.live.size])),
    deletedKeys: Object.fromEntries(tables.map((t) => [t.name, t.deleted.size])),
    millis: Date.now() - started,
  };
  if (truth) {
    const { parquetEncoder: _p, sink: _s, ...optRecord } = opts;
    const manifest: Manifest = {
      kind: "cdc-delta-emulator-truth",
      truthEncoding: 1,
      options: { ...optRecord, out: location.startsWith("azure://") ? location : opts.out, startWall: String(opts.startWall) },
      feed: location,
      tables: tables.map((t) => ({
        name: t.name,
        primaryKey: [...t.tmpl.pk],
        pkLess: t.tmpl.pkLess,
        families: t.layout.families.map((f) => ({
          id: f.def.id,
          name: f.def.name,
          columns: f.cols.map((c) => (t.layout.columns[c] as ColumnDef).name),
          fileTopic: f.fileTopic,
          jsonTopic: f.jsonTopic,
        })),
        columns: manifestColumns(t.layout, opts.families),
        schemaVersions: t.versions,
        keyspace: t.keyspace,
      })),
      windows,
      initialScan: formatHlc(S),
      finalResolved: summary.finalResolved,
      stats: { ...summary, runIds: undefined, millis: undefined, out: undefined, truthDir: undefined },
    };
    await truth.close(manifest);
  }
  return summary;
}
