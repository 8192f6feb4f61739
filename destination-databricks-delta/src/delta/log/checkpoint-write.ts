/**
 * Classic checkpoints: every `interval` commits, the snapshot's protocol, metaData, txn and live add
 * actions are written as `n.checkpoint.parquet` (struct columns, the layout Spark and delta-rs
 * read), then `_last_checkpoint` ({"version","size"}) is replaced atomically. Both appear whole
 * under their names (store.replace), the checkpoint first: a crash leaves at worst an unpointed one.
 */
import { ByteWriter, parquetWrite } from "hyparquet-writer";
import type { DeltaTable } from "../table/delta-table.js";
import { checkpointFileName } from "./actions.js";
import { LOG_DIR, type Snapshot } from "./snapshot.js";

type SchemaElement = NonNullable<Parameters<typeof parquetWrite>[0]["schema"]>[number];

const str = (name: string, required = false): SchemaElement => ({
  name,
  type: "BYTE_ARRAY",
  converted_type: "UTF8",
  repetition_type: required ? "REQUIRED" : "OPTIONAL",
});
const i64 = (name: string): SchemaElement => ({ name, type: "INT64", repetition_type: "OPTIONAL" });
const i32 = (name: string): SchemaElement => ({ name, type: "INT32", repetition_type: "OPTIONAL" });
const bool = (name: string): SchemaElement => ({ name, type: "BOOLEAN", repetition_type: "OPTIONAL" });
const group = (name: string, n: number): SchemaElement => ({ name, repetition_type: "OPTIONAL", num_children: n });
const map = (name: string): SchemaElement[] => [
  { name, repetition_type: "OPTIONAL", num_children: 1, converted_type: "MAP" },
  { name: "key_value", repetition_type: "REPEATED", num_children: 2 },
  str("key", true),
  str("value"),
];
const list = (name: string): SchemaElement[] => [
  { name, repetition_type: "OPTIONAL", num_children: 1, converted_type: "LIST" },
  { name: "list", repetition_type: "REPEATED", num_children: 1 },
  str("element"),
];

const SCHEMA: SchemaElement[] = [
  { name: "spark_schema", num_children: 5 },
  group("txn", 3),
  str("appId"),
  i64("version"),
  i64("lastUpdated"),
  group("add", 6),
  str("path"),
  ...map("partitionValues"),
  i64("size"),
  i64("modificationTime"),
  bool("dataChange"),
  str("stats"),
  group("remove", 6),
  str("path"),
  i64("deletionTimestamp"),
  bool("dataChange"),
  bool("extendedFileMetadata"),
  ...map("partitionValues"),
  i64("size"),
  group("metaData", 8),
  str("id"),
  str("name"),
  str("description"),
  group("format", 2),
  str("provider"),
  ...map("options"),
  str("schemaString"),
  ...list("partitionColumns"),
  ...map("configuration"),
  i64("createdTime"),
  group("protocol", 4),
  i32("minReaderVersion"),
  i32("minWriterVersion"),
  ...list("readerFeatures"),
  ...list("writerFeatures"),
];

export function checkpointBytes(snap: Snapshot): { bytes: Uint8Array; rows: number } {
  const txn: unknown[] = [];
  const add: unknown[] = [];
  const remove: unknown[] = [];
  const metaData: unknown[] = [];
  const protocol: unknown[] = [];
  const push = (t: unknown, a: unknown, m: unknown, p: unknown) => {
    txn.push(t);
    add.push(a);
    remove.push(null);
    metaData.push(m);
    protocol.push(p);
  };
  const p = snap.protocol;
  push(null, null, null, {
    minReaderVersion: p.minReaderVersion,
    minWriterVersion: p.minWriterVersion,
    readerFeatures: p.minReaderVersion >= 3 ? (p.readerFeatures ?? []) : null,
    writerFeatures: p.minWriterVersion >= 7 ? (p.writerFeatures ?? []) : null,
  });
  const m = snap.metadata;
  push(
    null,
    null,
    {
      id: m.id,
      name: m.name ?? null,
      description: m.description ?? null,
      format: { provider: m.format.provider, options: m.format.options ?? {} },
      schemaString: m.schemaString,
      partitionColumns: m.partitionColumns,
      configuration: m.configuration ?? {},
      createdTime: m.createdTime == null ? null : BigInt(m.createdTime),
    },
    null,
  );
  for (const [appId, version] of snap.txns) push({ appId, version: BigInt(version), lastUpdated: null }, null, null, null);
  for (const a of snap.files.values()) {
    push(
      null,
      {
        path: a.path,
        partitionValues: a.partitionValues ?? {},
        size: BigInt(a.size),
        modificationTime: BigInt(a.modificationTime),
        dataChange: false,
        stats: a.stats ?? null,
      },
      null,
      null,
    );
  }
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    schema: SCHEMA,
    columnData: [
      { name: "txn", data: txn as never },
      { name: "add", data: add as never },
      { name: "remove", data: remove as never },
      { name: "metaData", data: metaData as never },
      { name: "protocol", data: protocol as never },
    ],
    statistics: false,
    rowGroupSize: 1_000_000,
  });
  return { bytes: new Uint8Array(writer.getBuffer()), rows: txn.length };
}

export async function writeCheckpoint(table: DeltaTable, snap: Snapshot): Promise<void> {
  const { bytes, rows } = checkpointBytes(snap);
  // Atomic (temp + rename / single Put Blob): readers pick the newest checkpoint by listing, so a
  // half-written one must never be visible under its final name.
  await table.store.replace(`${LOG_DIR}/${checkpointFileName(snap.version)}`, bytes);
  await table.store.replace(
    `${LOG_DIR}/_last_checkpoint`,
    Buffer.from(JSON.stringify({ version: snap.version, size: rows, sizeInBytes: bytes.length })),
  );
}

/** Checkpoint when the latest version is a multiple of `interval` (and none exists for it). */
export async function maybeCheckpoint(table: DeltaTable, interval: number): Promise<boolean> {
  if (interval <= 0) return false;
  const snap = await table.snapshot();
  if (!snap || snap.version === 0 || snap.version - Math.max(0, snap.checkpointVersion) < interval) return false;
  await writeCheckpoint(table, snap);
  return true;
}
