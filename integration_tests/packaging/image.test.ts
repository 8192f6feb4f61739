/**
 * "Image content" test: both Dockerfiles are replayed outside Docker (reproduce.ts): the build stage
 * from the build context only (COPY + .dockerignore, `npm ci`, `npx tsc -b`, the dist clean-up), the
 * runtime stage from package files + the build stage's dist + `npm ci --omit=dev`. The runtime tree is
 * then checked (nothing but production files) and driven through the image's own ENTRYPOINT:
 * `spec`, `check`, `discover`, and a `source read | destination write` OS pipe on a tiny changefeed,
 * from an unrelated working folder, with a minimal environment (no NODE_PATH, no repo on the path).
 */
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONNECTORS, parseDockerfile, REPO } from "./dockerfile.js";
import { configureCatalog, writeTinyChangefeed } from "./fixture.js";
import { hostCommand, type ReproducedImage, reproduceImage } from "./reproduce.js";

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: Record<string, any>[];
}

const images = new Map<string, ReproducedImage>();
let work = "";

function minimalEnv(image: ReproducedImage): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: work, TMPDIR: join(work, "tmp") };
  for (const [k, v] of image.env) env[k] = v;
  return env;
}

function parseLines(stdout: string): Record<string, any>[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

function run(image: ReproducedImage, args: string[], stdin = ""): Promise<Run> {
  const [cmd, ...rest] = hostCommand(image);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, [...rest, ...args], { cwd: work, env: minimalEnv(image), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, lines: parseLines(stdout) });
    });
    child.stdin.end(stdin);
  });
}

/** `source <args> | destination <args>` through a real OS pipe, as `docker run ... | docker run ...`. */
function pipe(
  src: ReproducedImage,
  srcArgs: string[],
  dst: ReproducedImage,
  dstArgs: string[],
): Promise<{ source: Run; destination: Run }> {
  const [sCmd, ...sRest] = hostCommand(src);
  const [dCmd, ...dRest] = hostCommand(dst);
  const s = spawn(sCmd!, [...sRest, ...srcArgs], { cwd: work, env: minimalEnv(src), stdio: ["ignore", "pipe", "pipe"] });
  const d = spawn(dCmd!, [...dRest, ...dstArgs], { cwd: work, env: minimalEnv(dst), stdio: [s.stdout, "pipe", "pipe"] });
  // the destination holds its own copy of the pipe's read end; ours would keep the source's 'close' from firing
  s.stdout?.destroy();
  const collect = (child: ReturnType<typeof spawn>, withStdout: boolean) =>
    new Promise<Run>((resolve, reject) => {
      let stdout = "";
      let stderr = "";
      if (withStdout) child.stdout?.setEncoding("utf8").on("data", (x: string) => (stdout += x));
      child.stderr?.setEncoding("utf8").on("data", (x: string) => (stderr += x));
      const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
      child.on("error", reject);
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr, lines: withStdout ? parseLines(stdout) : [] });
      });
    });
  return Promise.all([collect(s, false), collect(d, true)]).then(([source, destination]) => ({ source, destination }));
}

const img = (pkg: string) => {
  const i = images.get(pkg);
  if (!i) throw new Error(`image ${pkg} was not reproduced`);
  return i;
};
const SRC = "source-cockroachdb-cdc";
const DST = "destination-databricks-delta";

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "image-run-"));
  mkdirSync(join(work, "tmp"));
  // one at a time: two concurrent `npm ci` on 2 cores are slower than two in a row
  for (const c of CONNECTORS) images.set(c.pkg, await reproduceImage(c));
  const logs = join(REPO, ".ci/logs");
  mkdirSync(logs, { recursive: true });
  for (const [pkg, image] of images) {
    writeFileSync(
      join(logs, `image-${pkg}.txt`),
      [
        `# ${pkg}: runtime image content under ${image.workdir} (base image excluded)`,
        `# ${image.files.length} files, ${(image.totalBytes / 1e6).toFixed(1)} MB`,
        ...image.log.map((l) => `# ${l}`),
        ...image.files.map((f) => `${f.bytes}\t${f.path}`),
      ].join("\n"),
    );
  }
}, 600_000);

/** Temp trees hold ~100k files: deleting them can take minutes on a busy disk, so it runs detached. */
function removeInBackground(...dirs: string[]): void {
  const targets = dirs.filter(Boolean);
  if (targets.length) spawn("rm", ["-rf", ...targets], { detached: true, stdio: "ignore" }).unref();
}

afterAll(() => removeInBackground(work, ...[...images.values()].map((i) => i.base)));

describe.each(CONNECTORS)("$pkg image content (reproduced runtime stage)", (c) => {
  it("holds only package files, compiled JavaScript and production dependencies", () => {
    const image = img(c.pkg);
    const top = readdirSync(join(image.root, "airbyte")).sort();
    expect(top).toEqual(["node_modules", "package-lock.json", "package.json", c.pkg, "shared"].sort());
    expect(readdirSync(join(image.root, "airbyte", c.pkg)).sort()).toEqual(["dist", "package.json"]);
    expect(readdirSync(join(image.root, "airbyte", "shared")).sort()).toEqual(["dist", "package.json"]);
    const own = image.files.filter((f) => !f.path.startsWith("/airbyte/node_modules/"));
    for (const f of own) {
      expect(f.path).toMatch(
        /^\/airbyte\/(package\.json|package-lock\.json|shared\/package\.json|[^/]+\/package\.json|(shared|[^/]+)\/dist\/.+\.js)$/,
      );
      expect(f.path).not.toMatch(/\.test\.js$|\/testing\//);
    }
    expect(existsSync(join(image.root, "airbyte", c.pkg, "dist", "main.js"))).toBe(true);
  });

  it("resolves @cdc-delta/shared to the image's own shared/ through a relative workspace link", () => {
    const image = img(c.pkg);
    const link = join(image.root, "airbyte/node_modules/@cdc-delta/shared");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe("../../shared");
  });

  it("installs no dev-only package (every node_modules entry is a production entry of the lockfile)", () => {
    const image = img(c.pkg);
    const lock = JSON.parse(readFileSync(join(image.root, "airbyte/package-lock.json"), "utf8")).packages as Record<
      string,
      { dev?: boolean; link?: boolean }
    >;
    const installed = new Set(
      image.files
        .map((f) => /^\/airbyte\/(node_modules\/(?:@[^/]+\/)?[^/]+)\/package\.json$/.exec(f.path)?.[1])
        .filter(Boolean) as string[],
    );
    expect(installed.size).toBeGreaterThan(0);
    const dev = [...installed].filter((p) => lock[p]?.dev === true);
    expect(dev).toEqual([]);
    for (const p of ["typescript", "vitest", "@biomejs/biome", "azurite", "@duckdb/node-api", "tsx"]) {
      expect(installed.has(`node_modules/${p}`), p).toBe(false);
    }
  });

  it("reports its size (file list in .ci/logs/image-<pkg>.txt)", () => {
    const image = img(c.pkg);
    const mb = (b: number) => (b / 1e6).toFixed(1);
    const own = image.files.filter((f) => !f.path.startsWith("/airbyte/node_modules/"));
    const deps = image.files.length - own.length;
    console.log(
      `${c.pkg}: ${image.files.length} files, ${mb(image.totalBytes)} MB on top of the base image ` +
        `(own code ${own.length} files ${mb(own.reduce((a, f) => a + f.bytes, 0))} MB, node_modules ${deps} files)`,
    );
    // a production tree of a Node connector: far below what dev dependencies would add (~500 MB)
    expect(image.totalBytes).toBeLessThan(200e6);
  });

  it("answers `spec` through its ENTRYPOINT: one SPEC line, exit 0, empty stderr", async () => {
    const r = await run(img(c.pkg), ["spec"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => l.type)).toEqual(["SPEC"]);
    expect(r.lines[0]!.spec.connectionSpecification.type).toBe("object");
  });
});

describe("reproduced images run the pipe", () => {
  let feed = "";
  let target = "";
  let srcConfig = "";
  let dstConfig = "";
  let catalogPath = "";

  beforeAll(() => {
    feed = join(work, "changefeed");
    target = join(work, "delta");
    writeTinyChangefeed(feed);
    srcConfig = join(work, "source.json");
    dstConfig = join(work, "destination.json");
    writeFileSync(srcConfig, JSON.stringify({ storage: { type: "local", path: feed } }));
    writeFileSync(dstConfig, JSON.stringify({ target: { type: "local", path: target } }));
  });

  it("source `check` succeeds on the changefeed folder", async () => {
    const r = await run(img(SRC), ["check", "--config", srcConfig]);
    expect(r.code).toBe(0);
    expect(r.lines.filter((l) => l.type === "CONNECTION_STATUS").map((l) => l.connectionStatus.status)).toEqual(["SUCCEEDED"]);
  });

  it("destination `check` succeeds on a local target folder", async () => {
    const r = await run(img(DST), ["check", "--config", dstConfig]);
    expect(r.code).toBe(0);
    expect(r.lines.filter((l) => l.type === "CONNECTION_STATUS").map((l) => l.connectionStatus.status)).toEqual(["SUCCEEDED"]);
  });

  it("source `discover` finds the orders stream", async () => {
    const r = await run(img(SRC), ["discover", "--config", srcConfig]);
    expect(r.code).toBe(0);
    const catalog = r.lines.find((l) => l.type === "CATALOG")?.catalog;
    expect(catalog.streams.map((s: { name: string }) => s.name)).toEqual(["orders"]);
    catalogPath = join(work, "catalog.json");
    writeFileSync(catalogPath, JSON.stringify(configureCatalog(catalog)));
  });

  it("`source read | destination write` commits a Delta table and echoes the source's states", async () => {
    expect(catalogPath).not.toBe("");
    const { source, destination } = await pipe(img(SRC), ["read", "--config", srcConfig, "--catalog", catalogPath], img(DST), [
      "write",
      "--config",
      dstConfig,
      "--catalog",
      catalogPath,
    ]);
    expect(source.stderr).toBe("");
    expect(destination.stderr).toBe("");
    expect(source.code).toBe(0);
    expect(destination.code, JSON.stringify(destination.lines.filter((l) => l.type === "TRACE"))).toBe(0);
    const states = destination.lines.filter((l) => l.type === "STATE");
    expect(states.length).toBeGreaterThanOrEqual(1);
    const last = states.at(-1)!.state;
    expect(last.stream.stream_descriptor.name).toBe("orders");
    expect(last.stream.stream_state.watermark).toBe("1767225610000000000.0000000000");
    const total = states.reduce((a, s) => a + (s.state.destinationStats?.recordCount ?? 0), 0);
    expect(total).toBe(4); // 2 initial-scan rows, 1 update, 1 delete
    // one Delta table per stream under <target>/<namespace or default>/<stream>
    const tableLog = join(target, "default", "orders", "_delta_log");
    expect(existsSync(join(tableLog, "00000000000000000000.json"))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// The runtime stage in a Debian bookworm root filesystem (scripts/make-rootfs.sh): the Dockerfile's
// system step (apt-get install tini, the airbyte user) replayed verbatim in a chroot, the reproduced
// /airbyte tree copied in, then the ENTRYPOINT run as uid 1000 in a new PID namespace where tini is
// PID 1, with an empty environment but the Dockerfile's ENV: no host global (node_modules, NODE_PATH,
// libraries, /work) is reachable.

const ROOTFS = process.env.CDC_ROOTFS ?? "/var/cache/cdc-rootfs/bookworm";
const rootfsReady =
  existsSync(join(ROOTFS, ".cdc-rootfs")) &&
  process.getuid?.() === 0 &&
  spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "true"]).status === 0;

function systemStep(pkg: string): string {
  const c = CONNECTORS.find((x) => x.pkg === pkg)!;
  const runtime = parseDockerfile(join(REPO, c.dockerfile)).at(-1)!;
  const step = runtime.steps.find((s) => s.keyword === "RUN" && /apt-get|useradd/.test(s.raw));
  if (!step) throw new Error("no system RUN step in the runtime stage");
  return step.raw;
}

function chrootArgv(root: string, image: ReproducedImage, args: string[]): string[] {
  const env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/airbyte"];
  for (const [k, v] of image.env) env.push(`${k}=${v}`);
  return [
    "--pid",
    "--fork",
    `--mount-proc=${join(root, "proc")}`,
    "chroot",
    "--userspec=1000:1000",
    root,
    "/usr/bin/env",
    "-i",
    `--chdir=${image.workdir}`,
    ...env,
    ...image.entrypoint,
    ...args,
  ];
}

describe.skipIf(!rootfsReady && process.env.CI !== "true")(
  "runtime stage inside a Debian bookworm rootfs (tini as PID 1, uid 1000)",
  () => {
    const roots = new Map<string, string>();
    let base = "";

    beforeAll(() => {
      base = mkdtempSync(join(tmpdir(), "rootfs-run-"));
      // both Dockerfiles share the system step: replay it once, then copy the result
      const step = systemStep(SRC);
      expect(systemStep(DST)).toBe(step);
      const prepared = join(base, "prepared");
      expect(spawnSync("cp", ["-a", ROOTFS, prepared]).status).toBe(0);
      copyFileSync("/etc/resolv.conf", join(prepared, "etc/resolv.conf"));
      const r = spawnSync("chroot", [prepared, "/bin/sh", "-euc", step], { encoding: "utf8", timeout: 300_000 });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      for (const c of CONNECTORS) {
        const root = join(base, c.pkg);
        expect(spawnSync("cp", ["-a", prepared, root]).status).toBe(0);
        // the COPY and npm ci steps: the reproduced /airbyte tree, owned by root like in the image
        // (entry by entry: COPY leaves the existing /airbyte folder and its owner alone)
        const tree = join(img(c.pkg).root, "airbyte");
        const entries = readdirSync(tree).map((e) => join(tree, e));
        expect(spawnSync("cp", ["-a", ...entries, join(root, "airbyte")]).status).toBe(0);
        mkdirSync(join(root, "d"));
        roots.set(c.pkg, root);
      }
    }, 600_000);

    afterAll(() => removeInBackground(base));

    const runIn = (pkg: string, args: string[], stdin = "") => {
      const r = spawnSync("unshare", chrootArgv(roots.get(pkg)!, img(pkg), args), {
        input: stdin,
        encoding: "utf8",
        timeout: 120_000,
      });
      return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, lines: parseLines(r.stdout) };
    };

    it.each(CONNECTORS.map((c) => c.pkg))(
      "%s: the system step made tini and the airbyte user (uid 1000) owning /airbyte",
      (pkg) => {
        const root = roots.get(pkg)!;
        expect(existsSync(join(root, "usr/bin/tini"))).toBe(true);
        const passwd = readFileSync(join(root, "etc/passwd"), "utf8");
        expect(passwd).toMatch(/^airbyte:x:1000:1000:/m);
        expect(passwd).not.toMatch(/^node:/m);
        const st = statSync(join(root, "airbyte"));
        expect([st.uid, st.gid]).toEqual([1000, 1000]);
        expect(existsSync(join(root, "var/lib/apt/lists/lock"))).toBe(false);
      },
    );

    it.each(CONNECTORS.map((c) => c.pkg))("%s: `spec` through the ENTRYPOINT", (pkg) => {
      const r = runIn(pkg, ["spec"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.lines.map((l) => l.type)).toEqual(["SPEC"]);
    });

    it.each(CONNECTORS.map((c) => c.pkg))(
      "%s: run as a child (a platform wrapper running $AIRBYTE_ENTRYPOINT), stderr stays empty",
      (pkg) => {
        // same command without the PID namespace: tini is not PID 1 here
        const argv = chrootArgv(roots.get(pkg)!, img(pkg), ["spec"]).slice(3);
        const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 60_000 });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(parseLines(r.stdout).map((l) => l.type)).toEqual(["SPEC"]);
      },
    );

    it("`source read | destination write` inside the rootfs", () => {
      const src = roots.get(SRC)!;
      const dst = roots.get(DST)!;
      writeTinyChangefeed(join(src, "d/changefeed"));
      spawnSync("chown", ["-R", "1000:1000", join(src, "d"), join(dst, "d")]);
      writeFileSync(join(src, "d/source.json"), JSON.stringify({ storage: { type: "local", path: "/d/changefeed" } }));
      writeFileSync(join(dst, "d/destination.json"), JSON.stringify({ target: { type: "local", path: "/d/delta" } }));
      const disc = runIn(SRC, ["discover", "--config", "/d/source.json"]);
      expect(disc.code).toBe(0);
      const catalog = JSON.stringify(configureCatalog(disc.lines.find((l) => l.type === "CATALOG")!.catalog));
      writeFileSync(join(src, "d/catalog.json"), catalog);
      writeFileSync(join(dst, "d/catalog.json"), catalog);
      const read = runIn(SRC, ["read", "--config", "/d/source.json", "--catalog", "/d/catalog.json"]);
      expect(read.code).toBe(0);
      const write = runIn(DST, ["write", "--config", "/d/destination.json", "--catalog", "/d/catalog.json"], read.stdout);
      expect(write.stderr).toBe("");
      expect(write.code, write.stdout.slice(-2000)).toBe(0);
      const states = write.lines.filter((l) => l.type === "STATE");
      expect(states.at(-1)!.state.destinationStats.recordCount).toBe(4);
      const log = join(dst, "d/delta/default/orders/_delta_log/00000000000000000000.json");
      expect(existsSync(log)).toBe(true);
      expect(statSync(log).uid).toBe(1000);
    });

    it("SIGTERM to the container's PID 1 (tini) ends a waiting `write` by the signal (exit 143)", async () => {
      const child = spawn(
        "unshare",
        chrootArgv(roots.get(DST)!, img(DST), ["write", "--config", "/d/destination.json", "--catalog", "/d/catalog.json"]),
        {
          stdio: ["pipe", "pipe", "pipe"],
        },
      );
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
      // the destination blocks on its open stdin; find tini (the forked child of unshare) and signal it
      await new Promise((r) => setTimeout(r, 2000));
      const tini = spawnSync("pgrep", ["-P", String(child.pid)], { encoding: "utf8" })
        .stdout.trim()
        .split("\n")[0];
      expect(tini).toMatch(/^\d+$/);
      process.kill(Number(tini), "SIGTERM");
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
        const t = setTimeout(() => child.kill("SIGKILL"), 30_000);
        child.on("close", (c, s) => {
          clearTimeout(t);
          resolve([c, s]);
        });
      });
      expect(signal).toBeNull();
      expect(code, out).toBe(143);
    }, 60_000);
  },
);
