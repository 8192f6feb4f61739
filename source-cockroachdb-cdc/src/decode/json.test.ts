import { execFileSync } from "node:child_process";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { isLosslessNumber, LosslessNumber, stringifyJsonLossless } from "@cdc-delta/shared";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decompressStream } from "./compression.js";
import { parseLine, readJsonLines } from "./json.js";

const collect = async (text: string | Buffer, codec: "gz" | "zst" | null = null, name = "f.ndjson") => {
  const out = [];
  for await (const b of readJsonLines(decompressStream(Readable.from([Buffer.from(text)]), codec), name)) out.push(...b);
  return out;
};

describe("Every number survives the trip bit for bit (invariant 6)", () => {
  it("keeps 2^53+1, INT8 min/max and decimal scale/exponent exactly", () => {
    const text =
      '{"after": {"id": 9007199254740993, "min": -9223372036854775808, "max": 9223372036854775807, "total": 48.10, "e": 4E+3, "f": 1.5e-7, "s": "9007199254740993.5"}, "key": [9007199254740993], "updated": "1741944413589793238.0000000003"}';
    const v = parseLine(text) as Record<string, Record<string, unknown>>;
    expect(v.after?.id).toBe(9007199254740993n);
    expect(v.after?.min).toBe(-9223372036854775808n);
    expect(isLosslessNumber(v.after?.total)).toBe(true);
    expect(stringifyJsonLossless(v.after)).toBe(
      '{"id":9007199254740993,"min":-9223372036854775808,"max":9223372036854775807,"total":48.10,"e":4E+3,"f":1.5e-7,"s":"9007199254740993.5"}',
    );
  });
  it("property: any integer/decimal text round-trips through parse + stringify", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.nat({ max: 12 }), fc.string(), (n, scale, s) => {
        const dec = scale
          ? `${n < 0n ? "-" : ""}${(n < 0n ? -n : n)
              .toString()
              .padStart(scale + 1, "0")
              .replace(new RegExp(`(\\d{${scale}})$`), ".$1")}`
          : n.toString();
        const text = `{"a": ${n}, "d": ${dec}, "s": ${JSON.stringify(s)}, "arr": [${dec}, null]}`;
        expect(stringifyJsonLossless(parseLine(text))).toBe(`{"a":${n},"d":${dec},"s":${JSON.stringify(s)},"arr":[${dec},null]}`);
      }),
      { numRuns: 300 },
    );
  });
});

describe("wrapped JSON lines", () => {
  const ok = '{"after": {"id": 1}, "key": [1], "updated": "1741944413589793238.0000000003"}';
  it("reads lines (plain, gzip, zstd) with line numbers", async () => {
    const text = `${ok}\n${ok.replace("[1]", "[2]")}\n`;
    expect((await collect(text)).map((r) => r.line)).toEqual([1, 2]);
    expect(await collect(gzipSync(text), "gz")).toHaveLength(2);
    const zst = execFileSync("zstd", ["-q", "-c"], { input: text });
    expect(await collect(zst, "zst")).toHaveLength(2);
  });
  it("bare envelope → config_error (deletes cannot be recognised)", async () => {
    await expect(collect('{"id": 1, "__crdb__": {"key": [1], "updated": "1.0000000000"}}\n')).rejects.toMatchObject({
      failureType: "config_error",
      message: expect.stringMatching(/bare envelope/),
    });
  });
  it("missing updated → config_error that says so", async () => {
    await expect(collect('{"after": {"id": 1}, "key": [1]}\n')).rejects.toMatchObject({
      failureType: "config_error",
      message: expect.stringMatching(/without the `updated` option/),
    });
  });
  it("malformed line → error naming file and line", async () => {
    await expect(collect(`${ok}\n{"after": {"id": \n`, null, "x.ndjson")).rejects.toMatchObject({
      failureType: "config_error",
      message: expect.stringMatching(/x\.ndjson line 2: malformed JSON/),
    });
  });
  it("truncated gzip / zstd → error naming the object", async () => {
    const gz = gzipSync(`${ok}\n`.repeat(50));
    await expect(collect(gz.subarray(0, gz.length - 10), "gz", "t.ndjson.gz")).rejects.toMatchObject({
      message: expect.stringMatching(/t\.ndjson\.gz/),
    });
    const zst = execFileSync("zstd", ["-q", "-c"], { input: `${ok}\n`.repeat(50) });
    await expect(collect(zst.subarray(0, zst.length - 6), "zst", "t.ndjson.zst")).rejects.toMatchObject({
      message: expect.stringMatching(/t\.ndjson\.zst/),
    });
  });
});

describe("JSON fast path (exact `after` text sliced from the line)", () => {
  it("handles a column named key, escaped quotes, nested objects, big numbers in key and after", async () => {
    const { fastWrapped } = await import("./json.js");
    const line =
      '{"after": {"key": 5, "note": "a \\"key\\": [1] \\"updated\\":", "doc": {"key": [2], "updated": 1}, "big": 9007199254740993, "d": 48.10}, "key": ["x\\"]", 9007199254740993], "mvcc_timestamp": "1.0000000000", "topic": "t", "updated": "1741944413589793238.0000000003"}';
    const r = fastWrapped(line, () => "x", 1);
    expect(r?.key).toEqual(['x"]', 9007199254740993n]);
    expect(r?.afterText).toBe(
      '{"key": 5, "note": "a \\"key\\": [1] \\"updated\\":", "doc": {"key": [2], "updated": 1}, "big": 9007199254740993, "d": 48.10}',
    );
    expect(r?.updated).toBe("1741944413589793238.0000000003");
  });
  it("single-integer keys beyond 2^53 are exact (INT8 min/max, spaces), other keys keep the general re-read", async () => {
    const { fastWrapped } = await import("./json.js");
    const at = (key: string) =>
      fastWrapped(`{"after": {"v": 1}, "key": ${key}, "updated": "1741944413589793238.0000000003"}`, () => "x", 1)?.key;
    expect(at("[9007199254740993]")).toEqual([9007199254740993n]);
    expect(at("[ -9223372036854775808 ]")).toEqual([-9223372036854775808n]);
    expect(at("[9223372036854775807]")).toEqual([9223372036854775807n]);
    expect(at("[12]")).toEqual([12]);
    expect(at("[1e300]")).toEqual([new LosslessNumber("1e300")]);
    expect(at('[9007199254740993, "a"]')).toEqual([9007199254740993n, "a"]);
  });
  it("lines with `before` (diff) or other shapes take the general path", async () => {
    const { fastWrapped } = await import("./json.js");
    expect(
      fastWrapped('{"after": {"id": 1}, "before": null, "key": [1], "updated": "1.0000000000"}', () => "x", 1),
    ).toBeUndefined();
    expect(fastWrapped('{"id": 1, "__crdb__": {}}', () => "x", 1)).toBeUndefined();
  });
});
