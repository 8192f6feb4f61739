import { describe, expect, it } from "vitest";
import { z } from "zod";
import { loadOfficialYaml, officialValidators } from "../testing/official-schema.js";
import { ConnectorError } from "../errors/connector-error.js";
import * as messages from "./messages.js";
import * as S from "./schemas.js";

type Node = Record<string, unknown>;

/** Our zod schema for each official definition. */
const MAPPED: Record<string, z.ZodType> = {
  AirbyteMessage: S.AirbyteMessage,
  AirbyteRecordMessage: S.AirbyteRecordMessage,
  AirbyteRecordMessageMeta: S.AirbyteRecordMessageMeta,
  AirbyteRecordMessageMetaChange: S.AirbyteRecordMessageMetaChange,
  AirbyteStateMessage: S.AirbyteStateMessage,
  AirbyteStreamState: S.AirbyteStreamState,
  AirbyteGlobalState: S.AirbyteGlobalState,
  StreamDescriptor: S.StreamDescriptor,
  AirbyteStateStats: S.AirbyteStateStats,
  AirbyteLogMessage: S.AirbyteLogMessage,
  AirbyteTraceMessage: S.AirbyteTraceMessage,
  AirbyteErrorTraceMessage: S.AirbyteErrorTraceMessage,
  AirbyteEstimateTraceMessage: S.AirbyteEstimateTraceMessage,
  AirbyteStreamStatusTraceMessage: S.AirbyteStreamStatusTraceMessage,
  AirbyteAnalyticsTraceMessage: S.AirbyteAnalyticsTraceMessage,
  AirbyteConnectionStatus: S.AirbyteConnectionStatus,
  AirbyteCatalog: S.AirbyteCatalog,
  AirbyteStream: S.AirbyteStream,
  ConfiguredAirbyteCatalog: S.ConfiguredAirbyteCatalog,
  ConfiguredAirbyteStream: S.ConfiguredAirbyteStream,
  ConnectorSpecification: S.ConnectorSpecification,
};

/** Official fields we deliberately do not model (never read or written by these connectors). */
const UNMODELLED = new Set([
  "AirbyteRecordMessage.file_reference",
  "ConnectorSpecification.authSpecification",
  "ConnectorSpecification.advanced_auth",
]);

const official = loadOfficialYaml();
const defs = official.definitions as Record<string, Node>;

function resolveRef(node: Node): Node {
  if (typeof node.$ref === "string") {
    const name = node.$ref.split("/").pop() as string;
    return { ...(defs[name] as Node), ...Object.fromEntries(Object.entries(node).filter(([k]) => k !== "$ref")) };
  }
  return node;
}

/** Primitive shape of a schema node: type (+ format-free enum), for comparison. */
function shape(node: Node): { type: unknown; enum?: unknown } {
  const n = resolveRef(node);
  const type = n.type ?? (n.properties ? "object" : undefined);
  return n.enum ? { type, enum: [...(n.enum as unknown[])].sort() } : { type };
}

describe("protocol schemas do not drift from airbyte_protocol.yaml", () => {
  for (const [name, schema] of Object.entries(MAPPED)) {
    it(`${name}: property names, required list, enums and primitive types match`, () => {
      const theirs = defs[name] as Node;
      expect(theirs, `official definition ${name}`).toBeDefined();
      const ours = z.toJSONSchema(schema, { target: "draft-7", io: "input", unrepresentable: "any" }) as Node;
      const ourProps = (ours.properties ?? {}) as Record<string, Node>;
      const theirProps = (theirs.properties ?? {}) as Record<string, Node>;
      for (const prop of Object.keys(theirProps)) {
        if (UNMODELLED.has(`${name}.${prop}`)) continue;
        expect(Object.keys(ourProps), `${name} lacks official property ${prop}`).toContain(prop);
      }
      for (const [prop, node] of Object.entries(ourProps)) {
        expect(Object.keys(theirProps), `${name}.${prop} is not in the official schema`).toContain(prop);
        expect(shape(node), `${name}.${prop}`).toEqual(shape(theirProps[prop] as Node));
      }
      expect([...((ours.required as string[]) ?? [])].sort(), `${name} required`).toEqual(
        [...((theirs.required as string[]) ?? [])].sort(),
      );
    });
  }

  it("every official enum that we model has exactly the official values", () => {
    const pairs: Array<[z.ZodEnum, string]> = [
      [S.SyncMode as z.ZodEnum, "SyncMode"],
      [S.DestinationSyncMode as z.ZodEnum, "DestinationSyncMode"],
      [S.AirbyteStateType as z.ZodEnum, "AirbyteStateType"],
      [S.AirbyteStreamStatus as z.ZodEnum, "AirbyteStreamStatus"],
    ];
    for (const [ours, theirs] of pairs) {
      expect([...ours.options].sort()).toEqual([...((defs[theirs] as Node).enum as string[])].sort());
    }
  });
});

describe("messages built by the constructors are valid for zod and for the official schema", () => {
  const d = messages.streamDescriptor("orders", "shop");
  const corpus = [
    messages.recordMessage("orders", "shop", { id: 1, _cdc_op: "upsert", _cdc_updated: "1.0000000000", _cdc_family: null }),
    messages.recordMessage("orders", null, { id: 2 }),
    messages.streamStateMessage(d, { v: 1, watermark: null, cursor: null, pending: [] }, 0),
    messages.streamStateMessage(messages.streamDescriptor("t"), { v: 1 }),
    messages.logMessage("INFO", "hello"),
    messages.logMessage("ERROR", "bad", "stack"),
    messages.streamStatusMessage(d, "STARTED"),
    messages.streamStatusMessage(d, "COMPLETE"),
    messages.errorTraceMessage(new ConnectorError("config_error", "nope", { internal: "x", stream: { name: "orders" } }), "st"),
    messages.estimateTraceMessage(d, 10, 100),
    messages.connectionStatusMessage("FAILED", "why"),
    messages.connectionStatusMessage("SUCCEEDED"),
    messages.catalogMessage({
      streams: [{ name: "orders", json_schema: { type: "object" }, supported_sync_modes: ["full_refresh", "incremental"] }],
    }),
    messages.specMessage({ connectionSpecification: { type: "object" }, supportsIncremental: true }),
  ];
  it.each(corpus.map((m, i) => [i, m.type, m] as const))("#%i %s", (_i, _type, message) => {
    expect(S.AirbyteMessage.safeParse(message).success).toBe(true);
    const validate = officialValidators().message;
    expect(validate(JSON.parse(JSON.stringify(message))), JSON.stringify(validate.errors)).toBe(true);
  });
});

describe("what the official schema rejects, zod rejects too", () => {
  const rejected: unknown[] = [
    { type: "NOPE" },
    {},
    { type: "RECORD", record: { stream: "s", data: {} } },
    { type: "RECORD", record: { stream: "s", data: [], emitted_at: 1 } },
    { type: "RECORD", record: { stream: "s", data: {}, emitted_at: 1.5 } },
    { type: "RECORD", record: { stream: 1, data: {}, emitted_at: 1 } },
    { type: "STATE", state: { type: "PER_STREAM" } },
    { type: "STATE", state: { type: "STREAM", stream: { stream_state: {} } } },
    { type: "STATE", state: { sourceStats: { recordCount: "3" } } },
    { type: "LOG", log: { level: "NOTICE", message: "x" } },
    { type: "LOG", log: { level: "INFO" } },
    { type: "TRACE", trace: { type: "ERROR" } },
    { type: "TRACE", trace: { type: "ERROR", emitted_at: 1, error: { failure_type: "config_error" } } },
    {
      type: "TRACE",
      trace: { type: "STREAM_STATUS", emitted_at: 1, stream_status: { stream_descriptor: { name: "s" }, status: "DONE" } },
    },
    { type: "CONNECTION_STATUS", connectionStatus: { status: "OK" } },
    { type: "CATALOG", catalog: { streams: [{ name: "s", json_schema: {}, supported_sync_modes: [] }] } },
    { type: "SPEC", spec: { documentationUrl: "x" } },
  ];
  it.each(rejected.map((m, i) => [i, m] as const))("#%i", (_i, message) => {
    const validate = officialValidators().message;
    expect(validate(message)).toBe(false);
    expect(S.AirbyteMessage.safeParse(message).success).toBe(false);
  });

  it("zod additionally requires the payload named by type", () => {
    expect(S.AirbyteMessage.safeParse({ type: "RECORD" }).success).toBe(false);
  });
});
