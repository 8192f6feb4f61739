/**
 * The Azure Blob object store against Azurite: commits are conditional puts (If-None-Match: *), a
 * rival commit loses and retries, and a merge workload equals the oracle (read by our log replay
 * and by delta-rs over az://).
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { silentLogger } from "@cdc-delta/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeltaBackend } from "../../destination-databricks-delta/src/delta/backend.js";
import { AzureStore } from "../../destination-databricks-delta/src/delta/store/azure.js";
import { DeltaTable } from "../../destination-databricks-delta/src/delta/table/delta-table.js";
import { testTable } from "../../destination-databricks-delta/src/plan/testing.js";
import type { StoredRow } from "../../destination-databricks-delta/src/plan/types.js";
import { PEER, PYTHON, sortRows } from "../peers/delta-rs.js";
import { type AzuriteEndpoint, readEndpoints } from "../services/endpoints.js";
import { MemoryBackend, canonRows, mergeBatch, prep, randomFragments, splitBatches, tempDir } from "./helpers.js";

const run = promisify(execFile);
let az: AzuriteEndpoint;
let stopOwn: (() => void) | null = null;
const container = `delta-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  const listed = readEndpoints().services.azurite;
  if (listed) {
    az = listed;
    return;
  }
  // No shared Azurite: start one in a temp dir.
  const { spawn } = await import("node:child_process");
  const { path, cleanup } = tempDir("azurite-");
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    process.execPath,
    [
      "node_modules/azurite/dist/src/blob/main.js",
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      String(port),
      "--location",
      path,
      "--skipApiVersionCheck",
      "--silent",
    ],
    { stdio: "ignore" },
  );
  stopOwn = () => {
    child.kill();
    cleanup();
  };
  const key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
  const url = `http://127.0.0.1:${port}/devstoreaccount1`;
  az = {
    host: "127.0.0.1",
    port,
    url,
    accountName: "devstoreaccount1",
    accountKey: key,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};BlobEndpoint=${url};`,
  };
  await new Promise((r) => setTimeout(r, 1500));
});
afterAll(() => stopOwn?.());

function store(prefix: string): AzureStore {
  return AzureStore.fromConfig({ type: "azure", container, prefix, connection_string: az.connectionString });
}

async function readAll(t: DeltaTable): Promise<StoredRow[]> {
  const snap = await t.snapshot();
  const out: StoredRow[] = [];
  for (const add of snap!.files.values())
    out.push(
      ...(await t.readDataFile(
        add,
        snap!.fields.map((f) => f.name),
      )),
    );
  return out;
}

describe("Azure Blob store (Azurite)", () => {
  it("putIfAbsent is a conditional put: the second writer of a name loses", async () => {
    const s = store("race");
    await s.ensureContainer();
    const results = await Promise.all(
      [1, 2, 3].map((i) => s.putIfAbsent("_delta_log/00000000000000000000.json", Buffer.from(`{"n":${i}}\n`))),
    );
    expect(results.filter(Boolean).length).toBe(1);
    expect(await s.list("_delta_log")).toEqual(["00000000000000000000.json"]);
  });

  it("two writers appending concurrently both land (lost races retried)", async () => {
    const s = store("two-writers");
    await s.ensureContainer();
    const fields = [{ name: "id", type: { kind: "long" as const }, nullable: false, metadata: {} }];
    await new DeltaTable(s, "t").ensureSchema(fields);
    await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const t = new DeltaTable(store("two-writers"), "t");
        await t.commit(
          async (snap) => ({
            actions: [{ add: await t.writeDataFile(snap.fields, [{ id: BigInt(i) }], new Set(["id"])) }],
            readsData: false,
          }),
          { operation: "WRITE" },
        );
      }),
    );
    const snap = await new DeltaTable(s, "t").snapshot();
    expect(snap?.version).toBe(4);
    expect(snap?.files.size).toBe(4);
  });

  it("a merge workload through createDeltaBackend equals the oracle (own replay and delta-rs over az://)", async () => {
    await store("").ensureContainer();
    const spec = testTable("hard");
    const backend = createDeltaBackend(
      {
        type: "azure",
        container,
        prefix: "wh",
        connection_string: az.connectionString,
        target_file_rows: 16,
        checkpoint_interval: 4,
      },
      silentLogger(),
    );
    await backend.check();
    const oracle = new MemoryBackend();
    await backend.prepareStream(prep(spec, "hard"));
    await oracle.prepareStream(prep(spec, "hard"));
    let i = 0;
    for (const b of splitBatches(randomFragments(5, 200, 20), 5, 40)) {
      const batch = mergeBatch(spec, "hard", b, `b${i++}`);
      await backend.apply(batch);
      await oracle.apply(batch);
    }
    const want = sortRows(canonRows(oracle.rowsOf(spec.ref), spec), spec.keyColumns);
    const rows = await readAll(new DeltaTable(store("wh/shop/orders"), "orders"));
    expect(sortRows(canonRows(rows, spec), spec.keyColumns)).toEqual(want);
    const opts = {
      account_name: az.accountName,
      account_key: az.accountKey,
      use_emulator: "true",
      azure_storage_use_emulator: "true",
      allow_http: "true",
    };
    let peer: { stdout: string } | null = null;
    try {
      peer = await run(PYTHON, [PEER, "read", `az://${container}/wh/shop/orders`], {
        env: { ...process.env, DELTA_PEER_STORAGE_OPTIONS: JSON.stringify(opts) },
        maxBuffer: 1 << 28,
      });
    } catch (e) {
      // delta-rs' emulator mode assumes the default port 10000; a private Azurite elsewhere cannot be read by it.
      if (az.port === 10000) throw e;
    }
    if (peer) {
      const lines = peer.stdout.split("\n").filter((l) => l.trim());
      expect(
        sortRows(
          lines.slice(1).map((l) => JSON.parse(l)),
          spec.keyColumns,
        ),
      ).toEqual(want);
    }
  });
});
