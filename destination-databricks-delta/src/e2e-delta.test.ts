/**
 * End to end: protocol lines → runCommand → the embedded Delta backend (src/delta), compared with the
 * memory oracle backend fed the same lines. Several syncs per case, the second replaying a prefix of
 * the first (crash after commit, before echo), with deletes, re-inserts and equal-HLC family splits.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@cdc-delta/shared";
import { describe, expect, it } from "vitest";
import { defaultBackendFactory } from "./definition.js";
import { keyString } from "./plan/apply-image.js";
import { MemoryBackend } from "./plan/memory-backend.js";
import { observable } from "./plan/testing.js";
import type { StoredRow } from "./plan/types.js";
import { catalogOf, configuredStream, del, runWrite, stateLine, upsert } from "./testing-protocol.js";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function workload(seed: number, n: number): string[] {
  const r = rng(seed);
  const lines: string[] = [];
  let wall = 1_767_225_600_000_000_000n;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    wall += BigInt(1 + Math.floor(r() * 3)) * 1000n;
    const hlc = `${wall}.0000000000`;
    const key: [string, number] = [r() < 0.5 ? "eu" : "us", Math.floor(r() * 12)];
    if (r() < 0.15) {
      for (const fam of ["fa", "fb", "fc"]) lines.push(del("items", key, { hlc, family: fam }));
    } else {
      if (r() < 0.7)
        lines.push(upsert("items", key, { a1: r() < 0.2 ? null : `s${i}`, a2: Math.floor(r() * 1e6) }, { hlc, family: "fa" }));
      if (r() < 0.5) lines.push(upsert("items", key, { b1: `b${i}` }, { hlc, family: "fb" }));
      if (r() < 0.4)
        lines.push(upsert("items", key, { c1: `${Math.floor(r() * 1e6)}.${Math.floor(r() * 90) + 10}` }, { hlc, family: "fc" }));
    }
    if (r() < 0.1) {
      lines.push("__STATE__");
    }
  }
  // Fill in STATE lines with exact counts.
  const out: string[] = [];
  let count = 0;
  for (const l of lines) {
    if (l === "__STATE__") {
      out.push(stateLine("items", ++pos, count));
      count = 0;
    } else {
      out.push(l);
      count++;
    }
  }
  out.push(stateLine("items", ++pos, count));
  return out;
}

/** Rows of a Delta table read back with the embedded writer's own reader. */
async function readDelta(dir: string, rel: string): Promise<StoredRow[]> {
  const { DeltaTable, LocalStore } = (await import("./delta/index.js")) as typeof import("./delta/index.js");
  const table = new DeltaTable(new LocalStore(join(dir, rel)), rel);
  const snap = await table.snapshot();
  if (!snap) return [];
  const names = snap.fields.map((f) => f.name);
  const rows: StoredRow[] = [];
  for (const add of snap.files.values()) rows.push(...(await table.readDataFile(add, names)));
  return rows;
}

const sortRows = (rows: StoredRow[]) =>
  rows
    .map((r) => ({ k: keyString([r.region ?? null, r.id ?? null]), o: observable(r) }))
    .sort((a, b) => (a.k < b.k ? -1 : 1))
    .map((x) => x.o);

describe("end to end with the embedded Delta backend (oracle: memory backend)", () => {
  for (const [seed, mode] of [
    [1, "hard"],
    [2, "soft"],
    [3, "hard"],
  ] as const) {
    it(`seed ${seed}, ${mode} deletes: two syncs with a replayed prefix → same rows as the oracle`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "dst-e2e-"));
      const lines = workload(seed, 150);
      const stateIdx = lines.map((l, i) => (l.includes('"STATE"') ? i : -1)).filter((i) => i >= 0);
      const resumeAfter = stateIdx[Math.floor(stateIdx.length / 3)] ?? 0;
      const sync1 = lines;
      const sync2 = lines.slice(resumeAfter + 1);
      const config = { target: { type: "local", path: dir }, delete_mode: mode, flush_records: 37 };
      const memory = new MemoryBackend();
      for (const input of [sync1, sync2]) {
        const delta = await defaultBackendFactory({ type: "local", path: dir }, silentLogger());
        const runD = await runWrite(delta, catalogOf(configuredStream("items")), input, config);
        expect(runD.errors.map((e) => e.trace?.error?.message)).toEqual([]);
        expect(runD.invalid).toEqual([]);
        expect(runD.code).toBe(0);
        const runM = await runWrite(memory, catalogOf(configuredStream("items")), input, config);
        expect(runM.code).toBe(0);
        expect(runD.echoed.length).toBe(runM.echoed.length);
      }
      const expected = sortRows(memory.rowsOf({ namespace: null, name: "items" }));
      const actual = sortRows(await readDelta(dir, "default/items"));
      expect(actual).toEqual(expected);
      expect(expected.length).toBeGreaterThan(0);
    });
  }
});
