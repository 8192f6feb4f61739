/** Constructors for every message the connectors print; the only place message shapes are built. */
import type { ConnectorError } from "../errors/connector-error.js";
import { parseJsonLossless } from "../json/lossless.js";
import type {
  AirbyteCatalog,
  AirbyteMessage,
  AirbyteStateMessage,
  AirbyteStreamStatus,
  ConnectorSpecification,
  LogLevel,
  StreamDescriptor,
} from "./schemas.js";

export type RecordData = Record<string, unknown>;

export function streamDescriptor(name: string, namespace?: string | null): StreamDescriptor {
  return namespace ? { name, namespace } : { name };
}

export function descriptorKey(d: { name: string; namespace?: string | null | undefined }): string {
  return d.namespace ? `${d.namespace}.${d.name}` : d.name;
}

export function recordMessage(
  stream: string,
  namespace: string | null | undefined,
  data: RecordData,
  emittedAt: number = Date.now(),
): AirbyteMessage {
  const record: Record<string, unknown> = { stream, data, emitted_at: emittedAt };
  if (namespace) record.namespace = namespace;
  return { type: "RECORD", record } as AirbyteMessage;
}

/** Symbol under which a message carries its already-serialized line (see rawRecordMessage). */
export const SERIALIZED_LINE: unique symbol = Symbol.for("cdc-delta.serialized-line");

/**
 * A RECORD whose `data` is given as exact JSON text (e.g. copied verbatim from a changefeed line):
 * the writer prints the prebuilt line as is; `record.data` parses the text on access (tests, tools).
 * `dataJson` must be one valid JSON object text.
 */
export function rawRecordMessage(
  stream: string,
  namespace: string | null | undefined,
  dataJson: string,
  emittedAt: number = Date.now(),
): AirbyteMessage {
  return rawRecordFactory(stream, namespace)(dataJson, emittedAt);
}

/** rawRecordMessage for one stream, with the stream's part of the line serialized once. */
export function rawRecordFactory(
  stream: string,
  namespace: string | null | undefined,
): (dataJson: string, emittedAt: number) => AirbyteMessage {
  const ns = namespace ? `"namespace":${JSON.stringify(namespace)},` : "";
  const head = `{"type":"RECORD","record":{"stream":${JSON.stringify(stream)},${ns}"data":`;
  return (dataJson, emittedAt) =>
    ({
      type: "RECORD",
      record: new RawRecord(stream, namespace, emittedAt, dataJson),
      [SERIALIZED_LINE]: `${head}${dataJson},"emitted_at":${emittedAt}}}`,
    }) as unknown as AirbyteMessage;
}

/** The `record` of a rawRecordMessage: `data` is parsed from the exact text on first access. */
class RawRecord {
  readonly namespace?: string;
  private parsed: RecordData | undefined;
  constructor(
    readonly stream: string,
    namespace: string | null | undefined,
    readonly emitted_at: number,
    private readonly dataJson: string,
  ) {
    if (namespace) this.namespace = namespace;
  }
  get data(): RecordData {
    this.parsed ??= parseJsonLossless(this.dataJson) as RecordData;
    return this.parsed;
  }
  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = { stream: this.stream, data: this.data, emitted_at: this.emitted_at };
    if (this.namespace) o.namespace = this.namespace;
    return o;
  }
}

export function streamStateMessage(
  descriptor: StreamDescriptor,
  blob: Record<string, unknown>,
  sourceRecordCount?: number,
): AirbyteMessage {
  const state: AirbyteStateMessage = { type: "STREAM", stream: { stream_descriptor: descriptor, stream_state: blob } };
  if (sourceRecordCount !== undefined) state.sourceStats = { recordCount: sourceRecordCount };
  return { type: "STATE", state };
}

export function logMessage(level: LogLevel, message: string, stackTrace?: string): AirbyteMessage {
  return { type: "LOG", log: stackTrace ? { level, message, stack_trace: stackTrace } : { level, message } };
}

export function streamStatusMessage(descriptor: StreamDescriptor, status: AirbyteStreamStatus): AirbyteMessage {
  return {
    type: "TRACE",
    trace: { type: "STREAM_STATUS", emitted_at: Date.now(), stream_status: { stream_descriptor: descriptor, status } },
  };
}

export function errorTraceMessage(error: ConnectorError, stackTrace?: string): AirbyteMessage {
  const payload: Record<string, unknown> = { message: error.message, failure_type: error.failureType };
  if (error.internal) payload.internal_message = error.internal;
  if (stackTrace) payload.stack_trace = stackTrace;
  if (error.stream) payload.stream_descriptor = streamDescriptor(error.stream.name, error.stream.namespace);
  return { type: "TRACE", trace: { type: "ERROR", emitted_at: Date.now(), error: payload as never } };
}

export function estimateTraceMessage(descriptor: StreamDescriptor, rowEstimate: number, byteEstimate?: number): AirbyteMessage {
  const estimate: Record<string, unknown> = { name: descriptor.name, type: "STREAM", row_estimate: rowEstimate };
  if (descriptor.namespace) estimate.namespace = descriptor.namespace;
  if (byteEstimate !== undefined) estimate.byte_estimate = byteEstimate;
  return { type: "TRACE", trace: { type: "ESTIMATE", emitted_at: Date.now(), estimate: estimate as never } };
}

export function connectionStatusMessage(status: "SUCCEEDED" | "FAILED", message?: string): AirbyteMessage {
  return { type: "CONNECTION_STATUS", connectionStatus: message ? { status, message } : { status } };
}

export function catalogMessage(catalog: AirbyteCatalog): AirbyteMessage {
  return { type: "CATALOG", catalog };
}

export function specMessage(spec: ConnectorSpecification): AirbyteMessage {
  return { type: "SPEC", spec };
}
