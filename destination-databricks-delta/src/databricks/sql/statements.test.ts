import { describe, expect, it } from "vitest";
import { layoutOf } from "./columns.js";
import { awkwardSpec, column, metadataColumns } from "./fixtures.js";
import { describeTableSql } from "./describe.js";
import { type Token, lexSql } from "./lex.js";
import { SqlTextError, quoteIdent, quotePathIdent, sqlString } from "./quote.js";
import {
  type StageSource,
  type TableName,
  addColumnsSql,
  appendFastSql,
  createSchemaSql,
  createTableSql,
  ddlColumn,
  dropTableSql,
  historyMergeSql,
  mergeSql,
  mergeStageColumns,
  overwriteSwapSql,
  probeColumnsSql,
  pruneTombstonesSql,
  tombstoneColumns,
  tombstoneMergeSql,
} from "./statements.js";
import type { TableSpec } from "../../plan/types.js";

const G = (name: string) => `./__golden__/${name}.sql`;
const target: TableName = { catalog: "main", schema: "shop floor", table: "ord`ers" };
const tomb: TableName = { ...target, table: "ord`ers__cdc_tombstones" };
const volume: StageSource = { kind: "read_files", uri: "/Volumes/main/shop floor/stage/s-42/b'7/" };
const ossDir: StageSource = { kind: "parquet_dir", path: "/tmp/stage/s-42/b`7" };
const props = { "delta.enableDeletionVectors": "true", "cdc.managed_by": "destination-databricks-delta" };

describe("quoting", () => {
  it("backticks identifiers and doubles embedded backticks", () => {
    expect(quoteIdent("a`b")).toBe("`a``b`");
    expect(quoteIdent("select")).toBe("`select`");
    expect(quoteIdent("Straße 名前")).toBe("`Straße 名前`");
    expect(quoteIdent("``")).toBe("``````");
    expect(() => quoteIdent("")).toThrow(SqlTextError);
    expect(() => quoteIdent("a\0b")).toThrow(SqlTextError);
  });
  it("escapes literals with backslashes (Spark concatenates adjacent literals, so '' is no escape)", () => {
    expect(sqlString("it's")).toBe("'it\\'s'");
    expect(sqlString("a\\b")).toBe("'a\\\\b'");
    expect(sqlString("x\ny\u0001")).toBe("'x\\ny\\u0001'");
    expect(lexSql(sqlString("'; DROP TABLE t; --\\'"))).toEqual([
      { kind: "string", value: "'; DROP TABLE t; --\\'", raw: sqlString("'; DROP TABLE t; --\\'") },
    ]);
  });
  it("refuses relative staging paths and control characters", () => {
    expect(() => quotePathIdent("stage/x")).toThrow(SqlTextError);
    expect(() => quotePathIdent("/tmp/a\nb")).toThrow(SqlTextError);
    expect(quotePathIdent("/tmp/a`b")).toBe("`/tmp/a``b`");
  });
});

describe("golden SQL (awkward identifiers)", () => {
  const soft = layoutOf(awkwardSpec("soft"));
  const hard = layoutOf(awkwardSpec("hard"));
  const hist = layoutOf(awkwardSpec("soft", true));

  it("CREATE SCHEMA / TABLE / ALTER / probe / DROP", async () => {
    const sql = [
      createSchemaSql(target.catalog, target.schema),
      createTableSql(target, awkwardSpec("soft").columns, { properties: props }),
      createTableSql(tomb, tombstoneColumns(hard), { properties: props }),
      addColumnsSql(target, [
        column("new col`", { kind: "decimal", precision: 12, scale: 2 }, { nullable: false }),
        ddlColumn(column("Ünï", { kind: "string" }, { metadata: { "cdc.placeholder": "true", "cdc.original_name": "Ünï 'x'" } })),
      ]),
      probeColumnsSql(target),
      describeTableSql(target),
      dropTableSql({ ...target, table: "ord`ers__tmp_g7" }),
    ].join(";\n\n");
    await expect(`${sql};\n`).toMatchFileSnapshot(G("ddl"));
  });

  it("MERGE soft (databricks read_files)", async () => {
    await expect(`${mergeSql({ target, layout: soft, source: volume, deleteMode: "soft" })};\n`).toMatchFileSnapshot(
      G("merge-soft-databricks"),
    );
  });
  it("MERGE hard + tombstone MERGE + prune (databricks)", async () => {
    const sql = [
      tombstoneMergeSql(tomb, hard, volume),
      mergeSql({ target, layout: hard, source: volume, deleteMode: "hard", tombstones: tomb }),
      pruneTombstonesSql(tomb, 1_700_000_000_000_000_000n),
    ].join(";\n\n");
    await expect(`${sql};\n`).toMatchFileSnapshot(G("merge-hard-databricks"));
  });
  it("MERGE soft and hard (spark-oss parquet.`dir`, spark_catalog)", async () => {
    const t = { ...target, catalog: "spark_catalog" };
    const sql = [
      mergeSql({ target: t, layout: soft, source: ossDir, deleteMode: "soft" }),
      tombstoneMergeSql({ ...tomb, catalog: "spark_catalog" }, hard, ossDir),
      mergeSql({
        target: t,
        layout: hard,
        source: ossDir,
        deleteMode: "hard",
        tombstones: { ...tomb, catalog: "spark_catalog" },
      }),
    ].join(";\n\n");
    await expect(`${sql};\n`).toMatchFileSnapshot(G("merge-spark-oss"));
  });
  it("history MERGE, COPY INTO, INSERT (append modes)", async () => {
    const sql = [
      historyMergeSql(target, hist, volume),
      appendFastSql("databricks", target, hist, volume),
      appendFastSql("spark-oss", { ...target, catalog: "spark_catalog" }, hist, ossDir),
    ].join(";\n\n");
    await expect(`${sql};\n`).toMatchFileSnapshot(G("append"));
  });
  it("overwrite swap", async () => {
    const cols = awkwardSpec("soft").columns.map((c) => c.name);
    await expect(`${overwriteSwapSql(target, { ...target, table: "ord`ers__tmp_g7" }, cols)};\n`).toMatchFileSnapshot(
      G("overwrite-swap"),
    );
  });
  it("every MERGE clause carries the HLC guard", () => {
    for (const sql of [
      mergeSql({ target, layout: soft, source: volume, deleteMode: "soft" }),
      mergeSql({ target, layout: hard, source: volume, deleteMode: "hard", tombstones: tomb }),
      tombstoneMergeSql(tomb, hard, volume),
    ]) {
      for (const line of sql.split("\n").filter((l) => l.startsWith("WHEN MATCHED"))) {
        expect(line).toMatch(
          /\(s\.`_cdc_updated_wall` > t\.`_cdc_updated_wall` OR \(s\.`_cdc_updated_wall` = t\.`_cdc_updated_wall` AND s\.`_cdc_updated_logical` >= t\.`_cdc_updated_logical`\)\)/,
        );
      }
    }
  });
  it("no SELECT * except the column probe; every staged column is CAST", () => {
    const sql = mergeSql({ target, layout: soft, source: volume, deleteMode: "soft" });
    expect(sql).not.toMatch(/SELECT \*/);
    const casts = sql.match(/CAST\(/g)?.length ?? 0;
    expect(casts).toBe(mergeStageColumns(soft).length);
  });
  it("the presence mask addresses non-key user columns by position", () => {
    const sql = mergeSql({ target, layout: soft, source: volume, deleteMode: "soft" });
    soft.users.forEach((c, i) => {
      expect(sql).toContain(`substr(s.\`_cdc_present\`, ${i + 1}, 1) = '1' AND (`);
      expect(sql).toContain(`substr(s.\`_cdc_latest\`, ${i + 1}, 1) = '1') THEN s.${quoteIdent(c.name)}`);
    });
  });
});

// ---------------------------------------------------------------- injection corpus

const CORPUS = [
  "x`; DROP TABLE users; --",
  "a`.`b",
  "`",
  "``",
  "'; DELETE FROM t WHERE '1'='1",
  "\\",
  "\\'",
  "a\nb",
  "a\rb\tc",
  "col) VALUES (1); --",
  "*/ DROP /*",
  "名前`'\"",
  "x AS t ON 1=1 WHEN MATCHED THEN DELETE --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal template-looking name is the test
  "${injected}",
  "\u202Eevil",
  "SELECT",
  "` OR 1=1 OR `",
];

/** Structure of a statement: non-identifier tokens verbatim; identifiers as their decoded value. */
function shape(sql: string, rename: (s: string) => string): string[] {
  return lexSql(sql).map((t: Token) =>
    t.kind === "ident" ? `I:${rename(t.value)}` : t.kind === "space" ? " " : `${t.kind}:${t.value}`,
  );
}

function specWithNames(tableName: string, colName: string, keyName: string): { spec: TableSpec; name: TableName } {
  const spec: TableSpec = {
    ref: { namespace: null, name: tableName },
    columns: [
      column(keyName, { kind: "long" }, { nullable: false, keyIndex: 0 }),
      column(colName, { kind: "string" }),
      ...metadataColumns("soft", true),
    ],
    keyColumns: [keyName],
  };
  return { spec, name: { catalog: "main", schema: tableName, table: tableName } };
}

describe("injection corpus: names never change statement structure", () => {
  const builders = (spec: TableSpec, name: TableName, srcPath: string): string[] => {
    const l = layoutOf(spec);
    const src: StageSource = { kind: "read_files", uri: `/Volumes/c/s/v/${srcPath}/` };
    const oss: StageSource = { kind: "parquet_dir", path: `/tmp/${srcPath}` };
    const t2 = { ...name, table: `${name.table}__cdc_tombstones` };
    return [
      createSchemaSql(name.catalog, name.schema),
      createTableSql(name, spec.columns, { properties: { [srcPath]: srcPath } }),
      addColumnsSql(name, [spec.columns[1]!]),
      mergeSql({ target: name, layout: l, source: src, deleteMode: "soft" }),
      mergeSql({ target: name, layout: l, source: oss, deleteMode: "hard", tombstones: t2 }),
      tombstoneMergeSql(t2, l, src),
      historyMergeSql(name, l, src),
      appendFastSql("databricks", name, l, src),
      appendFastSql("spark-oss", name, l, oss),
      overwriteSwapSql(
        name,
        t2,
        spec.columns.map((c) => c.name),
      ),
    ];
  };
  const base = specWithNames("tbl", "col", "key");
  const baseSql = builders(base.spec, base.name, "p");

  for (const evil of CORPUS) {
    it(`name ${JSON.stringify(evil)}`, () => {
      const e = specWithNames(evil, `${evil}_c`, `${evil}_k`);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are replaced
      const pathPart = evil.replace(/[\u0000-\u001f\u007f]/g, "_");
      const evilSql = builders(e.spec, e.name, pathPart);
      const rename = (s: string) =>
        s
          .replaceAll(`${evil}_c`, "col")
          .replaceAll(`${evil}_k`, "key")
          .replaceAll(`/tmp/${pathPart}`, "/tmp/p")
          .replaceAll(evil, "tbl");
      evilSql.forEach((sql, i) => {
        const got = shape(sql, rename).map((s) => (s.startsWith("string:") ? "string:" : s));
        const want = shape(baseSql[i]!, (s) => s).map((s) => (s.startsWith("string:") ? "string:" : s));
        expect(got).toEqual(want);
        // string literals decode back to exactly what was put in
        for (const t of lexSql(sql).filter((x) => x.kind === "string")) {
          expect(sqlString(t.value)).toBe(t.raw);
        }
      });
    });
  }
});
