/**
 * Where staged batch files go. Layout: `<root>/<syncDir>/<batchDir>/part-<uuid>.parquet`, where
 * `syncDir` = `s<epoch ms>-<uuid8>` (so stale ones can be recognised by age and never collide across
 * concurrent syncs) and `batchDir` is unique per batch. Purged after the MERGE commits; leftovers of
 * syncs older than `staleAfterMs` are purged at start.
 */
import { randomUUID } from "node:crypto";
import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { StageSource } from "../sql/statements.js";

export interface StagingStore {
  readonly description: string;
  /** Engine-visible location of a batch directory (relative to the store root). */
  source(dir: string): StageSource;
  put(dir: string, file: string, bytes: Uint8Array): Promise<void>;
  /** Remove a batch directory and its files; missing = success. */
  purge(dir: string): Promise<void>;
  /** Sync directories at the root, with their creation time when known. */
  listSyncDirs(): Promise<string[]>;
  /** Write, then delete, a small probe file (check command). */
  probe(): Promise<void>;
}

/** A path segment safe in local paths, object keys and volume paths. */
export function safeSegment(s: string): string {
  const cleaned = s.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 80);
  return cleaned.length === 0 || cleaned === "." || cleaned === ".." ? "_" : cleaned;
}

export function newSyncDir(now = Date.now()): string {
  return `s${now}-${randomUUID().slice(0, 8)}`;
}

export function syncDirTime(name: string): number | undefined {
  const m = /^s(\d{13})-[0-9a-f]{8}$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Purge sync directories older than `staleAfterMs` (never the current one). */
export async function purgeStale(
  store: StagingStore,
  currentSyncDir: string,
  staleAfterMs: number,
  now = Date.now(),
): Promise<string[]> {
  const purged: string[] = [];
  for (const d of await store.listSyncDirs()) {
    const t = syncDirTime(d);
    if (d === currentSyncDir || t === undefined || now - t < staleAfterMs) continue;
    await store.purge(d);
    purged.push(d);
  }
  return purged;
}

/** spark-oss (and tests): a directory on a file system the engine also reads. */
export class LocalDirStore implements StagingStore {
  constructor(private readonly root: string) {
    if (!root.startsWith("/")) throw new Error(`local staging root must be absolute: ${root}`);
  }
  get description() {
    return `local directory ${this.root}`;
  }
  source(dir: string): StageSource {
    return { kind: "parquet_dir", path: join(this.root, dir) };
  }
  async put(dir: string, file: string, bytes: Uint8Array): Promise<void> {
    await mkdir(join(this.root, dir), { recursive: true });
    await writeFile(join(this.root, dir, file), bytes);
  }
  async purge(dir: string): Promise<void> {
    await rm(join(this.root, dir), { recursive: true, force: true });
  }
  async listSyncDirs(): Promise<string[]> {
    try {
      const entries = await readdir(this.root, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return [];
      throw e;
    }
  }
  async probe(): Promise<void> {
    const d = `_cdc_check_${randomUUID()}`;
    await this.put(d, "probe.txt", new TextEncoder().encode("ok"));
    await stat(join(this.root, d, "probe.txt"));
    await this.purge(d);
  }
}
