/**
 * One "connection": source + destination configs, a configured catalog from discover, and syncs run
 * as a two-process pipe, each resuming from the last STATE per stream the destination echoed.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type DestMode, configureCatalog } from "./catalog.js";
import { type Msg, type PipeHandle, type PipeResult, StateBook, parseLines, runConnector, startPipe } from "./proc.js";

export interface Connection {
  dir: string;
  feed: string;
  delta: string;
  sourceConfig: string;
  destConfig: string;
  catalog: string;
  catalogJson: Msg;
  /** Last echoed state per stream across all syncs so far (what the platform persists). */
  book: StateBook;
  stateFile: string;
}

export async function writeJson(path: string, v: unknown): Promise<string> {
  await writeFile(path, `${JSON.stringify(v, null, 1)}\n`);
  return path;
}

export async function makeConnection(
  dir: string,
  feed: string,
  o: { sourceExtra?: Msg; destExtra?: Msg; destMode?: DestMode; delta?: string } = {},
): Promise<Connection> {
  await mkdir(dir, { recursive: true });
  const delta = o.delta ?? join(dir, "delta");
  const sourceConfig = await writeJson(join(dir, "source.json"), { storage: { type: "local", path: feed }, ...o.sourceExtra });
  const destConfig = await writeJson(join(dir, "destination.json"), { target: { type: "local", path: delta }, ...o.destExtra });
  const disc = await runConnector("source", ["discover", "--config", sourceConfig]);
  const cat = parseLines(disc.stdout).find((m) => m.type === "CATALOG");
  if (disc.code !== 0 || !cat)
    throw new Error(`discover failed (exit ${disc.code}): ${disc.stdout.slice(-1500)} ${disc.stderr.slice(-500)}`);
  const catalogJson = configureCatalog(cat.catalog as Msg, { destMode: o.destMode ?? "append_dedup" });
  const catalog = await writeJson(join(dir, "catalog.json"), catalogJson);
  return {
    dir,
    feed,
    delta,
    sourceConfig,
    destConfig,
    catalog,
    catalogJson,
    book: new StateBook(),
    stateFile: join(dir, "state.json"),
  };
}

export interface SyncOutcome {
  result: PipeResult;
  /** States echoed in this sync. */
  echoed: number;
  /** Sum of destinationStats.recordCount over echoed states (records durably committed). */
  committedRecords: number;
  traces: Msg[];
}

/** Start a sync from the connection's saved state; echoed states update `conn.book` as they arrive. */
export function startSync(
  conn: Connection,
  o: { env?: NodeJS.ProcessEnv; logFile?: string; timeoutMs?: number } = {},
): {
  handle: PipeHandle;
  outcome: Promise<SyncOutcome>;
} {
  const readArgs = ["--config", conn.sourceConfig, "--catalog", conn.catalog];
  if (conn.book.last.size > 0) readArgs.push("--state", conn.stateFile);
  let echoed = 0;
  let committedRecords = 0;
  const traces: Msg[] = [];
  let saving = Promise.resolve();
  const handle = startPipe({
    readArgs,
    writeArgs: ["--config", conn.destConfig, "--catalog", conn.catalog],
    env: o.env,
    destStdoutFile: o.logFile,
    timeoutMs: o.timeoutMs,
    onDestMessage: (m) => {
      if (m.type === "STATE") {
        conn.book.add(m);
        echoed++;
        committedRecords += Number(m.state?.destinationStats?.recordCount ?? 0);
        const snapshot = JSON.stringify(conn.book.toArray());
        // persisted like the platform does, after every echo
        saving = saving.then(() => writeFile(conn.stateFile, snapshot));
      } else if (m.type === "TRACE" && m.trace?.type === "ERROR") traces.push(m);
    },
  });
  const outcome = handle.done.then(async (result) => {
    await saving;
    return { result, echoed, committedRecords, traces };
  });
  return { handle, outcome };
}

export async function syncOnce(
  conn: Connection,
  o: { env?: NodeJS.ProcessEnv; logFile?: string; timeoutMs?: number } = {},
): Promise<SyncOutcome> {
  // the state file is rewritten before each sync from the book (robust to a killed writer)
  if (conn.book.last.size > 0) await writeJson(conn.stateFile, conn.book.toArray());
  return startSync(conn, o).outcome;
}

export function describeFailure(o: SyncOutcome): string {
  const r = o.result;
  return [
    `source exit ${r.source.code ?? r.source.signal}, destination exit ${r.dest.code ?? r.dest.signal}`,
    ...o.traces.map(
      (t) =>
        `TRACE ${t.trace?.error?.failure_type}: ${t.trace?.error?.message} ${String(t.trace?.error?.internal_message ?? "").slice(0, 300)}`,
    ),
    r.source.stderr ? `source stderr: ${r.source.stderr.slice(-800)}` : "",
    r.dest.stderr ? `destination stderr: ${r.dest.stderr.slice(-800)}` : "",
    `destination tail: ${r.dest.lines.slice(-3).join("\n").slice(0, 1500)}`,
  ]
    .filter(Boolean)
    .join("\n");
}
