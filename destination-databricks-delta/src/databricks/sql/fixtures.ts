/** Test fixtures shared by the SQL unit tests and the contract/conformance suites. */
import type { ColumnDef, DeltaType, TableSpec } from "../../plan/types.js";

export function column(name: string, type: DeltaType, opts: Partial<ColumnDef> = {}): ColumnDef {
  return { name, sourceName: name, type, nullable: true, family: null, keyIndex: null, metadata: {}, ...opts };
}

export function metadataColumns(deleteMode: "hard" | "soft", history = false): ColumnDef[] {
  const cols: ColumnDef[] = [
    column("_cdc_updated", { kind: "string" }, { nullable: false }),
    column("_cdc_updated_wall", { kind: "long" }, { nullable: false }),
    column("_cdc_updated_logical", { kind: "integer" }, { nullable: false }),
  ];
  if (deleteMode === "soft") cols.push(column("_cdc_deleted_at", { kind: "timestamp" }));
  if (history) cols.push(column("_cdc_op", { kind: "string" }), column("_cdc_family", { kind: "string" }));
  cols.push(
    column("_airbyte_raw_id", { kind: "string" }, { nullable: false }),
    column("_airbyte_extracted_at", { kind: "timestamp" }, { nullable: false }),
    column("_airbyte_meta", { kind: "string" }, { nullable: false }),
    column("_airbyte_generation_id", { kind: "long" }),
  );
  return cols;
}

/**
 * A table whose names exercise quoting: spaces, backticks, unicode, mixed case, reserved words, and a
 * composite key in non-alphabetical ordinal order.
 */
export function awkwardSpec(deleteMode: "hard" | "soft" = "soft", history = false): TableSpec {
  const keys = [
    column("Region Code", { kind: "string" }, { nullable: false, keyIndex: 0 }),
    column("id`x", { kind: "long" }, { nullable: false, keyIndex: 1 }),
  ];
  const users = [
    column("select", { kind: "string" }, { family: "primary" }),
    column("Straße 名前", { kind: "decimal", precision: 38, scale: 10 }, { family: "primary" }),
    column("MixedCase", { kind: "timestamp_ntz" }, { family: "f2" }),
    column("order", { kind: "binary" }, { family: "f2" }),
    column("d", { kind: "date" }, { family: "f2" }),
    column("ok", { kind: "boolean" }, { family: "f3" }),
    column("n", { kind: "integer" }, { family: "f3" }),
    column("x", { kind: "double" }, { family: "f3" }),
  ];
  return {
    ref: { namespace: "shop floor", name: "ord`ers" },
    columns: [...keys, ...users, ...metadataColumns(deleteMode, history)],
    keyColumns: keys.map((k) => k.name),
  };
}
