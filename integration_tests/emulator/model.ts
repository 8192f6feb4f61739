/**
 * Runtime model: schema layouts (one per descriptor version) and the message the workload hands the
 * emitter. A message is one family fragment of one row change, exactly what one changefeed line /
 * Parquet row carries.
 */
import type { Hlc } from "@cdc-delta/shared";
import type { ColumnDef, FamilyDef, TableTemplate } from "./tables.js";
import { type Value, compareUtf8 } from "./types.js";

export interface FamilyLayout {
  readonly def: FamilyDef;
  /** Indices into Layout.columns, table order. */
  readonly cols: readonly number[];
  /** Positions within `cols`, sorted bytewise by column name (JSON object key order). */
  readonly jsonOrder: readonly number[];
  /** File-name topic (`table` or `table+family`) and JSON `topic` value (`table` or `table.family`). */
  readonly fileTopic: string;
  readonly jsonTopic: string;
  readonly isPrimary: boolean;
}

export interface Layout {
  readonly table: string;
  readonly version: number;
  readonly columns: readonly ColumnDef[];
  readonly families: readonly FamilyLayout[];
  /** Column indices of the PK columns, PK ordinal order. */
  readonly pk: readonly number[];
}

export function makeLayout(t: TableTemplate, columns: readonly ColumnDef[], version: number, split: boolean): Layout {
  const fams: FamilyDef[] = split ? [...t.families] : [{ id: 0, name: "primary" }];
  const families = fams.map((def, fi): FamilyLayout => {
    const cols = columns
      .map((c, i) => [c, i] as const)
      .filter(([c]) => !split || c.family === fi)
      .map(([, i]) => i);
    const jsonOrder = cols
      .map((_, p) => p)
      .sort((a, b) =>
        compareUtf8((columns[cols[a] as number] as ColumnDef).name, (columns[cols[b] as number] as ColumnDef).name),
      );
    return {
      def,
      cols,
      jsonOrder,
      fileTopic: split ? `${t.name}+${def.name}` : t.name,
      jsonTopic: split ? `${t.name}.${def.name}` : t.name,
      isPrimary: fi === 0,
    };
  });
  const pk = t.pk.map((n) => {
    const i = columns.findIndex((c) => c.name === n);
    if (i < 0) throw new Error(`pk column ${n} missing in ${t.name}`);
    return i;
  });
  return { table: t.name, version, columns, families, pk };
}

export type EventType = "c" | "u" | "d";

export interface Message {
  readonly tableIdx: number;
  readonly layout: Layout;
  readonly fam: number;
  /** Key-space index of the row (routing, per-key order). */
  readonly index: number;
  /** PK values, PK ordinal order. */
  readonly key: readonly Value[];
  /** Family column values aligned with layout.families[fam].cols; null = delete. */
  readonly after: readonly Value[] | null;
  /** Previous family values (`diff`), aligned with beforeLayout's family; null = no live data. */
  readonly before: readonly Value[] | null;
  readonly beforeLayout: Layout;
  readonly updated: Hlc;
  readonly mvcc: Hlc;
  readonly op: EventType;
}
