import type { DeltaType } from "../../plan/types.js";

/** Delta/Spark SQL type name of a DeltaType (destination-delta.md §2). */
export function sqlType(t: DeltaType): string {
  switch (t.kind) {
    case "long":
      return "BIGINT";
    case "integer":
      return "INT";
    case "double":
      return "DOUBLE";
    case "boolean":
      return "BOOLEAN";
    case "string":
      return "STRING";
    case "binary":
      return "BINARY";
    case "date":
      return "DATE";
    case "timestamp":
      return "TIMESTAMP";
    case "timestamp_ntz":
      return "TIMESTAMP_NTZ";
    case "decimal": {
      const { precision: p, scale: s } = t;
      if (!Number.isInteger(p) || !Number.isInteger(s) || p < 1 || p > 38 || s < 0 || s > p) {
        throw new Error(`invalid DECIMAL(${p},${s})`);
      }
      return `DECIMAL(${p},${s})`;
    }
  }
}
