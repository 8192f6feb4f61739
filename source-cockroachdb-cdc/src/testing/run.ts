/** Test helper: run the source in-process and collect its messages. */
import { type AirbyteMessage, type ConfiguredAirbyteCatalog, silentLogger } from "@cdc-delta/shared";
import { discover } from "../catalog/discover.js";
import { SourceConfig } from "../config.js";
import { read } from "../read.js";

export function configFor(dir: string, extra: Record<string, unknown> = {}): SourceConfig {
  return SourceConfig.parse({ storage: { type: "local", path: dir }, ...extra });
}

export async function catalogFor(
  config: SourceConfig,
  mode: "incremental" | "full_refresh" = "incremental",
): Promise<ConfiguredAirbyteCatalog> {
  const cat = await discover(config, silentLogger());
  return {
    streams: cat.streams.map((stream) => ({ stream, sync_mode: mode, destination_sync_mode: "append" })),
  } as ConfiguredAirbyteCatalog;
}

export async function runRead(
  config: SourceConfig,
  catalog: ConfiguredAirbyteCatalog,
  state?: unknown,
  stopAfterStates?: number,
): Promise<AirbyteMessage[]> {
  const out: AirbyteMessage[] = [];
  let states = 0;
  for await (const m of read(config, catalog, state, { logger: silentLogger(), signal: new AbortController().signal })) {
    out.push(m);
    if (m.type === "STATE" && stopAfterStates !== undefined && ++states >= stopAfterStates) break;
  }
  return out;
}

export const records = (ms: AirbyteMessage[]) =>
  ms.filter((m) => m.type === "RECORD").map((m) => m.record?.data as Record<string, unknown>);
export const states = (ms: AirbyteMessage[]) => ms.filter((m) => m.type === "STATE");

/** The `--state` array a platform would pass after these messages: last STATE per stream. */
export function lastStates(ms: AirbyteMessage[]): unknown[] {
  const by = new Map<string, unknown>();
  for (const m of ms)
    if (m.type === "STATE") by.set(m.state?.stream?.stream_descriptor.name as string, JSON.parse(JSON.stringify(m.state)));
  return [...by.values()];
}
