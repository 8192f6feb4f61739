/**
 * Child process of the kill -9 tests: applies a deterministic workload to a local Delta backend and
 * SIGKILLs itself at the chosen point (the n-th data write / temp log file / link), or runs to the end.
 *   node --import tsx crash-writer.ts <path> <hard|soft> <none|midWrite|afterTempLog|afterLink> <n> <seed>
 */
import { localStoreHooks } from "../../destination-databricks-delta/src/delta/store/local.js";
import { testTable } from "../../destination-databricks-delta/src/plan/testing.js";
import type { DeleteMode } from "../../destination-databricks-delta/src/plan/types.js";
import { localBackend, mergeBatch, prep, randomFragments, splitBatches } from "./helpers.js";

const [path, mode, point, nText, seedText] = process.argv.slice(2);
const deleteMode = mode as DeleteMode;
let count = 0;
const killAt = Number(nText);
const hook = (file: string) => {
  if (++count === killAt) {
    process.stderr.write(`SIGKILL at ${point} #${count}: ${file}\n`);
    process.kill(process.pid, "SIGKILL");
  }
};
if (point === "midWrite") localStoreHooks.midWrite = hook;
if (point === "afterTempLog") localStoreHooks.afterTempLog = hook;
if (point === "afterLink") localStoreHooks.afterLink = hook;

const spec = testTable(deleteMode);
const backend = localBackend(path!, {
  target_file_rows: 16,
  checkpoint_interval: 3,
  compaction_min_small_files: 5,
  small_file_rows: 6,
});
const p = prep(spec, deleteMode);
await backend.prepareStream(p);
let i = 0;
for (const b of splitBatches(randomFragments(Number(seedText), 240, 25), Number(seedText), 40)) {
  await backend.apply(mergeBatch(spec, deleteMode, b, `b${i++}`));
}
await backend.finishStream(p);
process.stdout.write("done\n");
