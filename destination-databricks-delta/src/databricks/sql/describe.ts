/** `DESCRIBE TABLE` parsing: Spark type strings → DeltaType; column comments carry our metadata. */
import type { ColumnDef, DeltaType } from "../../plan/types.js";
import { renderTable, type TableName } from "./statements.js";

export function describeTableSql(name: TableName): string {
  return `DESCRIBE TABLE ${renderTable(name)}`;
}

export function parseSparkType(t: string): DeltaType | undefined {
  const s = t.trim().toLowerCase();
  const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(s);
  if (dec) return { kind: "decimal", precision: Number(dec[1]), scale: Number(dec[2]) };
  switch (s) {
    case "bigint":
    case "long":
      return { kind: "long" };
    case "int":
    case "integer":
      return { kind: "integer" };
    case "double":
      return { kind: "double" };
    case "boolean":
      return { kind: "boolean" };
    case "string":
      return { kind: "string" };
    case "binary":
      return { kind: "binary" };
    case "date":
      return { kind: "date" };
    case "timestamp":
      return { kind: "timestamp" };
    case "timestamp_ntz":
      return { kind: "timestamp_ntz" };
    default:
      return s.startsWith("varchar") || s.startsWith("char") ? { kind: "string" } : undefined;
  }
}

/** Our column comments are JSON objects of string metadata (e.g. `cdc.placeholder`). */
export function commentMetadata(comment: unknown): Record<string, string> {
  if (typeof comment !== "string" || !comment.startsWith("{")) return {};
  try {
    const o = JSON.parse(comment) as unknown;
    if (!o || typeof o !== "object" || Array.isArray(o)) return {};
    return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === "string")) as Record<string, string>;
  } catch {
    return {};
  }
}

/** Rows of DESCRIBE TABLE → ColumnDefs (stops at the first `#` section or blank row). */
export function parseDescribe(rows: Record<string, unknown>[]): ColumnDef[] {
  const out: ColumnDef[] = [];
  for (const r of rows) {
    const name = String(r.col_name ?? "").trim() === "" ? "" : String(r.col_name);
    if (name === "" || name.startsWith("#")) break;
    const dataType = String(r.data_type ?? "");
    const type = parseSparkType(dataType) ?? { kind: "string" };
    out.push({
      name,
      sourceName: name,
      type,
      nullable: true,
      family: null,
      keyIndex: null,
      metadata: commentMetadata(r.comment),
    });
  }
  return out;
}
