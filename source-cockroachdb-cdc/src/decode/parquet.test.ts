import { beforeAll, describe, expect, it } from "vitest";
import { crdbParquet, initZstd } from "../testing/parquet-builder.js";
import { decimalFromBytes, readParquet } from "./parquet.js";

const collect = async (buf: Uint8Array, pk = ["id"], types?: Map<string, string>) => {
  const out = [];
  for await (const b of readParquet(buf, "f.parquet", { primaryKey: pk, columnTypes: types })) out.push(...b);
  return out;
};

beforeAll(initZstd);

describe("Parquet (changefeed-files.md §6): DECIMAL-as-text wart, UUID, TIME, OPTIONAL, codecs", () => {
  const cols = [
    { name: "id", kind: "INT8" as const },
    { name: "amount", kind: "DECIMAL" as const, precision: 10, scale: 2 },
    { name: "whole", kind: "DECIMAL" as const, precision: 12, scale: 12 }, // DECIMAL(12,0) annotated (12,12)
    { name: "free", kind: "DECIMAL" as const }, // unbounded: (2147483647, 2147483647)
    { name: "u", kind: "UUID" as const },
    { name: "t", kind: "TIME" as const },
    { name: "note", kind: "STRING" as const },
    { name: "raw", kind: "BYTES" as const },
  ];
  const rows = [
    {
      id: 9007199254740993n,
      amount: "48.10",
      whole: "123456789012",
      free: "-0.000000000000000000001",
      u: "5e0c1f7a-2b44-4d0e-9a1c-77f0e2b1c3d4",
      t: 33_413_500_000,
      note: "Zoë",
      raw: new Uint8Array([10, 255]),
      __crdb__updated: "1741944413589793238.0000000003",
    },
    {
      id: 7n,
      amount: null,
      whole: "NaN",
      free: "4E+3",
      u: null,
      t: null,
      note: null,
      raw: null,
      __crdb__updated: "1741944413589793238.0000000003",
    },
    { id: 8n, __crdb__event_type: "d", __crdb__updated: "1741944440000000000.0000000000" },
  ];
  for (const codec of ["UNCOMPRESSED", "GZIP", "ZSTD"] as const) {
    it(`reads exact values (${codec})`, async () => {
      const out = await collect(
        crdbParquet(cols, rows, { codec }),
        ["id"],
        new Map([
          ["raw", "BYTES"],
          ["whole", "DECIMAL(12,0)"],
        ]),
      );
      expect(out).toHaveLength(3);
      expect(out[0]?.key).toEqual([9007199254740993n]);
      expect(out[0]?.afterText).toBe(
        '{"id":9007199254740993,"amount":48.10,"whole":123456789012,"free":-0.000000000000000000001,"u":"5e0c1f7a-2b44-4d0e-9a1c-77f0e2b1c3d4","t":"09:16:53.5","note":"Zoë","raw":"Cv8="}',
      );
      expect(out[1]?.afterText).toBe('{"id":7,"amount":null,"whole":"NaN","free":4E+3,"u":null,"t":null,"note":null,"raw":null}');
      expect(out[2]).toMatchObject({ after: null, key: [8n], updated: "1741944440000000000.0000000000" });
    });
  }
  it("two's-complement DECIMAL bytes are read at the trusted scale", () => {
    expect(String((decimalFromBytes(new Uint8Array([0xff, 0x38]), 2) as { value: string }).value)).toBe("-2.00");
    expect(String((decimalFromBytes(new Uint8Array([0x12, 0xd6, 0x87]), 3) as { value: string }).value)).toBe("1234.567");
  });
  it("missing __crdb__updated → config_error; cut footer → error naming the file", async () => {
    const good = crdbParquet(cols.slice(0, 1), [{ id: 1n, __crdb__updated: "1.0000000000" }]);
    await expect(collect(good.subarray(0, good.length - 20))).rejects.toMatchObject({
      failureType: "config_error",
      message: expect.stringMatching(/f\.parquet: corrupt or truncated/),
    });
    await expect(collect(good, [])).rejects.toMatchObject({
      failureType: "config_error",
      message: expect.stringMatching(/primary-key/),
    });
  });
});
