/**
 * Databricks Unity Catalog volume via the Files API: `GET /api/2.0/fs/directories{path}` (paginated,
 * one folder level) and `GET|HEAD|PUT /api/2.0/fs/files{path}`, over fetch with per-request timeouts
 * and retries with backoff on 429/5xx/network errors.
 */
import { Readable } from "node:stream";
import { configError } from "@cdc-delta/shared";
import type { StorageConfig } from "../config.js";
import { assertSafeKey } from "../layout/paths.js";
import { type HierarchicalLister, type LevelEntry, listAfter } from "./hierarchy.js";
import { storageError, withRetry } from "./retry.js";
import type { ObjectInfo, ObjectStore } from "./types.js";

type UcConfig = Extract<StorageConfig, { type: "uc_volume" }>;

class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const encodePath = (p: string) => p.split("/").map(encodeURIComponent).join("/");

export class UcVolumeStore implements ObjectStore {
  readonly description: string;
  private readonly base: string;
  private readonly root: string;
  timeoutMs = 60_000;

  constructor(private readonly cfg: UcConfig) {
    if (!/^\/Volumes\/[^/]+\/[^/]+\/[^/]+/.test(cfg.volume_path))
      throw configError(
        `uc_volume: volume_path must look like /Volumes/<catalog>/<schema>/<volume>[/path], got ${cfg.volume_path}`,
      );
    this.base = cfg.host.replace(/\/$/, "").replace(/^(?!https?:\/\/)/, "https://");
    this.root = cfg.volume_path.replace(/\/$/, "");
    this.description = `uc volume ${this.root}`;
  }

  private async request(
    method: string,
    api: "files" | "directories",
    path: string,
    query = "",
    body?: Uint8Array,
  ): Promise<Response> {
    const url = `${this.base}/api/2.0/fs/${api}${encodePath(path)}${query}`;
    const what = `${method} ${this.description}${path.slice(this.root.length)}`;
    return withRetry(
      async () => {
        const res = await fetch(url, {
          method,
          headers: { Authorization: `Bearer ${this.cfg.token}` },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        if (!res.ok && res.status !== 404) {
          const text = await res.text().catch(() => "");
          throw new HttpError(`HTTP ${res.status} ${text.slice(0, 200)}`, res.status);
        }
        return res;
      },
      { what, isTransient: (e) => (e instanceof HttpError ? e.status === 429 || e.status >= 500 : true), baseDelayMs: 100 },
    ).catch((e) => {
      throw storageError(what, e, e instanceof HttpError ? e.status : undefined);
    });
  }

  private lister(): HierarchicalLister {
    const self = this;
    const level = async function* (prefix: string): AsyncIterable<LevelEntry> {
      // One folder's entries are sorted together (the API does not promise an order).
      const entries: LevelEntry[] = [];
      let token: string | undefined;
      do {
        const res = await self.request(
          "GET",
          "directories",
          `${self.root}/${prefix}`,
          token ? `?page_token=${encodeURIComponent(token)}` : "",
        );
        if (res.status === 404) {
          if (prefix === "") throw configError(`${self.description}: the volume folder does not exist`);
          return;
        }
        const doc = (await res.json()) as {
          contents?: { path: string; is_directory: boolean; file_size?: number; last_modified?: number }[];
          next_page_token?: string;
        };
        for (const c of doc.contents ?? []) {
          const rel = c.path.slice(self.root.length + 1);
          entries.push(
            c.is_directory
              ? { key: `${rel.replace(/\/$/, "")}/`, folder: true }
              : {
                  key: rel,
                  folder: false,
                  info: {
                    key: rel,
                    size: c.file_size ?? 0,
                    lastModified: c.last_modified ? new Date(c.last_modified) : undefined,
                  },
                },
          );
        }
        token = doc.next_page_token || undefined;
      } while (token);
      entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      yield* entries;
    };
    const flat = async function* (prefix: string): AsyncIterable<ObjectInfo> {
      const dir = prefix.endsWith("/") || prefix === "" ? prefix : prefix.slice(0, prefix.lastIndexOf("/") + 1);
      for await (const e of level(dir)) {
        if (!e.key.startsWith(prefix) && !prefix.startsWith(e.key)) continue;
        if (e.folder) yield* flat(e.key);
        else if (e.info) yield e.info;
      }
    };
    return { level, flat };
  }

  async *list(options: { under?: string; startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    yield* listAfter(this.lister(), options.under ?? "", options.startAfter);
  }

  async read(key: string): Promise<Readable> {
    assertSafeKey(key);
    const res = await this.request("GET", "files", `${this.root}/${key}`);
    if (res.status === 404 || !res.body) throw configError(`read ${this.description}/${key}: not found`);
    return Readable.fromWeb(res.body as never);
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    assertSafeKey(key);
    const res = await this.request("HEAD", "files", `${this.root}/${key}`);
    if (res.status === 404) return undefined;
    return { key, size: Number(res.headers.get("content-length") ?? 0) };
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    assertSafeKey(key);
    await this.request(
      "PUT",
      "files",
      `${this.root}/${key}`,
      "?overwrite=true",
      typeof body === "string" ? Buffer.from(body) : body,
    );
  }
}
