/**
 * The user documentation's checkable claims: tables in docs/data-layout.md against the code that
 * implements them, error messages quoted in docs/operations.md against the sources that raise them,
 * links, npm scripts and config fields named in the docs against the repository.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { metadataColumns, RESERVED_COLUMNS } from "../../destination-databricks-delta/src/plan/columns.js";
import { columnTypeOf } from "../../destination-databricks-delta/src/plan/type-map.js";
import type { DeltaType } from "../../destination-databricks-delta/src/plan/types.js";
import { airbyteTypeOf } from "../../source-cockroachdb-cdc/src/catalog/types.js";
import { REPO } from "./dockerfile.js";

const OWN_DOCS = [
  "getting-started.md",
  "production-azure-databricks.md",
  "data-layout.md",
  "operations.md",
  "configuration-reference.md",
];
const read = (p: string) => readFileSync(join(REPO, p), "utf8");

/** Rows of the first Markdown table after a heading that contains `heading`. */
function tableAfter(md: string, heading: string): string[][] {
  const lines = md.split("\n");
  let i = lines.findIndex((l) => l.startsWith("#") && l.includes(heading));
  if (i < 0) throw new Error(`no heading ${heading}`);
  while (i < lines.length && !lines[i]!.startsWith("|")) i++;
  const rows: string[][] = [];
  for (; i < lines.length && lines[i]!.startsWith("|"); i++) {
    const cells = lines[i]!.slice(1, -1)
      .split(" | ")
      .map((c) => c.trim().replace(/^\|\s*|\s*\|$/g, ""));
    rows.push(cells);
  }
  return rows.slice(2); // header and separator
}

const codes = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

function sqlName(t: DeltaType): string {
  switch (t.kind) {
    case "long":
      return "BIGINT";
    case "integer":
      return "INT";
    case "decimal":
      return `DECIMAL(${t.precision},${t.scale})`;
    default:
      return t.kind.toUpperCase();
  }
}

function airbyteText(s: Record<string, unknown>): string {
  if (s.type === undefined) return "any JSON value";
  const extras = [s.contentEncoding, s.format, s.airbyte_type].filter(Boolean);
  return `\`${String(s.type)}\`${extras.length ? ` ${extras.join(", ")}` : ""}`;
}

describe("docs/data-layout.md", () => {
  const md = read("docs/data-layout.md");

  it("type mapping table matches the source's Airbyte types and the destination's Delta types", () => {
    const rows = tableAfter(md, "Type mapping");
    expect(rows.length).toBeGreaterThan(10);
    for (const [crdb, airbyte, delta] of rows) {
      for (const ddl of codes(crdb!)) {
        const schema = airbyteTypeOf(ddl, "c");
        expect(airbyteText(schema), `${ddl}: Airbyte column`).toBe(airbyte);
        const col = columnTypeOf({ ...schema, "x-cockroachdb": { type: ddl, family: null } } as never);
        expect(sqlName(col.type), `${ddl}: Delta column`).toBe(delta);
      }
    }
  });

  it("ENUM columns are strings", () => {
    expect(airbyteTypeOf("USER-DEFINED", "c")).toEqual({ type: "string" });
    expect(sqlName(columnTypeOf({ type: "string" } as never).type)).toBe("STRING");
  });

  it("metadata column table lists every metadata column with its type and nullability", () => {
    const rows = tableAfter(md, "Columns");
    const doc = new Map(rows.map((r) => [codes(r[0]!)[0]!, { type: r[1], nullable: r[2] }]));
    const all = new Map<string, { type: string; nullable: string }>();
    for (const softDelete of [false, true])
      for (const history of [false, true])
        for (const c of metadataColumns({ softDelete, history }))
          all.set(c.name, { type: sqlName(c.type), nullable: c.nullable ? "yes" : "no" });
    expect(new Set(doc.keys())).toEqual(new Set(all.keys()));
    expect(new Set([...all.keys()].map((k) => k.toLowerCase()))).toEqual(RESERVED_COLUMNS);
    for (const [name, want] of all) expect(doc.get(name), name).toEqual(want);
  });
});

/** Non-test TypeScript of the connectors and shared/, for the quoted error messages. */
function connectorCode(): string {
  const out: string[] = [];
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p)) if (e !== "testing" && e !== "fixtures") walk(join(p, e));
    } else if (p.endsWith(".ts") && !p.endsWith(".test.ts")) out.push(readFileSync(p, "utf8"));
  };
  for (const d of ["shared/src", "source-cockroachdb-cdc/src", "destination-databricks-delta/src"]) walk(join(REPO, d));
  return out.join("\n");
}

/** The first code span of a table cell (single or double backticks). */
const firstCode = (cell: string) => /``\s(.+?)\s``|`([^`]+)`/.exec(cell)?.slice(1).find(Boolean);

describe("docs/operations.md troubleshooting table", () => {
  const rows = tableAfter(read("docs/operations.md"), "Troubleshooting by error message");
  const code = connectorCode();
  it("has rows", () => expect(rows.length).toBeGreaterThan(25));
  it.each(rows.map((r) => [firstCode(r[0]!) ?? r[0]!]))("%s appears in the connectors' code", (fragment) => {
    const asTemplate = fragment.replaceAll("`", "\\`");
    expect(code.includes(fragment) || code.includes(asTemplate), fragment).toBe(true);
  });
});

describe("docs links, scripts and config fields", () => {
  const scripts = JSON.parse(read("package.json")).scripts as Record<string, string>;
  const docs = readdirSync(join(REPO, "docs")).filter((f) => OWN_DOCS.includes(f));

  it("the owned docs exist", () => {
    expect(docs.sort()).toEqual([...OWN_DOCS].sort());
  });

  it.each(OWN_DOCS)("%s: relative links point to files that exist", (f) => {
    const md = read(`docs/${f}`);
    for (const m of md.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      expect(() => readFileSync(join(REPO, "docs", target)), `${f} → ${target}`).not.toThrow();
    }
    void dirname;
  });

  it.each(OWN_DOCS)("%s: every `npm run X` names a script of package.json", (f) => {
    const md = read(`docs/${f}`);
    for (const m of md.matchAll(/npm run ([a-z][\w:-]*)/g)) expect(Object.keys(scripts), `${f}: npm run ${m[1]}`).toContain(m[1]);
  });

  it("every snake_case name in backticks is a config field of a connector's spec or known protocol/CockroachDB vocabulary", () => {
    const fields = new Set<string>();
    const walk = (n: Record<string, any> | undefined) => {
      if (!n || typeof n !== "object") return;
      for (const [k, v] of Object.entries(n.properties ?? {})) {
        fields.add(k);
        walk(v as Record<string, any>);
      }
      for (const v of n.oneOf ?? []) walk(v);
    };
    for (const pkg of ["source-cockroachdb-cdc", "destination-databricks-delta"]) {
      const r = spawnSync(process.execPath, [join(REPO, pkg, "dist/main.js"), "spec"], { encoding: "utf8" });
      walk(JSON.parse(r.stdout.split("\n")[0]!).spec.connectionSpecification);
    }
    // not config fields: CREATE CHANGEFEED options, Airbyte protocol and catalog words, SQL
    const vocabulary = new Set([
      "split_column_families",
      "min_checkpoint_frequency",
      "initial_scan",
      "mvcc_timestamp",
      "key_in_value",
      "topic_in_value",
      "schema_change_policy",
      "partition_format",
      "file_size",
      "high_water_timestamp",
      "append_dedup",
      "full_refresh",
      "destination_sync_mode",
      "generation_id",
      "primary_key",
      "emitted_at",
      "failure_type",
      "config_error",
      "transient_error",
      "system_error",
      "read_files",
    ]);
    const unknown: string[] = [];
    for (const f of OWN_DOCS.filter((d) => d !== "configuration-reference.md")) {
      for (const m of read(`docs/${f}`).matchAll(/`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`/g)) {
        if (!fields.has(m[1]!) && !vocabulary.has(m[1]!)) unknown.push(`${f}: ${m[1]}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
