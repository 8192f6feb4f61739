import { setTimeout as sleep } from "node:timers/promises";
import { ConnectorError, configError, errorMessage, transientError } from "@cdc-delta/shared";

export interface RetryOptions {
  /** Attempts in total (first try included). */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** What is being done, for messages: `list azure://c/p`. */
  what: string;
  isTransient?: (e: unknown) => boolean;
}

const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "ABORT_ERR",
  "TimeoutError",
  "RequestTimeout",
  "SlowDown",
  "ServiceUnavailable",
  "InternalError",
  "ThrottlingException",
]);

/** HTTP status or error code typical of a passing failure (timeouts, throttling, 5xx, resets). */
export function defaultIsTransient(e: unknown): boolean {
  if (e instanceof ConnectorError) return e.failureType === "transient_error";
  const o = (e ?? {}) as Record<string, unknown> & { $metadata?: { httpStatusCode?: number }; cause?: unknown };
  const status = (o.statusCode ?? o.status ?? o.code ?? o.$metadata?.httpStatusCode) as unknown;
  if (typeof status === "number") return status === 408 || status === 429 || status >= 500;
  for (const v of [o.code, o.name, (o.cause as Record<string, unknown> | undefined)?.code]) {
    if (typeof v === "string" && TRANSIENT_CODES.has(v)) return true;
  }
  return /timeout|timed out|socket hang up|ECONNRESET|network/i.test(errorMessage(e));
}

/** Runs `fn` with exponential backoff and jitter on transient failures; the last error is rethrown classified. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = options.attempts ?? 5;
  const isTransient = options.isTransient ?? defaultIsTransient;
  let delay = options.baseDelayMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!isTransient(e)) throw e;
      if (attempt >= attempts) {
        throw transientError(`${options.what} failed after ${attempts} attempts: ${errorMessage(e)}`, {
          cause: e,
          internal: errorMessage(e),
        });
      }
      await sleep(Math.min(delay, options.maxDelayMs ?? 10_000) * (0.5 + Math.random() / 2));
      delay *= 2;
    }
  }
}

/** Maps an HTTP-ish status to a user-facing error for a storage operation. */
export function storageError(what: string, e: unknown, status: number | undefined): ConnectorError {
  const detail = errorMessage(e);
  if (status === 401 || status === 403)
    return configError(`${what}: access denied (check the credentials and their permissions)`, { internal: detail, cause: e });
  if (status === 404)
    return configError(`${what}: not found (check the container/bucket/volume name and the prefix)`, {
      internal: detail,
      cause: e,
    });
  if (e instanceof ConnectorError) return e;
  if (defaultIsTransient(e)) return transientError(`${what}: ${detail}`, { cause: e });
  return configError(`${what}: ${detail}`, { cause: e });
}
