import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { generateChangefeed } from "./generate.js";
import { type RefManifestTable, type RefState, replay } from "./testing/reference-reader.js";
import { type TruthState, loadManifest, readTruth } from "./truth.js";

const tmp = mkdtempSync(join(tmpdir(), "emu-prop-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function compareStates(truth: TruthState, ref: RefState, where: string): void {
  for (const [table, rows] of truth) {
    const refRows = ref.get(table) ?? new Map();
    const truthKeys = [...rows.keys()].sort();
    const refKeys = [...refRows.keys()].sort();
    expect(refKeys, `${where} ${table}: key sets`).toEqual(truthKeys);
    for (const [k, tr] of rows) {
      const rr = refRows.get(k);
      expect(rr?.op, `${where} ${table} ${k}: op`).toBe(tr.op);
      expect(rr?.updated, `${where} ${table} ${k}: updated`).toBe(tr.updated);
      if (tr.op === "upsert") {
        const want = tr.row as Record<string, unknown>;
        const got = rr?.row ?? {};
        for (const c of Object.keys(got)) expect(Object.keys(want), `${where} ${table} ${k}: extra column ${c}`).toContain(c);
        for (const [c, v] of Object.entries(want)) expect(got[c] ?? null, `${where} ${table} ${k}.${c}`).toEqual(v);
      }
    }
  }
}

async function checkRun(opts: Parameters<typeof generateChangefeed>[0]): Promise<{ windows: number; late: number }> {
  const summary = await generateChangefeed(opts);
  const truthDir = summary.truthDir as string;
  const m = await loadManifest(truthDir);
  const ref = await replay(opts.out, m.tables as unknown as RefManifestTable[], opts.families === true);
  expect(ref.windows.map((w) => w.resolved)).toEqual(m.windows.map((w) => w.resolved));
  let i = 0;
  for await (const { window, state } of readTruth(truthDir)) {
    compareStates(state, (ref.windows[i] as { state: RefState }).state, `R#${window.seq} ${window.resolved}`);
    i++;
  }
  expect(i).toBe(m.windows.length);
  return { windows: i, late: ref.lateReemissions };
}

describe("emulator output replayed by an independent naive reader reproduces the truth at every RESOLVED", () => {
  it("a fixed run with every feature on", async () => {
    const r = await checkRun({
      out: join(tmp, "fixed"),
      tables: 5,
      changes: 1500,
      seed: 11,
      families: true,
      diff: true,
      mvccTimestamp: true,
      topicInValue: true,
      restartRate: 0.2,
      duplicateRate: 0.05,
    });
    expect(r.windows).toBeGreaterThan(10);
    expect(r.late).toBeGreaterThan(0);
  });

  it("random seeds and switches", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          tables: fc.integer({ min: 1, max: 6 }),
          changes: fc.integer({ min: 0, max: 400 }),
          families: fc.boolean(),
          nullFamily: fc.constantFrom("delete" as const, "upsert" as const),
          deleteEmptyFamilies: fc.constantFrom("emit" as const, "omit" as const),
          diff: fc.boolean(),
          partition: fc.constantFrom("daily" as const, "hourly" as const, "flat" as const),
          compression: fc.constantFrom("none" as const, "gzip" as const, "zstd" as const),
          lookaheadRate: fc.double({ min: 0, max: 1, noNaN: true }),
          restartRate: fc.double({ min: 0, max: 0.5, noNaN: true }),
          duplicateRate: fc.double({ min: 0, max: 0.2, noNaN: true }),
          flushRows: fc.integer({ min: 1, max: 300 }),
          fileRows: fc.integer({ min: 1, max: 100 }),
          nodes: fc.integer({ min: 1, max: 9 }),
          resolvedMs: fc.integer({ min: 20, max: 3000 }),
        }),
        async (o) => {
          await checkRun({ out: join(tmp, `run${run++}`), ...o });
        },
      ),
      { numRuns: 16, seed: 424242 },
    );
  });
});
