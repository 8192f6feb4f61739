import type { Readable } from "node:stream";

export interface ObjectInfo {
  /** Key relative to the configured prefix, `/`-separated (e.g. `2025-03-14/2025...-orders-3.ndjson.gz`). */
  key: string;
  size: number;
  lastModified?: Date;
}

/**
 * One interface over local folders, Azure Blob, S3, GCS and Unity Catalog volumes. Keys are
 * relative to the configured prefix; listings stream in lexical key order, page by page.
 */
export interface ObjectStore {
  readonly description: string;
  /** Keys under `under` (a key prefix, e.g. a date folder) sorting strictly after `startAfter`. */
  list(options?: { under?: string; startAfter?: string }): AsyncIterable<ObjectInfo>;
  read(key: string): Promise<Readable>;
  /** undefined when the object does not exist. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** For tests and the emulator; backends that cannot write throw. */
  put(key: string, body: Uint8Array | string): Promise<void>;
  close?(): Promise<void>;
}
