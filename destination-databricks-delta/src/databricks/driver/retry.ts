/** Full-jitter exponential backoff (destination-delta.md §4: 1 s → 30 s, 6 attempts). */
export interface RetryPolicy {
  /** Total attempts (first try included). */
  attempts: number;
  baseMs: number;
  maxMs: number;
  /** Keep retrying past `attempts` until this many ms have passed (warehouse start); 0 = off. */
  deadlineMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 1_000, maxMs: 30_000 };

export interface RetryHooks {
  isRetryable(e: unknown): boolean;
  onRetry?(e: unknown, attempt: number, delayMs: number): void | Promise<void>;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Delay before retry number `attempt` (1-based): uniform in [0, min(max, base·2^(attempt-1))]. */
export function fullJitterDelay(p: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(p.maxMs, p.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(random() * cap);
}

export async function withRetry<T>(p: RetryPolicy, hooks: RetryHooks, fn: (attempt: number) => Promise<T>): Promise<T> {
  const now = hooks.now ?? Date.now;
  const start = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      const withinAttempts = attempt < p.attempts;
      const withinDeadline = (p.deadlineMs ?? 0) > 0 && now() - start < (p.deadlineMs as number);
      if (!hooks.isRetryable(e) || !(withinAttempts || withinDeadline)) throw e;
      let delay = fullJitterDelay(p, attempt, hooks.random);
      if ((p.deadlineMs ?? 0) > 0 && !withinAttempts)
        delay = Math.min(delay, Math.max(0, start + (p.deadlineMs as number) - now()));
      await hooks.onRetry?.(e, attempt, delay);
      await (hooks.sleep ?? sleep)(delay);
    }
  }
}

/** Race a promise against a deadline; `onTimeout` runs (best effort) when the deadline wins. */
export function withTimeout<T>(p: Promise<T>, ms: number, makeError: () => Error, onTimeout?: () => void): Promise<T> {
  if (!(ms > 0) || !Number.isFinite(ms)) return p;
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        onTimeout?.();
      } catch {
        /* best effort */
      }
      reject(makeError());
    }, ms);
  });
  p.catch(() => undefined); // the loser must not become an unhandled rejection
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
