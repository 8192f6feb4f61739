/**
 * Spark/Databricks SQL (the subset our backend emits) → DuckDB SQL, token by token:
 * backticks → double quotes, backslash-escaped literals → standard literals, `read_files(…)` and
 * ``parquet.`dir` `` → `read_parquet('dir/*.parquet')`, `<=>` → IS NOT DISTINCT FROM, Delta-only DDL
 * clauses dropped, `INSERT OVERWRITE` → DELETE + INSERT, `ADD COLUMNS (…)` → one ADD COLUMN each,
 * `COPY INTO` → INSERT (with a per-table loaded-files ledger handled by the server).
 * DuckDB is no dialect oracle: this only lets the real driver run real statements end to end.
 */
import { type Token, lexSql } from "../../../destination-databricks-delta/src/databricks/sql/lex.js";

const TYPE_MAP: Record<string, string> = {
  STRING: "VARCHAR",
  BINARY: "BLOB",
  TIMESTAMP_NTZ: "TIMESTAMP",
  TIMESTAMP: "TIMESTAMPTZ",
};

const dq = (s: string) => `"${s.replaceAll('"', '""')}"`;
const sq = (s: string) => `'${s.replaceAll("'", "''")}'`;

let mapPath: (p: string) => string = (p) => p;

function dirGlob(p: string): string {
  const d = mapPath(p)
    .replace(/^file:\/\//, "")
    .replace(/\/+$/, "");
  return `read_parquet(${sq(`${d}/*.parquet`)})`;
}

export interface Translated {
  statements: string[];
  /** COPY INTO: files the statement would load, keyed by target, for the server's ledger. */
  copyInto?: { target: string; dir: string };
}

function significant(tokens: Token[], i: number, dir: 1 | -1): number {
  let j = i + dir;
  while (j >= 0 && j < tokens.length && tokens[j]!.kind === "space") j += dir;
  return j;
}

function render(tokens: Token[], opts: { merge: boolean }): string {
  let out = "";
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === "ident") out += dq(t.value);
    else if (t.kind === "string") out += sq(t.value);
    else if (t.kind === "punct" && t.value === "<=>") out += " IS NOT DISTINCT FROM ";
    else if (t.kind === "word" && t.value === "READ_FILES") {
      // read_files('<uri>', format => 'parquet')
      const open = significant(tokens, i, 1);
      const uri = significant(tokens, open, 1);
      let close = uri;
      while (close < tokens.length && !(tokens[close]!.kind === "punct" && tokens[close]!.value === ")")) close++;
      out += dirGlob(tokens[uri]!.value);
      i = close;
    } else if (t.kind === "word" && t.value === "PARQUET" && tokens[i + 1]?.value === "." && tokens[i + 2]?.kind === "ident") {
      out += dirGlob(tokens[i + 2]!.value);
      i += 2;
    } else if (t.kind === "word" && TYPE_MAP[t.value] && isTypePosition(tokens, i)) out += TYPE_MAP[t.value];
    else if (opts.merge && t.kind === "word" && t.raw === "t" && tokens[i + 1]?.value === "." && isSetTarget(tokens, i)) {
      i += 1; // drop `t.` before a SET target: DuckDB wants bare column names there
    } else out += t.raw;
  }
  return out;
}

/** After AS (CAST) or after an identifier in a column definition list. */
function isTypePosition(tokens: Token[], i: number): boolean {
  const p = significant(tokens, i, -1);
  const prev = tokens[p];
  return prev !== undefined && ((prev.kind === "word" && prev.value === "AS") || prev.kind === "ident");
}

/** `SET t.x =` or `, t.x =` inside an UPDATE SET list. */
function isSetTarget(tokens: Token[], i: number): boolean {
  const p = significant(tokens, i, -1);
  const prev = tokens[p];
  if (!prev || !((prev.kind === "word" && prev.value === "SET") || (prev.kind === "punct" && prev.value === ","))) return false;
  const id = i + 2;
  if (tokens[id]?.kind !== "ident") return false;
  const eq = significant(tokens, id, 1);
  return tokens[eq]?.kind === "punct" && tokens[eq]?.value === "=";
}

function words(tokens: Token[]): string[] {
  return tokens.filter((t) => t.kind !== "space").map((t) => (t.kind === "word" ? t.value : t.raw));
}

/** Split at the top-level `(`…`)` starting at index `open`; returns the index of the matching `)`. */
function matchParen(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === "punct" && t.value === "(") depth++;
    if (t.kind === "punct" && t.value === ")") {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw new Error("unbalanced parentheses");
}

/** Column comments (our metadata) are dropped: DuckDB has no inline COMMENT. */
function dropComments(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === "word" && t.value === "COMMENT") {
      const n = significant(tokens, i, 1);
      if (tokens[n]?.kind === "string") {
        i = n;
        continue;
      }
    }
    out.push(t);
  }
  return out;
}

const DESCRIBE_TYPES = `CASE WHEN column_type = 'VARCHAR' THEN 'string' WHEN column_type = 'BIGINT' THEN 'bigint' WHEN column_type = 'INTEGER' THEN 'int'
 WHEN column_type = 'DOUBLE' THEN 'double' WHEN column_type = 'BOOLEAN' THEN 'boolean' WHEN column_type = 'BLOB' THEN 'binary'
 WHEN column_type = 'DATE' THEN 'date' WHEN column_type = 'TIMESTAMP WITH TIME ZONE' THEN 'timestamp' WHEN column_type = 'TIMESTAMP' THEN 'timestamp_ntz'
 ELSE lower(replace(column_type, ' ', '')) END`;

export function translate(sql: string, pathMap?: (p: string) => string): Translated {
  mapPath = pathMap ?? ((p) => p);
  const tokens = dropComments(lexSql(sql.trim().replace(/;$/, "")));
  const w = words(tokens);
  const head = w.slice(0, 3).join(" ");

  if (w[0] === "DESCRIBE" && w[1] === "TABLE") {
    const name = render(tokens.slice(tokens.findIndex((t) => t.kind === "word" && t.value === "TABLE") + 1), {
      merge: false,
    }).trim();
    return {
      statements: [`SELECT column_name AS col_name, ${DESCRIBE_TYPES} AS data_type, NULL AS comment FROM (DESCRIBE ${name})`],
    };
  }
  if (head.startsWith("CREATE TABLE")) {
    // drop USING DELTA, COMMENT '…', TBLPROPERTIES (…)
    const using = tokens.findIndex((t) => t.kind === "word" && t.value === "USING");
    const kept = using >= 0 ? tokens.slice(0, using) : tokens;
    return { statements: [render(kept, { merge: false })] };
  }
  if (head.startsWith("ALTER TABLE") && w.includes("COLUMNS")) {
    const add = tokens.findIndex((t) => t.kind === "word" && t.value === "ADD");
    const open = tokens.findIndex((t, i) => i > add && t.kind === "punct" && t.value === "(");
    const close = matchParen(tokens, open);
    const prefix = render(tokens.slice(0, add), { merge: false });
    const defs: Token[][] = [[]];
    let depth = 0;
    for (const t of tokens.slice(open + 1, close)) {
      if (t.kind === "punct" && t.value === "(") depth++;
      if (t.kind === "punct" && t.value === ")") depth--;
      if (depth === 0 && t.kind === "punct" && t.value === ",") defs.push([]);
      else defs[defs.length - 1]!.push(t);
    }
    return { statements: defs.map((d) => `${prefix}ADD COLUMN ${render(d, { merge: false }).trim()}`) };
  }
  if (w[0] === "INSERT" && w[1] === "OVERWRITE") {
    // INSERT OVERWRITE TABLE <name> (cols) SELECT … → DELETE FROM <name>; INSERT INTO <name> (cols) SELECT …
    const tableKw = tokens.findIndex((t) => t.kind === "word" && t.value === "TABLE");
    const open = tokens.findIndex((t, i) => i > tableKw && t.kind === "punct" && t.value === "(");
    const name = render(tokens.slice(tableKw + 1, open), { merge: false }).trim();
    return { statements: [`DELETE FROM ${name}`, `INSERT INTO ${name} ${render(tokens.slice(open), { merge: false })}`] };
  }
  if (w[0] === "COPY" && w[1] === "INTO") {
    // COPY INTO <name> FROM (SELECT casts FROM '<uri>') FILEFORMAT = PARQUET
    const from = tokens.findIndex((t) => t.kind === "word" && t.value === "FROM");
    const name = render(tokens.slice(2, from), { merge: false }).trim();
    const open = significant(tokens, from, 1);
    const close = matchParen(tokens, open);
    const inner = tokens.slice(open + 1, close);
    const uriIdx = inner.findIndex((t) => t.kind === "string");
    const uri = inner[uriIdx]!.value;
    const sel = [...inner.slice(0, uriIdx), { kind: "word", value: "X", raw: dirGlob(uri) } as Token, ...inner.slice(uriIdx + 1)];
    const cols = sel.filter((t, i) => t.kind === "ident" && sel[significant(sel, i, -1)]?.value === "AS").map((t) => dq(t.value));
    return {
      statements: [`INSERT INTO ${name} (${cols.join(", ")}) ${render(sel, { merge: false })}`],
      copyInto: { target: name, dir: uri },
    };
  }
  return { statements: [render(tokens, { merge: w[0] === "MERGE" })] };
}
