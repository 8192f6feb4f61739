/**
 * Reproduces a connector image without Docker: each stage gets its own root folder standing for
 * `/`; COPY instructions are replayed from the build context (honouring .dockerignore) or from the
 * build stage's root; the RUN steps that shape the files (`npm ci`, `npx tsc`, `find -delete`) run
 * verbatim under bash in the stage's WORKDIR. System steps (apt-get, useradd) are not replayed here:
 * they are checked statically and, where a Debian root filesystem exists, by the rootfs test.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix, relative } from "node:path";
import {
  type Connector,
  copies,
  copyFromContext,
  env,
  lastOf,
  loadDockerignore,
  parseDockerfile,
  REPO,
  type Stage,
} from "./dockerfile.js";

export interface ReproducedImage {
  connector: Connector;
  /** Folder standing for the runtime image's `/`. */
  root: string;
  /** Folder standing for the build stage's `/`. */
  buildRoot: string;
  workdir: string;
  entrypoint: string[];
  env: Map<string, string>;
  files: { path: string; bytes: number }[];
  totalBytes: number;
  log: string[];
  /** Temp folder holding every stage's root. */
  base: string;
  cleanup(): void;
}

function workdirOf(stage: Stage): string {
  let w = "/";
  for (const s of stage.steps) if (s.keyword === "WORKDIR") w = posix.resolve(w, s.args[0] ?? "/");
  return w;
}

/** Run one RUN step's shell text in `cwd`; npm is told to prefer its local cache (CI has it warm). */
async function runShell(script: string, cwd: string, log: string[]): Promise<void> {
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn("bash", ["-euo", "pipefail", "-c", script], {
      cwd,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? tmpdir(),
        npm_config_prefer_offline: "true",
        npm_config_update_notifier: "false",
        npm_config_fund: "false",
        npm_config_audit: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      log.push(`RUN ${script.replace(/\s*\\\n\s*/g, " ")}  (${((Date.now() - started) / 1000).toFixed(1)} s, exit ${code})`);
      if (code === 0) resolve();
      else reject(new Error(`RUN failed (exit ${code}): ${script}\n${out.slice(-4000)}`));
    });
  });
}

const isSystemStep = (script: string) => /\b(apt-get|useradd|userdel|groupadd|chown|adduser)\b/.test(script);

async function replayStage(stage: Stage, root: string, roots: Map<string, string>, log: string[]): Promise<void> {
  const rules = loadDockerignore();
  let workdir = "/";
  const copySpecs = copies(stage);
  let copyIndex = 0;
  for (const s of stage.steps) {
    if (s.keyword === "WORKDIR") {
      workdir = posix.resolve(workdir, s.args[0] ?? "/");
      mkdirSync(join(root, workdir), { recursive: true });
    } else if (s.keyword === "COPY") {
      const spec = copySpecs[copyIndex++];
      if (!spec) throw new Error("COPY bookkeeping");
      if (spec.from) {
        const fromRoot = roots.get(spec.from);
        if (!fromRoot) throw new Error(`COPY --from=${spec.from}: unknown stage`);
        for (const src of spec.sources) {
          const abs = join(fromRoot, posix.resolve("/", src));
          if (!statSync(abs, { throwIfNoEntry: false }))
            throw new Error(`COPY --from=${spec.from} ${src}: not produced by that stage`);
          const dest = join(root, spec.absDest);
          mkdirSync(dest, { recursive: true });
          spawnSync("cp", ["-a", `${abs}/.`, dest]);
        }
        log.push(`COPY --from=${spec.from} ${spec.sources.join(" ")} ${spec.dest}`);
      } else {
        const files = copyFromContext(spec, root, rules);
        log.push(`COPY ${spec.sources.join(" ")} ${spec.dest}  (${files.length} files)`);
      }
    } else if (s.keyword === "RUN") {
      const script = s.raw;
      if (isSystemStep(script)) {
        log.push(`skipped system step: RUN ${script.split("\n")[0]} ...`);
        continue;
      }
      // `npm cache clean` would wipe this machine's shared npm cache: in an image layer it only
      // keeps the cache out of the image, so the reproduction leaves it out.
      const local = script.replace(/\s*&&\s*npm cache clean --force/g, "");
      if (/npm cache clean/.test(local)) throw new Error(`cannot reproduce safely: ${script}`);
      await runShell(local, join(root, workdir), log);
    }
  }
}

function listFiles(dir: string): { path: string; bytes: number }[] {
  const out: { path: string; bytes: number }[] = [];
  const walk = (p: string) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else out.push({ path: relative(dir, p), bytes: st.size });
  };
  walk(dir);
  return out;
}

/** Builds both stages of a connector's Dockerfile into temp folders. */
export async function reproduceImage(connector: Connector): Promise<ReproducedImage> {
  const stages = parseDockerfile(join(REPO, connector.dockerfile));
  const base = mkdtempSync(join(tmpdir(), `image-${connector.pkg}-`));
  const roots = new Map<string, string>();
  const log: string[] = [];
  let runtimeRoot = "";
  for (const [i, stage] of stages.entries()) {
    const root = join(base, stage.name ?? `stage${i}`);
    mkdirSync(root, { recursive: true });
    await replayStage(stage, root, roots, log);
    if (stage.name) roots.set(stage.name, root);
    runtimeRoot = root;
  }
  const runtime = stages.at(-1) as Stage;
  const workdir = workdirOf(runtime);
  const files = listFiles(join(runtimeRoot, workdir)).map((f) => ({ ...f, path: posix.join(workdir, f.path) }));
  return {
    connector,
    root: runtimeRoot,
    buildRoot: roots.get(stages[0]?.name ?? "") ?? "",
    workdir,
    entrypoint: lastOf(runtime, "ENTRYPOINT")?.json ?? [],
    env: env(runtime),
    files,
    totalBytes: files.reduce((a, f) => a + f.bytes, 0),
    log,
    base,
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}

/**
 * The image's ENTRYPOINT as a host command: image paths under the runtime root, the image's node
 * replaced by this node binary (same major), tini dropped (it only forwards signals; the rootfs
 * test runs the real one).
 */
export function hostCommand(image: ReproducedImage): string[] {
  let argv = [...image.entrypoint];
  if (argv[0]?.endsWith("/tini")) argv = argv.slice(argv[1] === "--" ? 2 : 1);
  return argv.map((a, i) => (i === 0 && a.endsWith("/node") ? process.execPath : a.startsWith("/") ? join(image.root, a) : a));
}
