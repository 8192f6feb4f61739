/**
 * Acceptance-suite support: a small emulated feed per test file, connector runs whose every stdout
 * line is validated against the official protocol schema, and the CAT spec lint (airbyte-protocol.md §2).
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertOfficialMessages } from "../../shared/src/testing/index.js";
import type { Manifest } from "../emulator/truth.js";
import { configureCatalog } from "../e2e/lib/catalog.js";
import { type EmulateOptions, emulate } from "../e2e/lib/emulate.js";
import { type Msg, runConnector } from "../e2e/lib/proc.js";

export interface Fixture {
  dir: string;
  feed: string;
  truth: string;
  manifest: Manifest;
  sourceConfig: string;
  catalogMsg: Msg;
}

/** Small windows (many RESOLVED-bounded windows per read, so many intermediate states). */
export const SMALL_WINDOWS = { max_window_bytes: 16 * 1024 };

export async function makeFixture(
  label: string,
  o: Partial<EmulateOptions> = {},
  sourceExtra: Record<string, unknown> = SMALL_WINDOWS,
): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), `cdc-acc-${label}-`));
  const feed = join(dir, "feed");
  const em = await emulate({ out: feed, tables: 2, changes: 600, seed: 5, families: true, ...o });
  const sourceConfig = join(dir, "source.json");
  await writeFile(sourceConfig, JSON.stringify({ storage: { type: "local", path: feed }, ...sourceExtra }));
  const disc = await run("source", ["discover", "--config", sourceConfig]);
  const cat = disc.msgs.find((m) => m.type === "CATALOG");
  if (!cat) throw new Error(`discover gave no CATALOG (exit ${disc.code}): ${disc.stdout.slice(-1000)}`);
  return { dir, feed, truth: em.truth, manifest: em.manifest, sourceConfig, catalogMsg: cat.catalog };
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  msgs: Msg[];
  ms: number;
}

/** Run a connector command; EVERY stdout line must validate against the official schema. */
export async function run(
  which: "source" | "destination",
  args: string[],
  o: { stdin?: string; timeoutMs?: number } = {},
): Promise<Run> {
  const r = await runConnector(which, args, o);
  const msgs = assertOfficialMessages(r.stdout) as Msg[];
  return { ...r, msgs };
}

export async function writeJsonFile(dir: string, name: string, v: unknown): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, typeof v === "string" ? v : JSON.stringify(v));
  return p;
}

export function catalogFile(f: Fixture, name: string, o: Parameters<typeof configureCatalog>[1] = {}): Promise<string> {
  return writeJsonFile(f.dir, name, configureCatalog(f.catalogMsg, o));
}

export const byType = (msgs: Msg[], t: string) => msgs.filter((m) => m.type === t);

// ---------------------------------------------------------------------------------------------
// CAT spec lint (airbyte-protocol.md §2 "SPEC rules").

const SECRET_NAME =
  /(password|passwd|secret|token|account_key|access_key|private_key|api_key|sas|connection_string|credentials_json|client_secret)/i;
const NOT_SECRET = /(^|_)(primary_key|key_columns|keys|partition_key|token_url|secret_name|access_key_id)$/i;

export function lintSpec(schema: Msg): string[] {
  const problems: string[] = [];
  const visit = (node: Msg, path: string, parentIsObject: boolean, propName: string | null) => {
    if (!node || typeof node !== "object") return;
    for (const bad of [
      "$ref",
      "anyOf",
      "allOf",
      "not",
      "if",
      "then",
      "else",
      "patternProperties",
      "prefixItems",
      "dependentSchemas",
      "dependentRequired",
      "dependencies",
    ]) {
      if (bad in node) problems.push(`${path}: uses ${bad}`);
    }
    if (Array.isArray(node.type)) {
      const t = node.type as string[];
      const ok = t.length === 1 || (t.length === 2 && t.includes("null"));
      if (!ok) problems.push(`${path}: type array ${JSON.stringify(t)}`);
    }
    if ("additionalProperties" in node && node.additionalProperties !== true)
      problems.push(`${path}: additionalProperties ${JSON.stringify(node.additionalProperties)}`);
    if (propName !== null) {
      const secretish = SECRET_NAME.test(propName) && !NOT_SECRET.test(propName);
      const isObj = node.type === "object" || (Array.isArray(node.type) && node.type.includes("object"));
      if (secretish && !isObj && node.airbyte_secret !== true)
        problems.push(`${path}: credential-like property without airbyte_secret`);
      if (node.airbyte_secret === true && !secretish)
        problems.push(`${path}: airbyte_secret on a property that does not look like a credential (${propName})`);
    }
    if (Array.isArray(node.oneOf)) {
      const isObj = node.type === "object" || parentIsObject;
      if (!isObj) problems.push(`${path}: oneOf not under type object`);
      const consts = (node.oneOf as Msg[]).map((v) => {
        const props = (v.properties ?? {}) as Record<string, Msg>;
        return Object.entries(props)
          .filter(([, p]) => p && "const" in p)
          .map(([k]) => k);
      });
      const shared = consts[0]?.filter((k) => consts.every((c) => c.includes(k))) ?? [];
      if (shared.length === 0) problems.push(`${path}: oneOf variants lack one shared const discriminator`);
      (node.oneOf as Msg[]).forEach((v, i) => {
        if (!v.properties) problems.push(`${path}.oneOf[${i}]: no properties`);
        visit(v, `${path}.oneOf[${i}]`, true, null);
      });
    }
    if (node.properties && typeof node.properties === "object") {
      for (const [k, v] of Object.entries(node.properties as Record<string, Msg>)) visit(v, `${path}.${k}`, false, k);
    }
    if (node.items && typeof node.items === "object") visit(node.items as Msg, `${path}[]`, false, null);
  };
  if (schema.type !== "object") problems.push("root: type is not object");
  visit(schema, "$", true, null);
  return problems;
}
