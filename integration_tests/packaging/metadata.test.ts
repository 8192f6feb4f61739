/**
 * metadata.yaml of each connector: the fields Airbyte's registry expects
 * (ConnectorMetadataDefinitionV0), consistent with package.json and the Dockerfile labels.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { CONNECTORS, labels, parseDockerfile, REPO } from "./dockerfile.js";

const REQUIRED = [
  "name",
  "definitionId",
  "connectorType",
  "dockerRepository",
  "dockerImageTag",
  "license",
  "documentationUrl",
  "githubIssueLabel",
  "connectorSubtype",
  "releaseStage",
  "supportLevel",
] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$/;

describe.each(CONNECTORS)("$pkg/metadata.yaml", (c) => {
  const doc = parseYaml(readFileSync(join(REPO, c.pkg, "metadata.yaml"), "utf8"));
  const data = doc.data as Record<string, unknown>;
  const pkg = JSON.parse(readFileSync(join(REPO, c.pkg, "package.json"), "utf8"));
  const root = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));

  it("has metadataSpecVersion 1.0 and every required registry field", () => {
    expect(doc.metadataSpecVersion).toBe("1.0");
    expect(Object.keys(doc).sort()).toEqual(["data", "metadataSpecVersion"]);
    for (const k of REQUIRED) expect(data[k], k).toBeTruthy();
  });

  it("declares the right type, enums and a fixed UUID", () => {
    expect(data.connectorType).toBe(c.kind);
    expect(["api", "database", "datalake", "file", "custom", "message_queue", "unknown", "vectorstore"]).toContain(
      data.connectorSubtype,
    );
    expect(["alpha", "beta", "generally_available", "custom"]).toContain(data.releaseStage);
    expect(["community", "certified", "archived"]).toContain(data.supportLevel);
    expect(data.definitionId).toMatch(UUID);
    expect(data.githubIssueLabel).toBe(c.pkg);
    expect(data.license).toBe(root.license);
  });

  it("definitionIds differ between the connectors", () => {
    const ids = CONNECTORS.map((x) => parseYaml(readFileSync(join(REPO, x.pkg, "metadata.yaml"), "utf8")).data.definitionId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("dockerImageTag equals the package version; dockerRepository names this connector", () => {
    expect(data.dockerImageTag).toMatch(SEMVER);
    expect(data.dockerImageTag).toBe(pkg.version);
    expect(String(data.dockerRepository).split("/").at(-1)).toBe(c.pkg);
    expect(data.dockerRepository).not.toMatch(/:/); // repository only, the tag is dockerImageTag
  });

  it("matches the Dockerfile labels", () => {
    const l = labels(parseDockerfile(join(REPO, c.dockerfile)).at(-1)!);
    expect(l.get("io.airbyte.name")).toBe(data.dockerRepository);
    expect(l.get("io.airbyte.version")).toBe(data.dockerImageTag);
  });

  it("documentationUrl is an https URL of a page this repository ships", () => {
    const url = new URL(String(data.documentationUrl));
    expect(url.protocol).toBe("https:");
    const m = /\/blob\/[^/]+\/(.+)$/.exec(url.pathname);
    expect(m).not.toBeNull();
    expect(existsSync(join(REPO, m![1]!))).toBe(true);
  });

  it("allowedHosts is a list of host patterns; tags are strings", () => {
    const hosts = (data.allowedHosts as { hosts: unknown[] }).hosts;
    expect(Array.isArray(hosts)).toBe(true);
    for (const h of hosts) expect(typeof h).toBe("string");
    for (const t of data.tags as unknown[]) expect(t).toMatch(/^(language|keyword):[a-z0-9-]+$/);
    if (c.kind === "destination") expect(data.supportsRefreshes).toBe(true);
  });
});
