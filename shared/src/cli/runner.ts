import type { Readable, Writable } from "node:stream";
import { format } from "node:util";
import { Command, CommanderError } from "commander";
import type { z } from "zod";
import { parseWith, readJsonFile } from "../config/load.js";
import { connectionSpecification } from "../config/spec.js";
import { ConnectorError, configError, errorMessage, systemError } from "../errors/connector-error.js";
import { readMessages, type ReaderStats, type InputLine } from "../io/message-reader.js";
import { MessageWriter } from "../io/message-writer.js";
import { Logger } from "../log/logger.js";
import { collectSecrets, Redactor } from "../log/redact.js";
import { catalogMessage, connectionStatusMessage, errorTraceMessage, specMessage } from "../protocol/messages.js";
import {
  type AirbyteCatalog,
  type AirbyteMessage,
  ConfiguredAirbyteCatalog,
  type ConnectorSpecification,
} from "../protocol/schemas.js";

export interface RunContext {
  logger: Logger;
  /** Aborted on SIGTERM: stop pulling input, mark open streams INCOMPLETE, return. */
  signal: AbortSignal;
  redactor: Redactor;
}

export interface CheckResult {
  status: "SUCCEEDED" | "FAILED";
  message?: string;
}

export interface ConnectorDefinition<C> {
  name: string;
  kind: "source" | "destination";
  configSchema: z.ZodType<C>;
  /** Fields of the SPEC besides connectionSpecification. */
  spec: Omit<ConnectorSpecification, "connectionSpecification">;
  check(config: C, ctx: RunContext): Promise<CheckResult>;
  discover?(config: C, ctx: RunContext): Promise<AirbyteCatalog>;
  read?(config: C, catalog: ConfiguredAirbyteCatalog, state: unknown, ctx: RunContext): AsyncIterable<AirbyteMessage>;
  write?(
    config: C,
    catalog: ConfiguredAirbyteCatalog,
    input: AsyncIterable<InputLine>,
    ctx: RunContext & { inputStats: ReaderStats },
  ): AsyncIterable<AirbyteMessage>;
}

export interface RunIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The SPEC a connector prints: generated from its zod config schema. */
export function buildSpec<C>(def: ConnectorDefinition<C>): ConnectorSpecification {
  return { ...def.spec, connectionSpecification: connectionSpecification(def.configSchema, def.name) };
}

/**
 * Runs one protocol command and returns the exit code. Every failure becomes one TRACE error as the
 * last stdout line; stdout carries protocol messages only, written with backpressure.
 */
export async function runCommand<C>(
  def: ConnectorDefinition<C>,
  argv: string[],
  io: RunIo,
  signal: AbortSignal,
): Promise<number> {
  const redactor = new Redactor();
  const writer = new MessageWriter(io.stdout, redactor);
  const logger = new Logger(writer);
  const ctx: RunContext = { logger, signal, redactor };
  const spec = buildSpec(def);
  const emitAll = async (messages: AsyncIterable<AirbyteMessage>) => {
    for await (const m of messages) {
      const pending = writer.write(m);
      if (pending) await pending;
    }
  };
  const loadConfig = async (path: string): Promise<C> => {
    const raw = await readJsonFile(path, "config");
    collectSecrets(spec.connectionSpecification, raw, redactor);
    return parseWith(def.configSchema, raw, "config");
  };
  const loadCatalog = async (path: string) => parseWith(ConfiguredAirbyteCatalog, await readJsonFile(path, "catalog"), "catalog");

  let exitCode = EXIT_OK;
  const program = new Command(def.name)
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .showHelpAfterError(false);
  program.command("spec").action(async () => {
    await writer.write(specMessage(spec));
  });
  program
    .command("check")
    .requiredOption("--config <path>")
    .action(async (opts: { config: string }) => {
      let config: C;
      try {
        config = await loadConfig(opts.config);
      } catch (e) {
        if (e instanceof ConnectorError && /^invalid config/.test(e.message)) {
          await writer.write(connectionStatusMessage("FAILED", e.message));
          return;
        }
        throw e;
      }
      try {
        const result = await def.check(config, ctx);
        await writer.write(connectionStatusMessage(result.status, result.message));
      } catch (e) {
        if (e instanceof ConnectorError && e.failureType !== "system_error") {
          await writer.write(connectionStatusMessage("FAILED", e.message));
        } else throw e;
      }
    });
  if (def.discover) {
    const discover = def.discover.bind(def);
    program
      .command("discover")
      .requiredOption("--config <path>")
      .action(async (opts: { config: string }) => {
        const config = await loadConfig(opts.config);
        await writer.write(catalogMessage(await discover(config, ctx)));
      });
  }
  if (def.read) {
    const read = def.read.bind(def);
    program
      .command("read")
      .requiredOption("--config <path>")
      .requiredOption("--catalog <path>")
      .option("--state <path>")
      .action(async (opts: { config: string; catalog: string; state?: string }) => {
        const config = await loadConfig(opts.config);
        const catalog = await loadCatalog(opts.catalog);
        const state = opts.state ? await readJsonFile(opts.state, "state") : undefined;
        await emitAll(read(config, catalog, state, ctx));
        if (signal.aborted) exitCode = EXIT_FAILURE;
      });
  }
  if (def.write) {
    const write = def.write.bind(def);
    program
      .command("write")
      .requiredOption("--config <path>")
      .requiredOption("--catalog <path>")
      .action(async (opts: { config: string; catalog: string }) => {
        const config = await loadConfig(opts.config);
        const catalog = await loadCatalog(opts.catalog);
        const inputStats: ReaderStats = { lines: 0, noiseLines: 0 };
        await emitAll(write(config, catalog, readMessages(io.stdin, inputStats), { ...ctx, inputStats }));
        if (signal.aborted) exitCode = EXIT_FAILURE;
      });
  }

  const restoreConsole = rerouteConsole(logger);
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    exitCode = e instanceof CommanderError ? EXIT_USAGE : EXIT_FAILURE;
    const error =
      e instanceof CommanderError
        ? configError(`usage: ${e.message.replace(/^error: /, "")} (commands: spec, check, discover, read, write)`)
        : toConnectorError(e);
    if (e instanceof ConnectorError && e.message.startsWith("cannot read the")) exitCode = EXIT_USAGE;
    await writer.write(errorTraceMessage(error, e instanceof Error ? e.stack : undefined));
  } finally {
    restoreConsole();
    await writer.end();
  }
  return exitCode;
}

export function toConnectorError(e: unknown): ConnectorError {
  if (e instanceof ConnectorError) return e;
  return systemError(`unexpected error: ${errorMessage(e)}`, { internal: e instanceof Error ? e.stack : String(e), cause: e });
}

/** Dependencies' console output becomes LOG messages instead of corrupting stdout. */
function rerouteConsole(logger: Logger): () => void {
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
  console.log = (...a: unknown[]) => logger.info(format(...a));
  console.info = (...a: unknown[]) => logger.info(format(...a));
  console.debug = (...a: unknown[]) => logger.debug(format(...a));
  console.warn = (...a: unknown[]) => logger.warn(format(...a));
  console.error = (...a: unknown[]) => logger.error(format(...a));
  return () => Object.assign(console, saved);
}

/**
 * Re-raise SIGTERM so the parent sees death by the signal. As PID 1 (a container without an init)
 * the kernel ignores it, so fall back to the conventional exit code 143 (128 + 15).
 */
function dieBySigterm(): never {
  process.removeAllListeners("SIGTERM");
  process.kill(process.pid, "SIGTERM");
  setTimeout(() => process.exit(143), 200);
  // Keep the event loop alive until one of the two ends the process.
  return undefined as never;
}

/**
 * Process entry point for a connector's main.ts: wires stdio, SIGTERM, broken pipes and
 * last-resort handlers, then exits with the command's code (after the last byte is written).
 */
export function main<C>(def: ConnectorDefinition<C>): void {
  const controller = new AbortController();
  const io: RunIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  const lastResort = (e: unknown) => {
    const error = toConnectorError(e);
    const line = JSON.stringify(errorTraceMessage(error, e instanceof Error ? e.stack : undefined));
    try {
      process.stdout.write(`${line}\n`, () => process.exit(EXIT_FAILURE));
    } catch {
      process.exit(EXIT_FAILURE);
    }
    setTimeout(() => process.exit(EXIT_FAILURE), 1000).unref();
  };
  process.on("uncaughtException", lastResort);
  process.on("unhandledRejection", lastResort);
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    // The reader went away (SIGPIPE/EPIPE): nothing more can be said; end quietly.
    if (e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED") process.exit(EXIT_FAILURE);
    lastResort(e);
  });
  let terminating = false;
  process.on("SIGTERM", () => {
    if (terminating) return;
    terminating = true;
    controller.abort();
    // Give the command a moment to mark streams INCOMPLETE and flush, then die by the signal.
    setTimeout(() => dieBySigterm(), 5000).unref();
  });
  runCommand(def, process.argv.slice(2), io, controller.signal).then((code) => {
    if (terminating) {
      dieBySigterm();
      return;
    }
    process.exitCode = code;
    // Lingering sockets (SDK keep-alive pools) must not keep a finished connector alive.
    setTimeout(() => process.exit(code), 3000).unref();
  }, lastResort);
}
