/**
 * Azure Blob Storage object store (also Azurite). A log commit is atomic here through a conditional
 * single-shot upload of the final name with `If-None-Match: *`: the blob appears whole or not at all,
 * and 409/412 means a rival committed that version first (a lost race).
 */
import { BlobServiceClient, type ContainerClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { type ObjectStore, StorageError } from "./types.js";

export interface AzureTargetConfig {
  type: "azure";
  account_name?: string;
  container: string;
  /** Folder inside the container under which tables live. */
  prefix?: string;
  account_key?: string;
  sas_token?: string;
  connection_string?: string;
  /** e.g. Azurite: http://127.0.0.1:10000/devstoreaccount1 */
  endpoint?: string;
}

function joinPath(...parts: string[]): string {
  return parts
    .flatMap((p) => p.split("/"))
    .filter((s) => s !== "")
    .join("/");
}

function statusOf(e: unknown): number | undefined {
  return (e as { statusCode?: number }).statusCode;
}

function wrap(e: unknown, what: string): StorageError {
  const status = statusOf(e);
  const hint = status === 403 || status === 401 ? " (authentication/authorisation failed)" : "";
  return new StorageError(`${what} failed${hint}: ${(e as Error).message}`, { cause: e });
}

export class AzureStore implements ObjectStore {
  constructor(
    private readonly container: ContainerClient,
    private readonly prefix: string,
  ) {}

  static fromConfig(c: AzureTargetConfig): AzureStore {
    let svc: BlobServiceClient;
    if (c.connection_string) svc = BlobServiceClient.fromConnectionString(c.connection_string);
    else {
      const url = c.endpoint ?? `https://${c.account_name}.blob.core.windows.net`;
      if (c.account_key) svc = new BlobServiceClient(url, new StorageSharedKeyCredential(c.account_name ?? "", c.account_key));
      else if (c.sas_token) svc = new BlobServiceClient(`${url}?${c.sas_token.replace(/^\?/, "")}`);
      else svc = new BlobServiceClient(url);
    }
    return new AzureStore(svc.getContainerClient(c.container), joinPath(c.prefix ?? ""));
  }

  get location(): string {
    return `${this.container.url}/${this.prefix}`;
  }

  private key(p: string): string {
    return joinPath(this.prefix, p);
  }

  async read(p: string): Promise<Uint8Array | null> {
    try {
      return await this.container.getBlobClient(this.key(p)).downloadToBuffer();
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw wrap(e, `read ${this.key(p)}`);
    }
  }

  async list(dir: string): Promise<string[]> {
    const prefix = `${this.key(dir)}/`;
    const out: string[] = [];
    try {
      for await (const item of this.container.listBlobsByHierarchy("/", { prefix })) {
        const name = item.kind === "prefix" ? item.name.replace(/\/$/, "") : item.name;
        out.push(name.slice(prefix.length));
      }
    } catch (e) {
      if (statusOf(e) === 404) return [];
      throw wrap(e, `list ${prefix}`);
    }
    return out;
  }

  async write(p: string, data: Uint8Array): Promise<void> {
    try {
      await this.container.getBlockBlobClient(this.key(p)).uploadData(data);
    } catch (e) {
      throw wrap(e, `write ${this.key(p)}`);
    }
  }

  async putIfAbsent(p: string, data: Uint8Array): Promise<boolean> {
    try {
      await this.container.getBlockBlobClient(this.key(p)).upload(data, data.length, { conditions: { ifNoneMatch: "*" } });
      return true;
    } catch (e) {
      const s = statusOf(e);
      if (s === 409 || s === 412) return false;
      throw wrap(e, `commit ${this.key(p)}`);
    }
  }

  async replace(p: string, data: Uint8Array): Promise<void> {
    // A single-shot Put Blob replaces the blob atomically.
    try {
      await this.container.getBlockBlobClient(this.key(p)).upload(data, data.length);
    } catch (e) {
      throw wrap(e, `replace ${this.key(p)}`);
    }
  }

  async copy(from: string, to: string): Promise<void> {
    try {
      const src = this.container.getBlobClient(this.key(from));
      const poller = await this.container.getBlobClient(this.key(to)).beginCopyFromURL(src.url);
      await poller.pollUntilDone();
    } catch (e) {
      throw wrap(e, `copy ${this.key(from)} -> ${this.key(to)}`);
    }
  }

  async delete(p: string): Promise<void> {
    try {
      await this.container.getBlobClient(this.key(p)).deleteIfExists();
    } catch (e) {
      throw wrap(e, `delete ${this.key(p)}`);
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    const full = `${this.key(prefix)}/`;
    try {
      for await (const b of this.container.listBlobsFlat({ prefix: full }))
        await this.container.getBlobClient(b.name).deleteIfExists();
    } catch (e) {
      throw wrap(e, `delete ${full}*`);
    }
  }

  async size(p: string): Promise<number | null> {
    try {
      return (await this.container.getBlobClient(this.key(p)).getProperties()).contentLength ?? null;
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw wrap(e, `stat ${this.key(p)}`);
    }
  }

  sub(prefix: string): ObjectStore {
    return new AzureStore(this.container, joinPath(this.prefix, prefix));
  }

  /** Create the container if missing (tests, check). */
  async ensureContainer(): Promise<void> {
    await this.container.createIfNotExists();
  }
}
