import { describe, expect, it } from "vitest";
import { commentMetadata, parseDescribe, parseSparkType } from "./describe.js";

describe("DESCRIBE TABLE parsing", () => {
  it("maps Spark type names", () => {
    expect(parseSparkType("decimal(38, 10)")).toEqual({ kind: "decimal", precision: 38, scale: 10 });
    expect(parseSparkType("BIGINT")).toEqual({ kind: "long" });
    expect(parseSparkType("timestamp_ntz")).toEqual({ kind: "timestamp_ntz" });
    expect(parseSparkType("array<int>")).toBeUndefined();
  });
  it("stops at the partition section and reads our JSON comments", () => {
    const cols = parseDescribe([
      { col_name: "id", data_type: "bigint", comment: null },
      { col_name: "Note X", data_type: "string", comment: '{"cdc.placeholder":"true"}' },
      { col_name: "", data_type: "", comment: "" },
      { col_name: "# Partition Information", data_type: "", comment: "" },
      { col_name: "x", data_type: "int", comment: null },
    ]);
    expect(cols.map((c) => [c.name, c.type.kind, c.metadata])).toEqual([
      ["id", "long", {}],
      ["Note X", "string", { "cdc.placeholder": "true" }],
    ]);
    expect(commentMetadata("not json")).toEqual({});
  });
});
