/**
 * One storage contract, every backend: lexical paginated listing with under/startAfter, read, stat,
 * auth/missing-container errors as config_error, and a full source read through the backend.
 * Services come from .ci/services.sh (endpoints.json); absent services fail under CI=true.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BlobServiceClient,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { silentLogger } from "@cdc-delta/shared";
import { afterAll, describe, expect, it } from "vitest";
import { discover } from "../../source-cockroachdb-cdc/src/catalog/discover.js";
import { SourceConfig } from "../../source-cockroachdb-cdc/src/config.js";
import { read } from "../../source-cockroachdb-cdc/src/read.js";
import { openStore } from "../../source-cockroachdb-cdc/src/storage/index.js";
import type { ObjectStore } from "../../source-cockroachdb-cdc/src/storage/types.js";
import { FeedBuilder, hlc, hlcText, line } from "../../source-cockroachdb-cdc/src/testing/feed-builder.js";
import { isServiceUp, readEndpoints } from "../services/endpoints.js";
import { startUcStub, type UcStub } from "./uc-stub.js";

const CI = process.env.CI === "true";
const run = `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

async function available(name: "azurite" | "moto" | "fakeGcs"): Promise<boolean> {
  const up = await isServiceUp(name);
  if (!up && CI) throw new Error(`service ${name} is required under CI=true but is not running (see .ci/services.sh)`);
  return up;
}

/** Writes a small feed locally and returns its files (relative key → bytes). */
function sampleFeed(): Map<string, Buffer> {
  const dir = mkdtempSync(join(tmpdir(), "src-store-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const b = new FeedBuilder(dir);
  const files = new Map<string, Buffer>();
  const put = (k: string) => files.set(k, require("node:fs").readFileSync(join(dir, k)));
  put(
    b.data(hlc(0), "orders", [line("[1]", '{"id": 1, "v": "a"}', hlcText(0)), line("[2]", '{"id": 2, "v": "b"}', hlcText(0))], {
      codec: "gz",
    }),
  );
  put(b.resolved(hlc(0)));
  // Next day: the listing after the cursor must cross a date folder.
  put(b.data(hlc(86_400), "orders", [line("[1]", null, hlcText(86_400))]));
  put(b.resolved(hlc(86_401)));
  return files;
}

async function contract(storageCfg: Record<string, unknown>, populate: (files: Map<string, Buffer>) => Promise<void>) {
  const files = sampleFeed();
  await populate(files);
  const config = SourceConfig.parse({ storage: storageCfg });
  const store: ObjectStore = await openStore(config.storage);
  const keys = [...files.keys()].sort();
  const listed: string[] = [];
  for await (const o of store.list()) listed.push(o.key);
  expect(listed).toEqual(keys);
  const after: string[] = [];
  for await (const o of store.list({ startAfter: keys[1] })) after.push(o.key);
  expect(after).toEqual(keys.slice(2));
  const under: string[] = [];
  for await (const o of store.list({ under: "2025-03-15/" })) under.push(o.key);
  expect(under).toEqual(keys.filter((k) => k.startsWith("2025-03-15/")));
  expect((await store.stat(keys[0] as string))?.size).toBe(files.get(keys[0] as string)?.length);
  expect(await store.stat("2025-03-14/nope.RESOLVED")).toBeUndefined();
  const chunks: Buffer[] = [];
  for await (const c of await store.read(keys[1] as string)) chunks.push(c as Buffer);
  expect(Buffer.concat(chunks)).toEqual(files.get(keys[1] as string));
  // End to end through the backend: discover + read + resume.
  const cat = await discover(config, silentLogger());
  const catalog = {
    streams: cat.streams.map((stream) => ({ stream, sync_mode: "incremental", destination_sync_mode: "append" })),
  } as never;
  const msgs = [];
  for await (const m of read({ ...config, max_window_bytes: 1 }, catalog, undefined, {
    logger: silentLogger(),
    signal: new AbortController().signal,
  }))
    msgs.push(m);
  const recs = msgs.filter((m) => m.type === "RECORD").map((m) => m.record?.data);
  expect(recs).toEqual([
    { id: 1, v: "a", _cdc_op: "upsert", _cdc_updated: hlcText(0), _cdc_family: null },
    { id: 2, v: "b", _cdc_op: "upsert", _cdc_updated: hlcText(0), _cdc_family: null },
    { id: 1, _cdc_op: "delete", _cdc_updated: hlcText(86_400), _cdc_family: null },
  ]);
  const firstState = msgs.find((m) => m.type === "STATE")?.state;
  const resumed = [];
  for await (const m of read(config, catalog, [firstState], { logger: silentLogger(), signal: new AbortController().signal }))
    resumed.push(m);
  expect(resumed.filter((m) => m.type === "RECORD")).toHaveLength(1);
  return store;
}

describe("storage backends: one contract", () => {
  it("local folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "src-local-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    await contract({ type: "local", path: dir }, async (files) => {
      const { LocalStore } = await import("../../source-cockroachdb-cdc/src/storage/local.js");
      const s = new LocalStore(dir);
      for (const [k, v] of [...files].reverse()) await s.put(k, v);
    });
  });

  it("Azure Blob (Azurite): account key, SAS, connection string; errors are config_error", async () => {
    if (!(await available("azurite"))) return;
    const az = readEndpoints().services.azurite as NonNullable<ReturnType<typeof readEndpoints>["services"]["azurite"]>;
    const container = `src-${run}`;
    const svc = BlobServiceClient.fromConnectionString(az.connectionString);
    await svc.getContainerClient(container).create();
    cleanups.push(async () => void (await svc.getContainerClient(container).deleteIfExists()));
    const base = { type: "azure", account_name: az.accountName, container, endpoint: az.url };
    await contract({ ...base, prefix: "a", account_key: az.accountKey }, async (files) => {
      for (const [k, v] of files) await svc.getContainerClient(container).getBlockBlobClient(`a/${k}`).uploadData(v);
    });
    const sas = generateBlobSASQueryParameters(
      { containerName: container, expiresOn: new Date(Date.now() + 3600_000), permissions: ContainerSASPermissions.parse("rl") },
      new StorageSharedKeyCredential(az.accountName, az.accountKey),
    ).toString();
    await contract({ ...base, prefix: "b", sas_token: sas }, async (files) => {
      for (const [k, v] of files) await svc.getContainerClient(container).getBlockBlobClient(`b/${k}`).uploadData(v);
    });
    await contract({ type: "azure", container, prefix: "c", connection_string: az.connectionString }, async (files) => {
      for (const [k, v] of files) await svc.getContainerClient(container).getBlockBlobClient(`c/${k}`).uploadData(v);
    });
    const badKey = await openStore(
      SourceConfig.parse({ storage: { ...base, account_key: Buffer.from("wrong-key-wrong-key").toString("base64") } }).storage,
    );
    await expect(
      (async () => {
        for await (const _ of badKey.list()) break;
      })(),
    ).rejects.toMatchObject({ failureType: "config_error", message: expect.stringMatching(/access denied/) });
    const missing = await openStore(
      SourceConfig.parse({ storage: { ...base, container: `missing-${run}`, account_key: az.accountKey } }).storage,
    );
    await expect(
      (async () => {
        for await (const _ of missing.list()) break;
      })(),
    ).rejects.toMatchObject({ failureType: "config_error", message: expect.stringMatching(/not found/) });
  });

  it("S3-compatible (moto): StartAfter listing, path-style endpoint", async () => {
    if (!(await available("moto"))) return;
    const m = readEndpoints().services.moto as NonNullable<ReturnType<typeof readEndpoints>["services"]["moto"]>;
    const bucket = `src-${run}`.toLowerCase();
    const client = new S3Client({
      region: m.region,
      endpoint: m.url,
      forcePathStyle: true,
      credentials: { accessKeyId: m.accessKeyId, secretAccessKey: m.secretAccessKey },
    });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const cfg = {
      type: "s3",
      bucket,
      prefix: "feeds/x",
      region: m.region,
      access_key_id: m.accessKeyId,
      secret_access_key: m.secretAccessKey,
      endpoint: m.url,
      force_path_style: true,
    };
    const store = await openStore(SourceConfig.parse({ storage: cfg }).storage);
    await contract(cfg, async (files) => {
      for (const [k, v] of files) await store.put(k, v);
    });
    const missing = await openStore(SourceConfig.parse({ storage: { ...cfg, bucket: `missing-${run}`.toLowerCase() } }).storage);
    await expect(
      (async () => {
        for await (const _ of missing.list()) break;
      })(),
    ).rejects.toMatchObject({ failureType: "config_error" });
  });

  it("Google Cloud Storage (fake-gcs-server): startOffset listing", async () => {
    if (!(await available("fakeGcs"))) return;
    const g = readEndpoints().services.fakeGcs as NonNullable<ReturnType<typeof readEndpoints>["services"]["fakeGcs"]>;
    const bucket = `src-${run}`.toLowerCase();
    const res = await fetch(`${g.storageApiBase}/b?project=${g.projectId}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: bucket }),
    });
    expect(res.ok).toBe(true);
    const cfg = { type: "gcs", bucket, prefix: "cdc", project_id: g.projectId, api_endpoint: g.url };
    const store = await openStore(SourceConfig.parse({ storage: cfg }).storage);
    await contract(cfg, async (files) => {
      for (const [k, v] of files) await store.put(k, v);
    });
  });

  it("Unity Catalog volume (Files API stub): paginated unsorted folders, retries on 503, listing starts at the cursor's date folder", async () => {
    const root = mkdtempSync(join(tmpdir(), "src-uc-"));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const stub: UcStub = await startUcStub(root, { pageSize: 2, failEveryNth: 5 });
    cleanups.push(() => stub.close());
    const cfg = { type: "uc_volume", host: stub.url, token: stub.token, volume_path: "/Volumes/main/cdc/feeds/shop" };
    const store = await openStore(SourceConfig.parse({ storage: cfg }).storage);
    await contract(cfg, async (files) => {
      for (const [k, v] of files) await store.put(k, v);
    });
    stub.requests.length = 0;
    for await (const _ of store.list({ startAfter: "2025-03-15/202503150926410000000000000000000.RESOLVED" })) void _;
    expect(stub.requests.some((r) => r.includes("/2025-03-14"))).toBe(false);
    const bad = await openStore(SourceConfig.parse({ storage: { ...cfg, token: "nope" } }).storage);
    await expect(
      (async () => {
        for await (const _ of bad.list()) break;
      })(),
    ).rejects.toMatchObject({ failureType: "config_error", message: expect.stringMatching(/access denied/) });
  });
});
