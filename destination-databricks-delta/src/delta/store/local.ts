/**
 * Local-filesystem object store. A log commit is made atomic here (`putIfAbsent`): the full NDJSON
 * goes to a temp file in the same directory, is fsynced, then `link()`ed to the final name (fails
 * with EEXIST if a rival committed that version; `rename` would overwrite it, and an O_EXCL final file
 * could be seen half-written after kill -9), the directory is fsynced, and the temp file unlinked.
 */
import { randomUUID } from "node:crypto";
import { constants as fsc } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { type ObjectStore, StorageError } from "./types.js";

/** Crash-test hooks (kill -9 tests call process.kill(process.pid, "SIGKILL") from them). Unset in production. */
export const localStoreHooks: {
  /** Mid data write: half of the object's bytes are on disk. */
  midWrite?: (path: string) => void;
  /** The commit's temp file is written and fsynced, not yet linked. */
  afterTempLog?: (path: string) => void;
  /** The commit is linked (visible), the temp file not yet removed. */
  afterLink?: (path: string) => void;
} = {};

export class LocalStore implements ObjectStore {
  constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

  private abs(p: string): string {
    return p === "" ? this.root : path.join(this.root, ...p.split("/"));
  }

  async read(p: string): Promise<Uint8Array | null> {
    try {
      return await fs.readFile(this.abs(p));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw wrap(e, `read ${this.abs(p)}`);
    }
  }

  async list(dir: string): Promise<string[]> {
    try {
      return await fs.readdir(this.abs(dir));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw wrap(e, `list ${this.abs(dir)}`);
    }
  }

  async write(p: string, data: Uint8Array): Promise<void> {
    const file = this.abs(p);
    try {
      await fs.mkdir(path.dirname(file), { recursive: true });
      if (localStoreHooks.midWrite) {
        await fs.writeFile(file, data.subarray(0, data.length >> 1));
        localStoreHooks.midWrite(file);
      }
      await writeSynced(file, data, "w");
    } catch (e) {
      throw wrap(e, `write ${file}`);
    }
  }

  async putIfAbsent(p: string, data: Uint8Array): Promise<boolean> {
    const file = this.abs(p);
    const dir = path.dirname(file);
    const tmp = path.join(dir, `.${path.basename(file)}.${randomUUID()}.tmp`);
    try {
      await fs.mkdir(dir, { recursive: true });
      await writeSynced(tmp, data, "wx");
      localStoreHooks.afterTempLog?.(file);
      try {
        await fs.link(tmp, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw e;
      }
      await fsyncDir(dir);
      localStoreHooks.afterLink?.(file);
      return true;
    } catch (e) {
      throw wrap(e, `commit ${file}`);
    } finally {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  async replace(p: string, data: Uint8Array): Promise<void> {
    const file = this.abs(p);
    const dir = path.dirname(file);
    const tmp = path.join(dir, `.${path.basename(file)}.${randomUUID()}.tmp`);
    try {
      await fs.mkdir(dir, { recursive: true });
      if (localStoreHooks.midWrite) {
        await fs.writeFile(tmp, data.subarray(0, data.length >> 1));
        localStoreHooks.midWrite(file);
        await fs.rm(tmp);
      }
      await writeSynced(tmp, data, "wx");
      await fs.rename(tmp, file);
      await fsyncDir(dir);
    } catch (e) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw wrap(e, `replace ${file}`);
    }
  }

  async copy(from: string, to: string): Promise<void> {
    const src = this.abs(from);
    const dst = this.abs(to);
    await fs.mkdir(path.dirname(dst), { recursive: true });
    try {
      await fs.link(src, dst);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return;
      if (code === "EXDEV" || code === "EPERM" || code === "ENOTSUP") {
        await fs.copyFile(src, dst, fsc.COPYFILE_FICLONE);
        return;
      }
      throw wrap(e, `copy ${src} -> ${dst}`);
    }
  }

  async delete(p: string): Promise<void> {
    await fs.rm(this.abs(p), { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    await fs.rm(this.abs(prefix), { recursive: true, force: true });
  }

  async size(p: string): Promise<number | null> {
    try {
      return (await fs.stat(this.abs(p))).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw wrap(e, `stat ${this.abs(p)}`);
    }
  }

  sub(prefix: string): ObjectStore {
    return new LocalStore(this.abs(prefix));
  }
}

async function writeSynced(file: string, data: Uint8Array, flags: string): Promise<void> {
  const fh = await fs.open(file, flags, 0o644);
  try {
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await fh.write(data, off, data.length - off);
      off += bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function wrap(e: unknown, what: string): StorageError {
  const err = e as NodeJS.ErrnoException;
  const hint =
    err.code === "ENOSPC" ? " (disk full)" : err.code === "EACCES" || err.code === "EPERM" ? " (permission denied)" : "";
  return new StorageError(`${what} failed${hint}: ${err.message}`, { cause: e });
}
