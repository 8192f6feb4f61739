import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mergeSchemas, toAirbyteStream } from "./discover.js";
import { ddlFromInformationSchema, splitQualified } from "./pg.js";
import { parseShowCreateTable } from "./show-create.js";
import { airbyteTypeOf } from "./types.js";

const fixture = (n: string) => readFileSync(join(import.meta.dirname, "fixtures", n), "utf8");

describe("type mapping (airbyte-protocol.md §4)", () => {
  it.each([
    ["INT8", { type: "integer" }],
    ["INT4", { type: "integer" }],
    ["FLOAT8", { type: ["number", "string"] }],
    ["DECIMAL(10,2)", { type: ["number", "string"] }],
    ["BOOL", { type: "boolean" }],
    ["STRING", { type: "string" }],
    ["UUID", { type: "string" }],
    ["BYTES", { type: "string", contentEncoding: "base64" }],
    ["DATE", { type: "string", format: "date" }],
    ["TIME", { type: "string", format: "time", airbyte_type: "time_without_timezone" }],
    ["TIMETZ", { type: "string", format: "time", airbyte_type: "time_with_timezone" }],
    ["TIMESTAMP", { type: "string", format: "date-time", airbyte_type: "timestamp_without_timezone" }],
    ["TIMESTAMPTZ", { type: "string", format: "date-time", airbyte_type: "timestamp_with_timezone" }],
    ["JSONB", {}],
    ["STRING[]", { type: "array", items: { type: ["string", "null"] } }],
    ["INET", { type: "string" }],
    ["INTERVAL", { type: "string" }],
    ["GEOMETRY", { type: "object" }],
  ])("%s", (ddl, expected) => expect(airbyteTypeOf(ddl)).toEqual(expected));
  it("an unknown column type is a config_error naming the column", () => {
    expect(() => airbyteTypeOf("WIDGET", "w")).toThrow(/column w: unknown column type/);
  });
});

describe("SHOW CREATE TABLE (recorded CockroachDB output)", () => {
  it("columns, quoted names, PK in ordinal order, families, virtual columns omitted", () => {
    const t = parseShowCreateTable(fixture("show-create-acct.txt"));
    expect(t.table).toBe("acct");
    expect(t.primaryKey).toEqual(["region", "id"]);
    expect(t.columns.map((c) => [c.name, c.type, c.family])).toEqual([
      ["region", "STRING", "f0"],
      ["id", "INT8", "f0"],
      ["name", "STRING", "f0"],
      ["Balance", "DECIMAL(12,2)", "f 1"],
      ["tags", "STRING[]", "f 1"],
      ["doc", "JSONB", "f 1"],
      ["raw", "BYTES", "f 1"],
    ]);
    expect(t.primaryFamily).toBe("f0");
  });
  it("PK-less table exposes the hidden rowid as key", () => {
    const t = parseShowCreateTable(fixture("show-create-nopk.txt"));
    expect(t.primaryKey).toEqual(["rowid"]);
    expect(t.columns.find((c) => c.name === "rowid")).toMatchObject({ type: "INT8", hidden: true, nullable: false });
    expect(t.columns.find((c) => c.name === "at")?.type).toBe("TIMESTAMPTZ");
  });
});

describe("discovered stream", () => {
  it("every property carries x-cockroachdb; _cdc_* listed; PK and cursor source-defined; precedence", () => {
    const ddl = parseShowCreateTable(fixture("show-create-acct.txt"));
    const inferred = {
      table: "acct",
      columns: [
        { name: "name", type: "STRING", nullable: true, family: "f0" },
        { name: "later", type: "INT8", nullable: true, family: "f2" },
      ],
      primaryKey: ["id"],
      primaryFamily: null,
      source: "json" as const,
    };
    const merged = mergeSchemas("acct", [ddl, undefined, inferred]);
    expect(merged.primaryKey).toEqual(["region", "id"]);
    expect(merged.columns.map((c) => c.name)).toContain("later");
    const s = toAirbyteStream("acct", merged, undefined) as Record<string, any>;
    for (const p of Object.values(s.json_schema.properties) as Record<string, unknown>[])
      expect(p["x-cockroachdb"]).toBeDefined();
    expect(Object.keys(s.json_schema.properties)).toEqual(expect.arrayContaining(["_cdc_op", "_cdc_updated", "_cdc_family"]));
    expect(s.json_schema.properties.Balance).toMatchObject({
      type: ["number", "string", "null"],
      "x-cockroachdb": { type: "DECIMAL(12,2)", family: "f 1" },
    });
    expect(s.json_schema.properties.id.type).toBe("integer");
    expect(s).toMatchObject({
      source_defined_primary_key: [["region"], ["id"]],
      source_defined_cursor: true,
      default_cursor_field: ["_cdc_updated"],
      supported_sync_modes: ["full_refresh", "incremental"],
    });
    expect(toAirbyteStream("acct", merged, ["id"]).source_defined_primary_key).toEqual([["id"]]);
  });
  it("information_schema rows → CockroachDB DDL spelling", () => {
    expect(ddlFromInformationSchema({ data_type: "numeric", numeric_precision: 10, numeric_scale: 2 })).toBe("DECIMAL(10,2)");
    expect(ddlFromInformationSchema({ data_type: "ARRAY", udt_name: "_int8" })).toBe("INT8[]");
    expect(ddlFromInformationSchema({ data_type: "bigint", crdb_sql_type: "INT8" })).toBe("INT8");
    expect(splitQualified("shop.public.orders")).toEqual({ schema: "public", table: "orders" });
  });
});
