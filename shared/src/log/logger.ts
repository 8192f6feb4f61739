import type { MessageWriter } from "../io/message-writer.js";
import { logMessage } from "../protocol/messages.js";
import type { LogLevel } from "../protocol/schemas.js";

const RANK: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, FATAL: 5 };

/** Airbyte LOG messages through the stdout writer; `LOG_LEVEL` (default INFO) filters. */
export class Logger {
  private readonly min: number;
  private readonly lastWarned = new Map<string, number>();

  constructor(
    private readonly writer: MessageWriter,
    level: string | undefined = process.env.LOG_LEVEL,
  ) {
    this.min = RANK[(level?.toUpperCase() as LogLevel) ?? "INFO"] ?? RANK.INFO;
  }

  log(level: LogLevel, message: string, stack?: string): void {
    if (RANK[level] < this.min) return;
    void this.writer.write(logMessage(level, message, stack));
  }
  debug(message: string): void {
    this.log("DEBUG", message);
  }
  info(message: string): void {
    this.log("INFO", message);
  }
  warn(message: string): void {
    this.log("WARN", message);
  }
  error(message: string, stack?: string): void {
    this.log("ERROR", message, stack);
  }

  /** A warning at most once per `intervalMs` per key (e.g. repeated late rows), so logs stay readable. */
  warnRateLimited(key: string, message: string, intervalMs = 10_000): void {
    const now = Date.now();
    const last = this.lastWarned.get(key);
    if (last !== undefined && now - last < intervalMs) return;
    this.lastWarned.set(key, now);
    this.warn(message);
  }
}

/** Logger that drops everything: for unit tests of modules that log. */
export function silentLogger(): Logger {
  const sink = { write: () => undefined } as unknown as MessageWriter;
  return new Logger(sink, "FATAL");
}
