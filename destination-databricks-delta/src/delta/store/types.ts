/**
 * Object storage under one table root, as the Delta writer needs it. Paths are relative to the
 * store's root and use `/`. `putIfAbsent` is THE atomicity primitive of a Delta commit: the whole
 * content becomes visible under the final name at once, or the call reports that a rival owns it.
 */
export interface ObjectStore {
  /** Human-readable location (for messages). */
  readonly location: string;
  /** Whole object, or null when absent. */
  read(path: string): Promise<Uint8Array | null>;
  /** Object names directly under `dir` (no recursion), without the dir prefix. */
  list(dir: string): Promise<string[]>;
  /** Write (create or replace) a non-log object durably, e.g. a data file with a unique name. */
  write(path: string, data: Uint8Array): Promise<void>;
  /** Atomic put-if-absent: true when written, false when the name already exists (a lost race). */
  putIfAbsent(path: string, data: Uint8Array): Promise<boolean>;
  /** Replace an object atomically (readers see old or new), e.g. `_last_checkpoint`. */
  replace(path: string, data: Uint8Array): Promise<void>;
  /** Cheap server-side / hard-link copy where possible. */
  copy(from: string, to: string): Promise<void>;
  delete(path: string): Promise<void>;
  /** Remove everything under a prefix (table drop). */
  deletePrefix(prefix: string): Promise<void>;
  size(path: string): Promise<number | null>;
  /** A store rooted at a sub-path. */
  sub(prefix: string): ObjectStore;
}

export class StorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StorageError";
  }
}
