/**
 * docs/configuration-reference.md is generated from the built connectors' `spec` output by
 * scripts/gen-config-reference.mjs; this fails when the file differs from a fresh rendering.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./dockerfile.js";

describe("docs/configuration-reference.md", () => {
  it("is up to date with the connectors' specs (regenerate: npm run build && npm run docs:config)", () => {
    const r = spawnSync(process.execPath, [join(REPO, "scripts/gen-config-reference.mjs"), "--check"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("lists every secret of both specs as secret", () => {
    const md = readFileSync(join(REPO, "docs/configuration-reference.md"), "utf8");
    const secrets = md.split("\n").filter((l) => /\| yes \| \*\*/.test(l) || /\|\s+\| yes \| /.test(l));
    for (const name of [
      "account_key",
      "sas_token",
      "connection_string",
      "secret_access_key",
      "credentials_json",
      "token",
      "client_secret",
      "password",
    ]) {
      expect(
        secrets.some((l) => l.includes(`.${name}\``)),
        name,
      ).toBe(true);
    }
  });
});
