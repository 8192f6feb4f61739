/**
 * Identifier quoting and literal escaping for Databricks SQL / Spark SQL (destination-delta.md §2).
 * Every identifier is backticked with embedded backticks doubled; every value that must appear in
 * SQL text (paths, property values, UUIDs) goes through `sqlString`. User data never enters SQL text.
 */

/** Raised for names or values that cannot be represented safely in SQL text. */
export class SqlTextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SqlTextError";
  }
}

/** `a`b` → `` `a``b` ``. Rejects empty names and NUL (never valid in Delta/UC identifiers). */
export function quoteIdent(name: string): string {
  if (typeof name !== "string" || name.length === 0) throw new SqlTextError("empty SQL identifier");
  if (name.includes("\0")) throw new SqlTextError(`SQL identifier contains NUL: ${JSON.stringify(name)}`);
  return `\`${name.replaceAll("`", "``")}\``;
}

/** Dotted name of already-split parts: each part quoted separately (dots inside a part stay literal). */
export function quoteParts(...parts: string[]): string {
  return parts.map(quoteIdent).join(".");
}

/**
 * A Spark/Databricks string literal. Spark processes backslash escapes in literals (default
 * `spark.sql.parser.escapedStringLiterals=false`) and concatenates adjacent literals, so `''` doubling
 * would NOT escape a quote: backslash-escape `\` and `'`; control characters become `\n`, `\t`,
 * `\r`, `\0` or `\uXXXX` so statements stay one line.
 */
export function sqlString(value: string): string {
  let out = "'";
  for (const ch of value) {
    const c = ch.codePointAt(0) as number;
    if (ch === "\\") out += "\\\\";
    else if (ch === "'") out += "\\'";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c === 0) out += "\\0";
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}'`;
}

/** An integer literal from a bigint/number; anything else is refused (no text interpolation). */
export function sqlInt(value: bigint | number): string {
  if (typeof value === "bigint") return value.toString();
  if (!Number.isSafeInteger(value)) throw new SqlTextError(`not a safe integer literal: ${value}`);
  return String(value);
}

/**
 * A path inside a backticked `parquet.`<dir>`` source (spark-oss dialect): backticks doubled like an
 * identifier; the path must be absolute and free of control characters.
 */
export function quotePathIdent(path: string): string {
  if (!path.startsWith("/") && !/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new SqlTextError(`staging path must be absolute or a URI: ${JSON.stringify(path)}`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (/[\u0000-\u001f\u007f]/.test(path)) throw new SqlTextError(`staging path contains control characters`);
  return quoteIdent(path);
}
