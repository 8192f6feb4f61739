import { describe, expect, it } from "vitest";
import { DriverTimeoutError, classifyDriverError } from "./errors.js";
import { DEFAULT_RETRY, fullJitterDelay, withRetry, withTimeout } from "./retry.js";

describe("classifyDriverError (by shape)", () => {
  const opState = (sqlState: string, msg: string) => Object.assign(new Error(msg), { response: { sqlState, errorMessage: msg } });
  it.each([
    [opState("2D521", "[DELTA_CONCURRENT_APPEND] x"), "conflict", true],
    [new Error("io.delta.exceptions.ConcurrentDeleteReadException: x"), "conflict", true],
    [new Error("[DELTA_METADATA_CHANGED] The metadata of the Delta table has been changed"), "conflict", true],
    [opState("21506", "[DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE]"), "duplicate_source", false],
    [opState("42501", "[INSUFFICIENT_PERMISSIONS] User does not have MODIFY"), "permission", false],
    [opState("42P01", "[TABLE_OR_VIEW_NOT_FOUND]"), "missing_object", false],
    [opState("42601", "[PARSE_SYNTAX_ERROR]"), "sql", false],
    [Object.assign(new Error("Received a response with a bad HTTP status code: 503"), { statusCode: 503 }), "transient", true],
    [Object.assign(new Error("bad status"), { statusCode: 429 }), "transient", true],
    [Object.assign(new Error("bad status"), { statusCode: 401 }), "auth", false],
    [Object.assign(new Error("bad status"), { statusCode: 403 }), "auth", false],
    [Object.assign(new Error("bad status"), { statusCode: 404 }), "not_found", false],
    [new Error("Hive driver: 503 when connecting to resource. Max retry count exceeded."), "transient", true],
    [Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), "transient", true],
    [{ name: "Status Error", message: "Invalid SessionHandle", code: -1 }, "transient", true], // StatusError is no Error
    [new DriverTimeoutError("execute", 10), "timeout", true],
    [new Error("something else"), "fatal", false],
  ])("%#: %s", (e, cls, retryable) => {
    const c = classifyDriverError(e);
    expect(c.class).toBe(cls);
    expect(c.retryable).toBe(retryable);
  });
});

describe("retry", () => {
  it("full jitter stays within [0, min(max, base·2^(n-1))]", () => {
    expect(fullJitterDelay(DEFAULT_RETRY, 1, () => 0.999)).toBeLessThan(1000);
    expect(fullJitterDelay(DEFAULT_RETRY, 6, () => 0.999)).toBeLessThan(30_000);
    expect(fullJitterDelay(DEFAULT_RETRY, 6, () => 0.999)).toBeGreaterThan(29_000);
    expect(fullJitterDelay(DEFAULT_RETRY, 3, () => 0)).toBe(0);
  });
  it("retries retryable errors up to the attempt budget, never the others", async () => {
    const delays: number[] = [];
    let n = 0;
    const r = await withRetry(
      { attempts: 6, baseMs: 1000, maxMs: 30000 },
      { isRetryable: () => true, sleep: async (ms) => void delays.push(ms), random: () => 0.5 },
      async () => {
        if (++n < 4) throw new Error("x");
        return n;
      },
    );
    expect(r).toBe(4);
    expect(delays).toEqual([500, 1000, 2000]);
    let m = 0;
    await expect(
      withRetry(DEFAULT_RETRY, { isRetryable: () => false, sleep: async () => undefined }, async () => {
        m++;
        throw new Error("no");
      }),
    ).rejects.toThrow("no");
    expect(m).toBe(1);
    let k = 0;
    await expect(
      withRetry({ attempts: 3, baseMs: 1, maxMs: 1 }, { isRetryable: () => true, sleep: async () => undefined }, async () => {
        k++;
        throw new Error("always");
      }),
    ).rejects.toThrow("always");
    expect(k).toBe(3);
  });
  it("withTimeout rejects at the deadline and runs onTimeout", async () => {
    let cancelled = false;
    const p = withTimeout(
      new Promise(() => undefined),
      20,
      () => new DriverTimeoutError("poll", 20),
      () => (cancelled = true),
    );
    await expect(p).rejects.toBeInstanceOf(DriverTimeoutError);
    expect(cancelled).toBe(true);
  });
});
