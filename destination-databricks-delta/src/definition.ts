/**
 * The destination as a ConnectorDefinition (shared/src/cli/runner.ts): config schema, SPEC, check,
 * write. The backend is chosen by `target.type`: local/azure → the embedded Delta writer (src/delta),
 * databricks → the SQL warehouse backend (src/databricks). `DESTINATION_BACKEND=memory` selects the
 * in-memory oracle backend (tests, demos: nothing is persisted).
 */
import {
  type CheckResult,
  type ConnectorDefinition,
  ConnectorError,
  configError,
  errorMessage,
  type Logger,
  systemError,
} from "@cdc-delta/shared";
import { type AzureTargetConfig, DestinationConfig, type TargetConfig } from "./config.js";
import { MemoryBackend } from "./plan/memory-backend.js";
import type { DestinationBackend } from "./plan/types.js";
import { writeMessages } from "./write.js";

export type BackendFactory = (target: TargetConfig, logger: Logger) => Promise<DestinationBackend>;

/** The flat Azure shape of the embedded writer's store (src/delta/store/azure.ts). */
export function flattenAzureTarget(t: AzureTargetConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { type: "azure", account_name: t.account, container: t.container, prefix: t.prefix };
  if (t.endpoint) out.endpoint = t.endpoint;
  if (t.auth.type === "account_key") out.account_key = t.auth.account_key;
  else if (t.auth.type === "sas") out.sas_token = t.auth.sas_token;
  else out.connection_string = t.auth.connection_string;
  return out;
}

// Loaded at run time so that a backend folder still under construction never breaks the others.
const DELTA_MODULE = "./delta/index.js";
const DATABRICKS_MODULE = "./databricks/index.js";

async function loadFactory(path: string, name: string, what: string): Promise<(t: unknown, l: Logger) => DestinationBackend> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(path)) as Record<string, unknown>;
  } catch (e) {
    throw systemError(`the ${what} backend is not available in this build: ${errorMessage(e)}`);
  }
  const f = mod[name];
  if (typeof f !== "function") throw systemError(`the ${what} backend module does not export ${name}`);
  return f as (t: unknown, l: Logger) => DestinationBackend;
}

export const defaultBackendFactory: BackendFactory = async (target, logger) => {
  if (process.env.DESTINATION_BACKEND === "memory") {
    logger.warn("DESTINATION_BACKEND=memory: using the in-memory backend; nothing is persisted");
    return new MemoryBackend();
  }
  switch (target.type) {
    case "local":
      return (await loadFactory(DELTA_MODULE, "createDeltaBackend", "embedded Delta"))(target, logger);
    case "azure":
      return (await loadFactory(DELTA_MODULE, "createDeltaBackend", "embedded Delta"))(flattenAzureTarget(target), logger);
    case "databricks":
      return (await loadFactory(DATABRICKS_MODULE, "createDatabricksBackend", "Databricks SQL"))(target, logger);
  }
};

const FS_CONFIG_CODES = new Set(["EACCES", "EPERM", "EROFS", "ENOENT", "ENOTDIR", "EEXIST", "ENOSPC"]);

export function makeDestinationDefinition(
  factory: BackendFactory = defaultBackendFactory,
): ConnectorDefinition<DestinationConfig> {
  return {
    name: "destination-databricks-delta",
    kind: "destination",
    configSchema: DestinationConfig as never,
    spec: {
      documentationUrl: "https://github.com/cdc-delta/cdc-delta-connectors/tree/main/destination-databricks-delta",
      supportsIncremental: true,
      supported_destination_sync_modes: ["append", "overwrite", "append_dedup"],
    },
    async check(config, ctx): Promise<CheckResult> {
      let backend: DestinationBackend | undefined;
      try {
        backend = await factory(config.target, ctx.logger);
        await backend.check();
        return { status: "SUCCEEDED" };
      } catch (e) {
        if (e instanceof ConnectorError) {
          if (e.failureType === "system_error") throw e;
          return { status: "FAILED", message: e.message };
        }
        const code = (e as NodeJS.ErrnoException)?.code ?? (e as { cause?: NodeJS.ErrnoException })?.cause?.code;
        if (code && FS_CONFIG_CODES.has(code)) return { status: "FAILED", message: `target is not usable: ${errorMessage(e)}` };
        throw e;
      } finally {
        await backend?.close().catch(() => undefined);
      }
    },
    async *write(config, catalog, input, ctx) {
      if (catalog.streams.length === 0) throw configError("the configured catalog has no streams");
      const backend = await factory(config.target, ctx.logger);
      yield* writeMessages(catalog, input, {
        backend,
        config,
        logger: ctx.logger,
        signal: ctx.signal,
        inputStats: ctx.inputStats,
      });
    },
  };
}

export const destinationDefinition = makeDestinationDefinition();
