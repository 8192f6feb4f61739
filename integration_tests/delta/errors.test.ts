/** Bad targets fail clearly and leave no partial commit. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "@cdc-delta/shared";
import { afterAll, describe, expect, it } from "vitest";
import { createDeltaBackend } from "../../destination-databricks-delta/src/delta/backend.js";
import { loadSnapshot } from "../../destination-databricks-delta/src/delta/log/snapshot.js";
import { LocalStore } from "../../destination-databricks-delta/src/delta/store/local.js";
import { testTable } from "../../destination-databricks-delta/src/plan/testing.js";
import { readEndpoints } from "../services/endpoints.js";
import { localBackend, mergeBatch, prep, randomFragments, tempDir } from "./helpers.js";

const dirs: (() => void)[] = [];
afterAll(() => {
  for (const d of dirs) d();
});

describe("bad targets", () => {
  it("an unwritable local path fails check and prepareStream naming the path", async () => {
    const { path, cleanup } = tempDir("delta-bad-");
    dirs.push(cleanup);
    const file = join(path, "not-a-dir");
    writeFileSync(file, "x");
    const backend = localBackend(join(file, "tables"));
    await expect(backend.check()).rejects.toThrow(/not-a-dir/);
    await expect(backend.prepareStream(prep(testTable("hard"), "hard"))).rejects.toThrow(/not-a-dir/);
  });

  it("a batch that fails to coerce into the table leaves no commit (NOT NULL key missing)", async () => {
    const { path, cleanup } = tempDir("delta-bad-batch-");
    dirs.push(cleanup);
    const spec = testTable("hard");
    const backend = localBackend(path);
    await backend.prepareStream(prep(spec, "hard"));
    await backend.apply(mergeBatch(spec, "hard", randomFragments(1, 20, 5), "ok"));
    const before = await loadSnapshot(new LocalStore(join(path, "shop", "orders")));
    const bad = mergeBatch(spec, "hard", randomFragments(2, 5, 5), "bad");
    if (bad.kind !== "merge") throw new Error("expected a merge batch");
    for (const im of bad.images) {
      im.values = new Map([...im.values].map(([k, v]) => [k, k === "region" ? null : v]));
      im.key = [null, im.key[1]!];
    }
    await expect(backend.apply(bad)).rejects.toThrow(/NOT NULL/);
    const after = await loadSnapshot(new LocalStore(join(path, "shop", "orders")));
    expect(after?.version).toBe(before?.version);
  });

  it.runIf(!!readEndpoints().services.azurite || process.env.CI === "true")(
    "an Azure auth failure is reported as such",
    async () => {
      const az = readEndpoints().services.azurite!;
      const backend = createDeltaBackend(
        {
          type: "azure",
          container: "delta-auth",
          account_name: az.accountName,
          account_key: Buffer.from("wrong key").toString("base64"),
          endpoint: az.url,
        },
        silentLogger(),
      );
      await expect(backend.check()).rejects.toThrow(/authentication|authoriz|403/i);
    },
  );
});
