import { type AirbyteRecordMessage, parseJsonLossless } from "@cdc-delta/shared";
import { describe, expect, it } from "vitest";
import { planStream } from "../plan/stream-plan.js";
import { configuredStream } from "../testing-protocol.js";
import { StreamIntake } from "./record.js";

const rec = (json: string) => parseJsonLossless(json) as unknown as AirbyteRecordMessage;
const plan = () => {
  const cs = configuredStream("orders", { namespace: "shop" });
  (cs as { sync_id?: number }).sync_id = 77;
  return planStream(cs, { deleteMode: "hard", tombstoneRetentionDays: 7 });
};

describe("intake", () => {
  it("builds a fragment: lossless key, typed values, HLC, family, metadata", () => {
    const f = new StreamIntake(plan(), "fail").toFragment(
      rec(
        '{"stream":"orders","emitted_at":1767225600123,"data":{"region":"eu","id":9007199254740993,"c1":48.10,"_cdc_op":"upsert","_cdc_updated":"1767225600123000000.0000000003","_cdc_family":"fc"}}',
      ),
      5,
    );
    expect(f.key).toEqual(["eu", 9007199254740993n]);
    expect(f.values.get("c1")).toBe(4810n);
    expect(f.hlc).toEqual({ wall: 1767225600123000000n, logical: 3 });
    expect(f.family).toBe("fc");
    expect(f.extractedAtMicros).toBe(1767225600123000n);
    expect(f.airbyteMeta).toBe('{"sync_id":77,"changes":[]}');
  });

  it("a delete keeps only the key", () => {
    const f = new StreamIntake(plan(), "fail").toFragment(
      rec(
        '{"stream":"orders","emitted_at":1,"data":{"region":"eu","id":1,"a1":"x","_cdc_op":"delete","_cdc_updated":"1.0000000000","_cdc_family":"fa"}}',
      ),
      1,
    );
    expect([...f.values.keys()]).toEqual(["region", "id"]);
  });

  it("on_type_error null_and_record: NULL plus an _airbyte_meta change; fail names stream, line, field, key", () => {
    const line =
      '{"stream":"orders","emitted_at":1,"data":{"region":"eu","id":3,"a2":"many","_cdc_op":"upsert","_cdc_updated":"1.0000000000","_cdc_family":"fa"}}';
    const f = new StreamIntake(plan(), "null_and_record").toFragment(rec(line), 9);
    expect(f.values.get("a2")).toBeNull();
    expect(JSON.parse(f.airbyteMeta)).toEqual({
      sync_id: 77,
      changes: [{ field: "a2", change: "NULLED", reason: "DESTINATION_TYPECAST_ERROR" }],
    });
    expect(() => new StreamIntake(plan(), "fail").toFragment(rec(line), 9)).toThrow(
      'invalid record (stream "shop.orders", line 9, field "a2", key ["eu",3]): cannot convert "many" to INT8: not an integer',
    );
  });

  it("an HLC beyond int64 or with a short logical part is refused", () => {
    const bad = (hlc: string) =>
      rec(
        `{"stream":"orders","emitted_at":1,"data":{"region":"eu","id":1,"_cdc_op":"delete","_cdc_updated":"${hlc}","_cdc_family":"fa"}}`,
      );
    expect(() => new StreamIntake(plan(), "fail").toFragment(bad("9999999999999999999.0000000000"), 1)).toThrow(/exceeds int64/);
    expect(() => new StreamIntake(plan(), "fail").toFragment(bad("1767225600123000000.1"), 1)).toThrow(/not an HLC/);
  });
});
