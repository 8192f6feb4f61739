/**
 * A tiny hand-written changefeed (CockroachDB cloud-storage sink layout, wrapped JSON envelope,
 * daily partitions): table `orders`, an initial scan of two rows, then an update of id 1 and a
 * delete of id 2, closed by two RESOLVED files. Enough for a `read | write` smoke run of the images.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const T0 = "1767225600000000000.0000000000"; // 2026-01-01T00:00:00Z
export const T1 = "1767225605000000000.0000000000"; // 2026-01-01T00:00:05Z
export const R1 = "1767225610000000000.0000000000"; // 2026-01-01T00:00:10Z

const RUN = "0123456789abcdef";

export function writeTinyChangefeed(dir: string): void {
  const day = join(dir, "2026-01-01");
  mkdirSync(day, { recursive: true });
  writeFileSync(
    join(day, `202601010000000000000000000000000-${RUN}-1-1-00000000-orders-1.ndjson`),
    [
      `{"after": {"id": 1, "note": "gift wrap", "total": 48.10}, "key": [1], "updated": "${T0}"}`,
      `{"after": {"id": 2, "note": null, "total": 5.00}, "key": [2], "updated": "${T0}"}`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(day, "202601010000000000000000000000000.RESOLVED"), `{"resolved":"${T0}"}`);
  writeFileSync(
    join(day, `202601010000050000000000000000000-${RUN}-1-1-00000001-orders-1.ndjson`),
    [
      `{"after": {"id": 1, "note": "gift wrap", "total": 50.25}, "key": [1], "updated": "${T1}"}`,
      `{"after": null, "key": [2], "updated": "${T1}"}`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(day, "202601010000100000000000000000000.RESOLVED"), `{"resolved":"${R1}"}`);
}

/** A configured catalog from a discovered one: every stream incremental + append_dedup. */
export function configureCatalog(catalog: { streams: Record<string, unknown>[] }): unknown {
  return {
    streams: catalog.streams.map((s) => ({
      stream: s,
      sync_mode: "incremental",
      destination_sync_mode: "append_dedup",
      cursor_field: s.default_cursor_field ?? ["_cdc_updated"],
      primary_key: s.source_defined_primary_key ?? [["id"]],
    })),
  };
}
