/**
 * Golden outputs: small emulator runs committed under integration_tests/golden/<case>/ (feed tree and
 * truth files) and compared byte for byte, names included. Reviewed line by line against
 * changefeed-files.md; see integration_tests/golden/README.md. Regenerate deliberately with
 * `UPDATE_GOLDEN=1 npx vitest run integration_tests/emulator/golden.test.ts` and review the diff.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { type EmulatorOptions, generateChangefeed } from "./generate.js";
import { type RefManifestTable, replay } from "./testing/reference-reader.js";
import { loadManifest, readTruth } from "./truth.js";

const GOLDEN = join(import.meta.dirname, "..", "golden");
const tmp = mkdtempSync(join(tmpdir(), "emu-golden-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Starts 0.4 s before midnight UTC: every case crosses into the next day (partition folders).
const small = {
  startWall: BigInt(Date.UTC(2025, 2, 14, 23, 59, 59, 600)) * 1_000_000n,
  keyspace: 5,
  initialRows: 2,
  resolvedMs: 400,
  gapMs: 60,
  flushRows: 10,
  fileRows: 5,
  nodes: 2,
};

export const GOLDEN_CASES: Record<string, Partial<EmulatorOptions>> = {
  "json-single-family-daily": { tables: 2, changes: 14, seed: 3, ...small },
  "json-families-diff-mvcc-topic": {
    tables: 3,
    changes: 16,
    seed: 5,
    families: true,
    diff: true,
    mvccTimestamp: true,
    topicInValue: true,
    ...small,
    nodes: 1,
  },
  "json-families-upsert-emit-hourly-gzip": {
    tables: 4,
    changes: 16,
    seed: 8,
    families: true,
    nullFamily: "upsert",
    deleteEmptyFamilies: "emit",
    partition: "hourly",
    compression: "gzip",
    ...small,
  },
  "json-flat-restart-dup": {
    tables: 2,
    changes: 14,
    seed: 13,
    partition: "flat",
    restartRate: 0.5,
    duplicateRate: 0.2,
    ...small,
  },
  "json-bare-negative": { tables: 1, changes: 4, seed: 2, envelope: "bare", schemaChanges: false, ...small },
};

function walk(dir: string, root = dir, out: string[] = []): string[] {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, root, out);
    else out.push(relative(root, p));
  }
  return out;
}

/** Comparable bytes: gzip decompressed (header bytes depend on the zlib build), manifest paths normalised. */
function content(path: string, caseDir: string): string {
  let b: Buffer = readFileSync(path);
  if (path.endsWith(".gz")) b = gunzipSync(b);
  let s = b.toString("utf8");
  if (path.endsWith("manifest.json")) s = s.split(caseDir).join("<case>");
  return s;
}

describe("golden changefeed trees (byte for byte)", () => {
  for (const [name, opts] of Object.entries(GOLDEN_CASES)) {
    it(name, async () => {
      const out = join(tmp, name, "feed");
      const truth = join(tmp, name, "truth");
      await generateChangefeed({ truthSnapshots: "final", ...opts, out, truth });
      const dir = join(GOLDEN, name);
      if (process.env.UPDATE_GOLDEN) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        cpSync(join(tmp, name), dir, { recursive: true });
        for (const f of walk(dir))
          if (f.endsWith("manifest.json")) writeFileSync(join(dir, f), content(join(dir, f), join(tmp, name)));
        writeFileSync(
          join(dir, "options.json"),
          `${JSON.stringify(opts, (_k, v) => (typeof v === "bigint" ? String(v) : v), 1)}\n`,
        );
      }
      const want = walk(dir).filter((f) => f !== "options.json");
      const got = walk(join(tmp, name));
      expect(got).toEqual(want);
      for (const f of want) expect(content(join(tmp, name, f), join(tmp, name)), f).toBe(content(join(dir, f), join(tmp, name)));
      if (opts.envelope === "bare") return;
      // The committed feed, replayed by the naive reference reader, gives the committed truth.
      const m = await loadManifest(join(dir, "truth"));
      const ref = await replay(join(dir, "feed"), m.tables as unknown as RefManifestTable[], opts.families === true);
      let i = 0;
      for await (const { window, state } of readTruth(join(dir, "truth"))) {
        const rs = ref.windows[i++]?.state;
        expect(rs && [...rs.keys()]).toEqual([...state.keys()]);
        for (const [t, rows] of state) {
          for (const [k, r] of rows) {
            const g = rs?.get(t)?.get(k);
            expect(g?.op, `${window.resolved} ${t} ${k}`).toBe(r.op);
            expect(g?.updated).toBe(r.updated);
            for (const [c, v] of Object.entries(r.row ?? {})) expect(g?.row?.[c] ?? null, `${t} ${k}.${c}`).toEqual(v);
          }
          expect(rs?.get(t)?.size).toBe(rows.size);
        }
      }
      expect(i).toBe(ref.windows.length);
    });
  }
});
