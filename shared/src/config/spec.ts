import { z } from "zod";

type Node = Record<string, unknown>;

/**
 * The Airbyte `connectionSpecification` generated from the connector's one zod config schema, then
 * post-processed into the form Airbyte's acceptance tests accept: Draft-7, no `$ref`, nullables as
 * `[T, "null"]`, unions as `oneOf`, no `additionalProperties: false`, `order` on every property.
 * Field metadata (`title`, `description`, `airbyte_secret`, `examples`, `order`) comes from `.meta()`.
 */
export function connectionSpecification(configSchema: z.ZodType, title: string): Node {
  const raw = z.toJSONSchema(configSchema, { target: "draft-7", io: "input", unrepresentable: "any" }) as Node;
  const defs = (raw.definitions ?? raw.$defs ?? {}) as Record<string, Node>;
  const spec = normalize(raw, defs) as Node;
  delete spec.definitions;
  delete spec.$defs;
  return { $schema: "http://json-schema.org/draft-07/schema#", title, ...spec };
}

function normalize(node: unknown, defs: Record<string, Node>): unknown {
  if (Array.isArray(node)) return node.map((n) => normalize(n, defs));
  if (node === null || typeof node !== "object") return node;
  let n = { ...(node as Node) };
  if (typeof n.$ref === "string") {
    const name = n.$ref.split("/").pop() as string;
    const { $ref: _ref, ...rest } = n;
    n = { ...(defs[name] ?? {}), ...rest };
  }
  delete n.$schema;
  if (n.additionalProperties === false) delete n.additionalProperties;
  // A map-like field (z.record) yields a schema here; Airbyte accepts only absent or `true`.
  else if (n.additionalProperties !== undefined && n.additionalProperties !== true) n.additionalProperties = true;
  const union = (n.anyOf ?? n.oneOf) as Node[] | undefined;
  if (union) {
    const nonNull = union.filter((v) => v.type !== "null");
    if (nonNull.length === 1 && union.length === 2 && typeof nonNull[0]?.type === "string") {
      const { anyOf: _a, oneOf: _o, ...rest } = n;
      n = { ...rest, ...nonNull[0], type: [nonNull[0].type, "null"] };
    } else {
      delete n.anyOf;
      n.oneOf = union;
      n.type = "object";
    }
  }
  for (const [k, v] of Object.entries(n)) {
    if (k === "properties" && v && typeof v === "object") {
      const props: Node = {};
      Object.entries(v as Node).forEach(([name, sub], i) => {
        const s = normalize(sub, defs) as Node;
        props[name] = { order: i, ...s };
      });
      n.properties = props;
    } else if (k !== "default" && k !== "examples" && k !== "const" && k !== "enum") {
      n[k] = normalize(v, defs);
    }
  }
  return n;
}

const SECRET_NAME =
  /(password|passwd|token|secret|account_key|access_key_id_secret|sas|connection_string|credentials_json|private_key|client_secret)/i;
const FORBIDDEN = [
  "$ref",
  "anyOf",
  "allOf",
  "not",
  "if",
  "then",
  "else",
  "patternProperties",
  "prefixItems",
  "dependentSchemas",
  "dependentRequired",
  "dependencies",
];

/** Violations of the Airbyte spec rules (airbyte-protocol.md §2); empty when the spec is acceptable. */
export function lintConnectionSpecification(spec: Node): string[] {
  const problems: string[] = [];
  const walk = (node: Node, path: string, propName?: string) => {
    for (const k of FORBIDDEN) if (k in node) problems.push(`${path}: uses ${k}`);
    if (node.additionalProperties !== undefined && node.additionalProperties !== true) {
      problems.push(`${path}: additionalProperties must be absent or true`);
    }
    if (Array.isArray(node.type)) {
      const t = node.type as string[];
      if (!(t.length === 1 || (t.length === 2 && t[1] === "null"))) problems.push(`${path}: type array ${JSON.stringify(t)}`);
    }
    if (propName !== undefined && typeof node.type === "string" && node.type !== "object") {
      const looksSecret = SECRET_NAME.test(propName);
      if (looksSecret && node.airbyte_secret !== true) problems.push(`${path}: credential-like field lacks airbyte_secret`);
      if (!looksSecret && node.airbyte_secret === true) problems.push(`${path}: airbyte_secret on a non-credential field`);
    }
    if (node.oneOf) {
      if (node.type !== "object") problems.push(`${path}: oneOf outside type object`);
      const variants = node.oneOf as Node[];
      const discriminators = variants.map((v) =>
        Object.entries((v.properties ?? {}) as Record<string, Node>)
          .filter(([, p]) => p.const !== undefined)
          .map(([name]) => name),
      );
      const shared = discriminators[0]?.filter((d) => discriminators.every((list) => list.includes(d))) ?? [];
      if (shared.length !== 1) problems.push(`${path}: oneOf variants need exactly one shared const discriminator`);
      variants.forEach((v, i) => {
        if (!v.properties) problems.push(`${path}.oneOf[${i}]: variant without properties`);
        walk(v, `${path}.oneOf[${i}]`);
      });
    }
    for (const [name, sub] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
      walk(sub, `${path}.${name}`, name);
    }
    if (node.items && typeof node.items === "object") walk(node.items as Node, `${path}[]`);
  };
  walk(spec, "$");
  return problems;
}
