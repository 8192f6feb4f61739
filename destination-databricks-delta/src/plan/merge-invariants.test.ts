/**
 * Property tests of the merge (fold + applyImage), named after the architecture invariants
 * (docs/architecture.md "Invariants") and destination-delta.md §3.
 */
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyImage, keyString } from "./apply-image.js";
import { type Fragment, foldFragments } from "./fold.js";
import { fragment, hlc, observable, TEST_FAMILIES, testTable, truth } from "./testing.js";
import type { Cell, DeleteMode, Image, KeyState, StoredRow, TableSpec } from "./types.js";

const KEYS: [string, bigint][] = [
  ["eu", 1n],
  ["us", 1n],
  ["eu", 9007199254740993n],
];

interface Event {
  key: number;
  op: "upsert" | "delete";
  families: string[];
  values: Record<string, Cell>;
  step: number;
}

const valueArb = (column: string): fc.Arbitrary<Cell> =>
  column === "a2" || column === "c1"
    ? fc.option(fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }), { nil: null })
    : fc.option(fc.constantFrom("x", "y", "", "zoë"), { nil: null });

const eventArb: fc.Arbitrary<Event> = fc
  .record({
    key: fc.nat({ max: KEYS.length - 1 }),
    op: fc.constantFrom<"upsert" | "delete">("upsert", "upsert", "upsert", "delete"),
    families: fc.subarray(Object.keys(TEST_FAMILIES), { minLength: 1 }),
    a1: valueArb("a1"),
    a2: valueArb("a2"),
    b1: valueArb("b1"),
    c1: valueArb("c1"),
    step: fc.constantFrom(1, 1, 1, 1_000_000_000),
  })
  .map((r) => ({ key: r.key, op: r.op, families: r.families, values: { a1: r.a1, a2: r.a2, b1: r.b1, c1: r.c1 }, step: r.step }));

/** Events → fragments in (hlc, key, family) order; a delete sends one fragment per family (same HLC). */
function toFragments(events: Event[], deleteFamilies = true): Fragment[] {
  let wall = 1_700_000_000_000_000_000n;
  let logical = 0;
  const out: Fragment[] = [];
  for (const e of events) {
    if (e.step > 1) {
      wall += BigInt(e.step);
      logical = 0;
    } else logical++;
    const at = hlc(wall, logical);
    const key = KEYS[e.key] as [string, bigint];
    for (const fam of [...e.families].sort()) {
      if (e.op === "delete") {
        out.push(fragment(key, "delete", at, fam));
        if (!deleteFamilies) break;
      } else {
        const vals: Record<string, Cell> = {};
        for (const c of TEST_FAMILIES[fam] as string[]) vals[c] = e.values[c] ?? null;
        out.push(fragment(key, "upsert", at, fam, vals));
      }
    }
  }
  return out;
}

type Tables = Map<string, KeyState>;

function applyBatch(state: Tables, images: Image[], mode: DeleteMode, table: TableSpec): void {
  for (const image of images) {
    const k = keyString(image.key);
    const next = applyImage(state.get(k) ?? { row: null, tombstone: null }, image, mode, table);
    state.set(k, next);
  }
}

/** Apply fragments in contiguous buffers cut at `cuts` (indices), each folded then applied. */
function applySplit(state: Tables, frags: Fragment[], cuts: number[], mode: DeleteMode, table: TableSpec): void {
  const points = [...new Set(cuts.map((c) => Math.min(c, frags.length)))].sort((a, b) => a - b);
  let start = 0;
  for (const p of [...points, frags.length]) {
    if (p <= start) continue;
    applyBatch(state, foldFragments(frags.slice(start, p), table.keyColumns), mode, table);
    start = p;
  }
}

function observed(state: Tables): Map<string, Record<string, Cell>> {
  const out = new Map<string, Record<string, Cell>>();
  for (const [k, s] of state) {
    const o = observable(s.row);
    if (o) out.set(k, o);
  }
  return out;
}

const modes: DeleteMode[] = ["hard", "soft"];
const runs = { numRuns: Number(process.env.FC_RUNS ?? 300) };

describe.each(modes)("merge invariants (%s deletes)", (mode) => {
  const table = testTable(mode);

  it("P1+P3: any split of a fragment sequence into buffers gives the truth model", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 25 }), fc.array(fc.nat({ max: 80 }), { maxLength: 8 }), (events, cuts) => {
        const frags = toFragments(events);
        const state: Tables = new Map();
        applySplit(state, frags, cuts, mode, table);
        expect(observed(state)).toEqual(truth(frags, table, mode));
      }),
      runs,
    );
  });

  it("invariant 4: a replay from any earlier point after a crash converges to the same state (no applied change undone)", () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 25 }),
        fc.array(fc.nat({ max: 80 }), { maxLength: 6 }),
        fc.array(fc.nat({ max: 80 }), { maxLength: 6 }),
        fc.nat(),
        fc.nat(),
        (events, cuts1, cuts2, a, b) => {
          const frags = toFragments(events);
          const committed = frags.length === 0 ? 0 : a % (frags.length + 1);
          const resume = committed === 0 ? 0 : b % (committed + 1);
          const state: Tables = new Map();
          applySplit(state, frags.slice(0, committed), cuts1, mode, table);
          applySplit(state, frags.slice(resume), cuts2, mode, table);
          expect(observed(state)).toEqual(truth(frags, table, mode));
        },
      ),
      runs,
    );
  });

  it("invariant 4: replaying any prefix onto the final state changes nothing", () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat({ max: 80 }), { maxLength: 6 }),
        fc.nat(),
        (events, cuts, k) => {
          const frags = toFragments(events);
          const state: Tables = new Map();
          applySplit(state, frags, [], mode, table);
          const before = observed(state);
          applySplit(state, frags.slice(0, k % (frags.length + 1)), cuts, mode, table);
          expect(observed(state)).toEqual(before);
        },
      ),
      runs,
    );
  });

  it("invariant 3: a fragment changes only its family's columns", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 15 }), eventArb, (events, last) => {
        const frags = toFragments(events);
        const state: Tables = new Map();
        applySplit(state, frags, [], mode, table);
        const upsert: Event = { ...last, op: "upsert", step: 1_000_000_000, families: [last.families[0] as string] };
        const [f] = toFragments([...events, upsert]).slice(-1) as [Fragment];
        const k = keyString(f.key);
        const before = state.get(k)?.row ?? null;
        applyBatch(state, foldFragments([f], table.keyColumns), mode, table);
        const after = state.get(k)?.row as StoredRow;
        const familyCols = new Set(TEST_FAMILIES[f.family as string]);
        for (const c of ["a1", "a2", "b1", "c1"]) {
          if (familyCols.has(c)) expect(after[c]).toEqual(f.values.get(c));
          else if (before && (mode === "hard" || before._cdc_deleted_at === null)) expect(after[c]).toEqual(before[c]);
          else expect(after[c]).toBeNull();
        }
      }),
      runs,
    );
  });

  it("invariant 4: tombstones block resurrection by a replayed older upsert", () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 1, maxLength: 15 }),
        fc.nat(),
        fc.array(fc.nat({ max: 60 }), { maxLength: 4 }),
        (events, k, cuts) => {
          const key = events[0]?.key ?? 0;
          const withDelete: Event[] = [
            ...events,
            { key, op: "delete", families: ["fa", "fb", "fc"], values: {}, step: 1_000_000_000 },
          ];
          const frags = toFragments(withDelete);
          const state: Tables = new Map();
          applySplit(state, frags, cuts, mode, table);
          const ks = keyString(KEYS[key] as Cell[]);
          const deleted = observable(state.get(ks)?.row ?? null);
          const olderUpserts = frags.filter((f) => f.op === "upsert" && keyString(f.key) === ks);
          applySplit(state, olderUpserts.slice(0, k % (olderUpserts.length + 1)), cuts, mode, table);
          expect(observable(state.get(ks)?.row ?? null)).toEqual(deleted);
          if (mode === "hard") expect(deleted).toBeNull();
          else expect(deleted?.a1).toBeNull();
        },
      ),
      runs,
    );
  });

  it("fold: one image per key whatever the interleaving of keys", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 30 }), (events) => {
        const frags = toFragments(events);
        const images = foldFragments(frags, table.keyColumns);
        expect(new Set(images.map((i) => keyString(i.key))).size).toBe(images.length);
        expect(images.length).toBe(new Set(frags.map((f) => keyString(f.key))).size);
      }),
      runs,
    );
  });

  it("fold is exact under out-of-order arrival (same result as the sorted fold)", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 20 }), fc.nat(), (events, seed) => {
        const frags = toFragments(events);
        const shuffled = [...frags];
        let s = seed;
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) % 2147483648;
          const j = s % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as Fragment, shuffled[i] as Fragment];
        }
        const a = new Map<string, KeyState>();
        const b = new Map<string, KeyState>();
        applyBatch(a, foldFragments(frags, table.keyColumns), mode, table);
        applyBatch(b, foldFragments(shuffled, table.keyColumns), mode, table);
        expect(observed(b)).toEqual(observed(a));
      }),
      runs,
    );
  });
});
