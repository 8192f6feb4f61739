import type { Logger } from "./logger.js";

/**
 * Periodic progress lines for long work: counts, bytes, rate since start, and a caller-provided
 * detail (e.g. the current watermark). Call `tick` often; it logs at most every `intervalMs`.
 */
export class Progress {
  private readonly startedAt = Date.now();
  private lastLogAt = this.startedAt;
  records = 0;
  bytes = 0;
  files = 0;

  constructor(
    private readonly logger: Logger,
    private readonly label: string,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  add(records: number, bytes = 0): void {
    this.records += records;
    this.bytes += bytes;
  }

  tick(detail?: () => string): void {
    const now = this.now();
    if (now - this.lastLogAt < this.intervalMs) return;
    this.lastLogAt = now;
    this.logger.info(this.line(detail?.()));
  }

  line(detail?: string): string {
    const seconds = Math.max((this.now() - this.startedAt) / 1000, 0.001);
    const rate = Math.round(this.records / seconds);
    const mib = (this.bytes / 1048576).toFixed(1);
    const parts = [`${this.label}: ${this.records} records`, `${this.files} files`, `${mib} MiB`, `${rate} records/s`];
    if (detail) parts.push(detail);
    return `${parts.join(", ")} (${seconds.toFixed(1)} s)`;
  }

  elapsedSeconds(): number {
    return (this.now() - this.startedAt) / 1000;
  }
}
