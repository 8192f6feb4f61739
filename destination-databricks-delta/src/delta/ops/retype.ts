/**
 * Column re-typing by CAST rewrite (destination-delta.md §3 P7): a STRING placeholder re-typed once
 * to its discovered type, or a safe widening (INT→BIGINT, INT→DOUBLE, integer/DECIMAL→wider DECIMAL,
 * DATE→TIMESTAMP_NTZ). One commit replaces the schema and rewrites every file; a value that does
 * not cast becomes NULL (counted, returned for a warning), as a non-ANSI CAST would.
 */
import { type Action, type AddAction, removeFileAction } from "../log/actions.js";
import { parseJsonLossless, type JsonValue } from "@cdc-delta/shared";
import { CoercionError, coerceValue } from "../../intake/coerce.js";
import type { CoerceKind } from "../../plan/type-map.js";
import type { Cell, ColumnDef, DeltaType } from "../../plan/types.js";
import { mergeProtocol, sameProtocol } from "../log/protocol.js";
import { type DeltaField, requiredProtocol, schemaToString } from "../log/schema.js";
import { readParquetColumns } from "../parquet/read.js";
import { type DeltaTable, fileRelPath } from "../table/delta-table.js";

export interface Retype {
  existing: ColumnDef;
  to: ColumnDef;
}

function coerceKind(t: DeltaType): CoerceKind {
  return t.kind === "integer" ? "long" : (t.kind as CoerceKind);
}

/** Cast one stored cell from `from` to `to`; throws CoercionError when it cannot. */
export function castCell(v: Cell, from: DeltaType, to: DeltaType): Cell {
  if (v === null) return null;
  if (from.kind === "string" && typeof v === "string") {
    let j: JsonValue = v;
    if (["long", "integer", "double", "decimal"].includes(to.kind) && /^\s*-?\d/.test(v)) j = parseJsonLossless(v.trim());
    if (to.kind === "boolean") j = v === "true" ? true : v === "false" ? false : v;
    const out = coerceValue(j, { type: to, coerce: coerceKind(to), label: to.kind });
    return to.kind === "integer" && typeof out === "bigint" ? Number(out) : out;
  }
  if (from.kind === "integer" && to.kind === "long") return BigInt(v as number);
  if (from.kind === "integer" && to.kind === "double") return v as number;
  if ((from.kind === "integer" || from.kind === "long") && to.kind === "decimal")
    return BigInt(v as number | bigint) * 10n ** BigInt(to.scale);
  if (from.kind === "decimal" && to.kind === "decimal") return (v as bigint) * 10n ** BigInt(to.scale - from.scale);
  if (from.kind === "date" && to.kind === "timestamp_ntz") return BigInt(v as number) * 86_400_000_000n;
  throw new CoercionError(`no cast from ${from.kind} to ${to.kind}`);
}

export async function retypeColumns(
  table: DeltaTable,
  retypes: readonly Retype[],
  statsColumns: ReadonlySet<string>,
): Promise<{ nulled: number; version?: number }> {
  const written: AddAction[] = [];
  let nulled = 0;
  const res = await table.commit(
    async (snap) => {
      await table.deleteDataFiles(written.splice(0));
      nulled = 0;
      const byName = new Map(retypes.map((r) => [r.existing.name, r]));
      const fields: DeltaField[] = snap.fields.map((f) => {
        const r = byName.get(f.name);
        return r ? { name: f.name, type: r.to.type, nullable: true, metadata: { ...r.to.metadata } } : f;
      });
      const names = fields.map((f) => f.name);
      const now = Date.now();
      const actions: Action[] = [];
      const proto = mergeProtocol(snap.protocol, requiredProtocol(fields));
      if (!sameProtocol(proto, snap.protocol)) actions.push({ protocol: proto });
      actions.push({ metaData: { ...snap.metadata, schemaString: schemaToString(fields) } });
      for (const add of snap.files.values()) {
        const bytes = await table.store.read(fileRelPath(add.path));
        if (!bytes) throw new Error(`${table.location}: data file ${add.path} missing`);
        const data = await readParquetColumns(bytes, names);
        for (const [name, r] of byName) {
          const col = data.columns.get(name);
          if (!col) continue;
          for (let i = 0; i < col.length; i++) {
            try {
              col[i] = castCell(col[i] ?? null, r.existing.type, r.to.type);
            } catch (e) {
              if (!(e instanceof CoercionError)) throw e;
              col[i] = null;
              nulled++;
            }
          }
        }
        const a = await table.writeDataFileColumns(
          fields,
          (n) => {
            const c = data.columns.get(n);
            return c ? (i) => c[i] : () => null;
          },
          data.numRows,
          statsColumns,
        );
        written.push(a);
        actions.push(removeFileAction(add, now));
        actions.push({ add: a });
      }
      return { actions, readsData: true, abandon: () => table.deleteDataFiles(written) };
    },
    {
      operation: "CHANGE COLUMN TYPE",
      parameters: { columns: retypes.map((r) => `${r.existing.name}:${r.to.type.kind}`).join(",") },
    },
  );
  return { nulled, ...(res ? { version: res.version } : {}) };
}
