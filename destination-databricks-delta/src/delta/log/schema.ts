/**
 * Delta table schema <-> `metaData.schemaString` (PROTOCOL.md "Schema Serialization Format"), and
 * the protocol a schema requires (timestamp_ntz needs reader 3 / writer 7 + `timestampNtz`).
 */
import type { DeltaType } from "../../plan/types.js";
import type { ProtocolAction } from "./actions.js";

export interface DeltaField {
  name: string;
  type: DeltaType;
  nullable: boolean;
  metadata: Record<string, string>;
}

export function deltaTypeName(t: DeltaType): string {
  return t.kind === "decimal" ? `decimal(${t.precision},${t.scale})` : t.kind;
}

export function parseDeltaTypeName(name: unknown, field: string): DeltaType {
  if (typeof name !== "string") {
    throw new Error(`column ${field}: nested type ${JSON.stringify(name)} is not supported by the embedded writer`);
  }
  const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(name);
  if (dec) return { kind: "decimal", precision: Number(dec[1]), scale: Number(dec[2]) };
  switch (name) {
    case "long":
    case "integer":
    case "double":
    case "boolean":
    case "string":
    case "binary":
    case "date":
    case "timestamp":
    case "timestamp_ntz":
      return { kind: name };
    case "short":
    case "byte":
      return { kind: "integer" };
    case "float":
      return { kind: "double" };
    default:
      throw new Error(`column ${field}: Delta type ${name} is not supported by the embedded writer`);
  }
}

export function schemaToString(fields: readonly DeltaField[]): string {
  return JSON.stringify({
    type: "struct",
    fields: fields.map((f) => ({ name: f.name, type: deltaTypeName(f.type), nullable: f.nullable, metadata: f.metadata })),
  });
}

export function parseSchemaString(schemaString: string): DeltaField[] {
  const s = JSON.parse(schemaString) as {
    type: string;
    fields: { name: string; type: unknown; nullable: boolean; metadata?: Record<string, unknown> }[];
  };
  if (s.type !== "struct") throw new Error(`schemaString is not a struct: ${schemaString.slice(0, 80)}`);
  return s.fields.map((f) => ({
    name: f.name,
    type: parseDeltaTypeName(f.type, f.name),
    nullable: f.nullable !== false,
    metadata: Object.fromEntries(
      Object.entries(f.metadata ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    ),
  }));
}

/** The minimal protocol for a schema: 1/2, or 3/7 with `timestampNtz` when a timestamp_ntz column exists. */
export function requiredProtocol(fields: readonly DeltaField[]): ProtocolAction {
  if (fields.some((f) => f.type.kind === "timestamp_ntz")) {
    return { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["timestampNtz"], writerFeatures: ["timestampNtz"] };
  }
  return { minReaderVersion: 1, minWriterVersion: 2 };
}

export function sameType(a: DeltaType, b: DeltaType): boolean {
  return deltaTypeName(a) === deltaTypeName(b);
}
