import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compareHlc,
  formatHlc,
  formatTs33,
  hlcGe,
  hlcGt,
  hlcSortKey,
  hlcSortKeyOf,
  hlcUtcDateParts,
  parseHlc,
  parseTs33,
  tryParseHlc,
} from "./hlc.js";

describe("HLC", () => {
  it("parses the documented example exactly (wall beyond 2^53)", () => {
    const h = parseHlc("1741944413589793238.0000000003");
    expect(h).toEqual({ wall: 1741944413589793238n, logical: 3 });
    expect(formatHlc(h)).toBe("1741944413589793238.0000000003");
  });

  it("orders by wall then logical, never as strings (1970-era short walls)", () => {
    const short = parseHlc("999.0000000000");
    const long = parseHlc("1000.0000000000");
    expect("999.0000000000" > "1000.0000000000").toBe(true);
    expect(compareHlc(short, long)).toBe(-1);
    expect(compareHlc(parseHlc("5.0000000001"), parseHlc("5.0000000002"))).toBe(-1);
    expect(hlcGe(parseHlc("5.0000000002"), parseHlc("5.0000000002"))).toBe(true);
    expect(hlcGt(parseHlc("5.0000000002"), parseHlc("5.0000000002"))).toBe(false);
  });

  it("rejects floats, missing logical digits and int64 overflow", () => {
    for (const bad of [
      "1741944413589793238",
      "1.5",
      "1741944413589793238.3",
      "-1.0000000000",
      "99999999999999999999.0000000000",
      " 1.0000000000",
    ]) {
      expect(() => parseHlc(bad), bad).toThrow();
    }
  });

  it("decodes 33-digit file timestamps in UTC regardless of TZ", () => {
    const h = parseTs33("202503140926535897932380000000003");
    expect(formatHlc(h)).toBe("1741944413589793238.0000000003");
    expect(formatTs33(h)).toBe("202503140926535897932380000000003");
    expect(hlcUtcDateParts(h)).toEqual({ date: "2025-03-14", hour: "09" });
  });

  it("rejects malformed 33-digit timestamps (32 digits, impossible dates)", () => {
    expect(() => parseTs33("20250314092653589793238000000003")).toThrow();
    expect(() => parseTs33("202502300926535897932380000000003")).toThrow(/valid UTC date/);
    expect(() => parseTs33("202513140926535897932380000000003")).toThrow();
  });

  it("property: ts33 and text forms round-trip and preserve order", () => {
    const hlcArb = fc.record({
      wall: fc.bigInt({ min: 0n, max: 4102444799999999999n }),
      logical: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    });
    fc.assert(
      fc.property(hlcArb, hlcArb, (a, b) => {
        expect(parseHlc(formatHlc(a))).toEqual(a);
        expect(parseTs33(formatTs33(a))).toEqual(a);
        expect(Math.sign(compareHlc(a, b))).toBe(Math.sign(formatTs33(a).localeCompare(formatTs33(b))));
      }),
    );
  });

  it("property: sort keys order exactly like compareHlc, over the whole int64 wall range", () => {
    const hlcArb = fc.record({
      wall: fc.oneof(fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), fc.bigInt({ min: 0n, max: 10n ** 12n })),
      logical: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    });
    fc.assert(
      fc.property(hlcArb, hlcArb, (a, b) => {
        const ka = hlcSortKey(formatHlc(a));
        const kb = hlcSortKey(formatHlc(b));
        expect(ka).toBe(hlcSortKeyOf(a));
        expect(ka).toHaveLength(30);
        expect(parseHlc(ka as string)).toEqual(a);
        const textOrder = (ka as string) < (kb as string) ? -1 : (ka as string) > (kb as string) ? 1 : 0;
        expect(textOrder).toBe(Math.sign(compareHlc(a, b)));
      }),
    );
  });

  it("sort keys accept exactly the HLC grammar: the text itself for 19-digit walls, nothing beyond int64", () => {
    const canonical = "1741944413589793238.0000000003";
    expect(hlcSortKey(canonical)).toBe(canonical);
    expect(hlcSortKey("9223372036854775807.0000000000")).toBe("9223372036854775807.0000000000");
    expect(hlcSortKey("12.0000000001")).toBe("0000000000000000012.0000000001");
    for (const bad of [
      "9223372036854775808.0000000000",
      "99999999999999999999.0000000000",
      "1.5",
      "1741944413589793238",
      "",
      ".0000000000",
      "17419444135897932a8.0000000003",
      "1741944413589793238.000000000x",
      "-1.0000000000",
    ]) {
      expect(hlcSortKey(bad), bad).toBeUndefined();
    }
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9.x-]{0,32}$/), (s) => {
        let valid: boolean;
        try {
          valid = tryParseHlc(s) !== undefined;
        } catch {
          valid = false; // int64 overflow
        }
        expect(hlcSortKey(s) !== undefined).toBe(valid);
      }),
    );
  });
});
