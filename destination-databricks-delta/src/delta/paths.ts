/** Where the embedded backend puts a stream's tables under its root: `<namespace or default>/<table>[suffix]`, every segment sanitised. */
import { DEFAULT_NAMESPACE_SEGMENT, pathSegment } from "../plan/names.js";
import type { TableRef } from "../plan/types.js";

export function tableDir(ref: TableRef, suffix = ""): string {
  const ns = ref.namespace === null ? DEFAULT_NAMESPACE_SEGMENT : pathSegment(ref.namespace);
  const name = pathSegment(`${ref.name}${suffix}`);
  if (ns.includes("/") || name.includes("/") || ns === ".." || name === "..") throw new Error(`unsafe table path ${ns}/${name}`);
  return `${ns}/${name}`;
}
