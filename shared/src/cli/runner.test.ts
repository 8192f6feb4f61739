import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { lintConnectionSpecification } from "../config/spec.js";
import { configError } from "../errors/connector-error.js";
import { recordMessage, streamStateMessage, streamDescriptor } from "../protocol/messages.js";
import { assertOfficialMessages } from "../testing/official-schema.js";
import { runInProcess } from "../testing/run-cli.js";
import { type ConnectorDefinition, buildSpec } from "./runner.js";

const configSchema = z.object({
  storage: z.discriminatedUnion("type", [
    z.object({ type: z.literal("local"), path: z.string().meta({ title: "Folder" }) }).meta({ title: "Local folder" }),
    z
      .object({
        type: z.literal("azure"),
        account_name: z.string(),
        account_key: z.string().meta({ airbyte_secret: true }),
      })
      .meta({ title: "Azure" }),
  ]),
  batch_size: z.int().min(1).default(100).meta({ description: "rows per batch" }),
  label: z.string().nullable().optional(),
});
type Config = z.infer<typeof configSchema>;

const toy: ConnectorDefinition<Config> = {
  name: "toy",
  kind: "source",
  configSchema,
  spec: { documentationUrl: "https://example.com/toy", supportsIncremental: true },
  async check(config) {
    if (config.storage.type === "azure") throw configError(`auth failed for key ${config.storage.account_key}`);
    return { status: "SUCCEEDED" };
  },
  async discover() {
    return { streams: [{ name: "t", json_schema: { type: "object" }, supported_sync_modes: ["incremental"] }] };
  },
  async *read(config) {
    if (config.batch_size === 13)
      throw new Error(`boom near ${config.storage.type === "azure" ? config.storage.account_key : ""}`);
    yield recordMessage("t", null, { id: 9223372036854775807n });
    yield streamStateMessage(streamDescriptor("t"), { v: 1 }, 1);
  },
};

function files(config: unknown) {
  const dir = mkdtempSync(join(tmpdir(), "toy-"));
  const configPath = join(dir, "config.json");
  writeFileSync(configPath, typeof config === "string" ? config : JSON.stringify(config));
  const catalogPath = join(dir, "catalog.json");
  writeFileSync(
    catalogPath,
    JSON.stringify({
      streams: [
        {
          stream: { name: "t", json_schema: {}, supported_sync_modes: ["incremental"] },
          sync_mode: "incremental",
          destination_sync_mode: "append",
        },
      ],
    }),
  );
  return { configPath, catalogPath };
}

describe("generated spec", () => {
  it("is in the form Airbyte acceptance tests accept", () => {
    const spec = buildSpec(toy);
    const cs = spec.connectionSpecification as Record<string, any>;
    expect(lintConnectionSpecification(cs)).toEqual([]);
    expect(cs.required).toEqual(["storage"]);
    expect(cs.properties.storage.oneOf).toHaveLength(2);
    expect(cs.properties.storage.oneOf[1].properties.account_key.airbyte_secret).toBe(true);
    expect(cs.properties.label.type).toEqual(["string", "null"]);
    expect(cs.properties.batch_size.default).toBe(100);
    expect(JSON.stringify(cs)).not.toMatch(/\$ref|anyOf|"additionalProperties":false/);
  });

  it("lint catches what CAT rejects", () => {
    expect(lintConnectionSpecification({ type: "object", properties: { password: { type: "string" } } })).toHaveLength(1);
    expect(lintConnectionSpecification({ type: "object", anyOf: [] })).toHaveLength(1);
    expect(lintConnectionSpecification({ type: "object", additionalProperties: false })).toHaveLength(1);
  });
});

describe("CLI runner", () => {
  it("spec prints one SPEC that validates against the official schema", async () => {
    const { code, stdout } = await runInProcess(toy, ["spec"]);
    expect(code).toBe(0);
    const msgs = assertOfficialMessages(stdout);
    expect(msgs.map((m) => m.type)).toEqual(["SPEC"]);
  });

  it("check with a missing required field: CONNECTION_STATUS FAILED naming the field, exit 0", async () => {
    const { configPath } = files({ storage: { type: "local" } });
    const { code, stdout } = await runInProcess(toy, ["check", "--config", configPath]);
    expect(code).toBe(0);
    const [msg] = assertOfficialMessages(stdout);
    expect(msg?.type).toBe("CONNECTION_STATUS");
    expect((msg!.connectionStatus as { status: string; message: string }).status).toBe("FAILED");
    expect((msg!.connectionStatus as { message: string }).message).toMatch(/storage\.path/);
  });

  it("an invalid JSON config: TRACE config_error, non-zero exit", async () => {
    const { configPath } = files("{not json");
    for (const cmd of ["check", "discover"]) {
      const { code, stdout } = await runInProcess(toy, [cmd, "--config", configPath]);
      expect(code).not.toBe(0);
      const msgs = assertOfficialMessages(stdout);
      const last = msgs.at(-1) as { type: string; trace: { error: { failure_type: string; message: string } } };
      expect(last.type).toBe("TRACE");
      expect(last.trace.error.failure_type).toBe("config_error");
      expect(last.trace.error.message).toMatch(/not valid JSON/);
    }
  });

  it("a secret inside an error message never reaches stdout", async () => {
    const secret = "Zm9vYmFyYmF6cXV4c2VjcmV0a2V5==";
    const { configPath, catalogPath } = files({
      storage: { type: "azure", account_name: "a", account_key: secret },
      batch_size: 13,
    });
    const check = await runInProcess(toy, ["check", "--config", configPath]);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain("FAILED");
    const read = await runInProcess(toy, ["read", "--config", configPath, "--catalog", catalogPath]);
    expect(read.code).toBe(1);
    expect(read.stdout).toContain("boom near");
    for (const out of [check.stdout, read.stdout]) {
      expect(out).not.toContain(secret);
      expect(out).not.toContain(encodeURIComponent(secret));
    }
  });

  it("an unexpected error becomes one TRACE system_error with internal_message and stack, exit 1", async () => {
    const { configPath, catalogPath } = files({ storage: { type: "local", path: "/x" }, batch_size: 13 });
    const { code, stdout } = await runInProcess(toy, ["read", "--config", configPath, "--catalog", catalogPath]);
    expect(code).toBe(1);
    const last = assertOfficialMessages(stdout).at(-1) as { trace: { error: Record<string, string> } };
    expect(last.trace.error.failure_type).toBe("system_error");
    expect(last.trace.error.internal_message).toBeTruthy();
    expect(last.trace.error.stack_trace).toMatch(/runner.test/);
  });

  it("read prints records losslessly; usage errors exit 2 with a config_error", async () => {
    const { configPath, catalogPath } = files({ storage: { type: "local", path: "/x" } });
    const ok = await runInProcess(toy, ["read", "--config", configPath, "--catalog", catalogPath]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('"id":9223372036854775807');
    assertOfficialMessages(ok.stdout);
    const usage = await runInProcess(toy, ["read", "--config", configPath]);
    expect(usage.code).toBe(2);
    expect(usage.stdout).toMatch(/config_error/);
    const unknown = await runInProcess(toy, ["frobnicate"]);
    expect(unknown.code).toBe(2);
  });

  it("a catalog with an invalid sync_mode is a config_error", async () => {
    const { configPath } = files({ storage: { type: "local", path: "/x" } });
    const bad = join(mkdtempSync(join(tmpdir(), "toy-")), "catalog.json");
    writeFileSync(
      bad,
      JSON.stringify({
        streams: [
          {
            stream: { name: "t", json_schema: {}, supported_sync_modes: ["incremental"] },
            sync_mode: "sometimes",
            destination_sync_mode: "append",
          },
        ],
      }),
    );
    const { code, stdout } = await runInProcess(toy, ["read", "--config", configPath, "--catalog", bad]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/config_error.*|catalog field streams\.0\.sync_mode/);
    expect(stdout).toContain("streams.0.sync_mode");
  });
});
