/**
 * The SQL execution adapter over `@databricks/sql`: one session per client, every call under a
 * deadline, and the driver-level retries the driver itself never does (OpenSession, ExecuteStatement,
 * FetchResults): full-jitter backoff on transient errors and Delta conflicts, never on 21506 / 42xxx /
 * auth. A statement whose outcome is unknown (timeout, reset mid-call) is re-run whole: every
 * statement this backend issues is idempotent (HLC-guarded MERGE, IF [NOT] EXISTS DDL, COPY INTO).
 */
import { DBSQLClient } from "@databricks/sql";
import { type ClassifiedError, DriverTimeoutError, classifyDriverError } from "./errors.js";
import { type IAuthentication, SparkThriftCompatClient, basicAuth } from "./compat.js";
import { DEFAULT_RETRY, type RetryPolicy, withRetry, withTimeout } from "./retry.js";

type IDBSQLSession = import("@databricks/sql/dist/contracts/IDBSQLSession.js").default;
type IOperation = import("@databricks/sql/dist/contracts/IOperation.js").default;

export type DriverAuth =
  | { kind: "pat"; token: string }
  | { kind: "oauth-m2m"; clientId: string; clientSecret: string }
  | { kind: "basic"; username: string; password: string };

export interface DriverTimeouts {
  /** TCP/TLS + OpenSession, per attempt. */
  connectMs: number;
  /** The ExecuteStatement RPC itself, per attempt. */
  executeMs: number;
  /** Waiting for a running statement to finish (polling), per attempt; then cancel + retry. */
  pollMs: number;
  /** Each HTTP request of the driver (its socketTimeout). */
  socketMs: number;
  /** CloseOperation / CloseSession / CancelOperation (best effort). */
  closeMs: number;
  /** Keep retrying connection while the warehouse starts (503 / timeouts), in total. */
  warehouseStartMs: number;
}

export const DEFAULT_TIMEOUTS: DriverTimeouts = {
  connectMs: 60_000,
  executeMs: 120_000,
  pollMs: 30 * 60_000,
  socketMs: 15 * 60_000,
  closeMs: 10_000,
  warehouseStartMs: 600_000,
};

export interface DriverOptions {
  host: string;
  port?: number;
  path: string;
  auth: DriverAuth;
  /** `databricks`: the stock client (HTTPS); `spark-thrift`: SparkThriftCompatClient. */
  flavor: "databricks" | "spark-thrift";
  /** spark-thrift only: plain HTTP unless true. */
  https?: boolean;
  customCaCert?: string | Buffer;
  checkServerCertificate?: boolean;
  /** Databricks warehouses: session `STATEMENT_TIMEOUT` (s); queryTimeout works on clusters only. */
  statementTimeoutS?: number;
  timeouts?: Partial<DriverTimeouts>;
  retry?: Partial<RetryPolicy>;
  /** Seeded randomness for tests. */
  random?: () => number;
  log?: (level: "debug" | "info" | "warn", message: string) => void;
}

export interface ExecOptions {
  /** Short label for logs (never the SQL text, which can be long). */
  label?: string;
  /** Fetch all rows. */
  rows?: boolean;
  /** Return the result column names. */
  columns?: boolean;
  /** Override the poll deadline for this statement. */
  pollMs?: number;
  /** Never retry (statements that are not idempotent). */
  noRetry?: boolean;
}

export interface ExecResult {
  rows: Record<string, unknown>[];
  columns: string[];
  attempts: number;
}

export interface SqlExecutor {
  execute(sql: string, opts?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

/** Thrown after classification: carries the class so callers can map it to a user message. */
export class SqlExecutionError extends Error {
  constructor(
    readonly classified: ClassifiedError,
    readonly label: string,
    readonly attempts: number,
    readonly original: unknown,
  ) {
    super(
      `${label}: ${classified.message}${classified.sqlState ? ` (SQLSTATE ${classified.sqlState})` : ""}${attempts > 1 ? ` after ${attempts} attempts` : ""}`,
    );
    this.name = "SqlExecutionError";
  }
}

export class DatabricksSqlClient implements SqlExecutor {
  private client?: DBSQLClient;
  private session?: IDBSQLSession;
  private connecting?: Promise<IDBSQLSession>;
  private readonly t: DriverTimeouts;
  private readonly retry: RetryPolicy;
  private closed = false;
  /** Statements started (attempts), for tests and progress logs. */
  stats = { connects: 0, attempts: 0, retries: 0 };

  constructor(private readonly o: DriverOptions) {
    this.t = { ...DEFAULT_TIMEOUTS, ...o.timeouts };
    this.retry = { ...DEFAULT_RETRY, ...o.retry };
  }

  private log(level: "debug" | "info" | "warn", m: string) {
    this.o.log?.(level, m);
  }

  /** The driver logs to stdout by default, which would corrupt the Airbyte protocol stream. */
  private readonly driverLogger = {
    log: (level: string, message: string) => {
      if (level === "error" || level === "warn") this.o.log?.("debug", `driver ${level}: ${message}`);
    },
  } as unknown as ConstructorParameters<typeof DBSQLClient>[0] extends infer O
    ? NonNullable<O> extends { logger?: infer L }
      ? NonNullable<L>
      : never
    : never;

  private newClient(): DBSQLClient {
    const { o } = this;
    if (o.flavor === "spark-thrift") {
      return new SparkThriftCompatClient(
        { host: o.host, port: o.port ?? 10001, path: o.path, https: o.https ?? false, socketTimeoutMs: this.t.socketMs },
        { logger: this.driverLogger },
      );
    }
    return new DBSQLClient({ logger: this.driverLogger });
  }

  private connectOptions(): Parameters<DBSQLClient["connect"]>[0] {
    const { o } = this;
    const common = {
      host: o.host,
      port: o.port ?? 443,
      path: o.path,
      socketTimeout: this.t.socketMs,
      telemetryEnabled: false,
      // the driver retries only idempotent RPCs (status polls, close); keep its loop short so our
      // deadlines stay in charge
      retryMaxAttempts: 3,
      retriesTimeout: Math.min(this.t.pollMs, 60_000),
      retryDelayMin: 200,
      retryDelayMax: 2_000,
      userAgentEntry: "cdc-delta-connectors",
      ...(o.customCaCert !== undefined ? { customCaCert: o.customCaCert } : {}),
      ...(o.checkServerCertificate !== undefined ? { checkServerCertificate: o.checkServerCertificate } : {}),
    };
    switch (o.auth.kind) {
      case "pat":
        return { ...common, authType: "access-token", token: o.auth.token };
      case "oauth-m2m":
        return {
          ...common,
          authType: "databricks-oauth",
          oauthClientId: o.auth.clientId,
          oauthClientSecret: o.auth.clientSecret,
        };
      case "basic": {
        const provider: IAuthentication = basicAuth(o.auth.username, o.auth.password);
        return { ...common, authType: "custom", provider };
      }
    }
  }

  /** Connect + OpenSession (retried while the warehouse starts, up to warehouseStartMs). */
  private async ensureSession(): Promise<IDBSQLSession> {
    if (this.closed) throw new Error("SQL client is closed");
    if (this.session) return this.session;
    if (!this.connecting) {
      this.connecting = withRetry(
        { ...this.retry, deadlineMs: this.t.warehouseStartMs },
        {
          isRetryable: (e) => classifyDriverError(e).retryable,
          onRetry: (e, attempt, delay) => {
            this.stats.retries++;
            this.log(
              "info",
              `connect attempt ${attempt} failed (${classifyDriverError(e).message}); retrying in ${delay} ms (warehouse may be starting)`,
            );
          },
          ...(this.o.random ? { random: this.o.random } : {}),
        },
        async () => {
          this.stats.connects++;
          const client = this.newClient();
          client.on("error", () => undefined); // connection errors surface through the calls
          try {
            const session = await withTimeout(
              (async () => {
                await client.connect(this.connectOptions());
                const configuration: Record<string, string> = {};
                if (this.o.flavor === "databricks" && this.o.statementTimeoutS)
                  configuration.STATEMENT_TIMEOUT = String(this.o.statementTimeoutS);
                return client.openSession({ configuration });
              })(),
              this.t.connectMs,
              () => new DriverTimeoutError("connect", this.t.connectMs, `${this.o.host}${this.o.path}`),
            );
            this.client = client;
            return session;
          } catch (e) {
            void withTimeout(client.close(), this.t.closeMs, () => new DriverTimeoutError("close", this.t.closeMs)).catch(
              () => undefined,
            );
            throw e;
          }
        },
      )
        .catch((e) => {
          // connection retries are done (or pointless): the statement loop must not retry them again
          throw new SqlExecutionError(classifyDriverError(e), `connect to ${this.o.host}${this.o.path}`, this.stats.connects, e);
        })
        .then((s) => {
          this.session = s;
          return s;
        })
        .finally(() => {
          this.connecting = undefined;
        });
    }
    return this.connecting;
  }

  /** Drop the session after a transport-level failure; the next attempt reconnects. */
  private async dropSession(): Promise<void> {
    const { session, client } = this;
    this.session = undefined;
    this.client = undefined;
    const to = () => new DriverTimeoutError("close", this.t.closeMs);
    // best effort and in the background: a broken session must not delay the retry
    void (async () => {
      if (session) await withTimeout(session.close(), this.t.closeMs, to).catch(() => undefined);
      if (client) await withTimeout(client.close(), this.t.closeMs, to).catch(() => undefined);
    })();
  }

  async execute(sql: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const label = opts.label ?? sql.slice(0, 40).replace(/\s+/g, " ");
    let attempts = 0;
    try {
      return await withRetry(
        opts.noRetry ? { ...this.retry, attempts: 1 } : this.retry,
        {
          isRetryable: (e) => !(e instanceof SqlExecutionError) && classifyDriverError(e).retryable,
          onRetry: async (e, attempt, delay) => {
            this.stats.retries++;
            const c = classifyDriverError(e);
            this.log("warn", `${label}: attempt ${attempt} failed (${c.class}: ${c.message}); retrying in ${delay} ms`);
            if (c.class !== "conflict") await this.dropSession();
          },
          ...(this.o.random ? { random: this.o.random } : {}),
        },
        async () => {
          attempts++;
          this.stats.attempts++;
          const session = await this.ensureSession();
          return this.runOnce(session, sql, opts);
        },
      );
    } catch (e) {
      if (e instanceof SqlExecutionError) throw e;
      throw new SqlExecutionError(classifyDriverError(e), label, attempts, e);
    }
  }

  private async runOnce(session: IDBSQLSession, sql: string, opts: ExecOptions): Promise<ExecResult> {
    const pollMs = opts.pollMs ?? this.t.pollMs;
    const op: IOperation = await withTimeout(
      session.executeStatement(sql, { runAsync: true, maxRows: null }),
      this.t.executeMs,
      () => new DriverTimeoutError("execute", this.t.executeMs, "ExecuteStatement outcome unknown"),
    );
    const closeOp = () =>
      withTimeout(op.close(), this.t.closeMs, () => new DriverTimeoutError("close", this.t.closeMs)).catch(() => undefined);
    try {
      await withTimeout(
        op.finished(),
        pollMs,
        () => new DriverTimeoutError("poll", pollMs, "statement still running; cancelled"),
        () => {
          void withTimeout(op.cancel(), this.t.closeMs, () => new DriverTimeoutError("close", this.t.closeMs)).catch(
            () => undefined,
          );
        },
      );
      let rows: Record<string, unknown>[] = [];
      let columns: string[] = [];
      if (opts.columns) {
        const schema = await withTimeout(op.getSchema(), pollMs, () => new DriverTimeoutError("fetch", pollMs));
        columns = (schema?.columns ?? []).map((c) => c.columnName);
      }
      if (opts.rows) {
        rows = (await withTimeout(op.fetchAll(), pollMs, () => new DriverTimeoutError("fetch", pollMs))) as Record<
          string,
          unknown
        >[];
      }
      return { rows, columns, attempts: 1 };
    } finally {
      await closeOp();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.connecting) await this.connecting.catch(() => undefined);
    const { session, client } = this;
    this.session = undefined;
    this.client = undefined;
    const to = () => new DriverTimeoutError("close", this.t.closeMs);
    if (session) await withTimeout(session.close(), this.t.closeMs, to).catch(() => undefined);
    if (client) await withTimeout(client.close(), this.t.closeMs, to).catch(() => undefined);
  }
}
