/**
 * The emulator writes a feed into Azure Blob Storage (Azurite). Uses the Azurite listed in
 * .services/endpoints.json when it is up (`.ci/services.sh start`), else starts its own in-memory
 * azurite-blob (root devDependency) on a free port and stops it afterwards. The blobs must equal,
 * name for name and byte for byte, the local tree of the same seed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getService, isServiceUp, REPO_ROOT } from "../services/endpoints.js";
import { generateChangefeed } from "./generate.js";
import { readTruthAt } from "./truth.js";

const ACCOUNT = "devstoreaccount1";
const KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const tmp = mkdtempSync(join(tmpdir(), "emu-azure-"));
let endpoint = "";
let own: ChildProcess | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

async function waitFor(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > until) throw new Error(`Azurite did not come up at ${url}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

beforeAll(async () => {
  if (await isServiceUp("azurite")) {
    endpoint = getService("azurite").url;
    return;
  }
  const port = await freePort();
  const bin = join(REPO_ROOT, "node_modules", ".bin", "azurite-blob");
  own = spawn(
    bin,
    [
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      String(port),
      "--inMemoryPersistence",
      "--silent",
      "--skipApiVersionCheck",
      "--loose",
    ],
    { stdio: "ignore" },
  );
  endpoint = `http://127.0.0.1:${port}/${ACCOUNT}`;
  await waitFor(`http://127.0.0.1:${port}/`, 30_000);
}, 60_000);

afterAll(() => {
  if (own?.pid) own.kill("SIGTERM");
  rmSync(tmp, { recursive: true, force: true });
});

function localTree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p).split("\\").join("/"), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe("Azure Blob target (Azurite)", () => {
  it("writes the same objects as the local target, under the URL's prefix, and the same truth", async () => {
    const container = `emu${Date.now().toString(36)}`;
    const prefix = "cdc/shop";
    const opts = {
      tables: 3,
      changes: 300,
      seed: 17,
      families: true,
      compression: "zstd" as const,
      partition: "hourly" as const,
    };
    const url = `azure://${container}/${prefix}?AZURE_ACCOUNT_NAME=${ACCOUNT}&AZURE_ACCOUNT_KEY=${encodeURIComponent(KEY)}&AZURE_ENDPOINT=${encodeURIComponent(endpoint)}`;
    const summary = await generateChangefeed({ ...opts, out: url, truth: join(tmp, "azure-truth") });
    expect(summary.out).toBe(`azure://${container}/${prefix}`);
    expect(JSON.stringify(summary)).not.toContain(KEY.slice(0, 20));
    await generateChangefeed({ ...opts, out: join(tmp, "local") });

    const svc = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(ACCOUNT, KEY));
    const c = svc.getContainerClient(container);
    const blobs = new Map<string, Buffer>();
    for await (const b of c.listBlobsFlat({ prefix: `${prefix}/` }))
      blobs.set(b.name.slice(prefix.length + 1), await c.getBlobClient(b.name).downloadToBuffer());
    const local = localTree(join(tmp, "local"));
    expect([...blobs.keys()].sort()).toEqual([...local.keys()].sort());
    for (const [k, v] of local) expect(Buffer.compare(blobs.get(k) as Buffer, v), k).toBe(0);
    expect(blobs.size).toBeGreaterThan(20);

    const a = await readTruthAt(join(tmp, "azure-truth"));
    const b = await readTruthAt(join(tmp, "local-truth"));
    expect([...a.entries()].map(([t, m]) => [t, [...m.entries()]])).toEqual(
      [...b.entries()].map(([t, m]) => [t, [...m.entries()]]),
    );
    // Second path: the source's own storage abstraction (ObjectStore) as the emulator's sink, and
    // its list/read to get the objects back.
    const { AzureStore } = await import("../../source-cockroachdb-cdc/src/storage/azure.js");
    const store = new AzureStore({
      type: "azure",
      account_name: ACCOUNT,
      account_key: KEY,
      container,
      prefix: "via-source-store",
      endpoint,
    } as never);
    await generateChangefeed({ ...opts, out: "unused", sink: store, truth: null });
    const viaStore = new Map<string, Buffer>();
    for await (const o of store.list()) {
      const chunks: Buffer[] = [];
      for await (const ch of await store.read(o.key)) chunks.push(Buffer.from(ch as Uint8Array));
      viaStore.set(o.key, Buffer.concat(chunks));
    }
    expect([...viaStore.keys()].sort()).toEqual([...local.keys()].sort());
    for (const [k, v] of local) expect(Buffer.compare(viaStore.get(k) as Buffer, v), k).toBe(0);
    await c.delete();
  }, 120_000);
});
