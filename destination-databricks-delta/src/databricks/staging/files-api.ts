/**
 * Unity Catalog volume staging through the Databricks Files API
 * (`PUT /api/2.0/fs/files/Volumes/…`, `GET|DELETE /api/2.0/fs/directories/…`), each request under its
 * own deadline and retried with full-jitter backoff on 429/5xx/resets/timeouts. The MERGE reads the
 * batch directory with `read_files('/Volumes/…/', format => 'parquet')`.
 */
import { randomUUID } from "node:crypto";
import { classifyDriverError } from "../driver/errors.js";
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from "../driver/retry.js";
import type { StageSource } from "../sql/statements.js";
import { HttpStatusError, httpRequest } from "./http.js";
import type { StagingStore } from "./store.js";

export interface FilesApiOptions {
  /** `https://<workspace host>` (tests: the fake warehouse's base URL). */
  baseUrl: string;
  /** `/Volumes/<catalog>/<schema>/<volume>[/<dir>]` — the staging root. */
  volumePath: string;
  /** Bearer token provider (PAT, or an OAuth M2M access token). */
  token: () => Promise<string>;
  timeoutMs: number;
  retry?: Partial<RetryPolicy>;
  ca?: string | Buffer;
}

const enc = (p: string) => p.split("/").map(encodeURIComponent).join("/");

export function validateVolumePath(p: string): string {
  const norm = p.replace(/\/+$/, "");
  if (!/^\/Volumes\/[^/]+\/[^/]+\/[^/]+(\/[^/]+)*$/.test(norm) || norm.split("/").some((s) => s === "." || s === "..")) {
    throw new Error(`staging volume path must look like /Volumes/<catalog>/<schema>/<volume>[/<dir>]: ${JSON.stringify(p)}`);
  }
  return norm;
}

export class FilesApiVolumeStore implements StagingStore {
  private readonly root: string;
  private readonly retry: RetryPolicy;
  constructor(private readonly o: FilesApiOptions) {
    this.root = validateVolumePath(o.volumePath);
    this.retry = { ...DEFAULT_RETRY, ...o.retry };
  }
  get description() {
    return `Unity Catalog volume ${this.root}`;
  }
  source(dir: string): StageSource {
    return { kind: "read_files", uri: `${this.root}/${dir}/` };
  }

  private async call(
    method: string,
    api: "files" | "directories",
    path: string,
    body?: Uint8Array,
    okStatuses: number[] = [200, 201, 204],
  ) {
    return withRetry(this.retry, { isRetryable: (e) => classifyDriverError(e).retryable }, async () => {
      const res = await httpRequest(
        `${this.o.baseUrl.replace(/\/$/, "")}/api/2.0/fs/${api}${enc(path)}${api === "files" && method === "PUT" ? "?overwrite=true" : ""}`,
        {
          method,
          headers: {
            Authorization: `Bearer ${await this.o.token()}`,
            ...(body ? { "Content-Type": "application/octet-stream" } : {}),
          },
          ...(body ? { body } : {}),
          timeoutMs: this.o.timeoutMs,
          ...(this.o.ca !== undefined ? { ca: this.o.ca } : {}),
        },
      );
      if (!okStatuses.includes(res.status))
        throw new HttpStatusError(res.status, res.body.toString("utf8"), `Files API ${method} ${path}`);
      return res;
    });
  }

  async put(dir: string, file: string, bytes: Uint8Array): Promise<void> {
    await this.call("PUT", "files", `${this.root}/${dir}/${file}`, bytes);
  }

  private async list(path: string): Promise<{ path: string; is_directory: boolean }[]> {
    const res = await this.call("GET", "directories", path, undefined, [200, 404]);
    if (res.status === 404) return [];
    const j = JSON.parse(res.body.toString("utf8") || "{}") as { contents?: { path: string; is_directory: boolean }[] };
    return j.contents ?? [];
  }

  private async removeTree(path: string): Promise<void> {
    for (const e of await this.list(path)) {
      if (e.is_directory) await this.removeTree(e.path);
      else await this.call("DELETE", "files", e.path, undefined, [200, 204, 404]);
    }
    await this.call("DELETE", "directories", path, undefined, [200, 204, 404]);
  }

  async purge(dir: string): Promise<void> {
    await this.removeTree(`${this.root}/${dir}`);
  }

  async listSyncDirs(): Promise<string[]> {
    return (await this.list(this.root))
      .filter((e) => e.is_directory)
      .map((e) => e.path.replace(/\/$/, "").split("/").pop() as string);
  }

  async probe(): Promise<void> {
    const d = `_cdc_check_${randomUUID()}`;
    await this.put(d, "probe.txt", new TextEncoder().encode("ok"));
    await this.purge(d);
  }
}
