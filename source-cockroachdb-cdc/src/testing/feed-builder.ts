/** Test helper: writes hand-made changefeed files (names per changefeed-files.md §2–§3). */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { formatHlc, formatTs33, type Hlc, hlcUtcDateParts } from "@cdc-delta/shared";

export const T0 = 1741944400000000000n; // 2025-03-14T09:26:40Z

export function hlc(offsetSeconds: number, logical = 0): Hlc {
  return { wall: T0 + BigInt(Math.round(offsetSeconds * 1e9)), logical };
}

export function hlcText(offsetSeconds: number, logical = 0): string {
  return formatHlc(hlc(offsetSeconds, logical));
}

export interface Line {
  key: string; // JSON text of the key array
  after: string | null; // JSON text of after, or null
  updated: string;
}

export function line(key: string, after: string | null, updated: string): string {
  return `{"after": ${after ?? "null"}, "key": ${key}, "updated": "${updated}"}`;
}

export class FeedBuilder {
  private fileCounter = 0;
  constructor(
    readonly dir: string,
    readonly partition: "daily" | "hourly" | "flat" = "daily",
    readonly runId = "3fa9c2d17b08e6a4",
  ) {}

  folder(ts: Hlc): string {
    const { date, hour } = hlcUtcDateParts(ts);
    return this.partition === "flat" ? "" : this.partition === "daily" ? `${date}/` : `${date}/${hour}/`;
  }

  dataName(ts: Hlc, topic: string, schemaId = 1, ext = "ndjson"): string {
    const fileId = (this.fileCounter++).toString(16).padStart(8, "0");
    return `${this.folder(ts)}${formatTs33(ts)}-${this.runId}-1-0-${fileId}-${topic}-${schemaId.toString(16)}.${ext}`;
  }

  write(key: string, body: string | Uint8Array): string {
    const p = join(this.dir, key);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, body);
    return key;
  }

  /** A JSON data file (lines are full JSON texts). */
  data(ts: Hlc, topic: string, lines: string[], options: { schemaId?: number; codec?: "gz" | null } = {}): string {
    const text = `${lines.join("\n")}\n`;
    const codec = options.codec ?? null;
    const name = this.dataName(ts, topic, options.schemaId ?? 1, codec ? `ndjson.${codec}` : "ndjson");
    return this.write(name, codec === "gz" ? gzipSync(text) : text);
  }

  resolved(ts: Hlc): string {
    return this.write(`${this.folder(ts)}${formatTs33(ts)}.RESOLVED`, `{"resolved":"${formatHlc(ts)}"}`);
  }
}

/**
 * A configured catalog for a hand-made feed: one stream whose `id` property is annotated the way
 * discover annotates it (the source refuses streams without `x-cockroachdb` annotations).
 */
export function handCatalog(options: { name?: string; syncMode?: string; primaryKey?: string[] } = {}) {
  const stream: Record<string, unknown> = {
    name: options.name ?? "orders",
    json_schema: {
      type: "object",
      properties: { id: { type: "integer", "x-cockroachdb": { type: "INT8", family: null } } },
    },
    supported_sync_modes: ["incremental"],
  };
  if (options.primaryKey) stream.source_defined_primary_key = options.primaryKey.map((k) => [k]);
  return { streams: [{ stream, sync_mode: options.syncMode ?? "incremental", destination_sync_mode: "append" }] };
}
