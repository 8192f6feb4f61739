/**
 * Builders for tests (plan, intake, write loop, and the backends' oracle tests): a small
 * multi-family table, fragments, and the truth model of destination-delta.md §3 (what CockroachDB
 * holds after a sequence of changes), independent of fold/applyImage.
 */
import { formatHlc, type Hlc } from "@cdc-delta/shared";
import { keyString } from "./apply-image.js";
import { COL_DELETED_AT, COL_UPDATED, isMetadataColumn, metadataColumns } from "./columns.js";
import type { Fragment } from "./fold.js";
import type { Cell, ColumnDef, DeleteMode, StoredRow, TableSpec } from "./types.js";

/** Families of the test table `orders(region, id | fa: a1, a2 | fb: b1 | fc: c1)`. */
export const TEST_FAMILIES: Record<string, string[]> = { fa: ["a1", "a2"], fb: ["b1"], fc: ["c1"] };
export const TEST_KEYS = ["region", "id"];

const col = (name: string, kind: ColumnDef["type"], family: string | null, keyIndex: number | null): ColumnDef => ({
  name,
  sourceName: name,
  type: kind,
  nullable: keyIndex === null,
  family,
  keyIndex,
  metadata: {},
});

export function testTable(deleteMode: DeleteMode = "hard"): TableSpec {
  return {
    ref: { namespace: "shop", name: "orders" },
    columns: [
      col("region", { kind: "string" }, null, 0),
      col("id", { kind: "long" }, null, 1),
      col("a1", { kind: "string" }, "fa", null),
      col("a2", { kind: "long" }, "fa", null),
      col("b1", { kind: "string" }, "fb", null),
      col("c1", { kind: "decimal", precision: 10, scale: 2 }, "fc", null),
      ...metadataColumns({ softDelete: deleteMode === "soft", history: false }),
    ],
    keyColumns: ["region", "id"],
  };
}

let rawSeq = 0;

export function hlc(wall: bigint | number, logical = 0): Hlc {
  return { wall: BigInt(wall), logical };
}

export function fragment(
  key: [string, bigint],
  op: "upsert" | "delete",
  at: Hlc,
  family: string | null,
  values: Record<string, Cell> = {},
): Fragment {
  const m = new Map<string, Cell>([
    ["region", key[0]],
    ["id", key[1]],
  ]);
  if (op === "upsert") for (const [k, v] of Object.entries(values)) m.set(k, v);
  return {
    key: [key[0], key[1]],
    op,
    hlc: at,
    family,
    values: m,
    rawId: `raw-${++rawSeq}`,
    extractedAtMicros: 1_700_000_000_000_000n,
    airbyteMeta: '{"changes":[]}',
    generationId: 0n,
    lineNo: rawSeq,
  };
}

/** User columns + `_cdc_updated` (+ `_cdc_deleted_at`): what invariants compare (not `_airbyte_*` ids). */
export function observable(row: StoredRow | null): Record<string, Cell> | null {
  if (row === null) return null;
  const out: Record<string, Cell> = {};
  for (const [k, v] of Object.entries(row)) {
    if (!isMetadataColumn(k) || k === COL_UPDATED || k === COL_DELETED_AT)
      out[k] = v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v;
  }
  return out;
}

/**
 * Truth model: rows after the changes, applied one by one in (hlc, family) order as CockroachDB
 * did. Soft mode keeps a tombstone row (user columns NULL). Returns observable rows by key string.
 */
export function truth(fragments: Fragment[], table: TableSpec, deleteMode: DeleteMode): Map<string, Record<string, Cell>> {
  const rows = new Map<string, Record<string, Cell>>();
  const userCols = table.columns.filter((c) => !isMetadataColumn(c.name)).map((c) => c.name);
  for (const f of fragments) {
    const k = keyString(f.key);
    const blank = (): Record<string, Cell> => {
      const r: Record<string, Cell> = {};
      for (const c of userCols) r[c] = null;
      table.keyColumns.forEach((kc, i) => {
        r[kc] = f.key[i] ?? null;
      });
      return r;
    };
    if (f.op === "delete") {
      if (deleteMode === "hard") rows.delete(k);
      else rows.set(k, { ...blank(), [COL_UPDATED]: formatHlc(f.hlc), [COL_DELETED_AT]: f.hlc.wall / 1000n });
      continue;
    }
    const cur = rows.get(k);
    const row = cur && (deleteMode === "hard" || cur[COL_DELETED_AT] === null) ? { ...cur } : blank();
    for (const [c, v] of f.values) row[c] = v;
    row[COL_UPDATED] = formatHlc(f.hlc);
    if (deleteMode === "soft") row[COL_DELETED_AT] = null;
    rows.set(k, row);
  }
  return rows;
}
