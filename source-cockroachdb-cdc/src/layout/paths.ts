import { configError } from "@cdc-delta/shared";

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Object keys (relative to the prefix) we read or accept from state: no absolute paths, `..`, `\` or control characters. */
export function isSafeKey(key: string): boolean {
  if (key.length === 0 || key.startsWith("/") || key.includes("\\") || CONTROL.test(key)) return false;
  return key.split("/").every((seg) => seg !== ".." && seg !== ".");
}

export function assertSafeKey(key: string, what = "object key"): void {
  if (!isSafeKey(key))
    throw configError(
      `${what} ${JSON.stringify(key)} is not a safe path under the configured prefix (no "..", leading "/" or control characters)`,
    );
}

/** A table or namespace name made safe for use as one path segment. */
export function sanitizeName(name: string): string {
  const s = name.replace(/[/\\]/g, "_").replace(new RegExp(CONTROL.source, "g"), "_");
  return s === "." || s === ".." || s === "" ? `_${s.replace(/\./g, "_")}_` : s;
}

/** Join a prefix and a key with exactly one "/". */
export function joinKey(prefix: string, key: string): string {
  if (!prefix) return key;
  return prefix.endsWith("/") ? prefix + key : `${prefix}/${key}`;
}
