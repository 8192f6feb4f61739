/**
 * A fake Databricks SQL warehouse for contract tests: the warehouse's Thrift-over-HTTP TCLIService
 * protocol (the driver's own IDL-generated processor, hosted by `thrift.createWebServer`, optionally
 * over TLS), executing statements on an embedded DuckDB after dialect translation.
 *
 * Two personalities: `databricks` (Bearer auth, SPARK_CLI_SERVICE_PROTOCOL_V8, `resultFormat` set)
 * and `spark-thrift` (emulated open-source STS: Basic auth required, rejects `client_protocol = -7`,
 * no `resultFormat`) — the latter exercises SparkThriftCompatClient.
 *
 * Injected faults (by RPC name, consumed in order): HTTP status (503/429 + Retry-After), socket reset
 * before the handler runs, socket reset after it ran (the statement executed, the reply is lost),
 * response delay; and per statement (matched on SQL text): SQL errors with a SQLSTATE (e.g. 2D521) and
 * slow RUNNING.
 */
import { randomUUID } from "node:crypto";
import { mkdir, readdir, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { EventEmitter } from "node:events";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { thrift as dbThrift } from "@databricks/sql";
import thrift from "thrift";
import { translate } from "./translate.js";

const T = dbThrift.TCLIService_types;
const Processor = (dbThrift.TCLIService as unknown as { Processor: new (h: unknown) => unknown }).Processor;

export type HttpFault =
  | { kind: "status"; status: number; retryAfterS?: number }
  | { kind: "reset-before" }
  | { kind: "reset-after" }
  | { kind: "delay"; ms: number };

export interface HttpFaultRule {
  method: string;
  fault: HttpFault;
  /** How many matching requests it applies to (default 1). */
  times?: number;
  /** Only requests carrying SQL matching this (ExecuteStatement). */
  sql?: RegExp;
}

export interface StatementFaultRule {
  sql: RegExp;
  fault: { kind: "error"; sqlState: string; message: string } | { kind: "slow"; runningMs: number };
  times?: number;
}

export interface FakeWarehouseOptions {
  personality: "databricks" | "spark-thrift";
  path?: string;
  /** databricks: required Bearer token; spark-thrift: required Basic user:password. */
  token?: string;
  basic?: { user: string; password: string };
  tls?: { key: string; cert: string };
  catalogs?: string[];
  /** Local directory standing in for `/Volumes` (Files API + read_files). */
  volumesRoot?: string;
  /** Emulate a stopped warehouse: OpenSession answers 503 until this many ms after start. */
  startingForMs?: number;
}

interface Operation {
  id: string;
  sql: string;
  state: number;
  error?: { sqlState: string; message: string };
  columns: string[];
  rows: (string | null)[][];
  done: Promise<void>;
  notBefore: number;
}

export interface ExecutedStatement {
  sql: string;
  ok: boolean;
  error?: string;
}

const ok = () => ({ statusCode: T.TStatusCode.SUCCESS_STATUS });
const uuidBytes = (u: string) => Buffer.from(u.replaceAll("-", ""), "hex");
const handleId = (u: string) => ({ guid: uuidBytes(u), secret: uuidBytes(randomUUID()) });
const idOf = (h: { guid: Buffer }) => Buffer.from(h.guid).toString("hex");

function methodName(body: Buffer): string | undefined {
  // TBinaryProtocol strict: i32 version|type, i32 name length, name
  if (body.length < 8) return undefined;
  const len = body.readInt32BE(4);
  if (len <= 0 || 8 + len > body.length) return undefined;
  return body.subarray(8, 8 + len).toString("utf8");
}

function duckError(message: string): { sqlState: string; message: string } {
  if (/Catalog Error: (Table|Schema).*does not exist/i.test(message))
    return { sqlState: "42P01", message: `[TABLE_OR_VIEW_NOT_FOUND] ${message}` };
  if (/Parser Error|Binder Error/i.test(message)) return { sqlState: "42000", message: `[PARSE_SYNTAX_ERROR] ${message}` };
  if (/Conflict|TransactionContext/i.test(message))
    return { sqlState: "2D521", message: `[DELTA_CONCURRENT_APPEND] ConcurrentAppendException: ${message}` };
  if (/Constraint Error: NOT NULL/i.test(message)) return { sqlState: "23502", message };
  return { sqlState: "XX000", message };
}

export class FakeWarehouse {
  readonly executed: ExecutedStatement[] = [];
  readonly rpcLog: string[] = [];
  private httpFaults: (HttpFaultRule & { left: number })[] = [];
  private stmtFaults: (StatementFaultRule & { left: number })[] = [];
  private readonly ops = new Map<string, Operation>();
  private readonly sessions = new Set<string>();
  private server?: Server;
  private db?: DuckDBInstance;
  private readonly loadedFiles = new Set<string>();
  private startedAt = Date.now();
  port = 0;

  constructor(readonly o: FakeWarehouseOptions) {}

  private readonly mapPath = (p: string): string =>
    this.o.volumesRoot && p.startsWith("/Volumes/") ? join(this.o.volumesRoot, p) : p;

  get path(): string {
    return this.o.path ?? "/sql/1.0/warehouses/fake";
  }

  injectHttp(...rules: HttpFaultRule[]): void {
    this.httpFaults.push(...rules.map((r) => ({ ...r, left: r.times ?? 1 })));
  }
  injectStatement(...rules: StatementFaultRule[]): void {
    this.stmtFaults.push(...rules.map((r) => ({ ...r, left: r.times ?? 1 })));
  }
  clearFaults(): void {
    this.httpFaults = [];
    this.stmtFaults = [];
  }

  /** Direct DuckDB access for assertions (translated SQL). */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const c = await this.connection();
    try {
      const r = await c.runAndReadAll(translate(sql, this.mapPath).statements.join(";\n"));
      return r.getRowObjectsJS() as Record<string, unknown>[];
    } finally {
      c.closeSync();
    }
  }

  /** DuckDB SQL as is (assertions). */
  async rawQuery(sql: string): Promise<Record<string, unknown>[]> {
    const c = await this.connection();
    try {
      return (await c.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
    } finally {
      c.closeSync();
    }
  }

  private async connection(): Promise<DuckDBConnection> {
    const c = await (this.db as DuckDBInstance).connect();
    await c.run("SET TimeZone = 'UTC'");
    return c;
  }

  async start(): Promise<void> {
    this.db = await DuckDBInstance.create(":memory:");
    const c = await this.db.connect();
    for (const cat of this.o.catalogs ?? ["cdc_test", "spark_catalog"]) await c.run(`ATTACH ':memory:' AS "${cat}"`);
    c.closeSync();
    this.startedAt = Date.now();
    const handler = this.handler();
    const server = thrift.createWebServer({
      services: {
        [this.path]: { transport: thrift.TBufferedTransport, protocol: thrift.TBinaryProtocol, processor: Processor, handler },
      },
      ...(this.o.tls ? { tls: this.o.tls } : {}),
    } as unknown as Parameters<typeof thrift.createWebServer>[0]) as unknown as Server;
    // Interpose on the thrift request listener: auth, HTTP-level faults, method logging.
    const listeners = server.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners("request");
    server.on("request", (req: IncomingMessage, res: ServerResponse) => void this.intercept(req, res, listeners));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (s) {
      (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((r) => s.close(() => r()));
    }
    await Promise.allSettled([...this.ops.values()].map((o) => o.done));
    this.db?.closeSync();
  }

  private async intercept(
    req: IncomingMessage,
    res: ServerResponse,
    listeners: ((req: IncomingMessage, res: ServerResponse) => void)[],
  ) {
    const chunks: Buffer[] = [];
    for await (const ch of req) chunks.push(ch as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname.startsWith("/api/2.0/fs/")) return this.filesApi(req, res, url, body);
    if (url.pathname !== this.path) {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error_code: "RESOURCE_DOES_NOT_EXIST", message: "warehouse not found" }));
      return;
    }
    const method = methodName(body) ?? "?";
    this.rpcLog.push(method);
    // auth
    const auth = req.headers.authorization ?? "";
    if (this.o.personality === "databricks" && this.o.token !== undefined && auth !== `Bearer ${this.o.token}`) {
      res.writeHead(401, { "content-type": "text/plain" }).end("Invalid access token.");
      return;
    }
    if (this.o.personality === "spark-thrift") {
      const want = this.o.basic
        ? `Basic ${Buffer.from(`${this.o.basic.user}:${this.o.basic.password}`).toString("base64")}`
        : undefined;
      if (!auth.startsWith("Basic ") || (want !== undefined && auth !== want)) {
        res.writeHead(401, { "content-type": "text/plain" }).end("Authentication Error: HTTP Basic expected");
        return;
      }
    }
    if (method === "OpenSession" && this.o.startingForMs !== undefined && Date.now() - this.startedAt < this.o.startingForMs) {
      res.writeHead(503, { "Retry-After": "1" }).end("TEMPORARILY_UNAVAILABLE: warehouse is starting");
      return;
    }
    const sqlText = method === "ExecuteStatement" ? body.toString("utf8") : "";
    const rule = this.httpFaults.find((r) => r.left > 0 && r.method === method && (!r.sql || r.sql.test(sqlText)));
    if (rule) rule.left--;
    const fault = rule?.fault;
    if (fault?.kind === "status") {
      res
        .writeHead(fault.status, fault.retryAfterS !== undefined ? { "Retry-After": String(fault.retryAfterS) } : {})
        .end("injected");
      return;
    }
    if (fault?.kind === "reset-before") {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "delay") await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === "reset-after") {
      // let the handler run, then drop the connection instead of replying
      const sock = req.socket;
      const fakeRes = {
        writeHead: () => fakeRes,
        setHeader: () => undefined,
        end: () => sock.destroy(),
      } as unknown as ServerResponse;
      this.dispatch(req, body, fakeRes, listeners);
      return;
    }
    this.dispatch(req, body, res, listeners);
  }

  private dispatch(
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
    listeners: ((req: IncomingMessage, res: ServerResponse) => void)[],
  ) {
    const fake = Object.assign(new EventEmitter(), {
      url: req.url,
      method: req.method,
      headers: req.headers,
      socket: req.socket,
    });
    for (const l of listeners) l(fake as unknown as IncomingMessage, res);
    fake.emit("data", body);
    fake.emit("end");
  }

  private handler() {
    const self = this;
    const sts = this.o.personality === "spark-thrift";
    return {
      OpenSession(req: { client_protocol?: number | null; configuration?: Record<string, string> }) {
        if (
          sts &&
          (typeof req.client_protocol !== "number" ||
            req.client_protocol < 0 ||
            req.client_protocol > T.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10)
        ) {
          return {
            status: {
              statusCode: T.TStatusCode.ERROR_STATUS,
              errorMessage: `Unsupported client protocol: ${req.client_protocol}`,
              sqlState: "08S01",
            },
            serverProtocolVersion: T.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10,
          };
        }
        const id = randomUUID();
        self.sessions.add(id);
        return {
          status: ok(),
          serverProtocolVersion: sts
            ? T.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10
            : T.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8,
          sessionHandle: { sessionId: handleId(id) },
          configuration: {},
        };
      },
      CloseSession(req: { sessionHandle: { sessionId: { guid: Buffer } } }) {
        self.sessions.delete(idOf(req.sessionHandle.sessionId));
        return { status: ok() };
      },
      ExecuteStatement(req: { statement: string; sessionHandle: { sessionId: { guid: Buffer } } }) {
        const sid = Buffer.from(req.sessionHandle.sessionId.guid).toString("hex");
        if (![...self.sessions].some((s) => s.replaceAll("-", "") === sid)) {
          return { status: { statusCode: T.TStatusCode.INVALID_HANDLE_STATUS, errorMessage: "Invalid SessionHandle" } };
        }
        const op = self.startOperation(req.statement);
        return {
          status: ok(),
          operationHandle: {
            operationId: handleId(op.id),
            operationType: T.TOperationType.EXECUTE_STATEMENT,
            hasResultSet: true,
          },
        };
      },
      GetOperationStatus(req: { operationHandle: { operationId: { guid: Buffer } } }) {
        const op = self.op(req.operationHandle);
        if (!op) return { status: { statusCode: T.TStatusCode.INVALID_HANDLE_STATUS, errorMessage: "Invalid OperationHandle" } };
        const running = op.state === T.TOperationState.RUNNING_STATE || Date.now() < op.notBefore;
        if (running) return { status: ok(), operationState: T.TOperationState.RUNNING_STATE };
        if (op.error) {
          return {
            status: ok(),
            operationState: T.TOperationState.ERROR_STATE,
            sqlState: op.error.sqlState,
            errorMessage: op.error.message,
            displayMessage: op.error.message,
          };
        }
        return { status: ok(), operationState: op.state, hasResultSet: true };
      },
      GetResultSetMetadata(req: { operationHandle: { operationId: { guid: Buffer } } }) {
        const op = self.op(req.operationHandle);
        if (!op) return { status: { statusCode: T.TStatusCode.INVALID_HANDLE_STATUS, errorMessage: "Invalid OperationHandle" } };
        return {
          status: ok(),
          schema: {
            columns: op.columns.map((name, i) => ({
              columnName: name,
              position: sts ? i : i + 1, // Spark's STS numbers columns from 0
              typeDesc: { types: [{ primitiveEntry: { type: T.TTypeId.STRING_TYPE } }] },
            })),
          },
          ...(sts ? {} : { resultFormat: T.TSparkRowSetType.COLUMN_BASED_SET }),
        };
      },
      FetchResults(req: { operationHandle: { operationId: { guid: Buffer } } }) {
        const op = self.op(req.operationHandle);
        if (!op) return { status: { statusCode: T.TStatusCode.INVALID_HANDLE_STATUS, errorMessage: "Invalid OperationHandle" } };
        const columns = op.columns.map((_, ci) => {
          const values = op.rows.map((r) => r[ci] ?? "");
          const nulls = Buffer.alloc(Math.ceil(op.rows.length / 8));
          op.rows.forEach((r, ri) => {
            if (r[ci] === null) nulls[ri >> 3]! |= 1 << (ri & 7);
          });
          return { stringVal: { values, nulls } };
        });
        const rows = op.rows;
        op.rows = [];
        return {
          status: ok(),
          hasMoreRows: false,
          results: {
            startRowOffset: 0,
            rows: [],
            columns: rows.length ? columns : op.columns.map(() => ({ stringVal: { values: [], nulls: Buffer.alloc(0) } })),
          },
        };
      },
      CancelOperation(req: { operationHandle: { operationId: { guid: Buffer } } }) {
        const op = self.op(req.operationHandle);
        if (op && op.state === T.TOperationState.RUNNING_STATE) op.state = T.TOperationState.CANCELED_STATE;
        return { status: ok() };
      },
      CloseOperation(req: { operationHandle: { operationId: { guid: Buffer } } }) {
        const op = self.op(req.operationHandle);
        if (op) self.ops.delete(op.id);
        return { status: ok() };
      },
      GetInfo() {
        return { status: ok(), infoValue: { stringValue: "fake-warehouse" } };
      },
    };
  }

  /** Databricks Files API subset: PUT/DELETE files, GET/PUT/DELETE directories, under volumesRoot. */
  private async filesApi(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<void> {
    const json = (status: number, v: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(v));
    if (this.o.token !== undefined && req.headers.authorization !== `Bearer ${this.o.token}`)
      return void json(401, { error_code: "UNAUTHENTICATED", message: "Invalid access token." });
    const m = /^\/api\/2\.0\/fs\/(files|directories)(\/.*)$/.exec(url.pathname);
    if (!m || !this.o.volumesRoot) return void json(404, { error_code: "NOT_FOUND", message: "no such API" });
    const method = `Files${req.method}`;
    this.rpcLog.push(method);
    const rule = this.httpFaults.find((r) => r.left > 0 && r.method === method);
    if (rule) rule.left--;
    if (rule?.fault.kind === "status") return void json(rule.fault.status, { error_code: "INJECTED", message: "injected" });
    if (rule?.fault.kind === "reset-before") return void req.socket.destroy();
    if (rule?.fault.kind === "delay") await new Promise((r) => setTimeout(r, (rule.fault as { ms: number }).ms));
    const vpath = m[2]!.split("/").map(decodeURIComponent).join("/");
    if (!vpath.startsWith("/Volumes/") || vpath.includes("/../"))
      return void json(400, { error_code: "INVALID_PARAMETER_VALUE", message: "bad path" });
    const local = join(this.o.volumesRoot, vpath);
    try {
      if (m[1] === "files" && req.method === "PUT") {
        await mkdir(dirname(local), { recursive: true });
        await writeFile(local, body);
        return void res.writeHead(204).end();
      }
      if (m[1] === "files" && req.method === "DELETE") {
        await rm(local);
        return void res.writeHead(204).end();
      }
      if (m[1] === "directories" && req.method === "PUT") {
        await mkdir(local, { recursive: true });
        return void res.writeHead(204).end();
      }
      if (m[1] === "directories" && req.method === "GET") {
        const entries = await readdir(local, { withFileTypes: true });
        const contents = await Promise.all(
          entries.map(async (e) => ({
            path: `${vpath.replace(/\/$/, "")}/${e.name}`,
            is_directory: e.isDirectory(),
            file_size: e.isDirectory() ? undefined : (await stat(join(local, e.name))).size,
            name: e.name,
          })),
        );
        return void json(200, contents.length ? { contents } : {});
      }
      if (m[1] === "directories" && req.method === "DELETE") {
        await rmdir(local);
        return void res.writeHead(204).end();
      }
      return void json(405, { error_code: "BAD_REQUEST", message: "method" });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ENOENT")
        return void json(404, { error_code: "NOT_FOUND", message: `The file or directory does not exist: ${vpath}` });
      if (code === "ENOTEMPTY") return void json(409, { error_code: "DIRECTORY_NOT_EMPTY", message: "directory not empty" });
      return void json(500, { error_code: "INTERNAL_ERROR", message: String(e) });
    }
  }

  private op(h: { operationId: { guid: Buffer } }): Operation | undefined {
    return this.ops.get(idOf(h.operationId));
  }

  private startOperation(sql: string): Operation {
    const id = randomUUID();
    const op: Operation = {
      id,
      sql,
      state: T.TOperationState.RUNNING_STATE,
      columns: [],
      rows: [],
      done: Promise.resolve(),
      notBefore: 0,
    };
    this.ops.set(id.replaceAll("-", ""), op);
    const rule = this.stmtFaults.find((r) => r.left > 0 && r.sql.test(sql));
    if (rule) rule.left--;
    if (rule?.fault.kind === "slow") op.notBefore = Date.now() + rule.fault.runningMs;
    if (rule?.fault.kind === "error") {
      op.error = { sqlState: rule.fault.sqlState, message: rule.fault.message };
      op.state = T.TOperationState.ERROR_STATE;
      this.executed.push({ sql, ok: false, error: rule.fault.message });
      return op;
    }
    op.done = this.run(op);
    return op;
  }

  /**
   * Statements run one at a time: Delta's optimistic concurrency makes a re-run that overlaps its lost
   * original either conflict (2D521, retried) or see its commit; DuckDB's MVCC would let two
   * overlapping MERGEs both insert, which Delta never commits.
   */
  private lock: Promise<void> = Promise.resolve();

  private run(op: Operation): Promise<void> {
    const next = this.lock.then(() => this.runNow(op));
    this.lock = next.catch(() => undefined);
    return next;
  }

  private async runNow(op: Operation): Promise<void> {
    if (op.state !== T.TOperationState.RUNNING_STATE) return; // cancelled while queued
    const c = await this.connection();
    try {
      const tr = translate(op.sql, this.mapPath);
      if (tr.copyInto) {
        const key = `${tr.copyInto.target}|${tr.copyInto.dir}`;
        if (this.loadedFiles.has(key)) {
          op.state = T.TOperationState.FINISHED_STATE;
          this.executed.push({ sql: op.sql, ok: true });
          return;
        }
        this.loadedFiles.add(key);
      }
      await c.run("BEGIN TRANSACTION");
      let last: Awaited<ReturnType<DuckDBConnection["runAndReadAll"]>> | undefined;
      for (const s of tr.statements) last = await c.runAndReadAll(s);
      await c.run("COMMIT");
      if (last) {
        op.columns = last.columnNames();
        op.rows = (last.getRowsJS() as unknown[][]).map((r) =>
          r.map((v) =>
            v === null || v === undefined
              ? null
              : typeof v === "object" && !(v instanceof Date)
                ? JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x))
                : v instanceof Date
                  ? v.toISOString()
                  : String(v),
          ),
        );
      }
      if (op.state === T.TOperationState.RUNNING_STATE) op.state = T.TOperationState.FINISHED_STATE;
      this.executed.push({ sql: op.sql, ok: true });
    } catch (e) {
      await c.run("ROLLBACK").catch(() => undefined);
      const m = e instanceof Error ? e.message : String(e);
      op.error = duckError(m);
      op.state = T.TOperationState.ERROR_STATE;
      this.executed.push({ sql: op.sql, ok: false, error: m });
    } finally {
      c.closeSync();
    }
  }
}
