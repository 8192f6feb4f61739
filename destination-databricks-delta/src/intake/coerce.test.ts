import { LosslessNumber, parseJsonLossless } from "@cdc-delta/shared";
import { describe, expect, it } from "vitest";
import { columnTypeOf, type PropertySchema } from "../plan/type-map.js";
import { coerceValue, decimalToUnscaled, parseDate, parseTimestampMicros, unscaledToText } from "./coerce.js";

const t = (ddl: string, prop: PropertySchema = {}) => columnTypeOf({ ...prop, "x-cockroachdb": { type: ddl, family: null } });
const value = (json: string) => (parseJsonLossless(`{"v":${json}}`) as { v: never }).v;

describe("type mapping (annotation first, Airbyte type second)", () => {
  it.each([
    ["INT8", "long"],
    ["INT4", "long"],
    ["FLOAT8", "double"],
    ["DECIMAL(10,2)", "decimal(10,2)"],
    ["NUMERIC(38,10)", "decimal(38,10)"],
    ["DECIMAL", "string"],
    ["DECIMAL(40,2)", "string"],
    ["BOOL", "boolean"],
    ["DATE", "date"],
    ["TIMESTAMPTZ", "timestamp"],
    ["TIMESTAMP", "timestamp_ntz"],
    ["TIMESTAMP(6)", "timestamp_ntz"],
    ["TIME", "string"],
    ["BYTES", "binary"],
    ["JSONB", "string"],
    ["STRING[]", "string"],
    ["UUID", "string"],
    ["INTERVAL", "string"],
    ["GEOMETRY", "string"],
  ])("%s → %s", (ddl, kind) => {
    const ct = t(ddl);
    expect(ct.type.kind === "decimal" ? `decimal(${ct.type.precision},${ct.type.scale})` : ct.type.kind).toBe(kind);
  });

  it("falls back to the Airbyte type", () => {
    expect(columnTypeOf({ type: ["null", "integer"] }).type.kind).toBe("long");
    expect(columnTypeOf({ type: "number", airbyte_type: "integer" }).type.kind).toBe("long");
    expect(columnTypeOf({ type: "number" }).type.kind).toBe("double");
    expect(columnTypeOf({ type: "string", format: "date-time", airbyte_type: "timestamp_without_timezone" }).type.kind).toBe(
      "timestamp_ntz",
    );
    expect(columnTypeOf({ type: "string", format: "date-time" }).type.kind).toBe("timestamp");
    expect(columnTypeOf({ type: "string", contentEncoding: "base64" }).type.kind).toBe("binary");
    expect(columnTypeOf({}).coerce).toBe("json");
    expect(columnTypeOf({ type: "array", items: {} }).coerce).toBe("json");
    expect(columnTypeOf({ type: "string", "x-cockroachdb": { type: "SOMEENUM", family: null } }).coerce).toBe("string");
  });
});

describe("§8.12 lossless coercion", () => {
  it("BIGINT ±(2^63−1) and 2^53+1 exactly; outside int64 is a type error", () => {
    expect(coerceValue(value("9223372036854775807"), t("INT8"))).toBe(9223372036854775807n);
    expect(coerceValue(value("-9223372036854775808"), t("INT8"))).toBe(-9223372036854775808n);
    expect(coerceValue(value("9007199254740993"), t("INT8"))).toBe(9007199254740993n);
    expect(coerceValue(value("42"), t("INT8"))).toBe(42n);
    expect(() => coerceValue(value("9223372036854775808"), t("INT8"))).toThrow(/int64/);
    expect(() => coerceValue(value("1.5"), t("INT8"))).toThrow(/fractional/);
    expect(() => coerceValue(value('"x"'), t("INT8"))).toThrow(/not an integer/);
  });

  it("DECIMAL(p,s) → exact unscaled bigint; scale and precision enforced", () => {
    expect(coerceValue(value("48.10"), t("DECIMAL(10,2)"))).toBe(4810n);
    expect(coerceValue(value("48.1"), t("DECIMAL(10,2)"))).toBe(4810n);
    expect(coerceValue(value("4E+3"), t("DECIMAL(10,2)"))).toBe(400000n);
    expect(coerceValue(value("-0.01"), t("DECIMAL(10,2)"))).toBe(-1n);
    expect(coerceValue(value("7"), t("DECIMAL(10,2)"))).toBe(700n);
    const big = "1234567890123456789012345678.1234567891";
    expect(coerceValue(value(big), t("DECIMAL(38,10)"))).toBe(12345678901234567890123456781234567891n);
    expect(unscaledToText(12345678901234567890123456781234567891n, 10)).toBe(big);
    expect(() => coerceValue(value("1.234"), t("DECIMAL(10,2)"))).toThrow(/more than 2 fractional digits/);
    expect(() => coerceValue(value("123456789.5"), t("DECIMAL(10,2)"))).toThrow(/integer digits/);
    expect(() => coerceValue(value('"NaN"'), t("DECIMAL(10,2)"))).toThrow();
    expect(decimalToUnscaled("1.2300", 2)).toBe(123n);
  });

  it("unbounded DECIMAL → STRING with the exact digits (NaN kept)", () => {
    expect(coerceValue(value("123456789012345678901234567890.000000000000001"), t("DECIMAL"))).toBe(
      "123456789012345678901234567890.000000000000001",
    );
    expect(coerceValue(value("48.10"), t("DECIMAL"))).toBe("48.10");
    expect(coerceValue(value('"NaN"'), t("DECIMAL"))).toBe("NaN");
  });

  it("FLOAT8 with non-finite strings", () => {
    expect(coerceValue(value("1.5e300"), t("FLOAT8"))).toBe(1.5e300);
    expect(coerceValue(value('"NaN"'), t("FLOAT8"))).toBeNaN();
    expect(coerceValue(value('"-Infinity"'), t("FLOAT8"))).toBe(Number.NEGATIVE_INFINITY);
  });

  it("TIMESTAMPTZ → µs since epoch UTC, offsets applied; sub-µs digits refused", () => {
    expect(coerceValue("2025-03-14T09:26:53.589793Z" as never, t("TIMESTAMPTZ"))).toBe(1741944413589793n);
    expect(parseTimestampMicros("2025-03-14T10:26:53.589793+01:00", false)).toBe(1741944413589793n);
    expect(parseTimestampMicros("1970-01-01T00:00:00Z", false)).toBe(0n);
    expect(parseTimestampMicros("1969-12-31T23:59:59.999999Z", false)).toBe(-1n);
    expect(parseTimestampMicros("2025-03-14T09:26:53.589793000Z", false)).toBe(1741944413589793n);
    expect(() => parseTimestampMicros("2025-03-14T09:26:53.5897931Z", false)).toThrow(/sub-microsecond/);
    expect(() => parseTimestampMicros("infinity", false)).toThrow(/infinite/);
  });

  it("TIMESTAMP (no zone) → TIMESTAMP_NTZ µs; an offset is refused", () => {
    expect(coerceValue("2025-03-14T09:26:53.5897" as never, t("TIMESTAMP"))).toBe(1741944413589700n);
    expect(() => coerceValue("2025-03-14T09:26:53+02:00" as never, t("TIMESTAMP"))).toThrow(/offset/);
  });

  it("DATE → days since epoch; BC and invalid dates", () => {
    expect(parseDate("1970-01-01")).toBe(0);
    expect(parseDate("2025-03-14")).toBe(20161);
    expect(parseDate("1969-12-31")).toBe(-1);
    expect(parseDate("2000-02-29")).toBe(11016);
    expect(parseDate("0001-01-01 BC")).toBe(parseDate("0000-01-01"));
    expect(() => parseDate("2025-02-30")).toThrow(/calendar/);
    expect(() => parseDate("infinity")).toThrow(/infinite/);
  });

  it("BYTES from base64 → binary; JSONB and arrays → JSON text, lossless", () => {
    expect(coerceValue("CgD/" as never, t("BYTES"))).toEqual(Uint8Array.from([10, 0, 255]));
    expect(() => coerceValue("\\x0aff" as never, t("BYTES"))).toThrow(/base64/);
    expect(coerceValue(value('{"tags":["a"],"n":9007199254740993,"d":48.10}'), t("JSONB"))).toBe(
      '{"tags":["a"],"n":9007199254740993,"d":48.10}',
    );
    expect(coerceValue(value('"scalar"'), t("JSONB"))).toBe('"scalar"');
    expect(coerceValue(value("[1,null,3]"), t("INT8[]"))).toBe("[1,null,3]");
    expect(coerceValue(new LosslessNumber("1.50") as never, t("STRING"))).toBe("1.50");
  });
});
