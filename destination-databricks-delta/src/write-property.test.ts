/**
 * Invariants 2 and 4 end to end at the write-loop level: random multi-family workloads (deletes,
 * re-inserts, equal-HLC family splits) through writeMessages with random flush sizes, a crash after
 * any commit and a resume from the last echoed state → the memory backend's table equals the truth
 * model (plan/testing.ts `truth`, independent of fold/applyImage), and no state is echoed early.
 */
import { type AirbyteMessage, type InputLine, parseMessageLine, silentLogger } from "@cdc-delta/shared";
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DestinationConfig } from "./config.js";
import { keyString } from "./plan/apply-image.js";
import type { Fragment } from "./plan/fold.js";
import { MemoryBackend } from "./plan/memory-backend.js";
import { fragment, hlc, observable, truth } from "./plan/testing.js";
import { planStream } from "./plan/stream-plan.js";
import type { Cell, DeleteMode } from "./plan/types.js";
import { configuredStream, del, stateLine, upsert } from "./testing-protocol.js";
import { writeMessages } from "./write.js";

interface Ev {
  key: number;
  del: boolean;
  fams: string[];
  a1: string | null;
  a2: number | null;
  b1: string | null;
  c1: number | null;
  state: boolean;
}

const evArb: fc.Arbitrary<Ev> = fc.record({
  key: fc.nat({ max: 4 }),
  del: fc.constantFrom(false, false, false, true),
  fams: fc.subarray(["fa", "fb", "fc"], { minLength: 1 }),
  a1: fc.option(fc.constantFrom("x", "y", "zoë"), { nil: null }),
  a2: fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: null }),
  b1: fc.option(fc.constantFrom("p", "q"), { nil: null }),
  c1: fc.option(fc.integer({ min: 0, max: 99999 }), { nil: null }),
  state: fc.boolean(),
});

function build(events: Ev[]) {
  const lines: string[] = [];
  const frags: Fragment[] = [];
  let wall = 1_767_225_600_000_000_000n;
  let count = 0;
  let pos = 0;
  for (const e of events) {
    wall += 1000n;
    const h = `${wall}.0000000000`;
    const key: [string, number] = ["eu", e.key];
    const fkey: [string, bigint] = ["eu", BigInt(e.key)];
    for (const fam of e.fams) {
      if (e.del) {
        lines.push(del("items", key, { hlc: h, family: fam }));
        frags.push(fragment(fkey, "delete", hlc(wall), fam));
      } else {
        const raw: Record<string, unknown> =
          fam === "fa" ? { a1: e.a1, a2: e.a2 } : fam === "fb" ? { b1: e.b1 } : { c1: e.c1 === null ? null : e.c1 / 100 };
        const cells: Record<string, Cell> =
          fam === "fa"
            ? { a1: e.a1, a2: e.a2 === null ? null : BigInt(e.a2) }
            : fam === "fb"
              ? { b1: e.b1 }
              : { c1: e.c1 === null ? null : BigInt(e.c1) };
        lines.push(upsert("items", key, raw, { hlc: h, family: fam }));
        frags.push(fragment(fkey, "upsert", hlc(wall), fam, cells));
      }
      count++;
    }
    if (e.state) {
      lines.push(stateLine("items", ++pos, count));
      count = 0;
    }
  }
  lines.push(stateLine("items", ++pos, count));
  return { lines, frags };
}

async function* feed(lines: string[]): AsyncGenerator<InputLine> {
  let n = 0;
  for (const l of lines) {
    n++;
    yield { lineNo: n, message: parseMessageLine(l, n), size: l.length };
  }
}

async function sync(backend: MemoryBackend, lines: string[], mode: DeleteMode, flushRecords: number): Promise<AirbyteMessage[]> {
  const out: AirbyteMessage[] = [];
  const config = DestinationConfig.parse({
    target: { type: "local", path: "/x" },
    delete_mode: mode,
    flush_records: flushRecords,
  });
  for await (const m of writeMessages({ streams: [configuredStream("items")] }, feed(lines), {
    backend,
    config,
    logger: silentLogger(),
    signal: new AbortController().signal,
  })) {
    out.push(m);
  }
  return out;
}

describe.each<DeleteMode>(["hard", "soft"])("write loop vs truth model (%s deletes)", (mode) => {
  const table = planStream(configuredStream("items"), { deleteMode: mode, tombstoneRetentionDays: 7 }).table;
  it("invariants 2+4: crash after any commit, resume from the last echoed state → truth", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(evArb, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 7 }),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        async (events, flush1, crashAt, flush2) => {
          const { lines, frags } = build(events);
          const backend = new MemoryBackend({
            beforeApply: (_b, n) => {
              if (n > (crashAt % 6) + 1) throw new Error("simulated crash");
            },
          });
          const first = await sync(backend, lines, mode, flush1).catch(() => null);
          // Resume after the last echoed state (or from the start): the backend keeps its tables.
          const stateLines = lines.map((l, i) => (l.includes('"STATE"') ? i : -1)).filter((i) => i >= 0);
          const echoed = first === null ? [] : first.filter((m) => m.type === "STATE");
          const lastEchoed = echoed.length === 0 ? -1 : (stateLines[echoed.length - 1] as number);
          const recovered = new MemoryBackend({}, backend.tables);
          const second = await sync(recovered, lines.slice(lastEchoed + 1), mode, flush2);
          expect(second.filter((m) => m.type === "STATE").length).toBe(stateLines.filter((i) => i > lastEchoed).length);
          const expected = truth(frags, table, mode);
          const actual = new Map<string, Record<string, Cell>>();
          for (const row of recovered.rowsOf(table.ref))
            actual.set(keyString([row.region ?? null, row.id ?? null]), observable(row) as Record<string, Cell>);
          const strip = (m: Map<string, Record<string, Cell>>) =>
            new Map(
              [...m].map(([k, r]) => [
                k,
                Object.fromEntries(Object.entries(r).filter(([c]) => c !== "_cdc_deleted_at" || mode === "soft")),
              ]),
            );
          expect(strip(actual)).toEqual(strip(expected));
        },
      ),
      { numRuns: 150 },
    );
  });
});
