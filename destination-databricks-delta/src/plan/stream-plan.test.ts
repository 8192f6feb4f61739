import { describe, expect, it } from "vitest";
import { configuredStream, ordersSchema } from "../testing-protocol.js";
import {
  quoteIdent,
  quoteName,
  sanitizeColumnName,
  sanitizeTableName,
  pathSegment,
  tableRelativePath,
  tableRef,
} from "./names.js";
import { isWidening, planSchemaEvolution } from "./schema-evolution.js";
import { addPlaceholder, planCatalog, planStream } from "./stream-plan.js";

const opts = { deleteMode: "hard" as const, tombstoneRetentionDays: 7 };

describe("§8.11 names", () => {
  it("backticks with embedded backticks doubled; reserved words are just quoted", () => {
    expect(quoteIdent("a`b")).toBe("`a``b`");
    expect(quoteName("main", "select", "or`ders")).toBe("`main`.`select`.`or``ders`");
  });
  it("tables lowercased and sanitised; safe path segments", () => {
    expect(sanitizeTableName("My Table/2.0\u0001")).toBe("my_table_2_0_");
    expect(pathSegment("..")).toBe("__");
    expect(tableRelativePath(tableRef("Orders", null))).toBe("default/orders");
    expect(tableRelativePath(tableRef("x", "Shop.EU"))).toBe("shop_eu/x");
    expect(sanitizeTableName("Zoë")).toBe("zoë");
  });
  it("columns keep case and unicode; Delta-invalid characters → _", () => {
    expect(sanitizeColumnName("Total Amount")).toEqual({ name: "Total_Amount", changed: true });
    expect(sanitizeColumnName("Zoë")).toEqual({ name: "Zoë", changed: false });
    expect(sanitizeColumnName("a,b;c{d}(e)=f\tg\nh").name).toBe("a_b_c_d__e__f_g_h");
  });
  it("case collision of columns and of tables are config errors", () => {
    const schema = ordersSchema();
    (schema.properties as Record<string, unknown>).A1 = { type: "string" };
    expect(() => planStream(configuredStream("t", { schema }), opts)).toThrow(/fields "a1" and "A1" map to the same column/);
    expect(() => planCatalog([configuredStream("Orders"), configuredStream("orders")], opts)).toThrow(/map to the same table/);
    const meta = ordersSchema();
    (meta.properties as Record<string, unknown>)._AIRBYTE_META = { type: "string" };
    expect(() => planStream(configuredStream("t", { schema: meta }), opts)).toThrow(/metadata column/);
  });
});

describe("stream plans", () => {
  it("keys first in ordinal order, then user columns, then metadata; types from annotations", () => {
    const p = planStream(configuredStream("orders", { namespace: "Shop", pk: [["id"], ["region"]] }), opts);
    expect(p.table.ref).toEqual({ namespace: "shop", name: "orders" });
    expect(p.table.keyColumns).toEqual(["id", "region"]);
    expect(p.table.columns.map((c) => c.name)).toEqual([
      "id",
      "region",
      "a1",
      "a2",
      "b1",
      "c1",
      "_cdc_updated",
      "_cdc_updated_wall",
      "_cdc_updated_logical",
      "_airbyte_raw_id",
      "_airbyte_extracted_at",
      "_airbyte_meta",
      "_airbyte_generation_id",
    ]);
    expect(p.table.columns.find((c) => c.name === "c1")).toMatchObject({
      type: { kind: "decimal", precision: 10, scale: 2 },
      family: "fc",
      nullable: true,
    });
    expect(p.table.columns.find((c) => c.name === "id")).toMatchObject({ keyIndex: 0, nullable: false, type: { kind: "long" } });
    expect(
      planStream(configuredStream("o"), { ...opts, deleteMode: "soft" }).table.columns.some((c) => c.name === "_cdc_deleted_at"),
    ).toBe(true);
    expect(planStream(configuredStream("o", { mode: "append" }), opts).table.columns.map((c) => c.name)).toContain("_cdc_family");
  });
  it("modes and generations", () => {
    expect(planStream(configuredStream("o", { mode: "overwrite" }), opts).prep.target).toBe("overwrite_temp");
    expect(planStream(configuredStream("o", { gen: 4, minGen: 4 }), opts).prep).toMatchObject({
      truncate: true,
      target: "overwrite_temp",
      generationId: 4n,
    });
    expect(planStream(configuredStream("o", { gen: 4, minGen: 0 }), opts).prep).toMatchObject({
      truncate: false,
      target: "main",
    });
    expect(() => planStream(configuredStream("o", { gen: 4, minGen: 2 }), opts)).toThrow(/hybrid/);
    expect(() => planStream(configuredStream("o", { mode: "soft_delete" }), opts)).toThrow(/not supported/);
    expect(planStream(configuredStream("o", { mode: "append", pk: [] }), opts).merge).toBe(false);
  });
  it("placeholders are added before the metadata columns, flagged, and collide case-insensitively", () => {
    const p = planStream(configuredStream("o"), opts);
    const before = p.table;
    addPlaceholder(p, "New Col", "fa");
    expect(p.table).not.toBe(before);
    expect(p.prep.table).toBe(p.table);
    expect(p.table.columns[6]).toMatchObject({
      name: "New_Col",
      type: { kind: "string" },
      metadata: { "cdc.placeholder": "true", "cdc.original_name": "New Col" },
    });
    expect(() => addPlaceholder(p, "NEW_COL", null)).toThrow(/collides/);
  });
});

describe("P7 schema evolution planning", () => {
  const p = planStream(configuredStream("o"), opts);
  it("new table → create; new catalog columns → add; dropped columns kept", () => {
    expect(planSchemaEvolution(null, p.table).create).toBe(true);
    const existing = p.table.columns.filter((c) => c.name !== "b1").concat([{ ...p.table.columns[2], name: "gone" } as never]);
    const ch = planSchemaEvolution(existing, p.table);
    expect(ch.add.map((c) => c.name)).toEqual(["b1"]);
    expect(ch.kept.map((c) => c.name)).toEqual(["gone"]);
    expect(ch.errors).toEqual([]);
  });
  it("placeholder re-typed once; widening allowed; narrowing and foreign tables refused", () => {
    const cols = p.table.columns.map((c) =>
      c.name === "a2" ? { ...c, type: { kind: "string" as const }, metadata: { "cdc.placeholder": "true" } } : c,
    );
    expect(planSchemaEvolution(cols, p.table).retypePlaceholders.map((r) => r.to.name)).toEqual(["a2"]);
    const narrow = p.table.columns.map((c) =>
      c.name === "c1" ? { ...c, type: { kind: "decimal" as const, precision: 12, scale: 4 } } : c,
    );
    expect(planSchemaEvolution(narrow, p.table).errors[0]).toMatch(
      /column c1 is decimal\(12,4\) but the catalog now says decimal\(10,2\)/,
    );
    expect(isWidening({ kind: "decimal", precision: 10, scale: 2 }, { kind: "decimal", precision: 12, scale: 4 })).toBe(true);
    expect(isWidening({ kind: "integer" }, { kind: "long" })).toBe(true);
    expect(
      planSchemaEvolution(
        p.table.columns.filter((c) => !c.name.startsWith("_cdc_updated")),
        p.table,
      ).errors[0],
    ).toMatch(/not created by this destination/);
  });
});
