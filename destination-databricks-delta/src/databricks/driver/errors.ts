/**
 * Classification of whatever the driver throws (destination-delta.md §4, §6). The driver's error
 * classes are not exported and `StatusError` does not extend `Error`, so everything goes by shape:
 * `response.sqlState` (OperationStateError), `statusCode` / `response.status` (HTTP), `code`
 * (sockets), and message patterns (`[ERROR_CLASS]`, `Concurrent…Exception`, driver retry texts).
 */
export type ErrorClass =
  | "transient" // HTTP 429/5xx, socket resets, lost session: rerun
  | "conflict" // Delta write conflict (SQLSTATE 2D521 family): rerun the statement
  | "timeout" // our own deadline hit: outcome unknown, rerun (guard-safe)
  | "auth" // bad/expired token (HTTP 401) or no access to the warehouse (403)
  | "not_found" // unknown warehouse / endpoint (HTTP 404)
  | "permission" // SQL privilege missing (42501 / PERMISSION_DENIED)
  | "missing_object" // table/schema/volume does not exist (42P01, 42704, …)
  | "duplicate_source" // 21506: several source rows per target row (a bug; never retried)
  | "sql" // other 42xxx / analysis errors (never retried)
  | "fatal"; // anything else

export interface ClassifiedError {
  class: ErrorClass;
  retryable: boolean;
  sqlState?: string;
  httpStatus?: number;
  message: string;
}

/** Our own deadline; `phase` names the call that overran. */
export class DriverTimeoutError extends Error {
  constructor(
    readonly phase: "connect" | "execute" | "poll" | "fetch" | "close" | "upload" | "warehouse_start",
    readonly ms: number,
    detail = "",
  ) {
    super(`${phase} timed out after ${ms} ms${detail ? `: ${detail}` : ""}`);
    this.name = "DriverTimeoutError";
  }
}

const CONFLICT_TEXT =
  /\b(DELTA_CONCURRENT_(APPEND|DELETE_READ|DELETE_DELETE|TRANSACTION|WRITE)|DELTA_METADATA_CHANGED|DELTA_PROTOCOL_CHANGED)\b|Concurrent\w+Exception|MetadataChangedException|ProtocolChangedException/;
const DUP_SOURCE_TEXT = /DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE/;
const RESET_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
]);
const RESET_TEXT =
  /socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|premature close|network timeout|Request timed out|other side closed|aborted/i;
const PERMISSION_TEXT =
  /PERMISSION_DENIED|INSUFFICIENT_PERMISSIONS|does not have (the )?\w+ (privilege|permission)|User does not have/i;
const MISSING_TEXT =
  /TABLE_OR_VIEW_NOT_FOUND|SCHEMA_NOT_FOUND|NO_SUCH_CATALOG|CATALOG_NOT_FOUND|Table or view not found|Catalog .* not found|does not exist/i;
const SESSION_LOST_TEXT = /Invalid (Session|Operation)Handle|INVALID_HANDLE|session (is )?(closed|expired)|not connected/i;
const WAREHOUSE_STARTING_TEXT =
  /warehouse is (starting|stopped|not running)|TEMPORARILY_UNAVAILABLE|cluster (is )?(starting|pending)/i;

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function textOf(e: unknown): string {
  if (e === null || e === undefined) return String(e);
  if (typeof e !== "object") return String(e);
  const o = e as Record<string, unknown>;
  const resp = (o.response ?? {}) as Record<string, unknown>;
  return [str(o.message), str(resp.errorMessage), str(resp.displayMessage), str(o.name)].filter(Boolean).join(" | ") || String(e);
}

export function classifyDriverError(e: unknown): ClassifiedError {
  const message = textOf(e);
  if (e instanceof DriverTimeoutError) return { class: "timeout", retryable: true, message };
  const o = (e && typeof e === "object" ? e : {}) as Record<string, unknown>;
  const resp = (o.response && typeof o.response === "object" ? o.response : {}) as Record<string, unknown>;
  const sqlState = str(resp.sqlState) ?? str(o.sqlState) ?? /SQLSTATE:\s*([0-9A-Z]{5})/.exec(message)?.[1];
  let httpStatus: number | undefined;
  if (typeof o.statusCode === "number") httpStatus = o.statusCode;
  else if (typeof resp.status === "number") httpStatus = resp.status;
  else {
    const m = /Hive driver: (\d{3}) when connecting/.exec(message) ?? /bad HTTP status code: (\d{3})/.exec(message);
    if (m) httpStatus = Number(m[1]);
  }
  const base = { message, ...(sqlState ? { sqlState } : {}), ...(httpStatus ? { httpStatus } : {}) };

  if (sqlState === "21506" || DUP_SOURCE_TEXT.test(message)) return { ...base, class: "duplicate_source", retryable: false };
  if (sqlState === "2D521" || CONFLICT_TEXT.test(message)) return { ...base, class: "conflict", retryable: true };
  if (httpStatus === 401) return { ...base, class: "auth", retryable: false };
  if (httpStatus === 403) return { ...base, class: "auth", retryable: false };
  if (httpStatus === 404) return { ...base, class: "not_found", retryable: false };
  if (httpStatus !== undefined && (httpStatus === 429 || httpStatus === 408 || (httpStatus >= 500 && httpStatus !== 501))) {
    return { ...base, class: "transient", retryable: true };
  }
  if (sqlState === "42501" || PERMISSION_TEXT.test(message)) return { ...base, class: "permission", retryable: false };
  if (
    sqlState === "42P01" ||
    sqlState === "42704" ||
    sqlState === "42P06" ||
    sqlState === "42S02" ||
    (sqlState === undefined && MISSING_TEXT.test(message))
  ) {
    return { ...base, class: "missing_object", retryable: false };
  }
  if (sqlState?.startsWith("42")) return { ...base, class: "sql", retryable: false };
  const code = str(o.code) ?? str((o.cause as Record<string, unknown> | undefined)?.code);
  if ((code && RESET_CODES.has(code)) || o.type === "system" || o.type === "body-timeout" || RESET_TEXT.test(message)) {
    return { ...base, class: "transient", retryable: true };
  }
  if (SESSION_LOST_TEXT.test(message) || WAREHOUSE_STARTING_TEXT.test(message))
    return { ...base, class: "transient", retryable: true };
  if (/Max retry count exceeded|Retry timeout exceeded/.test(message)) return { ...base, class: "transient", retryable: true };
  return { ...base, class: "fatal", retryable: false };
}
