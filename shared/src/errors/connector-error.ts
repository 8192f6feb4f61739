/** Airbyte failure types: who has to act. */
export type FailureType = "config_error" | "transient_error" | "system_error";

export interface ConnectorErrorOptions {
  /** Raw detail for operators (TRACE internal_message). */
  internal?: string;
  cause?: unknown;
  /** Stream the failure belongs to, if one. */
  stream?: { name: string; namespace?: string | null };
}

/** An error the connector understands: its message is user-facing, one line, and names the culprit. */
export class ConnectorError extends Error {
  readonly failureType: FailureType;
  readonly internal: string | undefined;
  readonly stream: ConnectorErrorOptions["stream"];

  constructor(failureType: FailureType, message: string, options: ConnectorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ConnectorError";
    this.failureType = failureType;
    this.internal = options.internal;
    this.stream = options.stream;
  }
}

export const configError = (message: string, options?: ConnectorErrorOptions) =>
  new ConnectorError("config_error", message, options);
export const transientError = (message: string, options?: ConnectorErrorOptions) =>
  new ConnectorError("transient_error", message, options);
export const systemError = (message: string, options?: ConnectorErrorOptions) =>
  new ConnectorError("system_error", message, options);

export function isConnectorError(e: unknown): e is ConnectorError {
  return e instanceof ConnectorError;
}

/** Message text of anything thrown (the Databricks driver throws non-Error objects). */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === "object" && "message" in e && typeof (e as { message: unknown }).message === "string") {
    return (e as { message: string }).message;
  }
  return String(e);
}
