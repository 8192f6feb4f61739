import type { Readable } from "node:stream";
import { BlobServiceClient, type ContainerClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { configError } from "@cdc-delta/shared";
import type { StorageConfig } from "../config.js";
import { assertSafeKey } from "../layout/paths.js";
import { type HierarchicalLister, type LevelEntry, listAfter } from "./hierarchy.js";
import { storageError, withRetry } from "./retry.js";
import type { ObjectInfo, ObjectStore } from "./types.js";

type AzureConfig = Extract<StorageConfig, { type: "azure" }>;

const PAGE = 1000;
const TRY_TIMEOUT_MS = 60_000;

/** Azure Blob Storage (account key, SAS or connection string; endpoint override for Azurite). */
export class AzureStore implements ObjectStore {
  readonly description: string;
  private readonly container: ContainerClient;
  private readonly prefix: string;

  constructor(cfg: AzureConfig) {
    const pipeline = {
      retryOptions: { maxTries: 4, tryTimeoutInMs: TRY_TIMEOUT_MS, retryDelayInMs: 200, maxRetryDelayInMs: 5000 },
    };
    let service: BlobServiceClient;
    const endpoint = cfg.endpoint ?? (cfg.account_name ? `https://${cfg.account_name}.blob.core.windows.net` : undefined);
    if (cfg.connection_string) service = BlobServiceClient.fromConnectionString(cfg.connection_string, pipeline);
    else if (cfg.account_key) {
      if (!cfg.account_name || !endpoint) throw configError("azure storage: account_name is required with account_key");
      service = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(cfg.account_name, cfg.account_key), pipeline);
    } else if (cfg.sas_token) {
      if (!endpoint) throw configError("azure storage: account_name or endpoint is required with sas_token");
      service = new BlobServiceClient(`${endpoint}?${cfg.sas_token.replace(/^\?/, "")}`, undefined, pipeline);
    } else throw configError("azure storage: give account_key, sas_token or connection_string");
    this.container = service.getContainerClient(cfg.container);
    this.prefix = cfg.prefix ? cfg.prefix.replace(/\/?$/, "/") : "";
    this.description = `azure://${cfg.container}/${this.prefix}`;
  }

  private lister(): HierarchicalLister {
    const self = this;
    const p = this.prefix;
    return {
      async *level(prefix: string): AsyncIterable<LevelEntry> {
        const iter = self.container.listBlobsByHierarchy("/", { prefix: p + prefix }).byPage({ maxPageSize: PAGE });
        for (;;) {
          const page = await withRetry(() => iter.next(), { what: `list ${self.description}${prefix}` }).catch((e) => {
            throw storageError(`list ${self.description}${prefix}`, e, (e as { statusCode?: number }).statusCode);
          });
          if (page.done) return;
          const seg = page.value.segment;
          const entries: LevelEntry[] = [
            ...(seg.blobPrefixes ?? []).map((bp) => ({ key: bp.name.slice(p.length), folder: true })),
            ...seg.blobItems.map((b) => ({
              key: b.name.slice(p.length),
              folder: false,
              info: {
                key: b.name.slice(p.length),
                size: b.properties.contentLength ?? 0,
                lastModified: b.properties.lastModified,
              },
            })),
          ].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
          yield* entries;
        }
      },
      async *flat(prefix: string): AsyncIterable<ObjectInfo> {
        const iter = self.container.listBlobsFlat({ prefix: p + prefix }).byPage({ maxPageSize: PAGE });
        for (;;) {
          const page = await withRetry(() => iter.next(), { what: `list ${self.description}${prefix}` }).catch((e) => {
            throw storageError(`list ${self.description}${prefix}`, e, (e as { statusCode?: number }).statusCode);
          });
          if (page.done) return;
          for (const b of page.value.segment.blobItems)
            yield { key: b.name.slice(p.length), size: b.properties.contentLength ?? 0, lastModified: b.properties.lastModified };
        }
      },
    };
  }

  async *list(options: { under?: string; startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    yield* listAfter(this.lister(), options.under ?? "", options.startAfter);
  }

  async read(key: string): Promise<Readable> {
    assertSafeKey(key);
    const blob = this.container.getBlobClient(this.prefix + key);
    const res = await withRetry(() => blob.download(0, undefined, { maxRetryRequests: 5 }), {
      what: `read ${this.description}${key}`,
    }).catch((e) => {
      throw storageError(`read ${this.description}${key}`, e, (e as { statusCode?: number }).statusCode);
    });
    return res.readableStreamBody as unknown as Readable;
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    assertSafeKey(key);
    try {
      const p = await withRetry(() => this.container.getBlobClient(this.prefix + key).getProperties(), {
        what: `stat ${this.description}${key}`,
      });
      return { key, size: p.contentLength ?? 0, lastModified: p.lastModified };
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (status === 404 && !/ContainerNotFound/.test(String((e as { code?: string }).code))) return undefined;
      throw storageError(`stat ${this.description}${key}`, e, status);
    }
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    assertSafeKey(key);
    const data = typeof body === "string" ? Buffer.from(body) : body;
    await this.container.getBlockBlobClient(this.prefix + key).uploadData(data);
  }
}
