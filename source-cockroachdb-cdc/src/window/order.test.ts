import { formatHlc, hlcSortKeyOf, silentLogger, stringifyJsonLossless } from "@cdc-delta/shared";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WindowBuffer } from "./buffer.js";
import { fragments } from "./fragments.js";
import { type Change, comparePosition } from "./order.js";

const arbChange = fc.record({
  wall: fc.bigInt({ min: 0n, max: 5n }),
  logical: fc.integer({ min: 0, max: 2 }),
  key: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(9007199254740993n, -9223372036854775808n)),
  family: fc.constantFrom(null, "primary"),
  schemaId: fc.integer({ min: 1, max: 3 }),
  v: fc.integer({ min: 0, max: 9 }),
});

function toChanges(
  xs: {
    wall: bigint;
    logical: number;
    key: number | bigint;
    family: string | null;
    schemaId: number;
    v: number;
  }[],
): Change[] {
  return xs.map((x, i) => {
    const hlc = { wall: 1741944400000000000n + x.wall, logical: x.logical };
    return {
      hlcKey: hlcSortKeyOf(hlc),
      updated: formatHlc(hlc),
      key: [x.key],
      family: x.family,
      schemaId: x.schemaId,
      after: { id: x.key, v: x.v, s: x.schemaId } as never,
      fileOrder: i,
      line: 1,
    };
  });
}

async function emit(changes: Change[], limitRows: number) {
  const buf = new WindowBuffer({ limitRows, inMemory: 0 });
  for (const c of changes) await buf.add(c);
  const shape = { stream: "t", pk: ["id"], primaryFamily: "primary", familyColumns: new Map(), bytesColumns: new Set<string>() };
  const out = [];
  for await (const fs of fragments(buf.sorted(), shape, silentLogger(), {
    duplicates: 0,
    conflictingDuplicates: 0,
    skippedUnknownFamilyDeletes: 0,
  }))
    out.push(...fs);
  return out;
}

describe("ordering and dedupe invariants (property)", () => {
  it("emitted fragments are strictly increasing in (HLC, key, family): sorted and unique", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbChange, { maxLength: 60 }), async (xs) => {
        const out = await emit(toChanges(xs), 1_000_000);
        for (let i = 1; i < out.length; i++)
          expect(comparePosition(out[i - 1]?.change as Change, out[i]?.change as Change)).toBeLessThan(0);
        const positions = new Set(toChanges(xs).map((c) => `${c.updated}|${stringifyJsonLossless(c.key)}|${c.family}`));
        expect(out).toHaveLength(positions.size);
      }),
      { numRuns: 150 },
    );
  });
  it("of copies at one (HLC, key, family) the higher schema id wins", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbChange, { maxLength: 40 }), async (xs) => {
        const changes = toChanges(xs);
        for (const f of await emit(changes, 1_000_000)) {
          const same = changes.filter((c) => comparePosition(c, f.change) === 0);
          expect(f.change.schemaId).toBe(Math.max(...same.map((c) => c.schemaId)));
        }
      }),
      { numRuns: 150 },
    );
  });
  it("Memory is bounded by configuration (invariant 5): external sort gives the same output as in-memory", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbChange, { maxLength: 80 }), fc.integer({ min: 1, max: 10 }), async (xs, limit) => {
        const a = await emit(toChanges(xs), 1_000_000);
        const b = await emit(toChanges(xs), limit);
        expect(b.map((f) => stringifyJsonLossless(f.data))).toEqual(a.map((f) => stringifyJsonLossless(f.data)));
      }),
      { numRuns: 40 },
    );
  });
});
