/**
 * Embedded Delta Lake writer (destination-delta.md §5).
 *   log/     actions, schema, protocol checks, log replay + checkpoint read/write, THE atomic commit (commit.ts)
 *   store/   object stores: local (link() put-if-absent) and Azure (If-None-Match: *)
 *   parquet/ data file write (hyparquet-writer) and lossless read (hyparquet + overrides)
 *   table/   one table: snapshot, schema evolution, data files, stats, pruning, companion-table layout
 *   ops/     MERGE (copy-on-write via applyImage), history append, overwrite swap, compaction
 *   backend.ts  createDeltaBackend: the DestinationBackend wiring
 */
export { createDeltaBackend, DeltaBackend, type DeltaTargetConfig } from "./backend.js";
export { DeltaTable } from "./table/delta-table.js";
export { LocalStore } from "./store/local.js";
export { AzureStore } from "./store/azure.js";
export { optimize } from "./ops/compact.js";
