import { mkdtempSync, readdirSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { layoutOf } from "../sql/columns.js";
import { awkwardSpec } from "../sql/fixtures.js";
import { mergeStageColumns } from "../sql/statements.js";
import { validateVolumePath } from "./files-api.js";
import { decimalBytes, writeStageParquet } from "./parquet.js";
import { dedupeImages, imageRows } from "./rows.js";
import { LocalDirStore, newSyncDir, purgeStale, safeSegment, syncDirTime } from "./store.js";
import type { Image } from "../../plan/types.js";

const img = (
  key: [string, bigint],
  wall: bigint,
  op: "upsert" | "delete",
  values: Record<string, unknown> = {},
  extra: Partial<Image> = {},
): Image => ({
  key,
  op,
  hlc: { wall, logical: 0 },
  present: new Set(["Region Code", "id`x", ...Object.keys(values)]),
  values: new Map<string, never>(Object.entries({ "Region Code": key[0], "id`x": key[1], ...values }) as never),
  reset: false,
  rawId: "r",
  extractedAtMicros: 1n,
  airbyteMeta: "{}",
  generationId: 3n,
  ...extra,
});

describe("staged rows and parquet", () => {
  const l = layoutOf(awkwardSpec("soft"));
  it("masks, delete time, metadata; parquet round-trips typed values", async () => {
    const rows = imageRows(l, [
      img(
        ["eu", 1n],
        1_700_000_000_123_456_789n,
        "upsert",
        {
          select: "it's",
          "Straße 名前": 12345678901234567890123n,
          MixedCase: 5n,
          order: new Uint8Array([1, 2]),
          d: 19000,
          ok: true,
          n: 7,
          x: Number.NaN,
        },
        { latest: new Set(["select"]) },
      ),
      img(["eu", 2n], 1_700_000_000_000_000_000n, "delete"),
    ]);
    const cols = mergeStageColumns(l);
    const at = (r: number, name: string) => rows[r]![cols.findIndex((c) => c.name === name)];
    expect(at(0, "_cdc_present")).toBe("11111111");
    expect(at(0, "_cdc_latest")).toBe("10000000");
    expect(at(1, "_cdc_present")).toBe("00000000");
    expect(at(1, "_cdc_deleted_at")).toBe(1_700_000_000_000_000n);
    expect(at(0, "_cdc_deleted_at")).toBe(null);
    expect(at(0, "_cdc_updated")).toBe("1700000000123456789.0000000000");
    const bytes = writeStageParquet(cols, rows);
    const back = await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    });
    expect(back).toHaveLength(2);
    expect(back[0]?.select).toBe("it's");
    expect(back[0]?._cdc_updated_wall).toBe(1_700_000_000_123_456_789n);
    expect(back[1]?.select).toBe(null);
  });
  it("refuses wrongly typed cells and nulls in NOT NULL columns", () => {
    const cols = mergeStageColumns(l);
    const rows = imageRows(l, [img(["eu", 1n], 1n, "upsert", { n: 7n as unknown as number })]);
    expect(() => writeStageParquet(cols, rows)).toThrow(/staged column n/);
  });
  it("decimal byte widths", () => {
    expect(decimalBytes(9)).toBe(4);
    expect(decimalBytes(18)).toBe(8);
    expect(decimalBytes(38)).toBe(16);
  });
  it("one image per key: duplicates keep the newest HLC", () => {
    const { images, duplicates } = dedupeImages([
      img(["eu", 1n], 5n, "upsert"),
      img(["eu", 1n], 9n, "delete"),
      img(["eu", 1n], 7n, "upsert"),
    ]);
    expect(duplicates).toBe(2);
    expect(images).toHaveLength(1);
    expect(images[0]?.hlc.wall).toBe(9n);
  });
});

describe("staging store", () => {
  it("safe segments and volume paths", () => {
    expect(safeSegment("../a b/c")).toBe("___a_b_c");
    expect(safeSegment("..")).toBe("__");
    expect(() => validateVolumePath("/Volumes/a/b")).toThrow();
    expect(() => validateVolumePath("/Volumes/a/b/c/../d")).toThrow();
    expect(validateVolumePath("/Volumes/a/b/c/")).toBe("/Volumes/a/b/c");
  });
  it("purges only sync directories older than the threshold", async () => {
    const root = mkdtempSync(join(tmpdir(), "stage-"));
    const store = new LocalDirStore(root);
    const now = Date.now();
    const old = newSyncDir(now - 10 * 3600_000);
    const fresh = newSyncDir(now - 1000);
    expect(syncDirTime(old)).toBe(now - 10 * 3600_000);
    mkdirSync(join(root, old, "b"), { recursive: true });
    mkdirSync(join(root, fresh, "b"), { recursive: true });
    mkdirSync(join(root, "not-ours"));
    await store.put(`${fresh}/b1`, "part-1.parquet", new Uint8Array([1]));
    expect(await purgeStale(store, "current", 6 * 3600_000, now)).toEqual([old]);
    expect(readdirSync(root).sort()).toEqual([fresh, "not-ours"].sort());
    await store.purge(`${fresh}/b1`);
    await store.probe();
  });
});
