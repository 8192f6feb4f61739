/** CLI contract of the built source: check statuses, exit codes, errors as TRACE, SIGTERM, redaction. */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FeedBuilder, hlc, hlcText, line, handCatalog } from "../../source-cockroachdb-cdc/src/testing/feed-builder.js";
import { REPO_ROOT } from "../services/endpoints.js";

const MAIN = join(REPO_ROOT, "source-cockroachdb-cdc", "dist", "main.js");
const work = mkdtempSync(join(tmpdir(), "src-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} missing: run \`npx tsc -b source-cockroachdb-cdc\` first`);
});

let n = 0;
function files(values: Record<string, unknown>): string[] {
  const dir = join(work, `args${n++}`);
  mkdirSync(dir);
  return Object.entries(values).flatMap(([k, v]) => {
    const p = join(dir, `${k}.json`);
    writeFileSync(p, typeof v === "string" ? v : JSON.stringify(v));
    return [`--${k}`, p];
  });
}
function run(args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8" });
  return {
    code: r.status,
    lines: r.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
    stdout: r.stdout,
    stderr: r.stderr,
  };
}

const feed = join(work, "feed");
const b = new FeedBuilder(feed);
b.data(hlc(0), "orders", [line("[1]", '{"id": 1}', hlcText(0))]);
b.resolved(hlc(0));

describe("CLI contract (airbyte-protocol.md §1, §5)", () => {
  it("spec is instant and offline; check SUCCEEDED on a feed, FAILED on a wrong prefix (exit 0)", () => {
    const spec = run(["spec"]);
    expect(spec.code).toBe(0);
    expect(spec.lines).toHaveLength(1);
    expect(spec.stderr).toBe("");
    const ok = run(["check", ...files({ config: { storage: { type: "local", path: feed } } })]);
    expect(ok.code).toBe(0);
    expect(ok.lines.at(-1)).toEqual({ type: "CONNECTION_STATUS", connectionStatus: { status: "SUCCEEDED" } });
    const bad = run(["check", ...files({ config: { storage: { type: "local", path: join(work, "nope") } } })]);
    expect(bad.code).toBe(0);
    expect(bad.lines.at(-1).connectionStatus).toMatchObject({
      status: "FAILED",
      message: expect.stringMatching(/does not exist/),
    });
    const empty = join(work, "empty");
    mkdirSync(empty);
    expect(
      run(["check", ...files({ config: { storage: { type: "local", path: empty } } })]).lines.at(-1).connectionStatus,
    ).toMatchObject({ status: "FAILED", message: expect.stringMatching(/no changefeed files/) });
  });
  it("no RESOLVED yet: check warns, read exits 0 with a clear LOG and a count-0 STATE", () => {
    const d = join(work, "nores");
    new FeedBuilder(d).data(hlc(0), "orders", [line("[1]", '{"id": 1}', hlcText(0))]);
    const cfg = { storage: { type: "local", path: d } };
    const c = run(["check", ...files({ config: cfg })]);
    expect(c.lines.some((m) => m.type === "LOG" && m.log.level === "WARN" && /no RESOLVED/.test(m.log.message))).toBe(true);
    const catalog = handCatalog();
    const r = run(["read", ...files({ config: cfg, catalog })]);
    expect(r.code).toBe(0);
    expect(r.lines.some((m) => m.type === "LOG" && /no RESOLVED file yet/.test(m.log.message))).toBe(true);
    expect(r.lines.filter((m) => m.type === "STATE").map((m) => m.state.sourceStats.recordCount)).toEqual([0]);
  });
  it("invalid catalog, bad state, usage errors → TRACE config_error as the last line, non-zero exit", () => {
    const cfg = { storage: { type: "local", path: feed } };
    const badMode = run([
      "read",
      ...files({
        config: cfg,
        catalog: handCatalog({ syncMode: "sideways" }),
      }),
    ]);
    expect(badMode.code).not.toBe(0);
    expect(badMode.lines.at(-1).trace.error.failure_type).toBe("config_error");
    const catalog = handCatalog();
    const badState = run(["read", ...files({ config: cfg, catalog, state: [{ type: "GLOBAL", global: {} }] })]);
    expect(badState.code).toBe(1);
    expect(badState.lines.at(-1).trace.error).toMatchObject({
      failure_type: "config_error",
      message: expect.stringMatching(/GLOBAL/),
    });
    const usage = run(["read"]);
    expect(usage.code).toBe(2);
    expect(usage.lines.at(-1).trace.error.failure_type).toBe("config_error");
  });
  it("secrets never reach stdout or stderr (raw or URL-encoded)", () => {
    const secret = "s3cr3t/Key+With=Chars";
    const r = run([
      "check",
      ...files({
        config: {
          storage: {
            type: "azure",
            account_name: "acct",
            container: "c",
            account_key: Buffer.from(secret).toString("base64"),
            endpoint: "http://127.0.0.1:9/acct",
          },
        },
      }),
    ]);
    const key = Buffer.from(secret).toString("base64");
    expect(r.stdout).not.toContain(key);
    expect(r.stdout).not.toContain(encodeURIComponent(key));
    expect(r.stderr).not.toContain(key);
    expect(r.lines.at(-1).connectionStatus.status).toBe("FAILED");
  }, 120_000);
  it("SIGTERM: open streams end INCOMPLETE, no STATE after, death by the signal", async () => {
    const d = join(work, "big");
    const fb = new FeedBuilder(d);
    for (let f = 0; f < 60; f++) {
      const lines: string[] = [];
      for (let i = 0; i < 2000; i++)
        lines.push(line(`[${f * 2000 + i}]`, `{"id": ${f * 2000 + i}, "note": "row ${i}"}`, hlcText(f)));
      fb.data(hlc(f), "orders", lines);
      fb.resolved(hlc(f));
    }
    const catalog = handCatalog({ primaryKey: ["id"] });
    const child = spawn(
      process.execPath,
      [MAIN, "read", ...files({ config: { storage: { type: "local", path: d }, max_window_bytes: 1 }, catalog })],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let sent = false;
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (!sent && out.includes('"type":"STATE"')) {
        sent = true;
        child.kill("SIGTERM");
      }
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.on("exit", (c, s) => r([c, s])));
    expect(signal).toBe("SIGTERM");
    expect(code).toBeNull();
    const msgs = out
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const statuses = msgs.filter((m) => m.trace?.type === "STREAM_STATUS").map((m) => m.trace.stream_status.status);
    expect(statuses.at(-1)).toBe("INCOMPLETE");
    expect(statuses).not.toContain("COMPLETE");
  }, 120_000);
});
