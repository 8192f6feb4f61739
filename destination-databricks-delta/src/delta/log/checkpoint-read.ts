/**
 * Reading classic checkpoints (`n.checkpoint.parquet`, or multi-part `n.checkpoint.i.k.parquet`):
 * one row per action, struct columns txn / add / remove / metaData / protocol. Spark and delta-rs
 * write them; a table they touched may have no JSON before the checkpoint.
 */
import { readParquetObjects } from "../parquet/read.js";
import type { ObjectStore } from "../store/types.js";
import type { Action, AddAction, MetadataAction, ProtocolAction, RemoveAction, TxnAction } from "./actions.js";
import { checkpointFileName } from "./actions.js";

function mapToRecord(m: unknown): Record<string, string | null> {
  if (m === null || m === undefined) return {};
  if (m instanceof Map) return Object.fromEntries(m) as Record<string, string | null>;
  if (Array.isArray(m)) {
    // [{key, value}] form
    const out: Record<string, string | null> = {};
    for (const e of m as { key: string; value: string | null }[]) out[e.key] = e.value ?? null;
    return out;
  }
  return m as Record<string, string | null>;
}

function num(v: unknown): number {
  return typeof v === "bigint" ? Number(v) : (v as number);
}

export function checkpointRowToAction(row: Record<string, unknown>): Action | null {
  const add = row.add as Record<string, unknown> | null | undefined;
  if (add?.path) {
    const a: AddAction = {
      path: add.path as string,
      partitionValues: mapToRecord(add.partitionValues),
      size: num(add.size),
      modificationTime: num(add.modificationTime),
      dataChange: Boolean(add.dataChange),
      stats: (add.stats as string | null | undefined) ?? null,
    };
    if (add.tags) a.tags = mapToRecord(add.tags) as Record<string, string>;
    if (add.deletionVector) a.deletionVector = add.deletionVector;
    return { add: a };
  }
  const remove = row.remove as Record<string, unknown> | null | undefined;
  if (remove?.path) {
    const r: RemoveAction = { path: remove.path as string, dataChange: Boolean(remove.dataChange) };
    if (remove.deletionTimestamp != null) r.deletionTimestamp = num(remove.deletionTimestamp);
    return { remove: r };
  }
  const md = row.metaData as Record<string, unknown> | null | undefined;
  if (md?.id) {
    const format = (md.format ?? {}) as Record<string, unknown>;
    const m: MetadataAction = {
      id: md.id as string,
      name: (md.name as string | null) ?? null,
      description: (md.description as string | null) ?? null,
      format: {
        provider: (format.provider as string) ?? "parquet",
        options: mapToRecord(format.options) as Record<string, string>,
      },
      schemaString: md.schemaString as string,
      partitionColumns: (md.partitionColumns as string[] | null) ?? [],
      configuration: mapToRecord(md.configuration) as Record<string, string>,
      createdTime: md.createdTime == null ? null : num(md.createdTime),
    };
    return { metaData: m };
  }
  const p = row.protocol as Record<string, unknown> | null | undefined;
  if (p && p.minReaderVersion != null) {
    const pr: ProtocolAction = { minReaderVersion: num(p.minReaderVersion), minWriterVersion: num(p.minWriterVersion) };
    if (Array.isArray(p.readerFeatures)) pr.readerFeatures = p.readerFeatures as string[];
    if (Array.isArray(p.writerFeatures)) pr.writerFeatures = p.writerFeatures as string[];
    return { protocol: pr };
  }
  const t = row.txn as Record<string, unknown> | null | undefined;
  if (t?.appId) {
    const tx: TxnAction = { appId: t.appId as string, version: num(t.version) };
    if (t.lastUpdated != null) tx.lastUpdated = num(t.lastUpdated);
    return { txn: tx };
  }
  return null;
}

export async function readCheckpoint(
  store: ObjectStore,
  logDir: string,
  version: number,
  parts: number | null,
): Promise<Action[]> {
  const names: string[] = [];
  if (parts === null) names.push(checkpointFileName(version));
  else
    for (let i = 1; i <= parts; i++) {
      names.push(
        `${String(version).padStart(20, "0")}.checkpoint.${String(i).padStart(10, "0")}.${String(parts).padStart(10, "0")}.parquet`,
      );
    }
  const out: Action[] = [];
  for (const n of names) {
    const bytes = await store.read(`${logDir}/${n}`);
    if (!bytes) throw new Error(`${store.location}/${logDir}/${n}: checkpoint file missing`);
    const rows = await readParquetObjects(bytes);
    for (const r of rows) {
      const a = checkpointRowToAction(r);
      if (a) out.push(a);
    }
  }
  return out;
}
