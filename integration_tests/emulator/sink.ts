/**
 * Where emitted objects go. Deliberately tiny (`put` only): the read side lives in
 * source-cockroachdb-cdc/src/storage/. Targets: a local folder, Azure Blob (Azurite in tests), or
 * `null:` (discard; for benchmarks).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";

/**
 * Structurally compatible with the source's `ObjectStore.put` (source-cockroachdb-cdc/src/storage),
 * so a source store can be passed as `sink` to write a feed through the read side's abstraction.
 */
export interface ObjectSink {
  /** Write one object; `key` is relative to the feed prefix and uses `/` separators. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Human-readable location (never contains secrets). */
  readonly location?: string;
  readonly description?: string;
}

export class LocalSink implements ObjectSink {
  private readonly made = new Set<string>();
  readonly location: string;
  constructor(readonly root: string) {
    this.location = resolve(root);
  }
  async put(key: string, bytes: Uint8Array): Promise<void> {
    if (key.split("/").some((p) => p === ".." || p === "")) throw new Error(`bad object key ${key}`);
    const path = join(this.root, key);
    const dir = dirname(path);
    if (!this.made.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.made.add(dir);
    }
    await writeFile(path, bytes);
  }
}

export class NullSink implements ObjectSink {
  readonly location = "null:";
  bytes = 0;
  objects = 0;
  async put(_key: string, bytes: Uint8Array): Promise<void> {
    this.bytes += bytes.byteLength;
    this.objects++;
  }
}

export interface AzureTarget {
  container: string;
  prefix: string;
  accountName: string;
  accountKey: string;
  /** Blob service endpoint, e.g. `http://127.0.0.1:10000/devstoreaccount1` (Azurite). */
  endpoint: string;
}

/**
 * `azure://<container>/<prefix>?AZURE_ACCOUNT_NAME=…&AZURE_ACCOUNT_KEY=…[&AZURE_ENDPOINT=…]`
 * (CockroachDB's sink URI form; AZURE_ENDPOINT is an emulator extension for Azurite, defaulting to
 * `https://<account>.blob.core.windows.net`).
 */
export function parseAzureUrl(url: string): AzureTarget {
  const u = new URL(url);
  if (u.protocol !== "azure:") throw new Error(`not an azure:// URL: ${url}`);
  const accountName = u.searchParams.get("AZURE_ACCOUNT_NAME");
  const accountKey = u.searchParams.get("AZURE_ACCOUNT_KEY");
  if (!accountName || !accountKey) throw new Error("azure:// URL needs AZURE_ACCOUNT_NAME and AZURE_ACCOUNT_KEY");
  const endpoint = u.searchParams.get("AZURE_ENDPOINT") ?? `https://${accountName}.blob.core.windows.net`;
  return {
    container: u.hostname,
    prefix: decodeURIComponent(u.pathname.replace(/^\/+/, "").replace(/\/+$/, "")),
    accountName,
    accountKey,
    endpoint,
  };
}

export class AzureSink implements ObjectSink {
  readonly location: string;
  private container: unknown;
  constructor(private readonly target: AzureTarget) {
    this.location = `azure://${target.container}/${target.prefix}`;
  }
  private async client(): Promise<{ getBlockBlobClient(name: string): { uploadData(d: Uint8Array): Promise<unknown> } }> {
    if (!this.container) {
      const { BlobServiceClient, StorageSharedKeyCredential } = await import("@azure/storage-blob");
      const svc = new BlobServiceClient(
        this.target.endpoint,
        new StorageSharedKeyCredential(this.target.accountName, this.target.accountKey),
      );
      const c = svc.getContainerClient(this.target.container);
      await c.createIfNotExists();
      this.container = c;
    }
    return this.container as never;
  }
  async put(key: string, bytes: Uint8Array): Promise<void> {
    const c = await this.client();
    const name = this.target.prefix ? `${this.target.prefix}/${key}` : key;
    await c.getBlockBlobClient(name).uploadData(bytes);
  }
}

export function sinkFor(out: string): ObjectSink {
  if (out === "null:") return new NullSink();
  if (out.startsWith("azure://")) return new AzureSink(parseAzureUrl(out));
  return new LocalSink(out);
}
