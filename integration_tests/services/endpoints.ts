/**
 * Endpoints of the external test peers started by `.ci/services.sh start`.
 *
 * `.ci/services.sh` writes `<repo>/.services/endpoints.json` listing only the services that were
 * ready; a service that failed to start is absent. `getService(name)` throws a clear error for an
 * absent service (tests fail loudly, they do not skip); `isServiceUp(name)` lets a caller decide.
 * Override the file location with CDC_SERVICES_ENDPOINTS.
 */
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface AzuriteEndpoint {
  host: string;
  port: number;
  /** Blob service URL including the account, e.g. http://127.0.0.1:10000/devstoreaccount1 */
  url: string;
  accountName: string;
  accountKey: string;
  connectionString: string;
}
export interface PostgresEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  url: string;
  socketDir: string;
}
export interface MotoEndpoint {
  host: string;
  port: number;
  url: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}
export interface FakeGcsEndpoint {
  host: string;
  port: number;
  url: string;
  projectId: string;
  storageApiBase: string;
  uploadApiBase: string;
}
export interface SparkThriftEndpoint {
  host: string;
  port: number;
  /** http://host:port/cliservice (HiveServer2 HTTP transport, no TLS) */
  url: string;
  transportMode: "http";
  path: string;
  https: false;
  /** auth is NONE, but HS2's HTTP servlet wants a non-empty Basic user and password */
  user: string;
  password: string;
  jdbcUrl: string;
  warehouseDir: string;
  beeline: string;
  pid: number | null;
}
export interface ServiceEndpoints {
  azurite: AzuriteEndpoint;
  postgres: PostgresEndpoint;
  moto: MotoEndpoint;
  fakeGcs: FakeGcsEndpoint;
  sparkThrift: SparkThriftEndpoint;
}
export type ServiceName = keyof ServiceEndpoints;
export const SERVICE_NAMES: readonly ServiceName[] = ["azurite", "postgres", "moto", "fakeGcs", "sparkThrift"];

export interface ServiceTools {
  /** .ci/.venv python: pyspark, delta-spark, deltalake, pyarrow, duckdb, boto3, moto */
  python: string;
  /** separate venv: PyAirbyte (its pins conflict with the main venv) */
  pyairbytePython: string;
  /** Meltano tap-airbyte CLI (Python 3.10 venv) */
  tapAirbyte: string;
  hadolint: string;
  sparkHome: string;
  /** Delta jars for a local SparkSession (spark.jars / driver classpath), resolved at install */
  deltaJars: string[];
}
export interface EndpointsFile {
  generatedAt: string;
  repo: string;
  services: Partial<ServiceEndpoints>;
  tools: ServiceTools;
}

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root (two levels up from integration_tests/services). */
export const REPO_ROOT = resolve(here, "..", "..");
export const ENDPOINTS_FILE = process.env.CDC_SERVICES_ENDPOINTS ?? join(REPO_ROOT, ".services", "endpoints.json");

/** Tool paths that do not depend on a running service (valid once .ci/install.sh ran). */
export function defaultTools(): ServiceTools {
  return {
    python: join(REPO_ROOT, ".ci", ".venv", "bin", "python"),
    pyairbytePython: join(REPO_ROOT, ".services", "venv-pyairbyte", "bin", "python"),
    tapAirbyte: join(REPO_ROOT, ".services", "venv-tap-airbyte", "bin", "tap-airbyte"),
    hadolint: join(REPO_ROOT, ".ci", ".venv", "bin", "hadolint"),
    sparkHome: join(REPO_ROOT, ".ci", ".venv", "lib", "python3.11", "site-packages", "pyspark"),
    deltaJars: [],
  };
}

/** Reads endpoints.json afresh each call (services may be started after the test process). */
export function readEndpoints(): EndpointsFile {
  if (!existsSync(ENDPOINTS_FILE)) {
    return { generatedAt: "", repo: REPO_ROOT, services: {}, tools: defaultTools() };
  }
  const parsed = JSON.parse(readFileSync(ENDPOINTS_FILE, "utf8")) as EndpointsFile;
  return { ...parsed, services: parsed.services ?? {}, tools: { ...defaultTools(), ...parsed.tools } };
}

export function tools(): ServiceTools {
  return readEndpoints().tools;
}

/** The endpoint of a service listed as started; throws a clear error when it is not listed. */
export function getService<N extends ServiceName>(name: N): ServiceEndpoints[N] {
  const svc = readEndpoints().services[name];
  if (!svc) {
    throw new Error(
      `test service '${name}' is not running (absent from ${ENDPOINTS_FILE}); ` +
        "run `bash .ci/install.sh && bash .ci/services.sh start` (see docs/test-services.md)",
    );
  }
  return svc as ServiceEndpoints[N];
}

function tcpOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((done) => {
    const sock = connect({ host, port });
    const finish = (ok: boolean) => {
      sock.removeAllListeners();
      sock.destroy();
      done(ok);
    };
    sock.setTimeout(timeoutMs, () => finish(false));
    sock.once("connect", () => finish(true));
    sock.once("error", () => finish(false));
  });
}

/** True when the service is listed in endpoints.json and its port accepts a TCP connection now. */
export async function isServiceUp(name: ServiceName, timeoutMs = 1000): Promise<boolean> {
  const svc = readEndpoints().services[name];
  if (!svc) return false;
  return tcpOpen(svc.host, svc.port, timeoutMs);
}

/** Like getService, but also checks the port is open; throws when the service is down. */
export async function requireService<N extends ServiceName>(name: N, timeoutMs = 1000): Promise<ServiceEndpoints[N]> {
  const svc = getService(name);
  if (!(await tcpOpen(svc.host, svc.port, timeoutMs))) {
    throw new Error(`test service '${name}' is listed at ${svc.host}:${svc.port} but does not accept connections`);
  }
  return svc;
}

/** Environment for SDK clients / child processes (AWS_*, STORAGE_EMULATOR_HOST, AZURE_*, PG*). */
export function serviceEnv(): Record<string, string> {
  const s = readEndpoints().services;
  const env: Record<string, string> = {};
  if (s.moto) {
    Object.assign(env, {
      AWS_ACCESS_KEY_ID: s.moto.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s.moto.secretAccessKey,
      AWS_REGION: s.moto.region,
      AWS_DEFAULT_REGION: s.moto.region,
      AWS_ENDPOINT_URL_S3: s.moto.url,
    });
  }
  if (s.fakeGcs) env.STORAGE_EMULATOR_HOST = s.fakeGcs.url;
  if (s.azurite) env.AZURE_STORAGE_CONNECTION_STRING = s.azurite.connectionString;
  if (s.postgres) {
    Object.assign(env, {
      PGHOST: s.postgres.host,
      PGPORT: String(s.postgres.port),
      PGUSER: s.postgres.user,
      PGDATABASE: s.postgres.database,
    });
  }
  return env;
}
