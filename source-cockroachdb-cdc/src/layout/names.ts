/**
 * The changefeed file-name grammar (changefeed-files.md §1–§3), on basenames, with the document's
 * exact regexes. Keys are relative to the feed prefix.
 */
import { configError, type Hlc, parseTs33 } from "@cdc-delta/shared";

export const DATA =
  /^(?<ts>\d{33})-(?<run>[0-9a-f]+)-(?<node>\d+)-(?<sink>\d+)-(?<file>[0-9a-f]{8})-(?<topic>.+)-(?<schema>[0-9a-f]+)\.(?<fmt>ndjson|csv|parquet)(?:\.(?<codec>gz|zst))?$/;
export const RESOLVED = /^(?<ts>\d{33})\.RESOLVED$/;
const DAILY = /^\d{4}-\d{2}-\d{2}$/;
const HOURLY = /^\d{4}-\d{2}-\d{2}\/\d{2}$/;

export type Partitioning = "flat" | "daily" | "hourly";

export interface DataFile {
  kind: "data";
  key: string;
  basename: string;
  ts: Hlc;
  runId: string;
  node: number;
  sink: number;
  fileId: number;
  topic: string;
  table: string;
  family: string | null;
  schemaId: number;
  format: "ndjson" | "parquet" | "csv";
  codec: "gz" | "zst" | null;
  partitioning: Partitioning;
  size: number;
}

export interface ResolvedFile {
  kind: "resolved";
  key: string;
  basename: string;
  ts: Hlc;
  tsText: string;
  partitioning: Partitioning;
}

export interface SkippedFile {
  kind: "skip";
  key: string;
  reason: "marker" | "tmp" | "metadata" | "underscore" | "placeholder" | "unknown";
}

export type Classified = DataFile | ResolvedFile | SkippedFile;

export function basenameOf(key: string): string {
  const i = key.lastIndexOf("/");
  return i < 0 ? key : key.slice(i + 1);
}

export function dirOf(key: string): string {
  const i = key.lastIndexOf("/");
  return i < 0 ? "" : key.slice(0, i);
}

export function partitioningOf(dir: string): Partitioning | undefined {
  if (dir === "") return "flat";
  if (DAILY.test(dir)) return "daily";
  if (HOURLY.test(dir)) return "hourly";
  return undefined;
}

/** `table+family` topics: one stream per table; the family is the part after the last `+`. */
export function splitTopic(topic: string): { table: string; family: string | null } {
  const i = topic.lastIndexOf("+");
  if (i <= 0 || i === topic.length - 1) return { table: topic, family: null };
  return { table: topic.slice(0, i), family: topic.slice(i + 1) };
}

/**
 * Classify one listed key. Names that are clearly not changefeed files are skipped (and counted by the
 * caller); names that look like changefeed files but break the grammar fail loudly, so a malformed
 * RESOLVED name can never silently disable the watermark.
 */
export function classify(key: string, size = 0): Classified {
  if (key.endsWith("/")) return { kind: "skip", key, reason: "placeholder" };
  const base = basenameOf(key);
  const dir = dirOf(key);
  if (base === "crdb_external_storage_location") return { kind: "skip", key, reason: "marker" };
  if (key.split("/").some((seg) => seg === "_metadata")) return { kind: "skip", key, reason: "metadata" };
  if (base.endsWith(".tmp")) return { kind: "skip", key, reason: "tmp" };
  if (base.startsWith("_")) return { kind: "skip", key, reason: "underscore" };
  if (base === "" || (size === 0 && !base.includes("."))) return { kind: "skip", key, reason: "placeholder" };
  const partitioning = partitioningOf(dir);
  const r = RESOLVED.exec(base);
  if (r) {
    const tsText = r.groups?.ts as string;
    return {
      kind: "resolved",
      key,
      basename: base,
      ts: parseTsOrFail(tsText, key),
      tsText,
      partitioning: partitioning ?? "flat",
    };
  }
  if (/RESOLVED/i.test(base))
    throw configError(`malformed RESOLVED file name ${JSON.stringify(key)}: expected <33-digit timestamp>.RESOLVED`);
  const m = DATA.exec(base);
  if (m) {
    const g = m.groups as Record<string, string>;
    const topic = g.topic as string;
    const { table, family } = splitTopic(topic);
    return {
      kind: "data",
      key,
      basename: base,
      ts: parseTsOrFail(g.ts as string, key),
      runId: g.run as string,
      node: Number(g.node),
      sink: Number(g.sink),
      fileId: Number.parseInt(g.file as string, 16),
      topic,
      table,
      family,
      schemaId: Number.parseInt(g.schema as string, 16),
      format: g.fmt as DataFile["format"],
      codec: (g.codec as DataFile["codec"]) ?? null,
      partitioning: partitioning ?? "flat",
      size,
    };
  }
  if (/^\d{20,}-/.test(base) && /\.(ndjson|parquet|csv)(\.(gz|zst))?$/.test(base)) {
    throw configError(`malformed changefeed data file name ${JSON.stringify(key)}: it fits no changefeed file grammar`);
  }
  return { kind: "skip", key, reason: "unknown" };
}

function parseTsOrFail(ts: string, key: string): Hlc {
  try {
    return parseTs33(ts);
  } catch (e) {
    throw configError(`changefeed file ${JSON.stringify(key)} has an invalid timestamp: ${(e as Error).message}`);
  }
}

/** Compare two keys by basename (the changefeed order), then by full key. */
export function compareByBasename(a: string, b: string): number {
  const ba = basenameOf(a);
  const bb = basenameOf(b);
  if (ba !== bb) return ba < bb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
