import { readFile } from "node:fs/promises";
import type { z } from "zod";
import { ConnectorError, configError } from "../errors/connector-error.js";

/** Read and JSON-parse an argument file (config, catalog, state); never `require`d. */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw configError(`cannot read the ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw configError(`the ${what} file ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** One line naming each offending field, e.g. `config field storage.path: required`. */
export function describeIssues(what: string, error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const field = i.path.length ? i.path.join(".") : "(root)";
      const missing = i.code === "invalid_type" && /received undefined/.test(i.message);
      return `${what} field ${field}: ${missing ? "required field is missing" : i.message}`;
    })
    .join("; ");
}

export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw configError(`invalid ${what}: ${describeIssues(what, result.error)}`);
  return result.data;
}

export function isConfigProblem(e: unknown): e is ConnectorError {
  return e instanceof ConnectorError && e.failureType !== "system_error";
}
