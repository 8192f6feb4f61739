/**
 * P6 history rows (append modes): one row per fragment with the metadata columns plus `_cdc_op`
 * and `_cdc_family`; columns of other families are NULL. Idempotent backends insert only rows whose
 * (pk, _cdc_updated_wall, _cdc_updated_logical, _cdc_family) is new (`<=>` on family).
 */
import { randomUUID } from "node:crypto";
import { formatHlc } from "@cdc-delta/shared";
import {
  COL_EXTRACTED_AT,
  COL_FAMILY,
  COL_GENERATION_ID,
  COL_META,
  COL_OP,
  COL_RAW_ID,
  COL_UPDATED,
  COL_UPDATED_LOGICAL,
  COL_UPDATED_WALL,
} from "./columns.js";
import type { Fragment } from "./fold.js";
import type { HistoryRow, StoredRow } from "./types.js";

export function historyRow(f: Fragment): HistoryRow {
  const values: StoredRow = {};
  for (const [k, v] of f.values) values[k] = v;
  values[COL_UPDATED] = formatHlc(f.hlc);
  values[COL_UPDATED_WALL] = f.hlc.wall;
  values[COL_UPDATED_LOGICAL] = f.hlc.logical;
  values[COL_OP] = f.op;
  values[COL_FAMILY] = f.family;
  values[COL_RAW_ID] = f.rawId || randomUUID();
  values[COL_EXTRACTED_AT] = f.extractedAtMicros;
  values[COL_META] = f.airbyteMeta;
  values[COL_GENERATION_ID] = f.generationId;
  return { values };
}
