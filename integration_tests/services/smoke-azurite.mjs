// Smoke check of Azurite with @azure/storage-blob: container, upload, put-if-absent conflict, download.
// Usage: node integration_tests/services/smoke-azurite.mjs <connectionString>
import { BlobServiceClient } from "@azure/storage-blob";

const conn = process.argv[2];
if (!conn) throw new Error("usage: smoke-azurite.mjs <connectionString>");
const svc = BlobServiceClient.fromConnectionString(conn);
const container = svc.getContainerClient(`smoke-${Date.now()}`);
await container.create();
const blob = container.getBlockBlobClient("_delta_log/00000000000000000000.json");
await blob.upload("{}\n", 3, { conditions: { ifNoneMatch: "*" } });
let conflict = 0;
try {
  await blob.upload("{}\n", 3, { conditions: { ifNoneMatch: "*" } });
} catch (e) {
  conflict = e.statusCode;
}
const body = (await blob.downloadToBuffer()).toString();
await container.delete();
if (conflict !== 409 || body !== "{}\n") throw new Error(`azurite smoke failed: conflict=${conflict} body=${body}`);
console.log(`azurite ok: create/upload/download; second put-if-absent -> ${conflict}`);
