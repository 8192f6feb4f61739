/**
 * External-location staging on Azure Blob / ADLS Gen2 with @azure/storage-blob. Files are uploaded as
 * block blobs under `<prefix>/<dir>/`; the engine reads them at `<readUriBase>/<dir>/` (e.g.
 * `abfss://<container>@<account>.dfs.core.windows.net/<prefix>`), which must be a Unity Catalog
 * external location the warehouse may read.
 */
import { randomUUID } from "node:crypto";
import { BlobServiceClient, type ContainerClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from "../driver/retry.js";
import { classifyDriverError } from "../driver/errors.js";
import type { StageSource } from "../sql/statements.js";
import type { StagingStore } from "./store.js";

export interface AzureStoreOptions {
  /** A connection string, or accountUrl + accountName/accountKey, or accountUrl with a SAS query. */
  connectionString?: string;
  accountUrl?: string;
  accountName?: string;
  accountKey?: string;
  sasToken?: string;
  container: string;
  prefix: string;
  readUriBase: string;
  timeoutMs: number;
  retry?: Partial<RetryPolicy>;
}

export class AzureBlobStore implements StagingStore {
  private readonly container: ContainerClient;
  private readonly prefix: string;
  private readonly retry: RetryPolicy;
  constructor(private readonly o: AzureStoreOptions) {
    let svc: BlobServiceClient;
    if (o.connectionString) svc = BlobServiceClient.fromConnectionString(o.connectionString);
    else if (o.accountUrl && o.accountName && o.accountKey)
      svc = new BlobServiceClient(o.accountUrl, new StorageSharedKeyCredential(o.accountName, o.accountKey));
    else if (o.accountUrl && o.sasToken)
      svc = new BlobServiceClient(`${o.accountUrl.replace(/\/$/, "")}?${o.sasToken.replace(/^\?/, "")}`);
    else throw new Error("azure staging needs a connection string, an account key, or a SAS token");
    this.container = svc.getContainerClient(o.container);
    this.prefix = o.prefix.replace(/^\/+|\/+$/g, "");
    this.retry = { ...DEFAULT_RETRY, ...o.retry };
  }
  get description() {
    return `Azure container ${this.o.container}/${this.prefix}`;
  }
  private key(...parts: string[]) {
    return [this.prefix, ...parts].filter((p) => p.length > 0).join("/");
  }
  source(dir: string): StageSource {
    return { kind: "read_files", uri: `${this.o.readUriBase.replace(/\/$/, "")}/${dir}/` };
  }
  private run<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withRetry(
      this.retry,
      { isRetryable: (e) => classifyDriverError(e).retryable || (e as { name?: string }).name === "AbortError" },
      () => fn(AbortSignal.timeout(this.o.timeoutMs)),
    );
  }
  async put(dir: string, file: string, bytes: Uint8Array): Promise<void> {
    await this.run((abortSignal) => this.container.getBlockBlobClient(this.key(dir, file)).uploadData(bytes, { abortSignal }));
  }
  async purge(dir: string): Promise<void> {
    const names: string[] = [];
    await this.run(async (abortSignal) => {
      names.length = 0;
      for await (const b of this.container.listBlobsFlat({ prefix: `${this.key(dir)}/`, abortSignal })) names.push(b.name);
    });
    for (const n of names)
      await this.run((abortSignal) =>
        this.container.deleteBlob(n, { abortSignal }).catch((e) => {
          if ((e as { statusCode?: number }).statusCode !== 404) throw e;
          return undefined;
        }),
      );
  }
  async listSyncDirs(): Promise<string[]> {
    const out: string[] = [];
    await this.run(async (abortSignal) => {
      out.length = 0;
      const base = this.prefix ? `${this.prefix}/` : "";
      for await (const item of this.container.listBlobsByHierarchy("/", { prefix: base, abortSignal })) {
        if (item.kind === "prefix") out.push(item.name.slice(base.length).replace(/\/$/, ""));
      }
    });
    return out;
  }
  async probe(): Promise<void> {
    const d = `_cdc_check_${randomUUID()}`;
    await this.put(d, "probe.txt", new TextEncoder().encode("ok"));
    await this.purge(d);
  }
}
