import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FeedBuilder, hlc, hlcText, line } from "../testing/feed-builder.js";
import { catalogFor, configFor, lastStates, records, runRead, states } from "../testing/run.js";

const root = mkdtempSync(join(tmpdir(), "src-seed-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function seedLayout() {
  const a = new FeedBuilder(join(root, "json/cat/public/orders/orders_t"));
  a.data(hlc(0), "orders", [line("[1]", '{"id": 1, "raw": "\\\\x0aff", "amount": 1.50}', hlcText(0))]);
  a.resolved(hlc(0));
  a.data(hlc(15), "orders", [line("[2]", '{"id": 2, "raw": null, "amount": 2}', hlcText(15))]);
  a.resolved(hlc(20));
  writeFileSync(
    join(root, "json/cat/public/orders/_metadata/schema.json").replace("/_metadata/schema.json", "/_metadata.tmp"),
    "",
  );
  const b = new FeedBuilder(join(root, "json/cat/public/items/items_t"));
  b.data(hlc(0), "items", [line('["x", 1]', '{"sku": "x", "n": 1}', hlcText(0))]);
  b.resolved(hlc(10));
  const meta = join(root, "json/cat/public/orders/_metadata");
  require("node:fs").mkdirSync(meta, { recursive: true });
  writeFileSync(
    join(meta, "schema.json"),
    JSON.stringify({
      primary_keys: ["id"],
      columns: [
        { name: "id", type: "INT8", nullable: false },
        { name: "raw", type: "BYTES", nullable: true },
        { name: "amount", type: "DECIMAL(10,2)", nullable: true },
      ],
      has_column_families: false,
    }),
  );
}

describe("seed layout and multi-table consistency", () => {
  seedLayout();
  it("one stream per {target_table} folder; _metadata/schema.json types win over inference", async () => {
    const config = configFor(root);
    const cat = await catalogFor(config);
    expect(cat.streams.map((s) => s.stream.name).sort()).toEqual(["items_t", "orders_t"]);
    const orders = cat.streams.find((s) => s.stream.name === "orders_t")?.stream as any;
    expect(orders.json_schema.properties.raw).toMatchObject({
      type: ["string", "null"],
      contentEncoding: "base64",
      "x-cockroachdb": { type: "BYTES" },
    });
    expect(orders.json_schema.properties.amount["x-cockroachdb"].type).toBe("DECIMAL(10,2)");
    const items = cat.streams.find((s) => s.stream.name === "items_t")?.stream as any;
    expect(items.source_defined_primary_key).toEqual([["sku"], ["n"]]);
    const recs = records(await runRead(config, cat));
    expect(recs.find((r) => r.id === 1)?.raw).toBe("Cv8=");
  });
  it("multi_table_consistency: every stream advances only to the minimum RESOLVED common to all feeds", async () => {
    const plain = configFor(root);
    const cat = await catalogFor(plain);
    const wm = (ms: Awaited<ReturnType<typeof runRead>>) =>
      Object.fromEntries(
        states(ms).map((m) => [
          m.state?.stream?.stream_descriptor.name,
          (m.state?.stream?.stream_state as { watermark: string } | undefined)?.watermark,
        ]),
      );
    expect(wm(await runRead(plain, cat))).toEqual({ orders_t: hlcText(20), items_t: hlcText(10) });
    const consistent = configFor(root, { multi_table_consistency: true });
    const first = await runRead(consistent, cat);
    expect(wm(first)).toEqual({ orders_t: hlcText(0), items_t: hlcText(10) });
    expect(records(first).map((r) => r.id ?? r.sku)).toEqual(["x", 1]);
    // The rest arrives once the slower feed catches up.
    new FeedBuilder(join(root, "json/cat/public/items/items_t")).resolved(hlc(25));
    const second = await runRead(consistent, cat, lastStates(first));
    expect(records(second).map((r) => r.id)).toEqual([2]);
  });
});
