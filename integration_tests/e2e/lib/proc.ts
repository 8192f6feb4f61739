/**
 * Running the built connectors the way users do: `source read | destination write` as two OS
 * processes joined by one kernel pipe (what `docker run -i … | docker run -i …` gives), the
 * destination's stdout collected line by line, and the last STATE it echoed per stream kept.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { DEST_MAIN, SOURCE_MAIN } from "./paths.js";

export type Msg = Record<string, any>;

export interface PipeOptions {
  /** Arguments after `read` (e.g. ["--config", p, "--catalog", k, "--state", s]). */
  readArgs: string[];
  /** Arguments after `write`. */
  writeArgs: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Append every destination stdout line here (the platform's job log). */
  destStdoutFile?: string;
  /** Called for each destination stdout line, parsed (non-JSON lines are reported as {type:"?"}). */
  onDestMessage?: (m: Msg, line: string) => void;
  timeoutMs?: number;
}

export interface PipeResult {
  source: { code: number | null; signal: NodeJS.Signals | null; stderr: string };
  dest: { code: number | null; signal: NodeJS.Signals | null; stderr: string; lines: string[] };
  ms: number;
}

export interface PipeHandle {
  source: ChildProcess;
  dest: ChildProcess;
  done: Promise<PipeResult>;
}

function waitExit(p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null)
      resolve({ code: p.exitCode, signal: p.signalCode as NodeJS.Signals | null });
    else p.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

function collect(stream: NodeJS.ReadableStream | null, limit = 1 << 20): { text: () => string } {
  let s = "";
  stream?.setEncoding?.("utf8");
  stream?.on("data", (d: string) => {
    if (s.length < limit) s += d;
  });
  return { text: () => s };
}

/**
 * Start the pipe. The destination is spawned first; its stdin pipe is handed to the source as its
 * stdout, and the parent closes its own copy, so the kernel pipe has exactly one writer (source) and
 * one reader (destination): EOF when the source dies, EPIPE when the destination dies.
 */
export function startPipe(o: PipeOptions): PipeHandle {
  const t0 = Date.now();
  const env = { ...process.env, ...o.env };
  const dest = spawn(process.execPath, [DEST_MAIN, "write", ...o.writeArgs], {
    cwd: o.cwd,
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  const source = spawn(process.execPath, [SOURCE_MAIN, "read", ...o.readArgs], {
    cwd: o.cwd,
    env,
    stdio: ["ignore", dest.stdin as NonNullable<typeof dest.stdin>, "pipe"],
  });
  // the parent must not hold the pipe's write end, or the destination never sees EOF
  dest.stdin?.destroy();
  const srcErr = collect(source.stderr);
  const dstErr = collect(dest.stderr);
  const lines: string[] = [];
  let out: WriteStream | undefined;
  if (o.destStdoutFile) out = createWriteStream(o.destStdoutFile, { flags: "a" });
  const rl = createInterface({ input: dest.stdout as NodeJS.ReadableStream, crlfDelay: Infinity });
  rl.on("line", (line) => {
    lines.push(line);
    out?.write(`${line}\n`);
    if (o.onDestMessage) {
      let m: Msg;
      try {
        m = JSON.parse(line) as Msg;
      } catch {
        m = { type: "?" };
      }
      o.onDestMessage(m, line);
    }
  });
  const rlClosed = new Promise<void>((r) => rl.once("close", () => r()));
  const timer = setTimeout(() => {
    source.kill("SIGKILL");
    dest.kill("SIGKILL");
  }, o.timeoutMs ?? 600_000);
  const done = (async () => {
    const [s, d] = await Promise.all([waitExit(source), waitExit(dest)]);
    await rlClosed;
    clearTimeout(timer);
    if (out) await new Promise<void>((r) => out?.end(() => r()));
    return {
      source: { ...s, stderr: srcErr.text() },
      dest: { ...d, stderr: dstErr.text(), lines },
      ms: Date.now() - t0,
    };
  })();
  return { source, dest, done };
}

export function runPipe(o: PipeOptions): Promise<PipeResult> {
  return startPipe(o).done;
}

/** Run `node <main> <args…>`; stdout as text. */
export function runConnector(
  which: "source" | "destination",
  args: string[],
  opts: { stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string; stdoutFile?: string } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [which === "source" ? SOURCE_MAIN : DEST_MAIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const chunks: string[] = [];
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => chunks.push(d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      if (stderr.length < 1 << 20) stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 300_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: chunks.join(""), stderr, ms: Date.now() - t0 });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.stdin ?? "");
  });
}

export function parseLines(text: string): Msg[] {
  return text
    .split("\n")
    .filter((l) => l.trim().startsWith("{"))
    .map((l) => JSON.parse(l) as Msg);
}

export const streamKey = (desc: { name: string; namespace?: string | null }): string =>
  desc.namespace ? `${desc.namespace}.${desc.name}` : desc.name;

/** Tracks the last STATE per stream (as echoed by the destination, or emitted by a source). */
export class StateBook {
  readonly last = new Map<string, Msg>();
  count = 0;
  add(m: Msg): void {
    if (m.type !== "STATE") return;
    const st = m.state as Msg;
    const desc = st?.stream?.stream_descriptor;
    if (!desc) throw new Error(`non-STREAM state: ${JSON.stringify(m).slice(0, 200)}`);
    this.last.set(streamKey(desc), st);
    this.count++;
  }
  /** The `--state` file content: one AirbyteStateMessage per stream (the platform's form). */
  toArray(): Msg[] {
    return [...this.last.values()].map((st) => {
      // pass back what was echoed; stats are informational, drop them like the platform does
      const { sourceStats: _s, destinationStats: _d, ...rest } = st;
      return rest;
    });
  }
}
