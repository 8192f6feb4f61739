/**
 * A small lexer for the Spark SQL subset this backend emits: backticked identifiers (doubled
 * backticks), single-quoted strings with backslash escapes, words, numbers, punctuation. Used by the
 * injection tests (structure must not depend on names) and by the fake warehouse's dialect translator.
 */
export type Token =
  | { kind: "ident"; value: string; raw: string }
  | { kind: "string"; value: string; raw: string }
  | { kind: "word"; value: string; raw: string }
  | { kind: "number"; value: string; raw: string }
  | { kind: "punct"; value: string; raw: string }
  | { kind: "space"; value: string; raw: string };

const ESC: Record<string, string> = { n: "\n", r: "\r", t: "\t", "0": "\0", b: "\b", Z: "\u001a" };

export function lexSql(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] as string;
    const start = i;
    if (ch === "`") {
      let v = "";
      i++;
      for (;;) {
        if (i >= sql.length) throw new Error(`unterminated identifier at ${start}`);
        if (sql[i] === "`") {
          if (sql[i + 1] === "`") {
            v += "`";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += sql[i];
        i++;
      }
      out.push({ kind: "ident", value: v, raw: sql.slice(start, i) });
    } else if (ch === "'") {
      let v = "";
      i++;
      for (;;) {
        if (i >= sql.length) throw new Error(`unterminated string at ${start}`);
        const c = sql[i] as string;
        if (c === "\\") {
          const n = sql[i + 1];
          if (n === undefined) throw new Error("dangling backslash");
          if (n === "u") {
            v += String.fromCharCode(Number.parseInt(sql.slice(i + 2, i + 6), 16));
            i += 6;
          } else {
            v += ESC[n] ?? n;
            i += 2;
          }
          continue;
        }
        if (c === "'") {
          i++;
          break;
        }
        v += c;
        i++;
      }
      out.push({ kind: "string", value: v, raw: sql.slice(start, i) });
    } else if (/\s/.test(ch)) {
      while (i < sql.length && /\s/.test(sql[i] as string)) i++;
      out.push({ kind: "space", value: " ", raw: sql.slice(start, i) });
    } else if (/[A-Za-z_]/.test(ch)) {
      while (i < sql.length && /[A-Za-z0-9_]/.test(sql[i] as string)) i++;
      const raw = sql.slice(start, i);
      out.push({ kind: "word", value: raw.toUpperCase(), raw });
    } else if (/[0-9]/.test(ch)) {
      while (i < sql.length && /[0-9.]/.test(sql[i] as string)) i++;
      const raw = sql.slice(start, i);
      out.push({ kind: "number", value: raw, raw });
    } else {
      const two =
        sql.slice(i, i + 3) === "<=>" ? "<=>" : ["<=", ">=", "<>", "!=", "=>", "||", "::"].find((p) => sql.startsWith(p, i));
      const p = two ?? ch;
      i += p.length;
      out.push({ kind: "punct", value: p, raw: p });
    }
  }
  return out;
}
