/**
 * Feeds under the configured root: the root itself (`changefeed` layout), or one feed per
 * `{format}/{catalog}/{schema}/{src_table}/{target_table}/` folder (`seed` layout, with the sibling
 * `{src_table}/_metadata/schema.json`). Folders are found by skip-scanning the listing (one short
 * list call per folder), never by listing the history.
 */
import type { Readable } from "node:stream";
import { configError } from "@cdc-delta/shared";
import type { ObjectInfo, ObjectStore } from "../storage/types.js";
import { classify } from "./names.js";
import { joinKey } from "./paths.js";

export interface Feed {
  /** Prefix relative to the storage root ("" for the root itself), ending with "/" when non-empty. */
  prefix: string;
  store: ObjectStore;
  /** Seed layout: the target table folder name, used as the stream name. */
  targetTable?: string;
  /** Seed layout: `_metadata/schema.json` key relative to the storage root. */
  schemaJsonKey?: string;
  layout: "changefeed" | "seed";
}

/** A view of a store under a key prefix. */
export class PrefixedStore implements ObjectStore {
  readonly description: string;
  constructor(
    private readonly inner: ObjectStore,
    private readonly prefix: string,
  ) {
    this.description = prefix ? `${inner.description}/${prefix.replace(/\/$/, "")}` : inner.description;
  }
  async *list(options: { under?: string; startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    const p = this.prefix;
    for await (const o of this.inner.list({
      under: p + (options.under ?? ""),
      startAfter: options.startAfter === undefined ? undefined : p + options.startAfter,
    })) {
      if (o.key.startsWith(p)) yield { ...o, key: o.key.slice(p.length) };
    }
  }
  read(key: string): Promise<Readable> {
    return this.inner.read(this.prefix + key);
  }
  async stat(key: string): Promise<ObjectInfo | undefined> {
    const s = await this.inner.stat(this.prefix + key);
    return s ? { ...s, key } : undefined;
  }
  put(key: string, body: Uint8Array | string): Promise<void> {
    return this.inner.put(this.prefix + key, body);
  }
}

async function firstKey(store: ObjectStore, under: string, startAfter?: string): Promise<string | undefined> {
  for await (const o of store.list({ under, startAfter })) return o.key;
  return undefined;
}

/** Immediate sub-folders of `under` (which ends with "/" or is ""), by skip-scan. */
export async function* childFolders(store: ObjectStore, under: string): AsyncGenerator<string> {
  let after: string | undefined;
  for (;;) {
    const key = await firstKey(store, under, after);
    if (key === undefined) return;
    const rest = key.slice(under.length);
    const i = rest.indexOf("/");
    if (i < 0) {
      after = key;
      continue;
    }
    const dir = rest.slice(0, i);
    yield dir;
    after = `${under}${dir}/\uffff`;
  }
}

/** Whether the root looks like one changefeed's output (data/RESOLVED files at depth 0–2). */
async function looksLikeChangefeed(store: ObjectStore): Promise<boolean | undefined> {
  let n = 0;
  for await (const o of store.list({})) {
    const parts = o.key.split("/");
    if (parts.length <= 3) {
      try {
        const c = classify(o.key, o.size);
        if (c.kind !== "skip") return true;
      } catch {
        return true;
      }
    }
    if (parts.length >= 5) return false;
    if (++n > 50) return undefined;
  }
  return undefined;
}

export async function findFeeds(root: ObjectStore, layout: "auto" | "changefeed" | "seed"): Promise<Feed[]> {
  let kind = layout;
  if (kind === "auto") kind = (await looksLikeChangefeed(root)) === false ? "seed" : "changefeed";
  if (kind === "changefeed") return [{ prefix: "", store: root, layout: "changefeed" }];
  const feeds: Feed[] = [];
  for await (const format of childFolders(root, "")) {
    for await (const cat of childFolders(root, `${format}/`)) {
      for await (const schema of childFolders(root, `${format}/${cat}/`)) {
        for await (const src of childFolders(root, `${format}/${cat}/${schema}/`)) {
          const srcPrefix = `${format}/${cat}/${schema}/${src}/`;
          for await (const target of childFolders(root, srcPrefix)) {
            if (target === "_metadata" || target.startsWith("_")) continue;
            const prefix = `${srcPrefix}${target}/`;
            feeds.push({
              prefix,
              store: new PrefixedStore(root, prefix),
              targetTable: target,
              schemaJsonKey: joinKey(srcPrefix, "_metadata/schema.json"),
              layout: "seed",
            });
          }
        }
      }
    }
  }
  if (feeds.length === 0 && layout === "seed")
    throw configError(`no {format}/{catalog}/{schema}/{src_table}/{target_table}/ folders found under ${root.description}`);
  return feeds;
}
