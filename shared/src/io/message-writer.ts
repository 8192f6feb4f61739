import type { Writable } from "node:stream";
import { stringifyJsonLossless } from "../json/lossless.js";
import { Redactor } from "../log/redact.js";
import { SERIALIZED_LINE } from "../protocol/messages.js";
import type { AirbyteMessage } from "../protocol/schemas.js";

const FLUSH_BYTES = 64 * 1024;

/**
 * The single owner of stdout: one compact JSON message per line, batched into 64 KiB writes,
 * awaiting 'drain' whenever the pipe is full so producers slow down instead of buffering without
 * bound. LOG, TRACE and CONNECTION_STATUS text is scrubbed of secrets here, the last point before the pipe.
 */
export class MessageWriter {
  private chunks: string[] = [];
  private size = 0;
  private flushScheduled = false;
  private drained: Promise<void> | undefined;
  private closed = false;
  messagesWritten = 0;

  constructor(
    private readonly out: Writable,
    readonly redactor: Redactor = new Redactor(),
  ) {}

  /** Queue a message; the returned promise (only when the pipe is full) must be awaited by producers. */
  write(message: AirbyteMessage): Promise<void> | undefined {
    if (this.closed) return undefined;
    const pre = (message as { [SERIALIZED_LINE]?: string })[SERIALIZED_LINE];
    const line = pre !== undefined ? pre : stringifyJsonLossless(this.scrub(message));
    this.chunks.push(line);
    this.size += line.length + 1;
    this.messagesWritten++;
    if (this.size >= FLUSH_BYTES) return this.flush();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        void this.flush();
      });
    }
    return this.drained;
  }

  /** Push everything queued to the pipe; resolves once the pipe accepted it (drain). */
  flush(): Promise<void> | undefined {
    if (this.size > 0 && !this.closed) {
      const data = `${this.chunks.join("\n")}\n`;
      this.chunks = [];
      this.size = 0;
      const accepted = this.out.write(data);
      if (!accepted && !this.drained) {
        this.drained = new Promise<void>((resolve) => {
          const done = () => {
            this.out.off("drain", done);
            this.out.off("close", done);
            this.drained = undefined;
            resolve();
          };
          this.out.on("drain", done);
          this.out.on("close", done);
        });
      }
    }
    return this.drained;
  }

  /** Flush and wait until the last byte has been handed to the OS. */
  async end(): Promise<void> {
    await this.flush();
    if (this.closed) return;
    await new Promise<void>((resolve) => this.out.write("", () => resolve()));
  }

  markClosed(): void {
    this.closed = true;
    this.chunks = [];
    this.size = 0;
  }

  private scrub(message: AirbyteMessage): AirbyteMessage {
    if (message.type === "LOG" && message.log) {
      const log = { ...message.log, message: this.redactor.redact(message.log.message) };
      if (log.stack_trace) log.stack_trace = this.redactor.redact(log.stack_trace);
      return { ...message, log };
    }
    if (message.type === "TRACE" && message.trace?.error) {
      const e = message.trace.error;
      const error = { ...e, message: this.redactor.redact(e.message) };
      if (e.internal_message) error.internal_message = this.redactor.redact(e.internal_message);
      if (e.stack_trace) error.stack_trace = this.redactor.redact(e.stack_trace);
      return { ...message, trace: { ...message.trace, error } };
    }
    if (message.type === "CONNECTION_STATUS" && message.connectionStatus?.message) {
      const connectionStatus = { ...message.connectionStatus, message: this.redactor.redact(message.connectionStatus.message) };
      return { ...message, connectionStatus };
    }
    return message;
  }
}
