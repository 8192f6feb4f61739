import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { systemError } from "../errors/connector-error.js";
import { isJsonObject, isLosslessNumber, parseJsonLossless } from "../json/lossless.js";
import { AirbyteMessage } from "../protocol/schemas.js";

export interface InputLine {
  lineNo: number;
  message: AirbyteMessage;
  /** Length of the raw line in bytes (approximate: UTF-16 units), for memory accounting. */
  size: number;
}

export interface ReaderStats {
  lines: number;
  noiseLines: number;
}

/**
 * Protocol messages from a line stream (the destination's stdin). Lines not starting with `{` are
 * wrapper noise: skipped and counted. A `{` line that does not parse, or violates the protocol
 * schema, ends the sync with an error naming the line. Numbers are parsed losslessly.
 * Pull-based: nothing more is read while the consumer is busy, so stdin backpressures the source.
 */
export async function* readMessages(
  input: Readable,
  stats: ReaderStats = { lines: 0, noiseLines: 0 },
): AsyncGenerator<InputLine> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    stats.lines = lineNo;
    const line = raw.trim();
    if (line.length === 0) continue;
    if (line[0] !== "{") {
      stats.noiseLines++;
      continue;
    }
    yield { lineNo, message: parseMessageLine(line, lineNo), size: raw.length };
  }
}

export function parseMessageLine(line: string, lineNo: number): AirbyteMessage {
  let value: unknown;
  try {
    value = parseJsonLossless(line);
  } catch (e) {
    throw systemError(`input line ${lineNo} is not valid JSON: ${(e as Error).message}`, { internal: line.slice(0, 200) });
  }
  const result = AirbyteMessage.safeParse(protocolView(value));
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "message";
    throw systemError(`input line ${lineNo} violates the Airbyte protocol at ${where}: ${issue?.message}`, {
      internal: line.slice(0, 200),
    });
  }
  // Keep the lossless values (bigint, LosslessNumber) that zod passed through untouched.
  return value as AirbyteMessage;
}

/**
 * What the schema validates: numbers outside `record.data` become plain numbers (other writers send
 * `recordCount: 250.0` or float `emitted_at`); `record.data` is checked to be an object and kept as is.
 */
function protocolView(value: unknown, path = ""): unknown {
  if (typeof value === "bigint") return Number(value);
  if (isLosslessNumber(value)) return Number(value.value);
  if (Array.isArray(value)) return value.map((v) => protocolView(v, path));
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const p = path ? `${path}.${k}` : k;
    if (v === null && p !== "record.data") continue; // null optionals = absent (PyAirbyte sends `"log": null`, …)
    out[k] = p === "record.data" && isJsonObject(v) ? v : protocolView(v, p);
  }
  return out;
}
