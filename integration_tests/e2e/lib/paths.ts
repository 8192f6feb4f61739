/**
 * Where things are: the built connectors, the repo, the Python tools installed by .ci/install.sh.
 * Everything here resolves from this file, so the suites work from any cwd and in a fresh clone.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, "..", "..", "..");
export const SOURCE_MAIN = join(REPO, "source-cockroachdb-cdc", "dist", "main.js");
export const DEST_MAIN = join(REPO, "destination-databricks-delta", "dist", "main.js");
export const LIB_DIR = here;

export function connectorsBuilt(): boolean {
  return existsSync(SOURCE_MAIN) && existsSync(DEST_MAIN);
}

interface Tools {
  python?: string;
  pyairbytePython?: string;
  tapAirbyte?: string;
}

function endpointTools(): Tools {
  const file = process.env.CDC_SERVICES_ENDPOINTS ?? join(REPO, ".services", "endpoints.json");
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { tools?: Tools }).tools ?? {};
  } catch {
    return {};
  }
}

function firstExisting(...cands: Array<string | undefined>): string | null {
  for (const c of cands) if (c && existsSync(c)) return c;
  return null;
}

/** Python with deltalake + pyarrow (the main CI venv), or null. */
export function deltaPython(): string | null {
  return firstExisting(process.env.CDC_DELTA_PYTHON, endpointTools().python, join(REPO, ".ci", ".venv", "bin", "python"));
}

/** Python of the PyAirbyte venv, or null. */
export function pyairbytePython(): string | null {
  return firstExisting(endpointTools().pyairbytePython, join(REPO, ".services", "venv-pyairbyte", "bin", "python"));
}

/** Python of the tap-airbyte (Meltano wrapper) venv, or null. */
export function tapAirbytePython(): string | null {
  return firstExisting(join(REPO, ".services", "venv-tap-airbyte", "bin", "python"));
}
