/** information_schema queries against a real PostgreSQL (CI services helper). */
import { describe, expect, it } from "vitest";
import { isServiceUp, readEndpoints } from "../../../integration_tests/services/endpoints.js";
import { connect, tableSchemaFromSql } from "./pg.js";

describe("schema from the catalog over pg (PostgreSQL stand-in)", () => {
  it("columns, types, nullability and PK in ordinal order", async () => {
    if (!(await isServiceUp("postgres"))) {
      if (process.env.CI === "true") throw new Error("postgres is required under CI=true (see .ci/services.sh)");
      return;
    }
    const pg = readEndpoints().services.postgres as NonNullable<ReturnType<typeof readEndpoints>["services"]["postgres"]>;
    const client = await connect(pg.url, 10);
    const schema = `src_${Date.now().toString(36)}`;
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(
        `CREATE TABLE ${schema}.orders (region text NOT NULL, total numeric(10,2), id bigint NOT NULL, tags text[], doc jsonb, raw bytea, at timestamptz, PRIMARY KEY (id, region))`,
      );
      const t = await tableSchemaFromSql(client, `${schema}.orders`);
      expect(t?.primaryKey).toEqual(["id", "region"]);
      expect(t?.columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
        ["region", "STRING", false],
        ["total", "DECIMAL(10,2)", true],
        ["id", "INT8", false],
        ["tags", "STRING[]", true],
        ["doc", "JSONB", true],
        ["raw", "BYTES", true],
        ["at", "TIMESTAMPTZ", true],
      ]);
      expect(await tableSchemaFromSql(client, `${schema}.missing`)).toBeUndefined();
    } finally {
      await client.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
      await client.end();
    }
  });
  it("wrong password → config_error without the secret", async () => {
    if (!(await isServiceUp("postgres"))) return;
    const pg = readEndpoints().services.postgres as NonNullable<ReturnType<typeof readEndpoints>["services"]["postgres"]>;
    const url = `postgres://nosuchuser:hunter2secret@${pg.host}:${pg.port}/${pg.database}`;
    const e = await connect(url, 5).then(
      () => undefined,
      (x) => x,
    );
    expect(e).toMatchObject({ failureType: "config_error" });
    expect(String(e.message)).not.toContain("hunter2secret");
  });
});
