import { spawn } from "node:child_process";
import { PassThrough, Readable } from "node:stream";
import type { ConnectorDefinition } from "../cli/runner.js";
import { runCommand } from "../cli/runner.js";

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a built connector entry point as a subprocess (the way platforms run it). */
export function runNode(
  script: string,
  args: string[],
  options: { stdin?: string | Readable; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    if (options.stdin instanceof Readable) options.stdin.pipe(child.stdin);
    else child.stdin.end(options.stdin ?? "");
  });
}

/** Run a connector definition in-process (fast unit-level CLI tests). */
export async function runInProcess<C>(
  def: ConnectorDefinition<C>,
  argv: string[],
  stdinText = "",
  signal: AbortSignal = new AbortController().signal,
): Promise<{ code: number; stdout: string }> {
  const stdout = new PassThrough();
  let text = "";
  stdout.setEncoding("utf8").on("data", (d: string) => {
    text += d;
  });
  const code = await runCommand(def, argv, { stdin: Readable.from([stdinText]), stdout, stderr: new PassThrough() }, signal);
  return { code, stdout: text };
}
