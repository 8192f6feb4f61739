/**
 * The Delta transaction-log action model (PROTOCOL.md "Actions"): one JSON object per line of a
 * commit file `_delta_log/%020d.json`, or one row of a classic checkpoint. Pure data + (de)serialising.
 */

export interface ProtocolAction {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface MetadataAction {
  id: string;
  name?: string | null;
  description?: string | null;
  format: { provider: string; options: Record<string, string> };
  /** A JSON *string* of the struct type (see log/schema.ts). */
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime?: number | null;
}

export interface AddAction {
  /** Relative to the table root, percent-encoded (or an absolute URI). */
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  /** A JSON *string*: {numRecords, minValues, maxValues, nullCount}. */
  stats?: string | null;
  tags?: Record<string, string> | null;
  deletionVector?: unknown;
}

export interface RemoveAction {
  path: string;
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean;
  partitionValues?: Record<string, string | null>;
  size?: number;
  deletionVector?: unknown;
}

export interface TxnAction {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}

export interface CommitInfoAction {
  timestamp?: number;
  operation?: string;
  operationParameters?: Record<string, string>;
  engineInfo?: string;
  isBlindAppend?: boolean;
  [extra: string]: unknown;
}

export type Action =
  | { protocol: ProtocolAction }
  | { metaData: MetadataAction }
  | { add: AddAction }
  | { remove: RemoveAction }
  | { txn: TxnAction }
  | { commitInfo: CommitInfoAction }
  /** Actions we do not interpret (cdc, domainMetadata, checkpointMetadata, sidecar …). */
  | { other: Record<string, unknown> };

export const ENGINE_INFO = "cdc-delta-connectors/destination-databricks-delta";

/** Serialise actions as NDJSON (one action per line, newline-terminated). */
/** The `remove` that retires a data file (`dataChange: false` for compaction, which rewrites without changing rows). */
export function removeFileAction(add: AddAction, deletionTimestamp: number, dataChange = true): Action {
  return {
    remove: {
      path: add.path,
      deletionTimestamp,
      dataChange,
      extendedFileMetadata: true,
      partitionValues: add.partitionValues ?? {},
      size: add.size,
    },
  };
}

export function serializeActions(actions: readonly Action[]): string {
  let out = "";
  for (const a of actions) {
    if ("other" in a) out += `${JSON.stringify(a.other)}\n`;
    else out += `${JSON.stringify(a)}\n`;
  }
  return out;
}

/** Parse one commit file. Unknown action kinds are kept as `other`. */
export function parseActions(text: string, source = "commit"): Action[] {
  const out: Action[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${source}: line ${i + 1} is not JSON: ${(e as Error).message}`);
    }
    out.push(toAction(obj));
  }
  return out;
}

export function toAction(obj: Record<string, unknown>): Action {
  if (obj.add) return { add: obj.add as AddAction };
  if (obj.remove) return { remove: obj.remove as RemoveAction };
  if (obj.metaData) return { metaData: obj.metaData as MetadataAction };
  if (obj.protocol) return { protocol: obj.protocol as ProtocolAction };
  if (obj.txn) return { txn: obj.txn as TxnAction };
  if (obj.commitInfo) return { commitInfo: obj.commitInfo as CommitInfoAction };
  return { other: obj };
}

/** `_delta_log/00000000000000000007.json` */
export function commitFileName(version: number): string {
  return `${String(version).padStart(20, "0")}.json`;
}

export function checkpointFileName(version: number): string {
  return `${String(version).padStart(20, "0")}.checkpoint.parquet`;
}

/** Percent-encode a relative data-file path as Delta's `add.path` expects (URI path, `/` kept). */
export function encodeDataPath(relative: string): string {
  return relative
    .split("/")
    .map((seg) => encodeURIComponent(seg))
    .join("/");
}

export function decodeDataPath(path: string): string {
  return path
    .split("/")
    .map((seg) => decodeURIComponent(seg))
    .join("/");
}
