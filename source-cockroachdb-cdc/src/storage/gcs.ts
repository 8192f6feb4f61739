import type { Readable } from "node:stream";
import { type Bucket, Storage } from "@google-cloud/storage";
import { configError } from "@cdc-delta/shared";
import type { StorageConfig } from "../config.js";
import { assertSafeKey } from "../layout/paths.js";
import { storageError, withRetry } from "./retry.js";
import type { ObjectInfo, ObjectStore } from "./types.js";

type GcsConfig = Extract<StorageConfig, { type: "gcs" }>;
const status = (e: unknown) => (e as { code?: number }).code;

/** Google Cloud Storage (apiEndpoint override for fake-gcs-server); listing uses startOffset. */
export class GcsStore implements ObjectStore {
  readonly description: string;
  private readonly bucket: Bucket;
  private readonly prefix: string;

  constructor(cfg: GcsConfig) {
    let credentials: Record<string, unknown> | undefined;
    if (cfg.credentials_json) {
      try {
        credentials = JSON.parse(cfg.credentials_json);
      } catch {
        throw configError("gcs storage: credentials_json is not valid JSON");
      }
    }
    const storage = new Storage({
      projectId: cfg.project_id ?? (credentials?.project_id as string | undefined) ?? "test",
      credentials: credentials as never,
      apiEndpoint: cfg.api_endpoint,
      ...(cfg.api_endpoint && !credentials ? { token: "unauthenticated" } : {}),
      retryOptions: { autoRetry: true, maxRetries: 4, totalTimeout: 120 },
      timeout: 60_000,
    } as never);
    this.bucket = storage.bucket(cfg.bucket);
    this.prefix = cfg.prefix ? cfg.prefix.replace(/\/?$/, "/") : "";
    this.description = `gs://${cfg.bucket}/${this.prefix}`;
  }

  async *list(options: { under?: string; startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    const p = this.prefix;
    let pageToken: string | undefined;
    const startAfter = options.startAfter ? p + options.startAfter : undefined;
    const what = `list ${this.description}${options.under ?? ""}`;
    do {
      const [files, next] = await withRetry(
        () =>
          this.bucket.getFiles({
            prefix: p + (options.under ?? ""),
            startOffset: startAfter,
            pageToken,
            maxResults: 1000,
            autoPaginate: false,
          }),
        { what },
      ).catch((e) => {
        throw storageError(what, e, status(e));
      });
      for (const f of files) {
        if (startAfter && f.name <= startAfter) continue; // startOffset is inclusive
        yield {
          key: f.name.slice(p.length),
          size: Number(f.metadata.size ?? 0),
          lastModified: f.metadata.updated ? new Date(f.metadata.updated) : undefined,
        };
      }
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  }

  async read(key: string): Promise<Readable> {
    assertSafeKey(key);
    const file = this.bucket.file(this.prefix + key);
    const [exists] = await withRetry(() => file.exists(), { what: `read ${this.description}${key}` }).catch((e) => {
      throw storageError(`read ${this.description}${key}`, e, status(e));
    });
    if (!exists) throw configError(`read ${this.description}${key}: not found`);
    return file.createReadStream({ validation: false });
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    assertSafeKey(key);
    try {
      const [md] = await withRetry(() => this.bucket.file(this.prefix + key).getMetadata(), {
        what: `stat ${this.description}${key}`,
      });
      return { key, size: Number(md.size ?? 0) };
    } catch (e) {
      if (status(e) === 404) return undefined;
      throw storageError(`stat ${this.description}${key}`, e, status(e));
    }
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    assertSafeKey(key);
    await this.bucket
      .file(this.prefix + key)
      .save(typeof body === "string" ? Buffer.from(body) : Buffer.from(body), { resumable: false });
  }
}
