#!/usr/bin/env node
// The next `--state` of `source read`: the last STATE per stream that the destination echoed, as a
// JSON array. Reads the destination's output (JSON lines; other lines are ignored) from the files
// given, or stdin.  Usage: node scripts/last-state.mjs output.jsonl > state.json
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

const inputs = process.argv.slice(2);
const last = new Map();
for (const input of inputs.length ? inputs : ["-"]) {
  const lines = createInterface({ input: input === "-" ? process.stdin : createReadStream(input), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.startsWith("{")) continue;
    let m;
    try {
      m = JSON.parse(line);
    } catch {
      continue;
    }
    if (m.type !== "STATE" || m.state?.type !== "STREAM") continue;
    const d = m.state.stream?.stream_descriptor ?? {};
    last.set(JSON.stringify([d.namespace ?? null, d.name]), m.state);
  }
}
process.stdout.write(`${JSON.stringify([...last.values()], null, 2)}\n`);
