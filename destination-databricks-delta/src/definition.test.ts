import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { configError, runCommand } from "@cdc-delta/shared";
import { describe, expect, it } from "vitest";
import { makeDestinationDefinition } from "./definition.js";
import { MemoryBackend } from "./plan/memory-backend.js";
import { catalogOf, configuredStream, nextHlc, runWrite, upsert } from "./testing-protocol.js";

async function run(def: ReturnType<typeof makeDestinationDefinition>, argv: string[]) {
  const chunks: string[] = [];
  const stdout = new Writable({
    write(c, _e, cb) {
      chunks.push(String(c));
      cb();
    },
  });
  const code = await runCommand(
    def,
    argv,
    { stdin: Readable.from([]), stdout, stderr: new PassThrough() },
    new AbortController().signal,
  );
  return {
    code,
    messages: chunks
      .join("")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  };
}

describe("destination definition", () => {
  const dir = mkdtempSync(join(tmpdir(), "dst-def-"));
  const config = join(dir, "config.json");
  writeFileSync(config, JSON.stringify({ target: { type: "local", path: dir } }));

  it("spec: one SPEC with the destination sync modes", async () => {
    const r = await run(
      makeDestinationDefinition(async () => new MemoryBackend()),
      ["spec"],
    );
    expect(r.code).toBe(0);
    expect(r.messages).toHaveLength(1);
    expect(r.messages[0].spec.supported_destination_sync_modes).toEqual(["append", "overwrite", "append_dedup"]);
    expect(r.messages[0].spec.connectionSpecification.required).toEqual(["target"]);
  });

  it("check: SUCCEEDED; a config problem is FAILED with exit 0; a bad config file is FAILED", async () => {
    expect(
      (
        await run(
          makeDestinationDefinition(async () => new MemoryBackend()),
          ["check", "--config", config],
        )
      ).messages.at(-1).connectionStatus,
    ).toEqual({ status: "SUCCEEDED" });
    const failing = makeDestinationDefinition(async () => {
      throw configError("Azure auth failed: 403");
    });
    const r = await run(failing, ["check", "--config", config]);
    expect(r.code).toBe(0);
    expect(r.messages.at(-1).connectionStatus).toEqual({ status: "FAILED", message: "Azure auth failed: 403" });
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ target: { type: "local" } }));
    expect(
      (
        await run(
          makeDestinationDefinition(async () => new MemoryBackend()),
          ["check", "--config", bad],
        )
      ).messages.at(-1).connectionStatus.status,
    ).toBe("FAILED");
  });

  it("GLOBAL states are echoed once every stream's earlier records are committed", async () => {
    const backend = new MemoryBackend();
    const global = JSON.stringify({
      type: "STATE",
      state: { type: "GLOBAL", global: { shared_state: { p: 1 }, stream_states: [] }, sourceStats: { recordCount: 2 } },
    });
    const r = await runWrite(
      backend,
      catalogOf(configuredStream("a"), configuredStream("b")),
      [upsert("a", ["eu", 1], { a1: "x" }), upsert("b", ["eu", 1], { a1: "y" }), global],
      { flush_records: 1 },
    );
    expect(r.invalid).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.echoed.map((m) => m.state?.destinationStats?.recordCount)).toEqual([2]);
  });

  it("out-of-order records are counted and guarded; strict_order makes them fatal", async () => {
    const h1 = nextHlc();
    const h2 = nextHlc();
    const lines = [upsert("a", ["eu", 1], { a1: "new" }, { hlc: h2 }), upsert("a", ["eu", 1], { a1: "old" }, { hlc: h1 })];
    const backend = new MemoryBackend();
    const ok = await runWrite(backend, catalogOf(configuredStream("a")), lines);
    expect(ok.code).toBe(0);
    expect(ok.logs.join("\n")).toMatch(/1 out of order/);
    expect(backend.rowsOf({ namespace: null, name: "a" }).map((r) => r.a1)).toEqual(["new"]);
    const strict = await runWrite(new MemoryBackend(), catalogOf(configuredStream("a")), lines, { strict_order: true });
    expect(strict.code).toBe(1);
    expect(strict.errors[0]?.trace?.error?.message).toMatch(/line 2: record at .* is older than the stream's newest record/);
  });
});
