import { describe, expect, it } from "vitest";
import type { AddAction } from "../log/actions.js";
import type { DeltaField } from "../log/schema.js";
import { compareCells, compareStrings } from "./cells.js";
import { candidateFiles } from "./prune.js";
import { computeStats, parseStats } from "./stats.js";

const F = (name: string, type: DeltaField["type"]): DeltaField => ({ name, type, nullable: true, metadata: {} });
const fields = [
  F("r", { kind: "string" }),
  F("id", { kind: "long" }),
  F("d", { kind: "decimal", precision: 38, scale: 2 }),
  F("dt", { kind: "date" }),
];

function add(stats: string | null): AddAction {
  return { path: "p", partitionValues: {}, size: 1, modificationTime: 0, dataChange: true, stats };
}

describe("stats", () => {
  it("writes exact bounds (int64 beyond 2^53, decimals) and parses them back", () => {
    const rows = [
      { r: "eu", id: 9223372036854775807n, d: -12345n, dt: 0 },
      { r: "us", id: 9007199254740993n, d: 5n, dt: 19000 },
      { r: null, id: 1n, d: null, dt: null },
    ];
    const s = computeStats(fields, rows, new Set(["r", "id", "d", "dt"]));
    expect(s).toBe(
      '{"numRecords":3,"minValues":{"r":"eu","id":1,"d":-123.45,"dt":"1970-01-01"},"maxValues":{"r":"us","id":9223372036854775807,"d":0.05,"dt":"2022-01-08"},"nullCount":{"r":1,"id":0,"d":1,"dt":1}}',
    );
    const p = parseStats(s, fields)!;
    expect(p.max.get("id")).toBe(9223372036854775807n);
    expect(p.min.get("d")).toBe(-12345n);
    expect(p.max.get("dt")).toBe(19000);
    expect(p.nullCount.get("r")).toBe(1);
  });

  it("does not trust a foreign string max that may be truncated", () => {
    const long = "x".repeat(32);
    const p = parseStats(JSON.stringify({ numRecords: 1, minValues: { r: long }, maxValues: { r: long } }), fields)!;
    expect(p.min.get("r")).toBe(long);
    expect(p.max.has("r")).toBe(false);
  });

  it("orders strings by code point (UTF-8 byte order), like Spark and delta-rs", () => {
    expect(compareStrings("\uffff", "😀")).toBe(-1);
    expect(compareCells(2n, 10n)).toBe(-1);
  });
});

describe("pruning", () => {
  const a = add('{"numRecords":10,"minValues":{"r":"eu","id":1},"maxValues":{"r":"eu","id":100},"nullCount":{}}');
  const b = add('{"numRecords":10,"minValues":{"r":"us","id":50},"maxValues":{"r":"us","id":60},"nullCount":{}}');
  const none = add(null);
  it("keeps only files whose key ranges can hold a batch key; files without stats always", () => {
    const keys = [
      ["eu", 5n],
      ["us", 1n],
    ];
    expect(candidateFiles([a, b, none], fields, ["r", "id"], keys)).toEqual([a, none]);
    expect(candidateFiles([a, b], fields, ["r", "id"], [["us", 55n]])).toEqual([b]);
    expect(candidateFiles([a, b], fields, ["r", "id"], [["zz", 55n]])).toEqual([]);
  });
});
