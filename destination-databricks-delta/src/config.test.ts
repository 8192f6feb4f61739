import { connectionSpecification, lintConnectionSpecification } from "@cdc-delta/shared";
import { describe, expect, it } from "vitest";
import { DestinationConfig } from "./config.js";
import { flattenAzureTarget } from "./definition.js";

describe("config and spec", () => {
  it("the smallest config is a local folder; everything else has a default", () => {
    expect(DestinationConfig.parse({ target: { type: "local", path: "/d" } })).toEqual({
      target: { type: "local", path: "/d" },
      delete_mode: "hard",
      tombstone_retention_days: 7,
      memory_budget_bytes: 512 * 1024 * 1024,
      flush_bytes: 64 * 1024 * 1024,
      flush_records: 500_000,
      flush_interval_s: 300,
      on_type_error: "fail",
      strict_order: false,
    });
    expect(DestinationConfig.safeParse({}).success).toBe(false);
    expect(DestinationConfig.safeParse({ target: { type: "s3" } }).success).toBe(false);
  });

  it("the generated SPEC passes the Airbyte spec lint; secrets are marked", () => {
    const spec = connectionSpecification(DestinationConfig, "destination-databricks-delta");
    expect(lintConnectionSpecification(spec)).toEqual([]);
    const text = JSON.stringify(spec);
    for (const secret of ["account_key", "sas_token", "connection_string", "token", "client_secret"]) {
      expect(text).toMatch(new RegExp(`"${secret}":\\{[^}]*"airbyte_secret":true`));
    }
    expect((spec.required as string[]) ?? []).toEqual(["target"]);
  });

  it("azure and databricks targets parse; azure maps onto the embedded writer's flat shape", () => {
    const az = DestinationConfig.parse({
      target: { type: "azure", account: "devstoreaccount1", container: "c", auth: { type: "sas", sas_token: "sv=1&sig=x" } },
    });
    expect(flattenAzureTarget(az.target as never)).toEqual({
      type: "azure",
      account_name: "devstoreaccount1",
      container: "c",
      prefix: "",
      sas_token: "sv=1&sig=x",
    });
    const db = DestinationConfig.parse({
      target: {
        type: "databricks",
        server_hostname: "h",
        http_path: "/sql/1.0/warehouses/x",
        auth: { type: "pat", token: "dapi123" },
      },
    });
    expect(db.target).toMatchObject({ catalog: "main", max_concurrency: 4 });
  });
});
