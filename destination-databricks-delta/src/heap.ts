/**
 * V8 heap growth of the connector process. After each full GC, V8 lets the old generation grow to a
 * multiple of what survived before collecting again; the multiple grows with --max-old-space-size
 * (about 1.85 at the 1 664 MiB that the sizing rule 3 × memory_budget_bytes + 128 MiB gives for the
 * default 512 MiB budget, up to 4 from 2 GiB on), so the heap a user sizes for the budget fills with
 * garbage. A MERGE into a large table turns over row groups and batches all the time, so the peak
 * RSS of a long sync was that slack, not live data. Fixing the factor at 1.6 (V8's own range below
 * 2 GiB is 1.3 to 2) keeps it in check whatever the heap limit. Measured with
 * `npm run bench:destination -- --parts rss` (append_dedup, 100k and 1M changes, 512 MiB budget, 2
 * busy cores): peak RSS at 1M changes ~365–375 → ~330–345 MB, 1M/100k ratio 1.06–1.34 → 1.03–1.18
 * (the 100k run, a handful of full GCs, is the noisy one), records/s −4 to −5 %.
 */
import { setFlagsFromString } from "node:v8";

export const HEAP_GROWING_PERCENT = 60;

/**
 * Set V8's heap growing factor to 1 + HEAP_GROWING_PERCENT / 100, unless node was started with its
 * own `--heap-growing-percent` (which wins; NODE_OPTIONS cannot carry that flag). Returns whether
 * it set it. V8 reads the flag whenever it recomputes the heap limit, so setting it at start-up works.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
