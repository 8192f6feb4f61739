import { describe, expect, it } from "vitest";
import { classify, splitTopic } from "./names.js";
import { isSafeKey } from "./paths.js";

describe("file-name grammar (changefeed-files.md §2–§3)", () => {
  it("parses the documented data file example", () => {
    const c = classify("2025-03-14/202503140926501120000000000000000-3fa9c2d17b08e6a4-2-7-0000001c-orders-3.ndjson.gz");
    expect(c.kind).toBe("data");
    if (c.kind !== "data") return;
    expect(c).toMatchObject({
      runId: "3fa9c2d17b08e6a4",
      node: 2,
      sink: 7,
      fileId: 0x1c,
      topic: "orders",
      table: "orders",
      family: null,
      schemaId: 3,
      format: "ndjson",
      codec: "gz",
      partitioning: "daily",
    });
  });
  it("keeps topics containing - . + safe (greedy topic, dash-free schema id)", () => {
    const c = classify("202503140926501120000000000000000-3fa9c2d17b08e6a4-2-7-0000001c-db.sch.my-table+fam_1_a_b-1f.parquet");
    expect(c).toMatchObject({
      kind: "data",
      topic: "db.sch.my-table+fam_1_a_b",
      table: "db.sch.my-table",
      family: "fam_1_a_b",
      schemaId: 0x1f,
      partitioning: "flat",
      codec: null,
    });
    expect(splitTopic("acct+f1")).toEqual({ table: "acct", family: "f1" });
  });
  it("matches topics exactly: user does not grab usertable", () => {
    const a = classify("202503140926501120000000000000000-3fa9c2d17b08e6a4-1-0-00000000-usertable-1.ndjson");
    expect(a.kind === "data" && a.table).toBe("usertable");
  });
  it("RESOLVED: timestamp from the name, UTC (doc example)", () => {
    const c = classify("2025-03-14/09/202503140926535897932380000000003.RESOLVED");
    expect(c.kind).toBe("resolved");
    if (c.kind === "resolved") {
      expect(c.ts).toEqual({ wall: 1741944413589793238n, logical: 3 });
      expect(c.partitioning).toBe("hourly");
    }
  });
  it("malformed RESOLVED names fail loudly, never disable the watermark", () => {
    expect(() => classify("20250314092653589793238000000003.RESOLVED")).toThrow(/malformed RESOLVED/);
    expect(() => classify("202503140926535897932380000000003.RESOLVED.parquet")).toThrow(/malformed RESOLVED/);
    expect(() => classify("202513140926535897932380000000003.RESOLVED")).toThrow(/invalid timestamp/);
  });
  it("skips markers, .tmp, _metadata, _-prefixed, placeholders and unknown names", () => {
    expect(classify("crdb_external_storage_location")).toMatchObject({ kind: "skip", reason: "marker" });
    expect(
      classify("2025-03-14/202503140926501120000000000000000-3fa9c2d17b08e6a4-2-7-0000001c-orders-3.ndjson.tmp"),
    ).toMatchObject({ kind: "skip", reason: "tmp" });
    expect(classify("_metadata/schema.json")).toMatchObject({ kind: "skip", reason: "metadata" });
    expect(classify("_SUCCESS")).toMatchObject({ kind: "skip" });
    expect(classify("2025-03-14/")).toMatchObject({ kind: "skip", reason: "placeholder" });
    expect(classify("README.md")).toMatchObject({ kind: "skip", reason: "unknown" });
  });
  it("a changefeed-looking data name that breaks the grammar fails loudly", () => {
    expect(() => classify("202503140926501120000000000000000-XYZ-2-7-0000001c-orders-3.ndjson")).toThrow(
      /malformed changefeed data file/,
    );
  });
  it("path safety: no .., absolute paths, control characters", () => {
    expect(isSafeKey("2025-03-14/x.RESOLVED")).toBe(true);
    for (const k of ["../x", "/etc/passwd", "a/../../b", "a\u0000b", "a\\b", ""]) expect(isSafeKey(k)).toBe(false);
  });
});
