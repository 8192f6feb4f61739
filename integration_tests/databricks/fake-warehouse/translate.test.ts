import { describe, expect, it } from "vitest";
import { translate } from "./translate.js";

describe("fake warehouse translator", () => {
  it("quotes, literals, read_files, <=>", () => {
    const t = translate("SELECT `a``b`, 'it\\'s' FROM read_files('/tmp/x/', format => 'parquet') AS s WHERE s.`f` <=> NULL");
    expect(t.statements).toEqual([
      `SELECT "a\`b", 'it''s' FROM read_parquet('/tmp/x/*.parquet') AS s WHERE s."f"  IS NOT DISTINCT FROM  NULL`,
    ]);
  });
  it("CREATE TABLE drops Delta clauses and maps types", () => {
    expect(
      translate(
        "CREATE TABLE IF NOT EXISTS `c`.`s`.`t` (`a` STRING NOT NULL, `b` TIMESTAMP) USING DELTA TBLPROPERTIES ('x' = 'y')",
      ).statements,
    ).toEqual(['CREATE TABLE IF NOT EXISTS "c"."s"."t" ("a" VARCHAR NOT NULL, "b" TIMESTAMPTZ) ']);
  });
  it("ADD COLUMNS and INSERT OVERWRITE", () => {
    expect(translate("ALTER TABLE `t` ADD COLUMNS (`a` DECIMAL(10,2), `b` STRING)").statements).toEqual([
      'ALTER TABLE "t" ADD COLUMN "a" DECIMAL(10,2)',
      'ALTER TABLE "t" ADD COLUMN "b" VARCHAR',
    ]);
    expect(translate("INSERT OVERWRITE TABLE `t` (`a`) SELECT `a` FROM `u`").statements).toEqual([
      'DELETE FROM "t"',
      'INSERT INTO "t" ("a") SELECT "a" FROM "u"',
    ]);
  });
  it("MERGE SET targets lose their alias", () => {
    const s = translate(
      "MERGE INTO `t` AS t USING (SELECT 1) AS s ON t.`k` = s.`k` WHEN MATCHED THEN UPDATE SET t.`a` = s.`a`, t.`b` = CASE WHEN t.`b` > 1 THEN NULL ELSE t.`b` END",
    ).statements[0];
    expect(s).toContain('UPDATE SET "a" = s."a", "b" = CASE WHEN t."b" > 1 THEN NULL ELSE t."b" END');
  });
});
