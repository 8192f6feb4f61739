/**
 * Test helpers for the write loop: catalogs, protocol lines, and a runner around `runCommand` that
 * captures stdout and validates every printed line against the official protocol schema (ajv).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { type AirbyteMessage, type ConfiguredAirbyteCatalog, parseJsonLossless, runCommand } from "@cdc-delta/shared";
import { officialValidators } from "@cdc-delta/shared/testing";
import { makeDestinationDefinition } from "./definition.js";
import type { DestinationBackend } from "./plan/types.js";

type Prop = Record<string, unknown>;
const ann = (type: string, family: string | null, prop: Prop): Prop => ({ ...prop, "x-cockroachdb": { type, family } });

/** The `orders` stream of the tests: families fa(a1,a2), fb(b1), fc(c1); key (region, id). */
export function ordersSchema(families = true): Prop {
  const f = (name: string) => (families ? name : null);
  return {
    type: "object",
    properties: {
      region: ann("STRING", f("primary"), { type: "string" }),
      id: ann("INT8", f("primary"), { type: "integer" }),
      a1: ann("STRING", f("fa"), { type: ["null", "string"] }),
      a2: ann("INT8", f("fa"), { type: ["null", "integer"] }),
      b1: ann("STRING", f("fb"), { type: ["null", "string"] }),
      c1: ann("DECIMAL(10,2)", f("fc"), { type: ["null", "number"] }),
      _cdc_op: ann("STRING", null, { type: "string" }),
      _cdc_updated: ann("STRING", null, { type: "string" }),
      _cdc_family: ann("STRING", null, { type: ["null", "string"] }),
    },
  };
}

export function configuredStream(
  name: string,
  opts: {
    namespace?: string;
    mode?: string;
    syncMode?: string;
    schema?: Prop;
    pk?: string[][];
    gen?: number;
    minGen?: number;
  } = {},
): ConfiguredAirbyteCatalog["streams"][number] {
  const stream: Prop = {
    name,
    json_schema: opts.schema ?? ordersSchema(),
    supported_sync_modes: ["full_refresh", "incremental"],
    source_defined_cursor: true,
    source_defined_primary_key: opts.pk ?? [["region"], ["id"]],
  };
  if (opts.namespace) stream.namespace = opts.namespace;
  const cs: Prop = { stream, sync_mode: opts.syncMode ?? "incremental", destination_sync_mode: opts.mode ?? "append_dedup" };
  if (opts.gen !== undefined) cs.generation_id = opts.gen;
  if (opts.minGen !== undefined) cs.minimum_generation_id = opts.minGen;
  return cs as never;
}

export function catalogOf(...streams: ConfiguredAirbyteCatalog["streams"]): ConfiguredAirbyteCatalog {
  return { streams };
}

let wall = 1_767_225_600_000_000_000n;
/** A fresh, strictly increasing HLC text. */
export function nextHlc(): string {
  wall += 1_000_000n;
  return `${wall}.0000000000`;
}

export function recordLine(stream: string, data: Record<string, unknown>, namespace?: string): string {
  const record: Prop = { stream, emitted_at: 1_767_225_600_123, data };
  if (namespace) record.namespace = namespace;
  return JSON.stringify({ type: "RECORD", record });
}

export function upsert(
  stream: string,
  key: [string, number],
  values: Record<string, unknown>,
  opts: { hlc?: string; family?: string | null; namespace?: string } = {},
): string {
  return recordLine(
    stream,
    {
      region: key[0],
      id: key[1],
      ...values,
      _cdc_op: "upsert",
      _cdc_updated: opts.hlc ?? nextHlc(),
      _cdc_family: opts.family === undefined ? "fa" : opts.family,
    },
    opts.namespace,
  );
}

export function del(
  stream: string,
  key: [string, number],
  opts: { hlc?: string; family?: string | null; namespace?: string } = {},
): string {
  return recordLine(
    stream,
    {
      region: key[0],
      id: key[1],
      _cdc_op: "delete",
      _cdc_updated: opts.hlc ?? nextHlc(),
      _cdc_family: opts.family === undefined ? "fa" : opts.family,
    },
    opts.namespace,
  );
}

export function stateLine(stream: string, position: number, recordCount?: number, namespace?: string): string {
  const descriptor: Prop = { name: stream };
  if (namespace) descriptor.namespace = namespace;
  const state: Prop = { type: "STREAM", stream: { stream_descriptor: descriptor, stream_state: { v: 1, position } } };
  if (recordCount !== undefined) state.sourceStats = { recordCount };
  return JSON.stringify({ type: "STATE", state });
}

export interface WriteRun {
  code: number;
  lines: string[];
  messages: AirbyteMessage[];
  echoed: AirbyteMessage[];
  logs: string[];
  errors: AirbyteMessage[];
  invalid: string[];
}

/** Runs `write` through the CLI runner with the given backend; every stdout line is ajv-validated. */
export async function runWrite(
  backend: DestinationBackend,
  catalog: ConfiguredAirbyteCatalog,
  input: string[] | Readable,
  config: Record<string, unknown> = {},
  signal: AbortSignal = new AbortController().signal,
): Promise<WriteRun> {
  const dir = mkdtempSync(join(tmpdir(), "dst-write-"));
  const configPath = join(dir, "config.json");
  const catalogPath = join(dir, "catalog.json");
  writeFileSync(configPath, JSON.stringify({ target: { type: "local", path: join(dir, "tables") }, ...config }));
  writeFileSync(catalogPath, JSON.stringify(catalog));
  const chunks: string[] = [];
  const stdout = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const stdin = Array.isArray(input) ? Readable.from([`${input.join("\n")}\n`]) : input;
  const def = makeDestinationDefinition(async () => backend);
  const code = await runCommand(
    def,
    ["write", "--config", configPath, "--catalog", catalogPath],
    { stdin, stdout, stderr: new PassThrough() },
    signal,
  );
  const lines = chunks
    .join("")
    .split("\n")
    .filter((l) => l.length > 0);
  const validate = officialValidators().message;
  const invalid: string[] = [];
  for (const l of lines) if (!validate(JSON.parse(l))) invalid.push(`${l}: ${JSON.stringify(validate.errors)}`);
  const messages = lines.map((l) => parseJsonLossless(l) as unknown as AirbyteMessage);
  return {
    code,
    lines,
    messages,
    echoed: messages.filter((m) => m.type === "STATE"),
    logs: messages.filter((m) => m.type === "LOG").map((m) => m.log?.message ?? ""),
    errors: messages.filter((m) => m.type === "TRACE" && m.trace?.type === "ERROR"),
    invalid,
  };
}
