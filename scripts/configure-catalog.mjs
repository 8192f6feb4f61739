#!/usr/bin/env node
// Turn the CATALOG printed by `source discover` (stdin) into a configured catalog (stdout):
// every stream selected, incremental + append_dedup by default, primary key and cursor from the source.
// Usage: node source-cockroachdb-cdc/dist/main.js discover --config s.json \
//          | node scripts/configure-catalog.mjs [--sync-mode incremental|full_refresh] \
//              [--destination-sync-mode append_dedup|append|overwrite] [--streams a,b] > catalog.json
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    "sync-mode": { type: "string", default: "incremental" },
    "destination-sync-mode": { type: "string", default: "append_dedup" },
    streams: { type: "string" },
  },
});
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const catalogLine = Buffer.concat(chunks)
  .toString("utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line.startsWith("{"))
  .map((line) => JSON.parse(line))
  .find((message) => message.type === "CATALOG");
if (!catalogLine) {
  console.error("configure-catalog: no CATALOG message on stdin (did discover fail? see its TRACE line)");
  process.exit(1);
}
const wanted = values.streams ? new Set(values.streams.split(",")) : undefined;
const streams = catalogLine.catalog.streams
  .filter((stream) => !wanted || wanted.has(stream.name))
  .map((stream) => ({
    stream,
    sync_mode: values["sync-mode"],
    destination_sync_mode: values["destination-sync-mode"],
    cursor_field: stream.default_cursor_field ?? [],
    primary_key: stream.source_defined_primary_key ?? [],
  }));
process.stdout.write(`${JSON.stringify({ streams }, null, 2)}\n`);
