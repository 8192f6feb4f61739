import { describe, expect, it } from "vitest";
import type { DeltaField } from "../log/schema.js";
import { bigintFromBytes, readParquetRows } from "./read.js";
import { decimalByteLength, ParquetColumnsWriter, writeParquet, writeParquetColumns } from "./write.js";

const F = (name: string, type: DeltaField["type"], nullable = true): DeltaField => ({ name, type, nullable, metadata: {} });
const fields: DeltaField[] = [
  F("id", { kind: "long" }, false),
  F("i", { kind: "integer" }),
  F("d38", { kind: "decimal", precision: 38, scale: 10 }),
  F("d18", { kind: "decimal", precision: 18, scale: 4 }),
  F("d9", { kind: "decimal", precision: 9, scale: 2 }),
  F("ts", { kind: "timestamp" }),
  F("ntz", { kind: "timestamp_ntz" }),
  F("dt", { kind: "date" }),
  F("b", { kind: "binary" }),
  F("s", { kind: "string" }),
  F("f", { kind: "double" }),
  F("bo", { kind: "boolean" }),
];

describe("parquet write/read", () => {
  it("round-trips every type losslessly (int64 extremes, DECIMAL(38), µs timestamps, binary, NaN)", async () => {
    const rows = [
      {
        id: 9223372036854775807n,
        i: -2147483648,
        d38: -(10n ** 38n - 1n),
        d18: 999999999999999999n,
        d9: -999999999n,
        ts: 1741944413589793n,
        ntz: -1n,
        dt: -719162,
        b: new Uint8Array([0, 255, 128]),
        s: "héllo 😀",
        f: Number.NaN,
        bo: false,
      },
      {
        id: -9223372036854775808n,
        i: null,
        d38: null,
        d18: null,
        d9: null,
        ts: null,
        ntz: null,
        dt: null,
        b: null,
        s: null,
        f: null,
        bo: null,
      },
      {
        id: 9007199254740993n,
        i: 1,
        d38: 10n ** 38n - 1n,
        d18: 1n,
        d9: 0n,
        ts: 0n,
        ntz: 253402300799999999n,
        dt: 2932896,
        b: new Uint8Array(),
        s: "",
        f: -0,
        bo: true,
      },
    ];
    const back = await readParquetRows(
      writeParquet(fields, rows),
      fields.map((f) => f.name),
    );
    expect(back).toEqual(rows);
  });

  it("strings: many short ones (dictionary and plain), ones longer than a slab; streamed = one-shot bytes", async () => {
    const sf = [
      F("k", { kind: "long" }, false),
      F("low", { kind: "string" }),
      F("high", { kind: "string" }),
      F("big", { kind: "string" }),
    ];
    const rows = Array.from({ length: 5000 }, (_, i) => ({
      k: BigInt(i),
      low: i % 9 === 0 ? null : ["eu", "us", "", "ü"][i % 4]!,
      high: `${i % 2 ? "😀" : "é"}-${i}-${"x".repeat(i % 50)}`,
      big: i % 1000 === 7 ? "z".repeat(70_000) + i : null,
    }));
    const col = (name: string) => (i: number) => (rows[i] as Record<string, string | bigint | null>)[name];
    const oneShot = writeParquetColumns(sf, col, rows.length, { rowGroupSize: 2000 });
    const w = new ParquetColumnsWriter(sf, { rowGroupSize: 2000, sizeHint: 1000 });
    for (let s0 = 0; s0 < rows.length; s0 += 2000) w.append((name) => (i) => col(name)(s0 + i), Math.min(2000, rows.length - s0));
    expect(Buffer.from(w.finish()).equals(Buffer.from(oneShot))).toBe(true);
    expect(await readParquetRows(oneShot, ["k", "low", "high", "big"])).toEqual(rows);
  });

  it("NOT NULL columns reject NULL", () => {
    expect(() => writeParquet([F("id", { kind: "long" }, false)], [{ id: null }])).toThrow(/NOT NULL/);
  });

  it("missing columns read as NULL; decimal bytes are two's complement", async () => {
    const back = await readParquetRows(writeParquet([F("a", { kind: "long" })], [{ a: 1n }]), ["a", "later"]);
    expect(back).toEqual([{ a: 1n, later: null }]);
    expect(bigintFromBytes(new Uint8Array([0xff, 0x00]))).toBe(-256n);
    expect(decimalByteLength(38)).toBe(16);
    expect(decimalByteLength(19)).toBe(9);
  });
});
