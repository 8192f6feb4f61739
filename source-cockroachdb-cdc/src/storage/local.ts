import { createReadStream } from "node:fs";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { configError } from "@cdc-delta/shared";
import { assertSafeKey } from "../layout/paths.js";
import type { ObjectInfo, ObjectStore } from "./types.js";

/** A local folder (nodelocal sinks, tests). Listing walks folders in exact lexical key order, lazily. */
export class LocalStore implements ObjectStore {
  readonly description: string;
  constructor(private readonly root: string) {
    this.description = `local folder ${root}`;
  }

  async *list(options: { under?: string; startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    const under = options.under ?? "";
    const startAfter = options.startAfter ?? "";
    const rootInfo = await stat(this.root).catch(() => undefined);
    if (!rootInfo?.isDirectory()) throw configError(`local folder ${this.root} does not exist or is not a folder`);
    yield* this.walk("", under, startAfter);
  }

  private async *walk(dirKey: string, under: string, startAfter: string): AsyncGenerator<ObjectInfo> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(join(this.root, dirKey), { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    // Sort by key text, directories with their trailing "/" so the walk is in exact lexical key order.
    const items = entries
      .filter((d) => d.isDirectory() || d.isFile())
      .map((d) => ({ key: dirKey + d.name + (d.isDirectory() ? "/" : ""), dir: d.isDirectory() }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const it of items) {
      if (it.dir) {
        // Skip folders wholly outside `under` or wholly at/before `startAfter`.
        if (!(under.startsWith(it.key) || it.key.startsWith(under))) continue;
        if (it.key < startAfter && !startAfter.startsWith(it.key)) continue;
        yield* this.walk(it.key, under, startAfter);
      } else {
        if (!it.key.startsWith(under) || it.key <= startAfter) continue;
        const s = await stat(join(this.root, it.key)).catch(() => undefined);
        if (s) yield { key: it.key, size: s.size, lastModified: s.mtime };
      }
    }
  }

  async read(key: string): Promise<Readable> {
    assertSafeKey(key);
    const path = join(this.root, key);
    const s = await stat(path).catch(() => undefined);
    if (!s) throw configError(`object ${key} not found in ${this.description}`);
    return createReadStream(path, { highWaterMark: 1 << 20 });
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    assertSafeKey(key);
    const s = await stat(join(this.root, key)).catch(() => undefined);
    return s?.isFile() ? { key, size: s.size, lastModified: s.mtime } : undefined;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    assertSafeKey(key);
    const path = join(this.root, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
  }
}
