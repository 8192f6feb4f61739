/**
 * RECORD → Fragment (destination-delta.md §1): validate the CDC fields, the primary key and the
 * family mode, coerce every value to its column's Cell, and build the Airbyte metadata. Every error
 * names stream, input line, field and key. Fields missing from the catalog become STRING
 * placeholders (P7) through the `onNewField` callback.
 */
import {
  type AirbyteRecordMessage,
  type ConnectorError,
  configError,
  HlcFormatError,
  isJsonObject,
  type JsonValue,
  parseHlc,
  stringifyJsonLossless,
} from "@cdc-delta/shared";
import { COL_FAMILY, COL_OP, COL_UPDATED } from "../plan/columns.js";
import type { Fragment } from "../plan/fold.js";
import { addPlaceholder, type FieldPlan, type StreamPlan } from "../plan/stream-plan.js";
import type { Cell } from "../plan/types.js";
import { CoercionError, coerceValue, showValue } from "./coerce.js";

export type OnTypeError = "fail" | "null_and_record";

export interface MetaChange {
  field: string;
  change: "NULLED" | "TRUNCATED";
  reason: string;
}

/** Per-stream intake state: the family mode seen so far and counters. */
export class StreamIntake {
  familyMode: "single" | "named" | undefined;
  typeErrorsNulled = 0;
  placeholdersAdded: string[] = [];
  /** true once a placeholder was added and the backend has not yet been told (prepareStream). */
  schemaDirty = false;
  private readonly cleanMeta: string;

  constructor(
    readonly plan: StreamPlan,
    private readonly onTypeError: OnTypeError,
    private readonly warn: (message: string) => void = () => undefined,
  ) {
    this.cleanMeta = plan.syncId === null ? '{"changes":[]}' : `{"sync_id":${plan.syncId},"changes":[]}`;
  }

  private fail(lineNo: number, field: string | null, key: string | null, detail: string): ConnectorError {
    const where = [`stream "${this.plan.streamKey}"`, `line ${lineNo}`];
    if (field !== null) where.push(`field "${field}"`);
    if (key !== null) where.push(`key ${key}`);
    return configError(`invalid record (${where.join(", ")}): ${detail}`, {
      stream: { name: this.plan.name, namespace: this.plan.namespace },
    });
  }

  /** The fragment of one record; throws a config error naming the culprit. */
  toFragment(record: AirbyteRecordMessage, lineNo: number): Fragment {
    const data = record.data as Record<string, JsonValue>;
    const plan = this.plan;
    // Key first: every message below can then name it.
    const rawKey: JsonValue[] = [];
    for (const k of plan.keySourceNames) {
      const v = data[k];
      if (v === undefined || v === null) {
        throw this.fail(lineNo, k, null, "primary key field is missing or null");
      }
      rawKey.push(v);
    }
    const keyText = plan.keySourceNames.length > 0 ? stringifyJsonLossless(rawKey) : null;

    const op = data[COL_OP];
    if (op !== "upsert" && op !== "delete") {
      throw this.fail(
        lineNo,
        COL_OP,
        keyText,
        `must be "upsert" or "delete", got ${op === undefined ? "nothing" : showValue(op)}`,
      );
    }
    const updated = data[COL_UPDATED];
    if (typeof updated !== "string") {
      throw this.fail(
        lineNo,
        COL_UPDATED,
        keyText,
        `must be an HLC string "<wall nanos>.<10-digit logical>", got ${updated === undefined ? "nothing" : showValue(updated)}${typeof updated === "number" || typeof updated === "bigint" || (updated !== null && typeof updated === "object") ? " (a number loses precision)" : ""}`,
      );
    }
    let hlc: Fragment["hlc"];
    try {
      hlc = parseHlc(updated);
    } catch (e) {
      throw this.fail(lineNo, COL_UPDATED, keyText, e instanceof HlcFormatError ? e.message : String(e));
    }
    const famValue = data[COL_FAMILY];
    if (famValue !== undefined && famValue !== null && typeof famValue !== "string") {
      throw this.fail(lineNo, COL_FAMILY, keyText, `must be a family name or null, got ${showValue(famValue)}`);
    }
    const family = typeof famValue === "string" ? famValue : null;
    const mode = family === null ? "single" : "named";
    if (this.familyMode === undefined) this.familyMode = mode;
    else if (this.familyMode !== mode) {
      throw this.fail(
        lineNo,
        COL_FAMILY,
        keyText,
        `mixes single-family (null) and named-family fragments in one stream (first was ${this.familyMode === "single" ? "null" : "named"})`,
      );
    }

    const values = new Map<string, Cell>();
    const key: Cell[] = [];
    let changes: MetaChange[] | undefined;
    plan.keySourceNames.forEach((k, i) => {
      const fp = plan.fields.get(k) as FieldPlan;
      try {
        const cell = coerceValue(rawKey[i] as JsonValue, fp.type);
        key.push(cell);
        values.set(fp.column.name, cell);
      } catch (e) {
        if (!(e instanceof CoercionError)) throw e;
        throw this.fail(lineNo, k, keyText, `cannot convert ${showValue(rawKey[i])} to ${fp.type.label}: ${e.message}`);
      }
    });
    if (op === "upsert") {
      for (const field in data) {
        if (field === COL_OP || field === COL_UPDATED || field === COL_FAMILY) continue;
        let fp = plan.fields.get(field);
        if (fp?.column.keyIndex !== null && fp?.column.keyIndex !== undefined) continue;
        if (!fp) {
          fp = addPlaceholder(plan, field, family);
          this.placeholdersAdded.push(field);
          this.schemaDirty = true;
          this.warn(
            `stream "${plan.streamKey}": field "${field}" (line ${lineNo}) is not in the catalog; added as STRING placeholder column ${fp.column.name}`,
          );
        }
        const v = data[field] as JsonValue;
        if (v === null) {
          values.set(fp.column.name, null);
          continue;
        }
        try {
          values.set(fp.column.name, coerceValue(v, fp.type));
        } catch (e) {
          if (!(e instanceof CoercionError)) throw e;
          const detail = `cannot convert ${showValue(v)} to ${fp.type.label}: ${e.message}`;
          if (this.onTypeError === "fail") throw this.fail(lineNo, field, keyText, detail);
          values.set(fp.column.name, null);
          this.typeErrorsNulled++;
          (changes ??= []).push({ field, change: "NULLED", reason: "DESTINATION_TYPECAST_ERROR" });
        }
      }
    }
    const sourceChanges = record.meta?.changes;
    let airbyteMeta = this.cleanMeta;
    if (changes || (sourceChanges && sourceChanges.length > 0)) {
      const all = [...(sourceChanges ?? []), ...(changes ?? [])];
      const meta: Record<string, unknown> = plan.syncId === null ? { changes: all } : { sync_id: plan.syncId, changes: all };
      airbyteMeta = stringifyJsonLossless(meta);
    }
    return {
      key,
      op,
      hlc,
      family,
      values,
      rawId: "", // generated when the image or history row is built
      extractedAtMicros: BigInt(Math.trunc(Number(record.emitted_at))) * 1000n,
      airbyteMeta,
      generationId: plan.generationId,
      lineNo,
    };
  }
}

/** True when `data` is an object (the protocol reader already checked; kept for direct callers). */
export function isRecordData(v: unknown): v is Record<string, JsonValue> {
  return isJsonObject(v);
}
