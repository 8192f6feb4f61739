/** Configured catalogs built from `discover`, the way the platform (or a user) would. */
import type { Msg } from "./proc.js";

export type DestMode = "append" | "overwrite" | "append_dedup";

export function configureCatalog(
  catalog: Msg,
  o: { syncMode?: "incremental" | "full_refresh"; destMode?: DestMode; streams?: string[] } = {},
): Msg {
  const streams = (catalog.streams as Msg[])
    .filter((s) => !o.streams || o.streams.includes(s.name))
    .map((s) => ({
      stream: s,
      sync_mode: o.syncMode ?? "incremental",
      destination_sync_mode: o.destMode ?? "append_dedup",
      ...(s.default_cursor_field ? { cursor_field: s.default_cursor_field } : {}),
      ...(s.source_defined_primary_key ? { primary_key: s.source_defined_primary_key } : {}),
    }));
  return { streams };
}
