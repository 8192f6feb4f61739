/** Parse CockroachDB `SHOW CREATE TABLE` output: columns, types, NULLability, primary key, families. */
import type { ColumnInfo, TableSchema } from "./types.js";

function splitTopLevel(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let cur = "";
  for (const ch of body) {
    if (ch === '"') quote = !quote;
    if (!quote) {
      if (ch === "(") depth++;
      else if (ch === ")") depth--;
      else if (ch === "," && depth === 0) {
        out.push(cur.trim());
        cur = "";
        continue;
      }
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function ident(s: string): { name: string; rest: string } {
  const t = s.trimStart();
  if (t.startsWith('"')) {
    let i = 1;
    let name = "";
    while (i < t.length) {
      if (t[i] === '"') {
        if (t[i + 1] === '"') {
          name += '"';
          i += 2;
          continue;
        }
        break;
      }
      name += t[i];
      i++;
    }
    return { name, rest: t.slice(i + 1) };
  }
  const m = /^([^\s(),]+)/.exec(t);
  return { name: m ? (m[1] as string) : "", rest: t.slice(m ? (m[1] as string).length : 0) };
}

function identList(s: string): string[] {
  const inner = s.slice(s.indexOf("(") + 1, s.lastIndexOf(")"));
  return splitTopLevel(inner).map((x) => ident(x).name);
}

const STOP =
  /\s+(NOT\s+NULL|NULL|NOT\s+VISIBLE|DEFAULT|AS\s*\(|CHECK|REFERENCES|PRIMARY\s+KEY|UNIQUE|FAMILY|CONSTRAINT|ON\s+UPDATE|COLLATE|CREATE\s+FAMILY|GENERATED)\b/i;

export function parseShowCreateTable(text: string, table?: string): TableSchema {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  const header = text.slice(0, open);
  const name =
    table ??
    ident(
      header
        .replace(/^\s*CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?/i, "")
        .split(".")
        .pop() ?? "",
    ).name;
  const items = splitTopLevel(text.slice(open + 1, close));
  const columns: ColumnInfo[] = [];
  let primaryKey: string[] = [];
  const families: { name: string; cols: string[] }[] = [];
  for (const item of items) {
    const upper = item.toUpperCase();
    if (/^CONSTRAINT\s/i.test(item) && /PRIMARY\s+KEY/i.test(item)) {
      primaryKey = identList(item.slice(upper.indexOf("PRIMARY KEY"))).map((c) => c.replace(/\s+(ASC|DESC)$/i, ""));
      continue;
    }
    if (/^PRIMARY\s+KEY/i.test(item)) {
      primaryKey = identList(item);
      continue;
    }
    if (/^FAMILY\b/i.test(item)) {
      const afterKw = item.replace(/^FAMILY\s*/i, "");
      const fam = afterKw.startsWith("(") ? { name: "", rest: afterKw } : ident(afterKw);
      families.push({ name: fam.name || `fam_${families.length}`, cols: identList(fam.rest) });
      continue;
    }
    if (/^(CONSTRAINT|INDEX|UNIQUE|INVERTED|CHECK|FOREIGN|VECTOR)\b/i.test(item)) continue;
    const { name: col, rest } = ident(item);
    const stop = STOP.exec(` ${rest}`);
    const type = (stop ? ` ${rest}`.slice(0, stop.index) : rest).trim();
    const mods = stop ? ` ${rest}`.slice(stop.index) : "";
    const hidden = /NOT\s+VISIBLE/i.test(mods);
    const nullable = !/NOT\s+NULL/i.test(mods);
    if (/PRIMARY\s+KEY/i.test(mods)) primaryKey = [col];
    if (/\bAS\s*\(.*\)\s*VIRTUAL/i.test(mods)) continue; // virtual computed columns are not emitted
    columns.push({
      name: col,
      type: type.toUpperCase() === type ? type : type.toUpperCase(),
      nullable,
      family: null,
      ...(hidden ? { hidden: true } : {}),
    });
  }
  if (primaryKey.length === 0 && columns.some((c) => c.name === "rowid")) primaryKey = ["rowid"];
  primaryKey = primaryKey.map((c) => c.replace(/\s+(ASC|DESC)$/i, "").trim());
  let primaryFamily: string | null = null;
  if (families.length > 1) {
    for (const f of families)
      for (const c of f.cols) {
        const col = columns.find((x) => x.name === c);
        if (col) col.family = f.name;
      }
    primaryFamily = families.find((f) => primaryKey.every((k) => f.cols.includes(k)))?.name ?? families[0]?.name ?? null;
    for (const c of columns) if (c.family === null && primaryKey.includes(c.name)) c.family = primaryFamily;
  }
  return { table: name, columns, primaryKey, primaryFamily, source: "cockroachdb" };
}
