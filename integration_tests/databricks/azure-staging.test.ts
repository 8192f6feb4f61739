/** External-location staging with @azure/storage-blob against Azurite (upload, list, purge, stale sweep). */
import { BlobServiceClient } from "@azure/storage-blob";
import { describe, expect, it } from "vitest";
import { AzureBlobStore } from "../../destination-databricks-delta/src/databricks/staging/azure.js";
import { newSyncDir, purgeStale } from "../../destination-databricks-delta/src/databricks/staging/store.js";
import { getService } from "../services/endpoints.js";

describe("AzureBlobStore (Azurite)", () => {
  it("puts batch files, lists sync dirs, purges a batch and stale syncs", async () => {
    const az = getService("azurite");
    const container = `dbx-stage-${Date.now().toString(36)}`;
    await BlobServiceClient.fromConnectionString(az.connectionString).getContainerClient(container).create();
    const store = new AzureBlobStore({
      connectionString: az.connectionString,
      container,
      prefix: "cdc/stage",
      readUriBase: `abfss://${container}@acct.dfs.core.windows.net/cdc/stage`,
      timeoutMs: 10_000,
    });
    const now = Date.now();
    const current = newSyncDir(now);
    const old = newSyncDir(now - 24 * 3600_000);
    await store.put(`${current}/t-b1-x`, "part-1.parquet", new Uint8Array([1, 2, 3]));
    await store.put(`${current}/t-b2-x`, "part-2.parquet", new Uint8Array([4]));
    await store.put(`${old}/t-b0-x`, "part-0.parquet", new Uint8Array([5]));
    expect((await store.listSyncDirs()).sort()).toEqual([current, old].sort());
    expect(store.source(`${current}/t-b1-x`)).toEqual({
      kind: "read_files",
      uri: `abfss://${container}@acct.dfs.core.windows.net/cdc/stage/${current}/t-b1-x/`,
    });
    await store.purge(`${current}/t-b1-x`);
    expect(await purgeStale(store, current, 6 * 3600_000, now)).toEqual([old]);
    const left: string[] = [];
    for await (const b of BlobServiceClient.fromConnectionString(az.connectionString)
      .getContainerClient(container)
      .listBlobsFlat())
      left.push(b.name);
    expect(left).toEqual([`cdc/stage/${current}/t-b2-x/part-2.parquet`]);
    await store.probe();
  });
});
