/**
 * Zod schemas of the Airbyte protocol messages these connectors read or write, mirroring
 * ../shared/airbyte-protocol/airbyte_protocol.yaml (release 0.18.0). Objects are loose (unknown
 * fields pass through, as the protocol requires of readers); a drift test compares every schema
 * here with the official YAML (property names, required lists, enums, primitive types).
 */
import { z } from "zod";

const jsonObject = z.record(z.string(), z.unknown());

export const StreamDescriptor = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
});

export const SyncMode = z.enum(["full_refresh", "incremental"]);
export const DestinationSyncMode = z.enum(["append", "overwrite", "append_dedup", "update", "soft_delete"]);

export const AirbyteRecordMessageMetaChange = z.looseObject({
  field: z.string(),
  change: z.enum(["NULLED", "TRUNCATED"]),
  reason: z.enum([
    "SOURCE_RECORD_SIZE_LIMITATION",
    "DESTINATION_RECORD_SIZE_LIMITATION",
    "PLATFORM_RECORD_SIZE_LIMITATION",
    "SOURCE_FIELD_SIZE_LIMITATION",
    "DESTINATION_FIELD_SIZE_LIMITATION",
    "PLATFORM_FIELD_SIZE_LIMITATION",
    "SOURCE_SERIALIZATION_ERROR",
    "DESTINATION_SERIALIZATION_ERROR",
    "PLATFORM_SERIALIZATION_ERROR",
    "SOURCE_RETRIEVAL_ERROR",
    "DESTINATION_TYPECAST_ERROR",
  ]),
});

export const AirbyteRecordMessageMeta = z.looseObject({
  changes: z.array(AirbyteRecordMessageMetaChange).optional(),
});

export const AirbyteRecordMessage = z.looseObject({
  namespace: z.string().optional(),
  stream: z.string(),
  data: jsonObject,
  emitted_at: z.int(),
  meta: AirbyteRecordMessageMeta.optional(),
});

export const AirbyteStateStats = z.looseObject({
  recordCount: z.number().optional(),
  rejectedRecordCount: z.number().optional(),
});

export const AirbyteStreamState = z.looseObject({
  stream_descriptor: StreamDescriptor,
  stream_state: jsonObject.optional(),
});

export const AirbyteGlobalState = z.looseObject({
  shared_state: jsonObject.optional(),
  stream_states: z.array(AirbyteStreamState),
});

export const AirbyteStateType = z.enum(["GLOBAL", "STREAM", "LEGACY"]);

export const AirbyteStateMessage = z.looseObject({
  type: AirbyteStateType.optional(),
  stream: AirbyteStreamState.optional(),
  global: AirbyteGlobalState.optional(),
  data: jsonObject.optional(),
  sourceStats: AirbyteStateStats.optional(),
  destinationStats: AirbyteStateStats.optional(),
});

export const LogLevel = z.enum(["FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"]);
export const AirbyteLogMessage = z.looseObject({
  level: LogLevel,
  message: z.string(),
  stack_trace: z.string().optional(),
});

export const FailureTypeSchema = z.enum(["system_error", "config_error", "transient_error"]);
export const AirbyteErrorTraceMessage = z.looseObject({
  message: z.string(),
  internal_message: z.string().optional(),
  stack_trace: z.string().optional(),
  failure_type: FailureTypeSchema.optional(),
  stream_descriptor: StreamDescriptor.optional(),
});

export const AirbyteEstimateTraceMessage = z.looseObject({
  name: z.string(),
  type: z.enum(["STREAM", "SYNC"]),
  namespace: z.string().optional(),
  row_estimate: z.int().optional(),
  byte_estimate: z.int().optional(),
});

export const AirbyteStreamStatus = z.enum(["STARTED", "RUNNING", "COMPLETE", "INCOMPLETE"]);
export const AirbyteStreamStatusTraceMessage = z.looseObject({
  stream_descriptor: StreamDescriptor,
  status: AirbyteStreamStatus,
  reasons: z.array(z.looseObject({ type: z.enum(["RATE_LIMITED"]) })).optional(),
});

export const AirbyteAnalyticsTraceMessage = z.looseObject({
  type: z.string(),
  value: z.string().optional(),
});

export const AirbyteTraceMessage = z.looseObject({
  type: z.enum(["ERROR", "ESTIMATE", "STREAM_STATUS", "ANALYTICS"]),
  emitted_at: z.number(),
  error: AirbyteErrorTraceMessage.optional(),
  estimate: AirbyteEstimateTraceMessage.optional(),
  stream_status: AirbyteStreamStatusTraceMessage.optional(),
  analytics: AirbyteAnalyticsTraceMessage.optional(),
});

export const AirbyteConnectionStatus = z.looseObject({
  status: z.enum(["SUCCEEDED", "FAILED"]),
  message: z.string().optional(),
});

export const AirbyteStream = z.looseObject({
  name: z.string(),
  json_schema: jsonObject,
  supported_sync_modes: z.array(SyncMode).min(1),
  source_defined_cursor: z.boolean().optional(),
  default_cursor_field: z.array(z.string()).optional(),
  source_defined_primary_key: z.array(z.array(z.string())).optional(),
  namespace: z.string().optional(),
  is_resumable: z.boolean().optional(),
  is_file_based: z.boolean().optional(),
});

export const AirbyteCatalog = z.looseObject({ streams: z.array(AirbyteStream) });

export const ConfiguredAirbyteStream = z.looseObject({
  stream: AirbyteStream,
  sync_mode: SyncMode,
  cursor_field: z.array(z.string()).optional(),
  destination_sync_mode: DestinationSyncMode,
  destination_object_name: z.string().optional(),
  primary_key: z.array(z.array(z.string())).optional(),
  generation_id: z.int().optional(),
  minimum_generation_id: z.int().optional(),
  sync_id: z.int().optional(),
  include_files: z.boolean().optional(),
});

export const ConfiguredAirbyteCatalog = z.looseObject({ streams: z.array(ConfiguredAirbyteStream) });

export const ConnectorSpecification = z.looseObject({
  documentationUrl: z.url().optional(),
  changelogUrl: z.url().optional(),
  connectionSpecification: jsonObject,
  supportsIncremental: z.boolean().optional(),
  supportsNormalization: z.boolean().optional(),
  supportsDBT: z.boolean().optional(),
  supported_destination_sync_modes: z.array(DestinationSyncMode).optional(),
  protocol_version: z.string().optional(),
});

export const AirbyteMessageType = z.enum([
  "RECORD",
  "STATE",
  "LOG",
  "SPEC",
  "CONNECTION_STATUS",
  "CATALOG",
  "TRACE",
  "CONTROL",
  "DESTINATION_CATALOG",
]);

/** The envelope; the payload named by `type` must be present (the official schema leaves that to prose). */
export const AirbyteMessage = z
  .looseObject({
    type: AirbyteMessageType,
    log: AirbyteLogMessage.optional(),
    spec: ConnectorSpecification.optional(),
    connectionStatus: AirbyteConnectionStatus.optional(),
    catalog: AirbyteCatalog.optional(),
    record: AirbyteRecordMessage.optional(),
    state: AirbyteStateMessage.optional(),
    trace: AirbyteTraceMessage.optional(),
    control: jsonObject.optional(),
    destination_catalog: jsonObject.optional(),
  })
  .superRefine((m, ctx) => {
    const payload = PAYLOAD_OF[m.type];
    if (payload && (m as Record<string, unknown>)[payload] === undefined) {
      ctx.addIssue({ code: "custom", message: `${m.type} message lacks its "${payload}" payload`, path: [payload] });
    }
  });

const PAYLOAD_OF: Record<z.infer<typeof AirbyteMessageType>, string> = {
  RECORD: "record",
  STATE: "state",
  LOG: "log",
  SPEC: "spec",
  CONNECTION_STATUS: "connectionStatus",
  CATALOG: "catalog",
  TRACE: "trace",
  CONTROL: "control",
  DESTINATION_CATALOG: "destination_catalog",
};

export type StreamDescriptor = z.infer<typeof StreamDescriptor>;
export type SyncMode = z.infer<typeof SyncMode>;
export type DestinationSyncMode = z.infer<typeof DestinationSyncMode>;
export type AirbyteRecordMessage = z.infer<typeof AirbyteRecordMessage>;
export type AirbyteStateMessage = z.infer<typeof AirbyteStateMessage>;
export type AirbyteStateStats = z.infer<typeof AirbyteStateStats>;
export type AirbyteLogMessage = z.infer<typeof AirbyteLogMessage>;
export type LogLevel = z.infer<typeof LogLevel>;
export type AirbyteTraceMessage = z.infer<typeof AirbyteTraceMessage>;
export type AirbyteStreamStatus = z.infer<typeof AirbyteStreamStatus>;
export type AirbyteConnectionStatus = z.infer<typeof AirbyteConnectionStatus>;
export type AirbyteStream = z.infer<typeof AirbyteStream>;
export type AirbyteCatalog = z.infer<typeof AirbyteCatalog>;
export type ConfiguredAirbyteStream = z.infer<typeof ConfiguredAirbyteStream>;
export type ConfiguredAirbyteCatalog = z.infer<typeof ConfiguredAirbyteCatalog>;
export type ConnectorSpecification = z.infer<typeof ConnectorSpecification>;
export type AirbyteMessage = z.infer<typeof AirbyteMessage>;
