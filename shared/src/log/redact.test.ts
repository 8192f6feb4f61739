import { describe, expect, it } from "vitest";
import { MASK, Redactor, collectSecrets } from "./redact.js";

describe("redaction", () => {
  const schema = {
    type: "object",
    properties: {
      storage: {
        type: "object",
        oneOf: [
          { properties: { type: { const: "azure" }, account_key: { type: "string", airbyte_secret: true } } },
          { properties: { type: { const: "s3" }, secret_access_key: { type: "string", airbyte_secret: true } } },
        ],
      },
      name: { type: "string" },
    },
  };

  it("masks airbyte_secret values (raw, URL-encoded, JSON-escaped) found in oneOf variants", () => {
    const r = new Redactor();
    collectSecrets(schema, { storage: { type: "s3", secret_access_key: "s3cr/t+key=" }, name: "visible" }, r);
    const text = `failed with s3cr/t+key= and ${encodeURIComponent("s3cr/t+key=")} for visible`;
    expect(r.redact(text)).toBe(`failed with ${MASK} and ${MASK} for visible`);
  });

  it("masks credentials embedded in sink URIs and bearer tokens even when not configured", () => {
    const r = new Redactor();
    expect(r.redact("azure://c/p?AZURE_ACCOUNT_NAME=acme&AZURE_ACCOUNT_KEY=abc%2Fdef")).toBe(
      `azure://c/p?AZURE_ACCOUNT_NAME=acme&AZURE_ACCOUNT_KEY=${MASK}`,
    );
    expect(r.redact("postgresql://root:hunter22@db:26257/x")).toBe(`postgresql://root:${MASK}@db:26257/x`);
    expect(r.redact("Authorization: Bearer dapi0123456789abcdef")).toBe(`Authorization: Bearer ${MASK}`);
  });
});
