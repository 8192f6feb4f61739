/**
 * The workload emulator (integration_tests/emulator, docs/emulator.md) as the tests use it: run its
 * CLI into a folder, read its truth manifest, and reveal a feed window by window ("the bucket as it
 * was when R.RESOLVED appeared") by copying objects whose basename sorts at or before R.RESOLVED.
 */
import { copyFile, mkdir, readdir, rm } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { type EmulatorOptions, type Manifest, type Summary, generateChangefeed, loadManifest } from "../../emulator/index.js";

export type EmulateOptions = Partial<EmulatorOptions> & { out: string };

/** Generate a feed and its truth in-process (the emulator's own API; `npm run emulate` is the same). */
export async function emulate(o: EmulateOptions): Promise<{ manifest: Manifest; truth: string; summary: Summary; ms: number }> {
  const truth = typeof o.truth === "string" ? o.truth : `${o.out.replace(/\/+$/, "")}-truth`;
  await rm(o.out, { recursive: true, force: true });
  await rm(truth, { recursive: true, force: true });
  const t0 = Date.now();
  const summary = await generateChangefeed({ ...o, truth });
  return { manifest: await loadManifest(truth), truth, summary, ms: Date.now() - t0 };
}

async function walk(dir: string, root = dir, out: string[] = []): Promise<string[]> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, root, out);
    else out.push(relative(root, p));
  }
  return out;
}

/** Object keys (relative, `/`-separated) of a local feed, sorted by basename then key. */
export async function listFeed(dir: string): Promise<string[]> {
  const keys = (await walk(dir)).map((k) => k.split("\\").join("/"));
  return keys.sort((a, b) => (basename(a) < basename(b) ? -1 : basename(a) > basename(b) ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Copy into `to` every object of `from` whose basename sorts at or before `basename(resolvedKey)`
 * (all when null) and is not yet there. Returns the number copied. By the changefeed contract
 * (changefeed-files.md §3) this is exactly the bucket's content when that RESOLVED file was written.
 */
export async function revealUpTo(from: string, to: string, resolvedKey: string | null, already: Set<string>): Promise<number> {
  const limit = resolvedKey ? basename(resolvedKey) : null;
  let n = 0;
  for (const k of await listFeed(from)) {
    if (already.has(k)) continue;
    if (limit !== null && basename(k) > limit) continue;
    await mkdir(dirname(join(to, k)), { recursive: true });
    await copyFile(join(from, k), join(to, k));
    already.add(k);
    n++;
  }
  return n;
}
