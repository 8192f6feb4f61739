import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  LosslessNumber,
  hasRiskyNumber,
  isLosslessNumber,
  numberText,
  parseJsonLossless,
  stringifyJsonLossless,
} from "./lossless.js";

describe("lossless JSON", () => {
  it("keeps INT8 beyond 2^53, INT8 min/max and decimal scale bit for bit", () => {
    const line =
      '{"after": {"id": 9007199254740993, "min": -9223372036854775808, "max": 9223372036854775807, "total": 48.10, "e": 4E+3, "small": 7}, "key": [9007199254740993]}';
    const v = parseJsonLossless(line) as Record<string, Record<string, unknown>>;
    const after = v.after as Record<string, unknown>;
    expect(after.id).toBe(9007199254740993n);
    expect(after.min).toBe(-9223372036854775808n);
    expect(after.max).toBe(9223372036854775807n);
    expect(isLosslessNumber(after.total) && numberText(after.total as never)).toBe("48.10");
    expect(numberText(after.e as never)).toBe("4E+3");
    expect(after.small).toBe(7);
    expect(stringifyJsonLossless(v)).toBe(
      '{"after":{"id":9007199254740993,"min":-9223372036854775808,"max":9223372036854775807,"total":48.10,"e":4E+3,"small":7},"key":[9007199254740993]}',
    );
  });

  it("takes the plain fast path when no number is at risk", () => {
    expect(hasRiskyNumber('{"a": 1, "b": "x.5", "c": [1, 2]}')).toBe(false);
    expect(hasRiskyNumber('{"a": 1.5}')).toBe(true);
    expect(hasRiskyNumber('{"a": [12345678901234567]}')).toBe(true);
  });

  it("property: any integer and any decimal text survives parse + stringify", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.integer({ min: 0, max: 12 }), (n, scale) => {
        const abs = n < 0n ? -n : n;
        const digits = abs.toString().padStart(scale + 1, "0");
        const dec = `${n < 0n ? "-" : ""}${scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits}`;
        const text = `{"i":${n},"d":${dec}}`;
        expect(stringifyJsonLossless(parseJsonLossless(text))).toBe(text);
      }),
    );
  });
});

describe("parseJsonLossless fast path (marked tokens)", () => {
  it("keeps digits, ignores digits inside strings, rejects invalid numbers", () => {
    expect(parseJsonLossless('{"a":"x 1.5 \\" 9007199254740993","b":[48.10,-9007199254740993,0.5e-3,12]}')).toEqual({
      a: 'x 1.5 " 9007199254740993',
      b: [new LosslessNumber("48.10"), -9007199254740993n, new LosslessNumber("0.5e-3"), 12],
    });
    expect(() => parseJsonLossless('{"a":00000000000000001.5}')).toThrow();
    expect(parseJsonLossless('{"a":"\\u0000","b":1.5}')).toEqual({ a: "\u0000", b: new LosslessNumber("1.5") });
  });
});

describe("parseJsonLossless equals the tokenizer on any JSON text", () => {
  it("property: same value as lossless-json with exact numbers", async () => {
    const { parse } = await import("lossless-json");
    const exact = (t: string) =>
      /^-?\d+$/.test(t) ? (Number.isSafeInteger(Number(t)) ? Number(t) : BigInt(t)) : new LosslessNumber(t);
    const numberText = fc.oneof(
      fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
      fc.tuple(fc.integer(), fc.nat(), fc.constantFrom("", "e5", "E-3", "e+12")).map(([a, b, e]) => `${a}.${b}${e}`),
    );
    const text = fc
      .jsonValue()
      .chain((v) => numberText.map((n) => JSON.stringify({ v, s: 'a"\\\\q 1.5', n: 0 }).replace('"n":0', `"n":${n}`)));
    fc.assert(
      fc.property(text, (t) => {
        expect(parseJsonLossless(t)).toEqual(parse(t, undefined, exact));
      }),
      { numRuns: 500 },
    );
  });
});
