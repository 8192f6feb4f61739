import { buildSpec, lintConnectionSpecification } from "@cdc-delta/shared";
import { describe, expect, it } from "vitest";
import { SourceConfig } from "./config.js";
import { sourceDefinition } from "./definition.js";

describe("config and spec", () => {
  it("the smallest valid config reads a local folder; everything else defaults", () => {
    const c = SourceConfig.parse({ storage: { type: "local", path: "/data" } });
    expect(c).toMatchObject({ layout: "auto", tables: [], emit_late_rows: false, multi_table_consistency: false });
  });
  it("storage is a discriminated union on type", () => {
    expect(SourceConfig.safeParse({ storage: { type: "ftp" } }).success).toBe(false);
    expect(SourceConfig.safeParse({ storage: { type: "s3", bucket: "b" } }).success).toBe(true);
  });
  it("the generated spec passes the Airbyte spec lint; secrets and only secrets are marked", () => {
    const spec = buildSpec(sourceDefinition);
    expect(lintConnectionSpecification(spec.connectionSpecification as never)).toEqual([]);
    const text = JSON.stringify(spec.connectionSpecification);
    for (const k of [
      "account_key",
      "sas_token",
      "connection_string",
      "secret_access_key",
      "session_token",
      "credentials_json",
      "token",
    ])
      expect(text).toContain(`"${k}"`);
    const storage = (spec.connectionSpecification as any).properties.storage;
    expect(storage.oneOf.map((v: any) => v.properties.type.const)).toEqual(["local", "azure", "s3", "gcs", "uc_volume"]);
  });
});
