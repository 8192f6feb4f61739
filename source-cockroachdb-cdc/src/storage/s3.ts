import type { Readable } from "node:stream";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { StorageConfig } from "../config.js";
import { assertSafeKey } from "../layout/paths.js";
import { storageError, withRetry } from "./retry.js";
import type { ObjectInfo, ObjectStore } from "./types.js";

type S3Config = Extract<StorageConfig, { type: "s3" }>;
const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/** S3 and S3-compatible stores (endpoint override, path-style); listing uses StartAfter. */
export class S3Store implements ObjectStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly cfg: S3Config) {
    this.client = new S3Client({
      region: cfg.region,
      endpoint: cfg.endpoint,
      forcePathStyle: cfg.force_path_style,
      maxAttempts: 4,
      requestHandler: { requestTimeout: 60_000, connectionTimeout: 10_000 } as never,
      credentials:
        cfg.access_key_id && cfg.secret_access_key
          ? { accessKeyId: cfg.access_key_id, secretAccessKey: cfg.secret_access_key, sessionToken: cfg.session_token }
          : undefined,
    });
    this.prefix = cfg.prefix ? cfg.prefix.replace(/\/?$/, "/") : "";
    this.description = `s3://${cfg.bucket}/${this.prefix}`;
  }

  async *list(options: { under?: string; startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    const p = this.prefix;
    let token: string | undefined;
    const startAfter = options.startAfter ? p + options.startAfter : undefined;
    do {
      const what = `list ${this.description}${options.under ?? ""}`;
      const res = await withRetry(
        () =>
          this.client.send(
            new ListObjectsV2Command({
              Bucket: this.cfg.bucket,
              Prefix: p + (options.under ?? ""),
              StartAfter: token ? undefined : startAfter,
              ContinuationToken: token,
              MaxKeys: 1000,
            }),
          ),
        { what },
      ).catch((e) => {
        throw storageError(what, e, status(e));
      });
      for (const o of res.Contents ?? [])
        if (o.Key) yield { key: o.Key.slice(p.length), size: o.Size ?? 0, lastModified: o.LastModified };
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  async read(key: string): Promise<Readable> {
    assertSafeKey(key);
    const what = `read ${this.description}${key}`;
    const res = await withRetry(
      () => this.client.send(new GetObjectCommand({ Bucket: this.cfg.bucket, Key: this.prefix + key })),
      { what },
    ).catch((e) => {
      throw storageError(what, e, status(e));
    });
    return res.Body as Readable;
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    assertSafeKey(key);
    try {
      const h = await withRetry(
        () => this.client.send(new HeadObjectCommand({ Bucket: this.cfg.bucket, Key: this.prefix + key })),
        { what: `stat ${this.description}${key}` },
      );
      return { key, size: h.ContentLength ?? 0, lastModified: h.LastModified };
    } catch (e) {
      if (status(e) === 404 || (e as { name?: string }).name === "NotFound") return undefined;
      throw storageError(`stat ${this.description}${key}`, e, status(e));
    }
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    assertSafeKey(key);
    await this.client.send(new PutObjectCommand({ Bucket: this.cfg.bucket, Key: this.prefix + key, Body: body }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
