/**
 * createDatabricksBackend(target, logger): the Databricks SQL warehouse backend (and, with
 * `dialect: spark-oss`, an open-source Spark Thrift server through SparkThriftCompatClient).
 */
import { type Logger, configError } from "@cdc-delta/shared";
import type { DatabricksTargetConfig } from "../config.js";
import type { DestinationBackend } from "../plan/types.js";
import { DatabricksBackend } from "./backend.js";
import { DatabricksSqlClient, type DriverAuth, type DriverOptions } from "./driver/client.js";
import { httpRequest } from "./staging/http.js";
import { AzureBlobStore } from "./staging/azure.js";
import { FilesApiVolumeStore } from "./staging/files-api.js";
import { LocalDirStore, type StagingStore } from "./staging/store.js";

export { DatabricksBackend } from "./backend.js";
export { DatabricksSqlClient } from "./driver/client.js";
export { SparkThriftCompatClient } from "./driver/compat.js";

/** OAuth M2M access token for the Files API (the driver handles its own): client-credentials flow. */
function oauthTokenProvider(
  host: string,
  clientId: string,
  secret: string,
  timeoutMs: number,
  ca?: string,
): () => Promise<string> {
  let cached: { token: string; until: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.until) return cached.token;
    const res = await httpRequest(`https://${host}/oidc/v1/token`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials&scope=all-apis",
      timeoutMs,
      ...(ca ? { ca } : {}),
    });
    if (res.status !== 200)
      throw Object.assign(new Error(`OAuth token request failed: HTTP ${res.status}`), {
        statusCode: res.status === 400 ? 401 : res.status,
      });
    const j = JSON.parse(res.body.toString("utf8")) as { access_token: string; expires_in?: number };
    cached = { token: j.access_token, until: Date.now() + Math.max(60, (j.expires_in ?? 3600) - 300) * 1000 };
    return j.access_token;
  };
}

export interface BackendOverrides {
  /** Tests: retry/timeouts of the driver. */
  driver?: Partial<DriverOptions>;
  staleStagingAfterMs?: number;
}

export function createDatabricksBackend(
  target: DatabricksTargetConfig,
  logger: Logger,
  overrides: BackendOverrides = {},
): DestinationBackend {
  const t = target;
  const host = t.server_hostname.replace(/^https?:\/\//, "").replace(/\/+$/, "");
  let auth: DriverAuth;
  switch (t.auth.type) {
    case "pat":
      auth = { kind: "pat", token: t.auth.token };
      break;
    case "oauth_m2m":
      auth = { kind: "oauth-m2m", clientId: t.auth.client_id, clientSecret: t.auth.client_secret };
      break;
    case "basic":
      if (t.dialect !== "spark-oss")
        throw configError("Basic authentication is only for the open-source Spark Thrift server (dialect spark-oss)");
      auth = { kind: "basic", username: t.auth.username, password: t.auth.password };
      break;
  }
  const uploadMs = t.upload_timeout_s * 1000;
  const https = t.dialect === "databricks" ? true : t.https;
  const baseUrl = `${https ? "https" : "http"}://${host}${t.port !== 443 ? `:${t.port}` : ""}`;
  let store: StagingStore;
  if (t.dialect === "spark-oss") {
    if (!t.staging_local_path) throw configError("dialect spark-oss needs staging_local_path (a folder the Spark server reads)");
    store = new LocalDirStore(t.staging_local_path);
  } else if (t.staging_azure) {
    const a = t.staging_azure;
    store = new AzureBlobStore({
      container: a.container,
      prefix: a.prefix,
      readUriBase: a.url,
      timeoutMs: uploadMs,
      ...(a.auth.type === "connection_string"
        ? { connectionString: a.auth.connection_string }
        : {
            accountUrl: a.endpoint ?? `https://${a.account}.blob.core.windows.net`,
            accountName: a.account,
            ...(a.auth.type === "account_key" ? { accountKey: a.auth.account_key } : { sasToken: a.auth.sas_token }),
          }),
    });
  } else if (t.staging_volume_path) {
    const token =
      auth.kind === "pat"
        ? async () => (auth as { token: string }).token
        : auth.kind === "oauth-m2m"
          ? oauthTokenProvider(host, auth.clientId, auth.clientSecret, uploadMs, t.custom_ca_cert)
          : async () => "";
    store = new FilesApiVolumeStore({
      baseUrl,
      volumePath: t.staging_volume_path,
      token,
      timeoutMs: uploadMs,
      ...(t.custom_ca_cert ? { ca: t.custom_ca_cert } : {}),
    });
  } else {
    throw configError("set staging_volume_path (a Unity Catalog volume, e.g. /Volumes/main/default/staging) or staging_azure");
  }
  const driver: DriverOptions = {
    host,
    port: t.port,
    path: t.http_path,
    auth,
    flavor: t.dialect === "spark-oss" ? "spark-thrift" : "databricks",
    https,
    statementTimeoutS: t.statement_timeout_s,
    ...(t.custom_ca_cert ? { customCaCert: t.custom_ca_cert } : {}),
    timeouts: {
      connectMs: Math.min(t.connect_timeout_s * 1000, 120_000),
      warehouseStartMs: t.connect_timeout_s * 1000,
      pollMs: t.statement_timeout_s * 1000 + 60_000,
    },
    log: (level, m) => (level === "warn" ? logger.warn(m) : level === "info" ? logger.info(m) : logger.debug(m)),
    ...overrides.driver,
  };
  return new DatabricksBackend(
    {
      dialect: t.dialect,
      catalog: t.catalog,
      defaultSchema: t.schema,
      tableNameMapping: t.table_name_mapping,
      tableProperties: t.table_properties,
      maxConcurrency: t.max_concurrency,
      endpointDescription: `${baseUrl}${t.http_path}`,
      warehouseStartTimeoutS: t.connect_timeout_s,
      ...(overrides.staleStagingAfterMs !== undefined ? { staleStagingAfterMs: overrides.staleStagingAfterMs } : {}),
    },
    () => new DatabricksSqlClient(driver),
    store,
    logger,
  );
}
