/**
 * Test support: the official Airbyte protocol schema (../shared/airbyte-protocol, outside the repo)
 * compiled with ajv, so tests can validate every line a connector prints.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import AjvModule, { type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { parse as parseYaml } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));

/** `../shared/airbyte-protocol` as seen from the project root (CI lays a copy of shared/ beside the clone). */
export function officialSchemaDir(): string {
  let dir = here;
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, "..", "shared", "airbyte-protocol");
    if (existsSync(join(candidate, "airbyte_protocol.yaml")) && existsSync(join(dir, "package.json"))) {
      return resolve(candidate);
    }
    dir = dirname(dir);
  }
  throw new Error(`cannot find ../shared/airbyte-protocol/airbyte_protocol.yaml above ${here}`);
}

export function loadOfficialYaml(): { definitions: Record<string, Record<string, unknown>> } {
  return parseYaml(readFileSync(join(officialSchemaDir(), "airbyte_protocol.yaml"), "utf8"));
}

let cached: { message: ValidateFunction; configuredCatalog: ValidateFunction } | undefined;

export function officialValidators(): { message: ValidateFunction; configuredCatalog: ValidateFunction } {
  if (cached) return cached;
  const schema = loadOfficialYaml() as Record<string, unknown>;
  delete schema.$id;
  // ajv and ajv-formats are CommonJS: under NodeNext their default export is the module object.
  const Ajv = ((AjvModule as unknown as { default?: typeof AjvModule }).default ??
    AjvModule) as unknown as typeof AjvModule.default;
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (
    ajv: InstanceType<typeof Ajv>,
  ) => void;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(schema, "airbyte");
  cached = {
    message: ajv.compile({ $ref: "airbyte#/definitions/AirbyteMessage" }),
    configuredCatalog: ajv.compile({ $ref: "airbyte#/definitions/ConfiguredAirbyteCatalog" }),
  };
  return cached;
}

/**
 * Validate printed stdout lines (text) against the official AirbyteMessage schema; returns the
 * parsed messages. Throws naming the first invalid line. bigint-safe: numbers are parsed by JSON.parse
 * here, which is fine for validation (types, not digits).
 */
export function assertOfficialMessages(stdout: string): Array<Record<string, unknown>> {
  const { message } = officialValidators();
  const out: Array<Record<string, unknown>> = [];
  stdout
    .split("\n")
    .filter((l) => l.trim().length > 0)
    .forEach((line, i) => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new Error(`stdout line ${i + 1} is not JSON: ${line.slice(0, 200)}`);
      }
      if (!message(parsed)) {
        throw new Error(
          `stdout line ${i + 1} violates the official schema: ${JSON.stringify(message.errors)}\n${line.slice(0, 300)}`,
        );
      }
      out.push(parsed);
    });
  return out;
}
