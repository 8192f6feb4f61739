/**
 * Identifier rules of destination-delta.md §2. Table/schema/catalog names: lowercase, `.`, space,
 * `/`, `\`, 0x00–0x1F, 0x7F → `_`, ≤ 255 characters. Column names keep their case but must be unique
 * case-insensitively; characters Delta rejects without column mapping (` ,;{}()\n\t=`) and control
 * characters → `_` (the original goes into column metadata). SQL identifiers are backticked with
 * embedded backticks doubled. Path segments (embedded tables, staging) never contain `/`, `..` or
 * control characters.
 */
import { configError } from "@cdc-delta/shared";
import type { TableRef } from "./types.js";

export const MAX_NAME_LENGTH = 255;
export const DEFAULT_NAMESPACE_SEGMENT = "default";
/** Column metadata key holding the original (unsanitised) field name. */
export const META_ORIGINAL_NAME = "cdc.original_name";
/** Column metadata key flagging a mid-sync STRING placeholder (destination-delta.md §3 P7). */
export const META_PLACEHOLDER = "cdc.placeholder";
/** Column metadata key holding the CockroachDB DDL type from the `x-cockroachdb` annotation. */
export const META_SOURCE_TYPE = "cdc.source_type";

/** `a`b` → ``a``b``: safe for any identifier part (reserved words too). */
export function quoteIdent(part: string): string {
  return `\`${part.replaceAll("`", "``")}\``;
}

/** A dotted, backticked multi-part name: `cat`.`sch`.`tbl`. */
export function quoteName(...parts: string[]): string {
  return parts.map(quoteIdent).join(".");
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we replace
const TABLE_FORBIDDEN = /[.\s/\\\x00-\x1f\x7f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we replace
const COLUMN_FORBIDDEN = /[ ,;{}()\n\t=\x00-\x1f\x7f]/g;

/** Unity-Catalog-safe table / schema name (also a safe path segment). */
export function sanitizeTableName(name: string): string {
  let out = name.toLowerCase().replace(TABLE_FORBIDDEN, "_");
  if (out.length > MAX_NAME_LENGTH) out = out.slice(0, MAX_NAME_LENGTH);
  return out.length === 0 ? "_" : out;
}

/** Delta column name without column mapping; `changed` tells whether the original must be kept in metadata. */
export function sanitizeColumnName(name: string): { name: string; changed: boolean } {
  let out = name.replace(COLUMN_FORBIDDEN, "_");
  if (out.length === 0) out = "_";
  return { name: out, changed: out !== name };
}

/** One path segment for local / object-store paths: no `/`, `\`, `..` or control characters. */
export function pathSegment(name: string): string {
  const s = sanitizeTableName(name);
  return s === "." || s === ".." ? s.replaceAll(".", "_") : s;
}

export function tableRef(streamName: string, namespace: string | null | undefined): TableRef {
  return { namespace: namespace ? sanitizeTableName(namespace) : null, name: sanitizeTableName(streamName) };
}

/** `<namespace or default>/<table>`: where the embedded backend puts a table under its root. */
export function tableRelativePath(ref: TableRef, suffix = ""): string {
  return `${ref.namespace ?? DEFAULT_NAMESPACE_SEGMENT}/${ref.name}${suffix}`;
}

export function tableRefKey(ref: TableRef): string {
  return `${ref.namespace ?? ""}\u0000${ref.name}`;
}

/** Two streams mapping to one table is a config error (destination-delta.md §2). */
export function assertDistinctTables(streams: { stream: string; ref: TableRef }[]): void {
  const seen = new Map<string, string>();
  for (const s of streams) {
    const k = tableRefKey(s.ref);
    const other = seen.get(k);
    if (other !== undefined) {
      throw configError(
        `streams "${other}" and "${s.stream}" map to the same table ${s.ref.namespace ? `${s.ref.namespace}.` : ""}${s.ref.name} (names are lowercased and sanitised); rename one`,
      );
    }
    seen.set(k, s.stream);
  }
}

/** `<table>__tmp_g<generation_id>`: the overwrite temp table (destination-delta.md §3 P6). */
export function tempTableRef(ref: TableRef, generationId: bigint): TableRef {
  return { namespace: ref.namespace, name: `${ref.name}__tmp_g${generationId}` };
}

/** `<table>__cdc_tombstones`: the companion table of hard deletes (destination-delta.md §3 P4). */
export function tombstoneTableRef(ref: TableRef): TableRef {
  return { namespace: ref.namespace, name: `${ref.name}__cdc_tombstones` };
}
