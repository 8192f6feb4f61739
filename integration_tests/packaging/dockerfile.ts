/**
 * Dockerfile and .dockerignore model for the packaging tests: which stages exist, what each COPY
 * takes from where, and how to reproduce a stage's file tree outside Docker (no daemon here).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { DockerfileParser, type Instruction } from "dockerfile-ast";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));

export const CONNECTORS = [
  { pkg: "source-cockroachdb-cdc", dockerfile: "Dockerfile.source", kind: "source" },
  { pkg: "destination-databricks-delta", dockerfile: "Dockerfile.destination", kind: "destination" },
] as const;
export type Connector = (typeof CONNECTORS)[number];

export interface Step {
  keyword: string;
  line: number;
  /** Shell-split arguments as written (quotes kept), flags removed for COPY. */
  args: string[];
  /** COPY --from value. */
  from?: string;
  /** Exec-form JSON strings (ENTRYPOINT/CMD/COPY). */
  json?: string[];
  /** LABEL/ENV key=value pairs, quotes removed. */
  props?: [string, string][];
  raw: string;
}

export interface Stage {
  name: string | null;
  image: string | null;
  tag: string | null;
  digest: string | null;
  steps: Step[];
}

const unquote = (v: string) =>
  v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) ? v.slice(1, -1) : v;

function toStep(i: Instruction): Step {
  const keyword = i.getKeyword();
  const step: Step = {
    keyword,
    line: i.getRange().start.line + 1,
    args: i.getArguments().map((a) => a.getValue()),
    raw: i.getRawArgumentsContent() ?? "",
  };
  const any = i as unknown as Record<string, unknown>;
  if (typeof any.getJSONStrings === "function") {
    const json = (any.getJSONStrings as () => { getJSONValue(): string }[]).call(i).map((j) => j.getJSONValue());
    if (json.length > 0) step.json = json;
  }
  if (typeof any.getFromFlag === "function") {
    const flag = (any.getFromFlag as () => { getValue(): string | null } | null).call(i);
    if (flag?.getValue()) step.from = flag.getValue() ?? undefined;
  }
  if (typeof any.getProperties === "function") {
    step.props = (any.getProperties as () => { getName(): string; getValue(): string | null }[])
      .call(i)
      .map((p) => [p.getName(), unquote(p.getValue() ?? "")]);
  }
  return step;
}

export function parseDockerfile(path: string): Stage[] {
  const df = DockerfileParser.parse(readFileSync(path, "utf8"));
  const stages: Stage[] = [];
  for (const i of df.getInstructions()) {
    if (i.getKeyword() === "FROM") {
      const from = df.getFROMs().find((f) => f.getRange().start.line === i.getRange().start.line);
      stages.push({
        name: from?.getBuildStage() ?? null,
        image: from?.getImageName() ?? null,
        tag: from?.getImageTag() ?? null,
        digest: from?.getImageDigest() ?? null,
        steps: [],
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${path}: ${i.getKeyword()} before FROM`);
    stage.steps.push(toStep(i));
  }
  return stages;
}

export interface CopySpec {
  stage: string | null;
  from?: string;
  sources: string[];
  dest: string;
  /** Absolute destination inside the image (WORKDIR applied). */
  absDest: string;
  line: number;
}

/** Every COPY with its sources and absolute destination (WORKDIR applied). */
export function copies(stage: Stage): CopySpec[] {
  let workdir = "/";
  const out: CopySpec[] = [];
  for (const s of stage.steps) {
    if (s.keyword === "WORKDIR") workdir = posix.resolve(workdir, s.args[0] ?? "/");
    if (s.keyword !== "COPY" && s.keyword !== "ADD") continue;
    const parts = s.json ?? s.args.filter((a) => !a.startsWith("--"));
    const dest = parts.at(-1) ?? "";
    const abs = posix.resolve(workdir, dest) + (dest.endsWith("/") ? "/" : "");
    out.push({ stage: stage.name, from: s.from, sources: parts.slice(0, -1), dest, absDest: abs, line: s.line });
  }
  return out;
}

export function env(stage: Stage): Map<string, string> {
  const m = new Map<string, string>();
  for (const s of stage.steps) if (s.keyword === "ENV") for (const [k, v] of s.props ?? []) m.set(k, v);
  return m;
}

export function labels(stage: Stage): Map<string, string> {
  const m = new Map<string, string>();
  for (const s of stage.steps) if (s.keyword === "LABEL") for (const [k, v] of s.props ?? []) m.set(k, v);
  return m;
}

export const lastOf = (stage: Stage, keyword: string) => stage.steps.filter((s) => s.keyword === keyword).at(-1);

/** The shell command lines of RUN steps, split on `&&`, with line continuations joined. */
export function runCommands(stage: Stage): string[][] {
  const cmds: string[][] = [];
  for (const s of stage.steps) {
    if (s.keyword !== "RUN") continue;
    let cur: string[] = [];
    for (const a of s.args) {
      if (a === "&&") {
        cmds.push(cur);
        cur = [];
      } else cur.push(a);
    }
    if (cur.length) cmds.push(cur);
  }
  return cmds;
}

// ---------------------------------------------------------------------------------------------
// .dockerignore (moby patternmatcher semantics, the subset we use: `**`, `*`, `?`, `!`, last match wins)

export interface IgnoreRule {
  negate: boolean;
  re: RegExp;
  pattern: string;
}

export function loadDockerignore(path = join(REPO, ".dockerignore")): IgnoreRule[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const negate = l.startsWith("!");
      const pattern = posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+/, "");
      let re = "";
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i] as string;
        if (c === "*" && pattern[i + 1] === "*") {
          if (pattern[i + 2] === "/") {
            re += "(?:.*/)?";
            i += 2;
          } else {
            re += ".*";
            i += 1;
          }
        } else if (c === "*") re += "[^/]*";
        else if (c === "?") re += "[^/]";
        else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
      }
      // a pattern matching a directory also matches everything below it
      return { negate, pattern, re: new RegExp(`^${re}(?:/.*)?$`) };
    });
}

export function isIgnored(rel: string, rules: IgnoreRule[]): boolean {
  let ignored = false;
  for (const r of rules) if (r.re.test(rel)) ignored = !r.negate;
  return ignored;
}

/** Files (relative to the repo) that a context path contributes after .dockerignore. */
export function contextFiles(source: string, rules: IgnoreRule[]): string[] {
  const abs = join(REPO, source);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  const walk = (p: string) => {
    const rel = relative(REPO, p).split("\\").join("/");
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p)) if (e !== "node_modules" && e !== "dist") walk(join(p, e));
    } else if (!isIgnored(rel, rules)) out.push(rel);
  };
  walk(abs);
  return out.sort();
}

/**
 * Copies the context sources of a COPY into `root` + its absolute destination, honouring
 * .dockerignore and Docker's rules (a directory source copies its contents; several sources need a
 * directory destination).
 */
export function copyFromContext(spec: CopySpec, root: string, rules: IgnoreRule[]): string[] {
  const copied: string[] = [];
  for (const src of spec.sources) {
    const files = contextFiles(src, rules);
    if (files.length === 0) throw new Error(`COPY ${src} (line ${spec.line}): nothing in the build context`);
    const isDir = statSync(join(REPO, src)).isDirectory();
    for (const f of files) {
      const target = isDir
        ? join(root, spec.absDest, relative(src, f))
        : spec.absDest.endsWith("/") || spec.sources.length > 1
          ? join(root, spec.absDest, posix.basename(f))
          : join(root, spec.absDest);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(join(REPO, f), target);
      copied.push(f);
    }
  }
  return copied;
}
