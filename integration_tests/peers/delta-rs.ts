/** Test helper: run the delta-rs peer (integration_tests/peers/delta_peer.py) and canonicalise typed cells the same way. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
export const PEER = fileURLToPath(new URL("./delta_peer.py", import.meta.url));
/** The CI venv's python (deltalake, pyarrow pinned by .ci/install.sh) when present, else python3. */
const VENV_PYTHON = fileURLToPath(new URL("../../.ci/.venv/bin/python", import.meta.url));
export const PYTHON = process.env.PYTHON ?? (existsSync(VENV_PYTHON) ? VENV_PYTHON : "python3");

export type Canon = string | number | boolean | null;
export type CanonRow = Record<string, Canon>;

export interface PeerTable {
  version: number;
  schema: [string, string, boolean][];
  rows: CanonRow[];
}

/** Is delta-rs importable here? */
export async function deltaRsAvailable(): Promise<boolean> {
  try {
    await run(PYTHON, ["-c", "import deltalake, pyarrow"]);
    return true;
  } catch {
    return false;
  }
}

export async function deltaRsRead(path: string, version?: number): Promise<PeerTable> {
  const args = [PEER, "read", path, ...(version === undefined ? [] : ["--version", String(version)])];
  const { stdout } = await run(PYTHON, args, { maxBuffer: 1 << 30 });
  const lines = stdout.split("\n").filter((l) => l.trim() !== "");
  const head = JSON.parse(lines[0]!) as { version: number; schema: [string, string, boolean][] };
  return { version: head.version, schema: head.schema, rows: lines.slice(1).map((l) => JSON.parse(l) as CanonRow) };
}

async function feed(args: string[], rows: CanonRow[]): Promise<string> {
  const child = execFile(PYTHON, [PEER, ...args], { maxBuffer: 1 << 30 });
  const out = new Promise<string>((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    child.on("close", (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`delta_peer ${args[0]} failed (${code}): ${stderr}`)),
    );
  });
  for (const r of rows) child.stdin?.write(`${JSON.stringify(r)}\n`);
  child.stdin?.end();
  return out;
}

/** schemaFile: JSON [[name, deltaType, nullable], ...] */
export async function deltaRsWrite(
  path: string,
  mode: "append" | "overwrite",
  schemaFile: string,
  rows: CanonRow[],
): Promise<void> {
  await feed(["write", path, mode, schemaFile], rows);
}

export async function deltaRsMerge(path: string, keys: string[], schemaFile: string, rows: CanonRow[]): Promise<void> {
  await feed(["merge", path, keys.join(","), schemaFile], rows);
}

export async function deltaRsCheckpoint(path: string): Promise<void> {
  await run(PYTHON, [PEER, "checkpoint", path]);
}

/** A typed cell in the peer's encoding. */
export function canonCell(v: unknown): Canon {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "NaN";
    if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
    return v;
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  return v as Canon;
}

/** Canonicalise a typed row; integer-typed columns (number cells) must be strings like the peer prints them. */
export function canonRow(row: Record<string, unknown>, intColumns: ReadonlySet<string>): CanonRow {
  const out: CanonRow = {};
  for (const [k, v] of Object.entries(row)) {
    const c = canonCell(v);
    out[k] = typeof c === "number" && intColumns.has(k) ? String(c) : c;
  }
  return out;
}

export function sortRows(rows: CanonRow[], keys: string[]): CanonRow[] {
  return [...rows].sort((a, b) => {
    for (const k of keys) {
      const x = a[k];
      const y = b[k];
      if (x === y) continue;
      if (x === null) return -1;
      if (y === null) return 1;
      if (typeof x === "string" && typeof y === "string" && /^-?\d+$/.test(x) && /^-?\d+$/.test(y)) {
        const d = BigInt(x) - BigInt(y);
        if (d !== 0n) return d < 0n ? -1 : 1;
        continue;
      }
      return String(x) < String(y) ? -1 : 1;
    }
    return 0;
  });
}
