/**
 * Listing "after a key" for stores without a start-after parameter (Azure Blob, UC Files API):
 * walk the folder hierarchy, skip whole folders that sort before the cursor (the cursor's date or
 * hour folder is where listing starts), and list the rest flat. Yields in lexical key order.
 */
import type { ObjectInfo } from "./types.js";

export interface LevelEntry {
  /** Full key of a blob, or of a folder ending with "/". */
  key: string;
  folder: boolean;
  info?: ObjectInfo;
}

export interface HierarchicalLister {
  /** Entries directly under `prefix` (ends with "/" or is ""), in lexical order. */
  level(prefix: string): AsyncIterable<LevelEntry>;
  /** Every object under `prefix`, in lexical order. */
  flat(prefix: string): AsyncIterable<ObjectInfo>;
}

export async function* listAfter(
  l: HierarchicalLister,
  under: string,
  startAfter: string | undefined,
): AsyncGenerator<ObjectInfo> {
  if (!startAfter || startAfter < under) {
    yield* l.flat(under);
    return;
  }
  if (!startAfter.startsWith(under)) {
    // startAfter sorts after everything under `under` unless `under` is its prefix.
    return;
  }
  const rel = startAfter.slice(under.length);
  const dirPrefix = under.endsWith("/") || under === "" ? under : under.slice(0, under.lastIndexOf("/") + 1);
  if (!rel.includes("/") || dirPrefix !== under) {
    for await (const o of l.flat(under)) if (o.key > startAfter) yield o;
    return;
  }
  for await (const e of l.level(under)) {
    if (!e.folder) {
      if (e.key > startAfter && e.info) yield e.info;
      continue;
    }
    if (startAfter.startsWith(e.key)) yield* listAfter(l, e.key, startAfter);
    else if (e.key > startAfter) yield* l.flat(e.key);
    // else: the folder sorts wholly before the cursor: skipped without listing it.
  }
}
