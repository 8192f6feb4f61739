/**
 * Table templates of the workload: columns (CockroachDB DDL types), primary keys (ordinal order,
 * deliberately not alphabetical), column families, the deterministic key of every key-space index,
 * and value generators that mix random values with the edge values required by issue 4.
 */
import type { Prng } from "./prng.js";
import { type ColType, type Value, canonicalJsonb, daysFromCivil } from "./types.js";

export interface ColumnDef {
  readonly name: string;
  readonly type: ColType;
  readonly nullable: boolean;
  /** Index into the template's families (only meaningful with split_column_families). */
  readonly family: number;
  /** Hidden column (PK-less tables' `rowid`): still in `after` and `key`. */
  readonly hidden?: boolean;
  /** DEFAULT of a column added by a schema change (backfilled into every row). */
  readonly defaultValue?: Value;
}

export interface FamilyDef {
  readonly id: number;
  readonly name: string;
}

export interface SchemaChangeDef {
  /** `backfill`: ADD COLUMN … DEFAULT (re-emits every row); `nullable`: ADD COLUMN without default (no backfill). */
  readonly kind: "backfill" | "nullable";
  readonly column: ColumnDef;
  /** Descriptor-version increment (gaps are normal). */
  readonly versionStep: number;
}

export interface TableTemplate {
  readonly name: string;
  readonly columns: readonly ColumnDef[];
  readonly pk: readonly string[];
  readonly families: readonly FamilyDef[];
  readonly pkLess: boolean;
  readonly initialVersion: number;
  readonly schemaChange: SchemaChangeDef;
  /** PK values (PK ordinal order) of key-space index i; injective in i. */
  keyOf(i: number): Value[];
}

const ORDER_STATUS: ColType = { k: "ENUM", name: "order_status", labels: ["pending", "shipped", "delivered", "cancelled"] };

const I2: ColType = { k: "INT2" };
const I4: ColType = { k: "INT4" };
const I8: ColType = { k: "INT8" };
const S: ColType = { k: "STRING" };
const U: ColType = { k: "UUID" };

const col = (name: string, type: ColType, family = 0, nullable = true, extra: Partial<ColumnDef> = {}): ColumnDef => ({
  name,
  type,
  nullable,
  family,
  ...extra,
});

export const TENANTS = ["acme", "Zoë & Co", 'o\'brien "quoted"', "日本語", "a-b.c+d", "emoji 😀", "tab\there", "line\nbreak"];
const SKUS = ["SKU", "sku/ü", "x\\y", "<b>&", "zz"];

export const INT8_EDGES = [
  9007199254740993n, // 2^53 + 1
  -9223372036854775808n,
  9223372036854775807n,
  0n,
  -1n,
  9007199254740992n,
  -9007199254740993n,
];

/** A deterministic v4-shaped UUID for index i of a table (FNV mixing). */
export function uuidOf(tableSalt: number, i: number): string {
  let h1 = (0x811c9dc5 ^ tableSalt) >>> 0;
  let out = "";
  for (let k = 0; k < 4; k++) {
    h1 = Math.imul(h1 ^ (i + k * 0x9e3779b9), 0x01000193) >>> 0;
    h1 = Math.imul(h1 ^ (h1 >>> 15), 0x2c1b3c6d) >>> 0;
    h1 = (h1 ^ (h1 >>> 12) ^ (i * 2654435761)) >>> 0;
    out += h1.toString(16).padStart(8, "0");
  }
  const c = out.split("");
  c[12] = "4";
  c[16] = "89ab"[Number.parseInt(c[16] as string, 16) & 3] as string;
  // Uniqueness: the last 8 hex digits carry i itself (xor'ed with a constant), so distinct i never collide.
  const tail = ((i ^ 0x5bd1e995) >>> 0).toString(16).padStart(8, "0");
  const s = c.join("").slice(0, 24) + tail;
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

export const TEMPLATES: readonly TableTemplate[] = [
  {
    name: "orders",
    // Declared order differs from PK order (tenant, id), which is itself not alphabetical.
    columns: [
      col("id", I8, 0, false),
      col("tenant", S, 0, false),
      col("status", ORDER_STATUS, 0),
      col("Group", S, 0), // mixed case, reserved word
      col("paid", { k: "BOOL" }, 0),
      col("total", { k: "DECIMAL", p: 10, s: 2 }, 1),
      col("whole", { k: "DECIMAL", p: 12, s: 0 }, 1),
      col("amount", { k: "DECIMAL" }, 1),
      col("qty", I4, 1),
      col("small", I2, 1),
      col("big", I8, 1),
      col("price", { k: "FLOAT8" }, 1),
      col("ratio", { k: "FLOAT4" }, 1),
      col("note", S, 2),
      col("data", { k: "BYTES" }, 2),
      col("attrs", { k: "JSONB" }, 2),
      col("tags", { k: "ARRAY", elem: S }, 2),
      col("nums", { k: "ARRAY", elem: I8 }, 2),
      col("placed_at", { k: "TIMESTAMPTZ" }, 3),
      col("local_at", { k: "TIMESTAMP" }, 3),
      col("ship_date", { k: "DATE" }, 3),
      col("ship_time", { k: "TIME" }, 3),
      col("wait", { k: "INTERVAL" }, 3),
      col("ip", { k: "INET" }, 3),
      col("ref", U, 3),
    ],
    pk: ["tenant", "id"],
    families: [
      { id: 0, name: "primary" },
      { id: 1, name: "money" },
      { id: 2, name: "fam_2_note_data_attrs_tags_nums" },
      { id: 3, name: "times" },
    ],
    pkLess: false,
    initialVersion: 3,
    schemaChange: {
      kind: "backfill",
      column: col("discount", { k: "DECIMAL", p: 10, s: 2 }, 0, true, { defaultValue: "0.00" }),
      versionStep: 3,
    },
    keyOf(i) {
      const id = i < INT8_EDGES.length ? (INT8_EDGES[i] as bigint) : 9007199254740993n + BigInt(i) * 1000003n;
      return [TENANTS[i % TENANTS.length] as string, id];
    },
  },
  {
    name: "events",
    // PK-less: the hidden INT8 rowid (unique_rowid(), > 2^53) is the key.
    columns: [
      col("kind", ORDER_STATUS),
      col("payload", { k: "JSONB" }),
      col("at", { k: "TIMESTAMPTZ" }),
      col("n", I8),
      col("rowid", I8, 0, false, { hidden: true }),
    ],
    pk: ["rowid"],
    families: [{ id: 0, name: "primary" }],
    pkLess: true,
    initialVersion: 1,
    schemaChange: { kind: "nullable", column: col("source", S), versionStep: 1 },
    keyOf(i) {
      return [1012345678901234567n + BigInt(i) * 32771n];
    },
  },
  {
    name: "line-items",
    columns: [
      col("order_id", U, 0, false),
      col("sku", S, 0, false),
      col("qty", I8, 0),
      col("price", { k: "DECIMAL", p: 12, s: 0 }, 1),
      col("memo", S, 1),
      col("flags", { k: "ARRAY", elem: I8 }, 1),
    ],
    pk: ["sku", "order_id"],
    families: [
      { id: 0, name: "primary" },
      { id: 1, name: "fam_1_price_memo_flags" },
    ],
    pkLess: false,
    initialVersion: 14,
    schemaChange: {
      kind: "backfill",
      column: col("currency", S, 0, true, { defaultValue: "EUR" }),
      versionStep: 2,
    },
    keyOf(i) {
      return [`${SKUS[i % SKUS.length]}-${Math.floor(i / SKUS.length)}`, uuidOf(0x11, i)];
    },
  },
  {
    name: "user",
    columns: [col("id", I4, 0, false), col("name", S, 0), col("email", S, 1), col("born", { k: "DATE" }, 1)],
    pk: ["id"],
    families: [
      { id: 0, name: "primary" },
      { id: 1, name: "fam_1_email_born" },
    ],
    pkLess: false,
    initialVersion: 2,
    schemaChange: { kind: "nullable", column: col("nick", S, 0), versionStep: 1 },
    keyOf(i) {
      return [i === 0 ? 2147483647n : i === 1 ? -2147483648n : BigInt(i)];
    },
  },
  {
    name: "usertable",
    columns: [col("id", U, 0, false), col("user", S, 0), col("score", { k: "FLOAT8" }, 0), col("active", { k: "BOOL" }, 0)],
    pk: ["id"],
    families: [{ id: 0, name: "primary" }],
    pkLess: false,
    initialVersion: 1,
    schemaChange: {
      kind: "backfill",
      column: col("level", I2, 0, true, { defaultValue: 1n }),
      versionStep: 1,
    },
    keyOf(i) {
      return [uuidOf(0x22, i)];
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Value generation.

const STRINGS = [
  "Zoë",
  'quote"d',
  "back\\slash",
  "new\nline",
  "tab\tand\rcr",
  "ctrl\u0001\u001f\u007f",
  "emoji 😀 𝄞",
  "",
  "日本語テキスト",
  "'single'",
  "<html>&amp;</html>",
  "\u2028sep\u2029",
  " leading and trailing ",
  "NULL",
];
const DEC_10_2 = ["48.10", "-99999999.99", "0.00", "0.01", "99999999.99", "5.00"];
const DEC_12_0 = ["999999999999", "-999999999999", "0", "-1", "42"];
const DEC_UNBOUNDED = [
  "123456789012345678901234567890.123456789012345678901234567890",
  "NaN",
  "Infinity",
  "-Infinity",
  "4E+3",
  "0.000001",
  "1.000",
  "-0.5",
  "100",
];
const FLOAT8_EDGES = [Number.NaN, Infinity, -Infinity, 0, Math.PI, 0.1, -2.5, 123456.789, 1.7976931348623157e20];
const FLOAT4_EDGES = [Number.NaN, Infinity, -Infinity, 0, 1.5, -0.25, 16777216, 0.5];
const INETS = ["10.20.0.0/16", "192.168.1.1", "::1", "2001:db8::/32", "0.0.0.0", "255.255.255.255"];
const INTERVALS = [
  "00:00:00",
  "3 days 04:05:06",
  "1 year 2 mons",
  "1 year 2 mons 3 days 04:05:06.789",
  "00:00:00.000001",
  "-00:00:01",
  "10:00:00",
];
const TS_EDGES = [
  0n, // 1970-01-01T00:00:00Z
  -1n, // 1969-12-31T23:59:59.999999Z
  1741944413589793n, // 2025-03-14T09:26:53.589793Z
  4102444799999999n, // 2099-12-31T23:59:59.999999Z
  1741944413000000n, // whole second
  1741944413500000n, // trailing zeros
  -30610224000000000n, // 1000-01-01T00:00:00Z
];
const DATE_EDGES = [
  0,
  daysFromCivil(2025, 3, 14),
  daysFromCivil(1, 1, 1),
  daysFromCivil(9999, 12, 31),
  -1,
  daysFromCivil(2000, 2, 29),
];
const TIME_EDGES = [0, 86_399_999_999, 33_413_500_000, 1, 43_200_000_000];
const JSONB_EDGES: string[] = [
  canonicalJsonb({ a: [1, 2.5, null, "x"], b: { c: true, "d e": { f: [] } } }),
  canonicalJsonb(1),
  canonicalJsonb("scalar string"),
  canonicalJsonb(true),
  canonicalJsonb([]),
  canonicalJsonb({}),
  canonicalJsonb({ big: { __raw: "123456789012345678901" }, dec: { __raw: "1.10" } }),
  canonicalJsonb({ 'quote"key': "new\nline", ü: "日本", Z: 0, a: -1 }),
  canonicalJsonb([{ x: null }, [1, [2, [3]]]]),
];

function randomString(rng: Prng): string {
  if (rng.chance(0.3)) return rng.pick(STRINGS);
  const n = rng.int(12);
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(0x61 + rng.int(26));
  return s;
}

export function genValue(rng: Prng, t: ColType, nullable: boolean, nullP = 0.08): Value {
  if (nullable && rng.chance(nullP)) return null;
  const edge = rng.chance(0.25);
  switch (t.k) {
    case "INT2":
      return edge ? rng.pick([32767n, -32768n, 0n]) : BigInt(rng.range(-1000, 1000));
    case "INT4":
      return edge ? rng.pick([2147483647n, -2147483648n, 0n]) : BigInt(rng.range(-100000, 100000));
    case "INT8":
      return edge ? rng.pick(INT8_EDGES) : rng.chance(0.5) ? rng.int64() : BigInt(rng.range(-1_000_000, 1_000_000));
    case "FLOAT4":
      return edge ? rng.pick(FLOAT4_EDGES) : rng.range(-4096, 4096) / 8;
    case "FLOAT8":
      return edge ? rng.pick(FLOAT8_EDGES) : rng.range(-1_000_000, 1_000_000) / 64;
    case "DECIMAL": {
      if (t.p === undefined)
        return edge ? rng.pick(DEC_UNBOUNDED) : `${rng.range(-99999, 99999)}.${String(rng.int(1000)).padStart(3, "0")}`;
      const sc = t.s ?? 0;
      if (edge) return rng.pick(sc === 2 ? DEC_10_2 : DEC_12_0);
      const ip = String(rng.int(10 ** Math.min(6, t.p - sc)));
      const sign = rng.chance(0.3) ? "-" : "";
      const text = sc === 0 ? `${sign}${ip}` : `${sign}${ip}.${String(rng.int(10 ** sc)).padStart(sc, "0")}`;
      return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
    }
    case "BOOL":
      return rng.chance(0.5);
    case "STRING":
      return randomString(rng);
    case "BYTES":
      return edge
        ? rng.pick([new Uint8Array(0), Uint8Array.of(0), Uint8Array.of(0x0a, 0xff), Uint8Array.of(0x5c, 0x78)])
        : rng.bytes(rng.int(9));
    case "DATE":
      return edge ? rng.pick(DATE_EDGES) : daysFromCivil(2000, 1, 1) + rng.int(40000);
    case "TIME":
      return edge ? rng.pick(TIME_EDGES) : rng.int(86_400) * 1_000_000 + (rng.chance(0.5) ? rng.int(1_000_000) : 0);
    case "TIMESTAMP":
    case "TIMESTAMPTZ":
      return edge
        ? rng.pick(TS_EDGES)
        : 946684800000000n + BigInt(rng.int(3_000_000_000)) * 1_000_000n + BigInt(rng.int(1_000_000));
    case "INTERVAL":
      return edge
        ? rng.pick(INTERVALS)
        : `${rng.int(30)} days ${String(rng.int(24)).padStart(2, "0")}:${String(rng.int(60)).padStart(2, "0")}:00`;
    case "UUID":
      return edge
        ? rng.pick(["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"])
        : uuidOf(rng.u32(), rng.u32());
    case "INET":
      return rng.pick(INETS);
    case "JSONB":
      return edge || rng.chance(0.5)
        ? rng.pick(JSONB_EDGES)
        : canonicalJsonb({ k: randomString(rng), n: rng.int(1000), ok: rng.chance(0.5) });
    case "ENUM":
      return rng.pick(t.labels);
    case "ARRAY": {
      if (edge) {
        return t.elem.k === "INT8"
          ? rng.pick([[], [1n, null, 3n], [9223372036854775807n, -9223372036854775808n]])
          : rng.pick([[], ["a", null, "b,c"], ['quo"te', "{braces}", ""]]);
      }
      const n = rng.int(4);
      const out: Value[] = [];
      for (let i = 0; i < n; i++) out.push(genValue(rng, t.elem, true, 0.1));
      return out;
    }
  }
}
