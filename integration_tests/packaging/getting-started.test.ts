/**
 * docs/getting-started.md is executed as written: its ```sh blocks after "## 1." run in order in one
 * bash (set -euo pipefail) from the repository root with $Q pointing to a temp folder, then its
 * ```python block runs with the test venv's deltalake when available. The claims the page makes
 * about the output (SUCCEEDED checks, tables under $Q/delta/default, one STATE per stream on resume)
 * are asserted on what the commands left behind.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "./dockerfile.js";

const md = readFileSync(join(REPO, "docs/getting-started.md"), "utf8");

function blocks(lang: string, fromHeading: string): string[] {
  const start = md.indexOf(fromHeading);
  const out: string[] = [];
  const re = new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g");
  for (const m of md.slice(start).matchAll(re)) out.push(m[1]!);
  return out;
}

const Q = mkdtempSync(join(tmpdir(), "cdc-quickstart-"));
afterAll(() => rmSync(Q, { recursive: true, force: true }));

const lines = (p: string) =>
  readFileSync(join(Q, p), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));

describe("docs/getting-started.md runs as written", () => {
  let run: ReturnType<typeof spawnSync>;

  it("its shell steps (emulate, check, discover, read | write, resume) all succeed", () => {
    const sh = blocks("sh", "## 1.");
    expect(sh.length).toBeGreaterThanOrEqual(5);
    run = spawnSync("bash", ["-c", `set -euo pipefail\n${sh.join("\n")}`], {
      cwd: REPO,
      env: { ...process.env, Q },
      encoding: "utf8",
      timeout: 240_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
  }, 300_000);

  it("both checks printed SUCCEEDED", () => {
    const statuses = String(run.stdout)
      .split("\n")
      .filter((l) => l.includes("CONNECTION_STATUS"))
      .map((l) => JSON.parse(l).connectionStatus.status);
    expect(statuses).toEqual(["SUCCEEDED", "SUCCEEDED"]);
  });

  it("the sync committed every record and wrote one Delta table per stream under $Q/delta/default", () => {
    const catalog = JSON.parse(readFileSync(join(Q, "catalog.json"), "utf8"));
    const streams = catalog.streams.map((s: { stream: { name: string } }) => s.stream.name).sort();
    expect(streams).toEqual(["events", "orders"]);
    for (const s of streams) expect(existsSync(join(Q, "delta/default", s, "_delta_log/00000000000000000000.json"))).toBe(true);
    expect(readdirSync(join(Q, "delta/default")).sort()).toEqual([
      "events",
      "events__cdc_tombstones",
      "orders",
      "orders__cdc_tombstones",
    ]);
    const states = lines("output-1.jsonl").filter((m) => m.type === "STATE");
    expect(states.length).toBeGreaterThanOrEqual(2);
    for (const s of states) expect(s.state.destinationStats.recordCount).toBe(s.state.sourceStats.recordCount);
  });

  it("the resume read nothing again: one STATE per stream with recordCount 0", () => {
    const states = lines("output-2.jsonl").filter((m) => m.type === "STATE");
    expect(states.map((s) => s.state.stream.stream_descriptor.name).sort()).toEqual(["events", "orders"]);
    for (const s of states) expect(s.state.sourceStats.recordCount).toBe(0);
    expect(String(run.stdout).trim().split("\n").at(-1)).toBe("2");
  });

  it("the python example reads the orders table (when the test venv has deltalake)", (ctx) => {
    const py = join(REPO, ".ci/.venv/bin/python");
    if (!existsSync(py) || spawnSync(py, ["-c", "import deltalake, pyarrow"]).status !== 0) {
      if (process.env.CI === "true") throw new Error(`CI must provide ${py} with deltalake (run .ci/install.sh)`);
      ctx.skip();
      return;
    }
    const [code] = blocks("python", "## 6.");
    const r = spawnSync(py, ["-c", code!], { env: { ...process.env, Q }, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+ live orders\n/);
  });
});
